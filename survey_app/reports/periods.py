"""Reporting periods: months, quarters, halves and years, and their time windows.

DOMAIN.md (plan III.3): data are cut off from the 15th of the month before the
period to the 14th of its last month, local time, so Q1 2022 is 15/12/2021 to
14/3/2022 and the year 2022 is 15/12/2021 to 14/12/2022. Monthly reports use
the same convention unless ``REPORT_CALENDAR_MONTHS`` is set, in which case
every period runs over calendar months (1/1 to 31/3 for Q1).

A window is half-open in UTC, ``start <= submitted_at < end``: ``end`` is the
first instant of the 15th (or of the 1st of the next month), so the whole of
the 14th (or the last day) is inside.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

#: Day of the month on which a reporting month starts (the 15th of the month before).
CUTOFF_DAY = 15
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
KINDS = ("month", "quarter", "half", "year")
#: Months in a period of each kind.
_LENGTH = {"month": 1, "quarter": 3, "half": 6, "year": 12}
_COUNT = {"month": 12, "quarter": 4, "half": 2, "year": 1}
_LABEL = re.compile(r"^(\d{4})(?:-(?:(\d{2})|Q([1-4])|H([12])))?$")


#: The years a period may be asked for: the service's own, with room for the
#: periods a report reads around its own.
FIRST_YEAR, LAST_YEAR = 2000, 2100


class PeriodError(ValueError):
    """A period label that cannot be read."""


@dataclass(frozen=True, order=True)
class Period:
    """One reporting period.

    :ivar year: the year the period belongs to (its last month's year).
    :ivar kind: ``month | quarter | half | year``.
    :ivar number: 1–12, 1–4, 1–2 or 1.
    """

    year: int
    kind: str
    number: int

    def __post_init__(self):
        if self.kind not in KINDS:
            raise PeriodError(f"unknown period kind {self.kind!r}")
        if not 1 <= self.number <= _COUNT[self.kind]:
            raise PeriodError(f"{self.kind} number must be 1–{_COUNT[self.kind]}")
        if not 1900 <= self.year <= 9998:
            raise PeriodError("year out of range")

    @classmethod
    def parse(cls, label: str) -> Period:
        """Read ``2022-03``, ``2022-Q1``, ``2022-H1`` or ``2022``.

        :raises PeriodError: anything else (including month 13 or Q5).
        """
        match = _LABEL.match((label or "").strip().upper())
        if not match:
            raise PeriodError(f"not a period: {label!r} (use 2022-03, 2022-Q1, 2022-H1 or 2022)")
        year, month, quarter, half = match.groups()
        if not FIRST_YEAR <= int(year) <= LAST_YEAR:
            # (the report also reads the periods around it: 12 back, one ahead)
            raise PeriodError(f"not a reporting year: {label!r} ({FIRST_YEAR}–{LAST_YEAR})")
        if month is not None:
            if not 1 <= int(month) <= 12:
                raise PeriodError(f"not a month: {label!r}")
            return cls(int(year), "month", int(month))
        if quarter is not None:
            return cls(int(year), "quarter", int(quarter))
        if half is not None:
            return cls(int(year), "half", int(half))
        return cls(int(year), "year", 1)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.number}"
        if self.kind == "half":
            return f"{self.year}-H{self.number}"
        return str(self.year)

    def __str__(self) -> str:
        return self.label

    @property
    def first_month(self) -> int:
        return (self.number - 1) * _LENGTH[self.kind] + 1

    @property
    def last_month(self) -> int:
        return self.number * _LENGTH[self.kind]

    def months(self) -> list[date]:
        """First days of the months the period covers (the keys of dossier volumes)."""
        return [date(self.year, m, 1) for m in range(self.first_month, self.last_month + 1)]

    def local_days(self, calendar: bool | None = None) -> tuple[date, date]:
        """First and last local day of the period (both inclusive)."""
        calendar = _calendar_setting(calendar)
        first = date(self.year, self.first_month, 1)
        after_last = _add_months(date(self.year, self.last_month, 1), 1)
        if calendar:
            return first, after_last - timedelta(days=1)
        start = _add_months(first, -1).replace(day=CUTOFF_DAY)
        end = date(self.year, self.last_month, CUTOFF_DAY)
        return start, end - timedelta(days=1)

    def window(
        self, calendar: bool | None = None, tz: str | ZoneInfo | None = None
    ) -> tuple[datetime, datetime]:
        """The UTC instants ``[start, end)`` of the period.

        :param calendar: calendar months instead of the 15th → 14th cut-off
            (default: the ``REPORT_CALENDAR_MONTHS`` setting).
        :param tz: local time zone (default: the ``TIMEZONE`` setting).
        """
        zone = _zone(tz)
        first, last = self.local_days(calendar)
        start = datetime.combine(first, time.min, tzinfo=zone)
        end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def previous(self) -> Period:
        """The period of the same kind just before."""
        if self.number > 1:
            return Period(self.year, self.kind, self.number - 1)
        return Period(self.year - 1, self.kind, _COUNT[self.kind])

    def next(self) -> Period:
        if self.number < _COUNT[self.kind]:
            return Period(self.year, self.kind, self.number + 1)
        return Period(self.year + 1, self.kind, 1)

    def last(self, n: int = 12) -> list[Period]:
        """This period and the ``n − 1`` before it, oldest first."""
        out = [self]
        while len(out) < n:
            out.append(out[-1].previous())
        return out[::-1]

    @classmethod
    def containing(
        cls,
        kind: str,
        instant: datetime,
        calendar: bool | None = None,
        tz: str | ZoneInfo | None = None,
    ) -> Period:
        """The period of ``kind`` whose window contains ``instant`` (aware)."""
        if kind not in KINDS:
            raise PeriodError(f"unknown period kind {kind!r}")
        local = instant.astimezone(_zone(tz)).date()
        month = date(local.year, local.month, 1)
        if not _calendar_setting(calendar) and local.day >= CUTOFF_DAY:
            month = _add_months(month, 1)
        number = (month.month - 1) // _LENGTH[kind] + 1
        return cls(month.year, kind, number)


def last_periods(period: Period, n: int = 12) -> list[Period]:
    """The last ``n`` periods ending with ``period``, oldest first."""
    return period.last(n)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, day.day)


def _calendar_setting(calendar: bool | None) -> bool:
    if calendar is not None:
        return calendar
    if has_app_context():
        return bool(current_app.config.get("REPORT_CALENDAR_MONTHS", False))
    return False


def _zone(tz: str | ZoneInfo | None) -> ZoneInfo:
    if isinstance(tz, ZoneInfo):
        return tz
    if tz is None:
        tz = current_app.config["TIMEZONE"] if has_app_context() else DEFAULT_TIMEZONE
    return ZoneInfo(tz)
