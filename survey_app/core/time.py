"""Time helpers: UTC in the database, the province's local time on screen."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app


def now_utc() -> datetime:
    """The current time, timezone-aware in UTC. The one clock the app reads (tests freeze it)."""
    return datetime.now(UTC)


def local_tz() -> ZoneInfo:
    """The configured display time zone (``TIMEZONE``, default Asia/Ho_Chi_Minh)."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def local_today() -> date:
    """Today's date in the configured time zone."""
    return now_utc().astimezone(local_tz()).date()


def local_day_bounds_utc(day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which the local ``day`` starts and the next one starts."""
    tz = local_tz()
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)
