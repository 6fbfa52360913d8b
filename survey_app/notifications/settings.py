"""The notification settings, read and checked once (``Config.finalise``), and the
rules they set: which channels, which providers, quiet hours."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from ..core.time import local_tz
from .base import CHANNELS, PHONE_CHANNELS
from .segments import ENCODINGS

_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_order(value: str | None) -> tuple[str, ...]:
    """``NOTIFY_CHANNEL_ORDER`` as a tuple of channel names.

    :raises ValueError: for an unknown channel.
    """
    order = tuple(c.strip().lower() for c in (value or "").split(",") if c.strip())
    unknown = [c for c in order if c not in CHANNELS]
    if unknown:
        raise ValueError(
            f"NOTIFY_CHANNEL_ORDER: unknown channel {unknown[0]!r} (use {', '.join(CHANNELS)})"
        )
    return tuple(dict.fromkeys(order))


def parse_quiet_hours(value: str | None) -> tuple[time, time] | None:
    """``NOTIFY_QUIET_HOURS`` (``21:00-07:00``) as (start, end); None when empty.

    :raises ValueError: if it is not two times.
    """
    if not value or not value.strip():
        return None
    match = _HOURS.match(value)
    if not match:
        raise ValueError(f"NOTIFY_QUIET_HOURS must look like 21:00-07:00, not {value!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"NOTIFY_QUIET_HOURS has an impossible time: {value!r}")
    return time(h1, m1), time(h2, m2)


def check_settings(config: dict) -> None:
    """Refuse to start with a notification setting that would fail at 3 a.m. instead.

    :raises RuntimeError: naming the setting.
    """
    try:
        parse_order(config.get("NOTIFY_CHANNEL_ORDER"))
        parse_quiet_hours(config.get("NOTIFY_QUIET_HOURS"))
    except ValueError as exc:
        raise RuntimeError(str(exc)) from exc
    encoding = str(config.get("SMS_ENCODING") or "ucs2").strip().lower()
    if encoding not in ENCODINGS:
        raise RuntimeError(f"SMS_ENCODING must be ucs2 or gsm7, not {encoding!r}")
    config["SMS_ENCODING"] = encoding
    if not 1 <= int(config.get("SMS_MAX_SEGMENTS", 4)) <= 10:
        raise RuntimeError("SMS_MAX_SEGMENTS must be 1 to 10")
    for name in (
        "SMS_GATEWAY_SUCCESS_REGEX",
        "SMS_GATEWAY_ID_REGEX",
        "SMS_GATEWAY_PERMANENT_REGEX",
    ):
        try:
            re.compile(config.get(name) or "")
        except re.error as exc:
            raise RuntimeError(f"{name} is not a valid regular expression: {exc}") from exc


def configured(channel: str, config: dict) -> bool:
    """Whether a real provider is set up for ``channel``."""
    if channel == "email":
        return bool(config.get("MAIL_SERVER"))
    if channel == "sms":
        return bool(config.get("SMS_GATEWAY_URL"))
    return bool(config.get("ZALO_APP_ID"))


def usable(channel: str, config: dict) -> bool:
    """Whether messages may be queued for ``channel``: it is in NOTIFY_CHANNEL_ORDER and,
    for a phone channel in production, has a provider (a phone message "sent" to the
    log in production would be a message nobody reads). E-mail keeps its behaviour:
    logged with a warning when MAIL_SERVER is unset."""
    if channel not in parse_order(config.get("NOTIFY_CHANNEL_ORDER")):
        return False
    if channel in PHONE_CHANNELS and config.get("APP_ENV") == "production":
        return configured(channel, config)
    return True


def is_quiet(now: datetime, config: dict) -> bool:
    """True inside the quiet hours (local time); a window may cross midnight."""
    window = parse_quiet_hours(config.get("NOTIFY_QUIET_HOURS"))
    if window is None:
        return False
    start, end = window
    local = now.astimezone(local_tz()).time()
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def next_morning(now: datetime, config: dict) -> datetime:
    """The next local day's first sending time (end of quiet hours, else midnight), in UTC:
    when a number that reached its daily cap may get messages again."""
    tz = local_tz()
    window = parse_quiet_hours(config.get("NOTIFY_QUIET_HOURS"))
    start_of_day = window[1] if window is not None and window[0] > window[1] else time(0, 0)
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(tomorrow, start_of_day, tzinfo=tz).astimezone(now.tzinfo)
