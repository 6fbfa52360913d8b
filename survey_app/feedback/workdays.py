"""Working days and legal deadlines: the one module every deadline goes through.

A working day is a weekday that is not a public holiday, or a Saturday the
government swapped into a working day. Holidays come from the ``holidays``
package (country ``VN``: New Year, Tết, Hùng Kings' day, 30/4, 1/5, 2/9 and its
adjacent day, compensatory days, swapped days); admins add or remove days the
package does not know yet (overrides win).

Deadlines count whole working days **after** the starting day (a case received
on Monday with 2 working days is due at the end of Wednesday). A pause (waiting
for the citizen's extra information) moves the due date by the working days it
covered. Every computation can explain itself, so a case page can show how its
due date was reached.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import holidays

#: Saturday and Sunday (``date.weekday()`` numbers).
WEEKEND = frozenset({5, 6})


@lru_cache(maxsize=64)
def _vn_holidays(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(days off, swapped working Saturdays/Sundays) for ``year`` from the package."""
    calendar = holidays.country_holidays("VN", years=year)
    workdays = frozenset(d for d in getattr(calendar, "weekend_workdays", ()) if d.year == year)
    return frozenset(calendar), workdays


@lru_cache(maxsize=128)
def _holiday_names(year: int, language: str) -> dict[date, str]:
    calendar = holidays.country_holidays("VN", years=year, language=language)
    return {d: str(name) for d, name in calendar.items()}


@dataclass(frozen=True)
class WorkCalendar:
    """Vietnam's working days plus admin overrides.

    :param overrides: date → True (a working day) or False (a day off),
        applied on top of the package's calendar.
    """

    overrides: Mapping[date, bool] = field(default_factory=dict)

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        days_off, swapped_workdays = _vn_holidays(day.year)
        if day in swapped_workdays:
            return True
        return day.weekday() not in WEEKEND and day not in days_off

    def holiday_name(self, day: date, language: str = "vi") -> str | None:
        """The holiday's name if ``day`` is one (``language``: ``vi`` or ``en``)."""
        return _holiday_names(day.year, "vi" if language == "vi" else "en_US").get(day)

    def add_working_days(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start`` (``start`` itself not counted).

        With ``days == 0`` the answer is ``start`` if it is a working day,
        otherwise the next working day.
        """
        if days < 0:
            raise ValueError("days must not be negative")
        current = start
        if days == 0:
            while not self.is_working_day(current):
                current += timedelta(days=1)
            return current
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in the half-open interval (``start``, ``end``]; negative if end < start."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count

    def days_off_between(self, start: date, end: date) -> list[date]:
        """Non-working days in (``start``, ``end``], for explanations."""
        out = []
        current = start
        while current < end:
            current += timedelta(days=1)
            if not self.is_working_day(current):
                out.append(current)
        return out


@dataclass(frozen=True)
class Pause:
    """The clock stopped from ``start`` (exclusive) to ``end`` (inclusive); ``end`` None = still paused."""

    start: date
    end: date | None


@dataclass(frozen=True)
class CountedPause:
    start: date
    end: date
    working_days: int


@dataclass(frozen=True)
class Deadline:
    """A computed due date and what it was computed from (pages render it translated)."""

    start: date
    working_days: int
    due: date | None  # None while the clock is paused
    paused_days: int
    extension_days: int = 0
    pauses: tuple[CountedPause, ...] = ()
    paused_since: date | None = None
    #: Public holidays between the start and the due date, skipped by the count.
    holidays: tuple[date, ...] = ()

    @property
    def steps(self) -> tuple[str, ...]:
        """The computation as plain English lines (for logs and tests)."""
        out = [f"start {self.start.isoformat()}, {self.working_days} working days"]
        earlier = self.paused_days - sum(p.working_days for p in self.pauses)
        if earlier:
            out.append(f"paused earlier: +{earlier}")
        if self.extension_days:
            out.append(f"extended by {self.extension_days} working days")
        out += [
            f"paused {p.start.isoformat()} → {p.end.isoformat()}: +{p.working_days}"
            for p in self.pauses
        ]
        if self.paused_since:
            out.append(f"paused since {self.paused_since.isoformat()}")
            return tuple(out)
        if self.holidays:
            out.append("holidays skipped: " + ", ".join(d.isoformat() for d in self.holidays))
        out.append(f"due {self.due.isoformat()}")
        return tuple(out)


def compute_deadline(
    calendar: WorkCalendar,
    start: date,
    working_days: int,
    pauses: Iterable[Pause] = (),
    extension_days: int = 0,
    paused_days: int = 0,
) -> Deadline:
    """Due date of a step that must finish within ``working_days`` of ``start``.

    :param pauses: periods the clock stood still; each adds the working days it
        covered. An open pause (``end`` None) means the due date is not known yet.
    :param extension_days: working days added by the (single) extension.
    :param paused_days: working days of earlier pauses already counted (cases keep the
        total, not each interval).
    :return: the due date and what it was computed from.
    """
    counted: list[CountedPause] = []
    for pause in pauses:
        if pause.end is None:
            return Deadline(
                start,
                working_days,
                None,
                paused_days + sum(p.working_days for p in counted),
                extension_days,
                tuple(counted),
                paused_since=pause.start,
            )
        counted.append(
            CountedPause(
                pause.start, pause.end, calendar.working_days_between(pause.start, pause.end)
            )
        )
    paused = paused_days + sum(p.working_days for p in counted)
    due = calendar.add_working_days(start, working_days + extension_days + paused)
    skipped = tuple(d for d in calendar.days_off_between(start, due) if calendar.holiday_name(d))
    return Deadline(
        start, working_days, due, paused, extension_days, tuple(counted), holidays=skipped
    )
