"""Working days and legal deadlines: the one module every deadline goes through.

A working day is a weekday that is not a public holiday, or a weekend day the
government swapped into a working day. Three layers decide, the later winning:

1. the ``holidays`` package (country ``VN``: New Year, Tết, Hùng Kings' day,
   30/4, 1/5, 2/9 and its adjacent day, compensatory days, some swapped days);
2. the Government's announcements, shipped as reviewed data
   (``data/official_calendar.json``, :func:`official_calendar`): a *confirmed*
   year lists every weekday off and every weekend day worked, and the package
   is not read for it; an unconfirmed year corrects the package only on the
   days it lists (the package lags the Government's decisions: it never had
   the 2026 New Year swap);
3. the admins' overrides (days decided late, a year nobody has reviewed yet).

Deadlines count whole working days **after** the starting day (a case received
on Monday with 2 working days is due at the end of Wednesday). A pause (waiting
for the citizen's extra information) moves the due date by the working days it
covered. Every computation can explain itself, so a case page can show how its
due date was reached, and every day can say which layer decided it.

Pure Python: no Flask, usable from a shell or a notebook.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import holidays

#: Saturday and Sunday (``date.weekday()`` numbers).
WEEKEND = frozenset({5, 6})

#: The reviewed data file of the Government's announcements (package data).
OFFICIAL_CALENDAR_FILE = Path(__file__).with_name("data") / "official_calendar.json"


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


def package_is_working_day(day: date) -> bool:
    """What the ``holidays`` package alone says of ``day``."""
    days_off, swapped_workdays = _vn_holidays(day.year)
    if day in swapped_workdays:
        return True
    return day.weekday() not in WEEKEND and day not in days_off


# -- the Government's announcements ------------------------------------------------


@dataclass(frozen=True)
class OfficialDay:
    """One day of an announcement: a day off, or a weekend day worked (a swap)."""

    day: date
    #: True: a day off; False: a working day (a Saturday or Sunday worked, or a weekday
    #: the holidays package wrongly takes for a holiday).
    off: bool
    name: str
    name_en: str
    #: The instrument that decided it (law article, notice, official letter).
    source: str

    def label(self, language: str) -> str:
        return self.name if language == "vi" else self.name_en


@dataclass(frozen=True)
class OfficialYear:
    """What the data file holds for one year."""

    year: int
    #: The year's announcements were reviewed and every day is listed.
    confirmed: bool
    announcements: tuple[str, ...]
    note: str
    days: Mapping[date, OfficialDay]


@dataclass(frozen=True)
class OfficialCalendar:
    """The data file: a version and the years it covers."""

    version: str
    reviewed_on: date | None
    years: Mapping[int, OfficialYear]

    def entry(self, day: date) -> OfficialDay | None:
        year = self.years.get(day.year)
        return year.days.get(day) if year is not None else None

    def is_confirmed(self, year: int) -> bool:
        """Whether ``year``'s announcements are in the file, reviewed and complete."""
        found = self.years.get(year)
        return found is not None and found.confirmed


#: No announcements: the package alone (and the overrides).
NO_OFFICIAL_DATA = OfficialCalendar(version="", reviewed_on=None, years={})


class OfficialCalendarError(ValueError):
    """The data file is malformed; the message says where."""


def parse_official_calendar(data: Mapping) -> OfficialCalendar:
    """Check and read the data file's JSON (see ``data/official_calendar.json``).

    :raises OfficialCalendarError: a missing or malformed field, a date outside its
        year or given twice, a "working" entry on a weekday (it would change
        nothing), a day without its source.
    """

    def fail(where: str, problem: str):
        raise OfficialCalendarError(f"official calendar, {where}: {problem}")

    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        fail("top level", "'version' must be a non-empty string")
    reviewed = data.get("reviewed_on")
    try:
        reviewed_on = date.fromisoformat(reviewed) if reviewed else None
    except (TypeError, ValueError):
        fail("top level", f"'reviewed_on' is not a date: {reviewed!r}")
    years: dict[int, OfficialYear] = {}
    for item in data.get("years") or ():
        year = item.get("year")
        if not isinstance(year, int) or not 2000 <= year <= 2100:
            fail("years", f"'year' must be a year from 2000 to 2100, not {year!r}")
        if year in years:
            fail(str(year), "the year is given twice")
        if not isinstance(item.get("confirmed"), bool):
            fail(str(year), "'confirmed' must be true or false")
        days: dict[date, OfficialDay] = {}
        for row in item.get("days") or ():
            where = f"{year}, {row.get('date')!r}"
            try:
                day = date.fromisoformat(row["date"])
            except (KeyError, TypeError, ValueError):
                fail(where, "'date' must be an ISO date (2026-01-02)")
            if day.year != year:
                fail(where, "the date is not in its year")
            if day in days:
                fail(where, "the date is given twice")
            off = row.get("off")
            if not isinstance(off, bool):
                fail(where, "'off' must be true (a day off) or false (a weekend day worked)")
            if not off and day.weekday() not in WEEKEND and package_is_working_day(day):
                # a weekday listed as worked corrects the package (it takes the day for a
                # holiday no instrument in force makes one); listing an ordinary one is a slip
                fail(
                    where,
                    "only a Saturday or Sunday, or a day the package takes for a holiday, can be listed as worked",
                )
            texts = {k: row.get(k) for k in ("name", "name_en", "source")}
            for key, text in texts.items():
                if not isinstance(text, str) or not text.strip():
                    fail(where, f"'{key}' must be a non-empty string")
            days[day] = OfficialDay(day, off, texts["name"], texts["name_en"], texts["source"])
        years[year] = OfficialYear(
            year=year,
            confirmed=item["confirmed"],
            announcements=tuple(str(a) for a in item.get("announcements") or ()),
            note=str(item.get("note") or ""),
            days=days,
        )
    return OfficialCalendar(version=version.strip(), reviewed_on=reviewed_on, years=years)


@lru_cache(maxsize=4)
def load_official_calendar(path: Path = OFFICIAL_CALENDAR_FILE) -> OfficialCalendar:
    """Read and check a data file (cached: the file ships with the code).

    :raises OfficialCalendarError: see :func:`parse_official_calendar`.
    """
    with open(path, encoding="utf-8") as f:
        return parse_official_calendar(json.load(f))


def official_calendar() -> OfficialCalendar:
    """The shipped data file of the Government's announcements."""
    return load_official_calendar()


# -- the calendar --------------------------------------------------------------------


#: Which layer decided a day (:meth:`WorkCalendar.explain`).
ORIGIN_OVERRIDE = "override"
ORIGIN_OFFICIAL = "official"
ORIGIN_PACKAGE = "package"
ORIGIN_WEEK = "week"  # an ordinary weekday or weekend day


@dataclass(frozen=True)
class DayStatus:
    """Whether a day is worked, and why."""

    day: date
    working: bool
    #: :data:`ORIGIN_OVERRIDE`, :data:`ORIGIN_OFFICIAL`, :data:`ORIGIN_PACKAGE` or
    #: :data:`ORIGIN_WEEK`.
    origin: str
    #: The holiday's or swap's name, if it has one.
    name: str | None = None
    #: The instrument, for a day decided by the announcements.
    source: str | None = None
    #: For a day decided by the announcements: whether its year is confirmed.
    confirmed: bool = False


@dataclass(frozen=True)
class WorkCalendar:
    """Vietnam's working days: the package, the announcements, the admins' overrides.

    :param overrides: date → True (a working day) or False (a day off), applied on
        top of everything else.
    :param official: the announcements (default: the shipped data file;
        :data:`NO_OFFICIAL_DATA` for the package alone).
    """

    overrides: Mapping[date, bool] = field(default_factory=dict)
    # (a lambda: the module's function is looked up when a calendar is made)
    official: OfficialCalendar = field(default_factory=lambda: official_calendar())

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        year = self.official.years.get(day.year)
        if year is not None:
            entry = year.days.get(day)
            if entry is not None:
                return not entry.off
            if year.confirmed:
                return day.weekday() not in WEEKEND
        return package_is_working_day(day)

    def without_overrides(self) -> WorkCalendar:
        """The same calendar before the admins' overrides."""
        return WorkCalendar({}, self.official)

    def holiday_name(self, day: date, language: str = "vi") -> str | None:
        """The holiday's name if ``day`` is one (``language``: ``vi`` or ``en``)."""
        entry = self.official.entry(day)
        if entry is not None:
            return entry.label(language) if entry.off else None
        if self.official.is_confirmed(day.year):
            return None  # the announcement is complete: the package's names do not apply
        return _holiday_names(day.year, "vi" if language == "vi" else "en_US").get(day)

    def explain(self, day: date, language: str = "vi") -> DayStatus:
        """Whether ``day`` is worked and which layer decided it (for the calendar page)."""
        working = self.is_working_day(day)
        name = self.holiday_name(day, language)
        if day in self.overrides:
            return DayStatus(day, working, ORIGIN_OVERRIDE, name)
        entry = self.official.entry(day)
        if entry is not None:
            return DayStatus(
                day,
                working,
                ORIGIN_OFFICIAL,
                entry.label(language),
                entry.source,
                self.official.is_confirmed(day.year),
            )
        usual = day.weekday() not in WEEKEND
        if (working != usual or name) and not self.official.is_confirmed(day.year):
            return DayStatus(day, working, ORIGIN_PACKAGE, name)
        return DayStatus(day, working, ORIGIN_WEEK, name)

    def year_exceptions(self, year: int, language: str = "vi") -> list[DayStatus]:
        """The days of ``year`` that are not an ordinary week's: weekdays off, weekend days
        worked, holidays that fall on a weekend, and the days an override sets."""
        out = []
        day = date(year, 1, 1)
        while day.year == year:
            status = self.explain(day, language)
            usual = day.weekday() not in WEEKEND
            if status.working != usual or status.origin != ORIGIN_WEEK or status.name:
                out.append(status)
            day += timedelta(days=1)
        return out

    def package_differences(self, year: int) -> list[tuple[date, bool, bool]]:
        """Days of ``year`` on which the package alone and the announcements disagree.

        :return: (day, worked according to the package, worked according to the
            announcements), overrides left out.
        """
        announced = self.without_overrides()
        out = []
        day = date(year, 1, 1)
        while day.year == year:
            package = package_is_working_day(day)
            official = announced.is_working_day(day)
            if package != official:
                out.append((day, package, official))
            day += timedelta(days=1)
        return out

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


def unconfirmed_years(today: date, official: OfficialCalendar | None = None) -> list[int]:
    """The current and the next year, those of them without a confirmed announcement
    (their deadlines rest on the package and the admins' overrides)."""
    official = official if official is not None else official_calendar()
    return [y for y in (today.year, today.year + 1) if not official.is_confirmed(y)]


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
