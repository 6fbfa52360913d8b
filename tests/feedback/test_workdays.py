"""Working days and deadlines around Tết, weekends, compensatory and swapped days, pauses;
the Government's announcements layered over the holidays package."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from survey_app.feedback.workdays import (
    NO_OFFICIAL_DATA,
    OFFICIAL_CALENDAR_FILE,
    WEEKEND,
    OfficialCalendarError,
    Pause,
    WorkCalendar,
    compute_deadline,
    official_calendar,
    package_is_working_day,
    parse_official_calendar,
    unconfirmed_years,
)

CAL = WorkCalendar()
#: The package alone, as deadlines were counted before the announcements were shipped.
PACKAGE = WorkCalendar(official=NO_OFFICIAL_DATA)


@pytest.mark.parametrize(
    "day, working",
    [
        (date(2026, 11, 23), True),  # Monday
        (date(2026, 11, 28), False),  # Saturday
        (date(2026, 11, 29), False),  # Sunday
        (date(2023, 1, 23), False),  # Tết 2023 (second day)
        (date(2023, 1, 27), True),  # first working day after Tết 2023
        (date(2023, 1, 2), False),  # New Year 2023 fell on Sunday: Monday compensated
        (date(2023, 5, 2), False),  # Hùng Kings' day 2023 fell on Saturday: compensated
        (date(2023, 9, 4), False),  # 2/9/2023 on Saturday: Monday compensated
        (date(2025, 4, 26), True),  # Saturday worked in exchange for 2/5/2025
        (date(2025, 5, 2), False),  # the bridge day off
        (date(2025, 4, 7), False),  # Hùng Kings' day 2025 (10/3 lunar)
    ],
)
def test_working_days(day, working):
    assert CAL.is_working_day(day) is working


def test_two_days_before_tet_ends_after_tet():
    # received Thursday 19/1/2023; Tết holiday 20–26/1; the weekend 28–29/1
    assert CAL.add_working_days(date(2023, 1, 19), 2) == date(2023, 1, 30)


def test_weekend_is_skipped():
    assert CAL.add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Fri → Mon


def test_swapped_saturday_counts_and_the_bridge_day_does_not():
    start = date(2025, 4, 25)  # Friday
    assert CAL.add_working_days(start, 1) == date(2025, 4, 26)  # the worked Saturday
    assert CAL.add_working_days(start, 3) == date(2025, 4, 29)
    assert CAL.add_working_days(start, 4) == date(2025, 5, 5)  # 30/4, 1/5, 2/5 off, weekend


def test_compensatory_monday_is_skipped():
    assert CAL.add_working_days(date(2022, 12, 30), 1) == date(2023, 1, 3)
    assert CAL.add_working_days(date(2023, 8, 31), 1) == date(2023, 9, 5)


def test_zero_days_lands_on_a_working_day():
    assert CAL.add_working_days(date(2026, 11, 28), 0) == date(2026, 11, 30)
    assert CAL.add_working_days(date(2026, 11, 30), 0) == date(2026, 11, 30)
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2026, 11, 30), -1)


def test_working_days_between_is_the_inverse_of_adding():
    start = date(2022, 12, 1)
    for n in range(0, 80, 7):
        due = CAL.add_working_days(start, n)
        assert CAL.working_days_between(start, due) == n
    assert CAL.working_days_between(date(2026, 10, 19), date(2026, 10, 12)) == -5
    # 24/11 (Ngày Văn hóa Việt Nam) is a working day until an instrument in force says
    # otherwise (DOMAIN.md), although the package takes it for a holiday from 2026
    assert CAL.working_days_between(date(2026, 11, 23), date(2026, 11, 30)) == 5


def test_overrides_win_over_the_package():
    # a day off the package does not know (decided late), and a worked Saturday
    extra = WorkCalendar({date(2026, 12, 31): False, date(2026, 12, 26): True})
    assert CAL.is_working_day(date(2026, 12, 31)) is True
    assert extra.is_working_day(date(2026, 12, 31)) is False
    assert extra.is_working_day(date(2026, 12, 26)) is True
    assert extra.add_working_days(date(2026, 12, 30), 1) == date(2027, 1, 4)


def test_pause_moves_the_due_date_by_the_working_days_it_covered():
    start = date(2026, 3, 2)  # Monday
    plain = compute_deadline(CAL, start, 15)
    paused = compute_deadline(CAL, start, 15, [Pause(date(2026, 3, 4), date(2026, 3, 11))])
    assert paused.paused_days == 5
    assert paused.due == CAL.add_working_days(plain.due, 5)
    assert "paused 2026-03-04 → 2026-03-11: +5" in paused.steps


def test_open_pause_has_no_due_date_yet():
    result = compute_deadline(CAL, date(2026, 3, 2), 15, [Pause(date(2026, 3, 4), None)])
    assert result.due is None


def test_extension_and_explanation_names_the_holidays():
    result = compute_deadline(CAL, date(2023, 1, 16), 15, extension_days=5)
    assert result.due == CAL.add_working_days(date(2023, 1, 16), 20)
    assert any("2023-01-23" in step for step in result.steps)  # Tết is in the explanation
    assert result.steps[-1] == f"due {result.due.isoformat()}"


def test_a_whole_year_has_about_250_working_days():
    days = [date(2023, 1, 1) + timedelta(days=i) for i in range(365)]
    working = sum(CAL.is_working_day(d) for d in days)
    assert 240 <= working <= 252


# -- the Government's announcements (survey_app/feedback/data/official_calendar.json) --


def _days(start: date, end: date):
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def test_the_shipped_data_file_is_valid_and_covers_2022_to_2026():
    data = official_calendar()
    assert data.version and data.reviewed_on is not None
    # 2027 (not announced yet) only corrects the package's Culture Day
    assert sorted(data.years) == [2022, 2023, 2024, 2025, 2026, 2027]
    assert list(data.years[2027].days) == [date(2027, 11, 24)]
    # 2022: the instrument choosing 1/9 as National Day's adjacent day was not found
    assert [y for y in data.years if data.is_confirmed(y)] == [2023, 2024, 2025, 2026]
    for year in data.years.values():
        assert year.announcements  # each year names what it rests on
        for entry in year.days.values():
            assert entry.source.strip() and entry.name.strip() and entry.name_en.strip()


@pytest.mark.parametrize("year", [2022, 2023, 2024, 2025])
def test_the_announcements_agree_with_the_package_where_it_was_right(year):
    """2022–2025: the package (≥ 0.106) has every announced day; the data changes nothing."""
    assert CAL.package_differences(year) == []
    for day in _days(date(year, 1, 1), date(year, 12, 31)):
        assert CAL.is_working_day(day) is package_is_working_day(day), day


def test_2026_differs_from_the_package_by_the_new_year_swap_and_culture_day():
    assert CAL.package_differences(2026) == [
        (date(2026, 1, 2), True, False),  # Friday: a day off by Công văn 12729/VPCP-KGVX
        (date(2026, 1, 10), False, True),  # Saturday: worked in exchange
        (date(2026, 11, 24), False, True),  # no instrument in force makes it a day off
    ]
    swap = CAL.explain(date(2026, 1, 2))
    assert (swap.working, swap.origin, swap.confirmed) == (False, "official", True)
    assert swap.source == "Công văn 12729/VPCP-KGVX ngày 25/12/2025"
    assert CAL.holiday_name(date(2026, 1, 2), "en") == "Day off swapped with Saturday 10/1/2026"
    assert CAL.holiday_name(date(2026, 1, 10)) is None  # a working day is no holiday


@pytest.mark.parametrize(
    "start, days, due, package_due",
    [
        # received Wednesday 31/12/2025: 1/1 and 2/1 off, the weekend, then Mon 5, Tue 6
        (date(2025, 12, 31), 2, date(2026, 1, 6), date(2026, 1, 5)),
        (date(2025, 12, 30), 2, date(2026, 1, 5), date(2026, 1, 2)),
        (date(2025, 12, 31), 5, date(2026, 1, 9), date(2026, 1, 8)),
        # the Saturday worked in exchange counts
        (date(2026, 1, 8), 2, date(2026, 1, 10), date(2026, 1, 12)),
        (date(2026, 1, 9), 1, date(2026, 1, 10), date(2026, 1, 12)),
    ],
)
def test_due_dates_across_the_2026_new_year_swap(start, days, due, package_due):
    assert CAL.add_working_days(start, days) == due
    assert PACKAGE.add_working_days(start, days) == package_due  # what was wrong


def test_working_days_from_31_december_2025_to_12_january_2026():
    worked = [d for d in _days(date(2026, 1, 1), date(2026, 1, 12)) if CAL.is_working_day(d)]
    assert worked == [date(2026, 1, d) for d in (5, 6, 7, 8, 9, 10, 12)]
    assert CAL.working_days_between(date(2025, 12, 31), date(2026, 1, 12)) == 7
    assert CAL.days_off_between(date(2025, 12, 31), date(2026, 1, 4)) == [
        date(2026, 1, d) for d in (1, 2, 3, 4)
    ]


def test_tet_2026_and_its_due_dates():
    # Thông báo 9441/TB-BNV: 16–20/2/2026 off, with the weekends 14–15 and 21–22
    assert [d for d in _days(date(2026, 2, 13), date(2026, 2, 23)) if CAL.is_working_day(d)] == [
        date(2026, 2, 13),
        date(2026, 2, 23),
    ]
    assert CAL.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    deadline = compute_deadline(CAL, date(2026, 2, 12), 15)
    assert deadline.due == date(2026, 3, 12)
    assert deadline.holidays == tuple(date(2026, 2, d) for d in range(16, 21))
    assert CAL.holiday_name(date(2026, 2, 17)) == "Tết Nguyên đán Bính Ngọ"
    assert CAL.explain(date(2026, 2, 17)).source == "Thông báo 9441/TB-BNV ngày 16/10/2025"


def test_the_2025_swap_comes_from_the_announcement():
    worked, off = CAL.explain(date(2025, 4, 26)), CAL.explain(date(2025, 5, 2))
    assert (worked.working, worked.origin) == (True, "official")
    assert (off.working, off.origin) == (False, "official")
    assert "6150/TB-BLĐTBXH" in worked.source == off.source


def test_the_2026_national_day_and_culture_day_are_decided_with_their_source():
    assert [CAL.is_working_day(date(2026, 8, d)) for d in (22, 31)] == [True, False]
    # Culture Day: the package makes it a holiday from 2026, but no legal instrument in
    # force does (a Politburo resolution sets the policy): the data keep it a working day,
    # with that source, in 2026 and in 2027 (a year not announced yet) alike
    for year in (2026, 2027):
        culture = CAL.explain(date(year, 11, 24))
        assert culture.working is True and culture.origin == "official"
        assert "80-NQ/TW" in culture.source and "chưa tìm thấy văn bản" in culture.source
        assert package_is_working_day(date(year, 11, 24)) is False
    # 2027's other days are still the package's
    assert CAL.explain(date(2027, 1, 1)).origin == "package"


def test_a_confirmed_year_is_complete_and_the_package_is_not_read_for_it():
    data = parse_official_calendar(
        {
            "version": "t",
            "years": [
                {"year": 2026, "confirmed": True, "days": []},  # "no holiday at all"
                {"year": 2027, "confirmed": False, "days": []},
            ],
        }
    )
    cal = WorkCalendar(official=data)
    assert cal.is_working_day(date(2026, 1, 1)) and cal.holiday_name(date(2026, 1, 1)) is None
    assert cal.explain(date(2026, 2, 17)).origin == "week"
    assert not cal.is_working_day(date(2026, 8, 22))  # the package's swap is not read either
    # an unconfirmed year without entries: the package
    assert cal.is_working_day(date(2027, 1, 1)) is False
    assert cal.explain(date(2027, 1, 1)).origin == "package"


def test_an_unconfirmed_year_corrects_the_package_only_on_its_days():
    data = parse_official_calendar(
        {
            "version": "t",
            "years": [
                {
                    "year": 2027,
                    "confirmed": False,
                    "days": [
                        {
                            "date": "2027-02-03",
                            "off": True,
                            "name": "Nghỉ thử",
                            "name_en": "Test day off",
                            "source": "Thông báo thử",
                        }
                    ],
                }
            ],
        }
    )
    cal = WorkCalendar(official=data)
    assert cal.is_working_day(date(2027, 2, 3)) is False
    assert cal.explain(date(2027, 2, 3)).confirmed is False
    assert cal.is_working_day(date(2027, 2, 8)) is False  # Tết from the package
    assert cal.package_differences(2027) == [(date(2027, 2, 3), True, False)]


def test_overrides_win_over_the_announcements():
    cal = WorkCalendar({date(2026, 1, 2): True, date(2026, 1, 10): False})
    assert cal.is_working_day(date(2026, 1, 2)) and not cal.is_working_day(date(2026, 1, 10))
    assert cal.explain(date(2026, 1, 2)).origin == "override"
    # the comparison with the package leaves the overrides out
    assert cal.package_differences(2026) == CAL.package_differences(2026)
    listed = {s.day: s for s in cal.year_exceptions(2026)}
    assert listed[date(2026, 1, 2)].origin == "override" and listed[date(2026, 1, 2)].working


def test_a_years_list_has_each_weekday_off_and_worked_weekend_day():
    listed = CAL.year_exceptions(2026, "en")
    weekdays_off = {s.day for s in listed if not s.working and s.day.weekday() not in WEEKEND}
    assert weekdays_off == {
        d
        for d in _days(date(2026, 1, 1), date(2026, 12, 31))
        if d.weekday() not in WEEKEND and not CAL.is_working_day(d)
    }
    assert len(weekdays_off) == 13  # 1–2/1, 16–20/2, 27/4, 30/4, 1/5, 31/8, 1–2/9
    # the worked weekend days, and Culture Day kept a working day against the package
    assert {s.day for s in listed if s.working} == {
        date(2026, 1, 10),
        date(2026, 8, 22),
        date(2026, 11, 24),
    }
    # Hùng Kings' day on Sunday 26/4 is listed too, beside its compensatory Monday
    sunday = next(s for s in listed if s.day == date(2026, 4, 26))
    assert sunday.name == "Hùng Kings' Commemoration Day" and not sunday.working


@pytest.mark.parametrize(
    "today, years",
    [
        (date(2026, 12, 7), [2027]),
        (date(2025, 6, 1), []),
        (date(2022, 3, 1), [2022]),  # the 2022 announcement is not confirmed
        (date(2027, 1, 4), [2027, 2028]),
    ],
)
def test_years_without_a_confirmed_announcement(today, years):
    assert unconfirmed_years(today) == years


def _day(**changes):
    row = {"date": "2026-01-10", "off": False, "name": "n", "name_en": "n", "source": "s"}
    return {**row, **changes}


@pytest.mark.parametrize(
    "year, problem",
    [
        ({"year": 2026, "confirmed": True, "days": [_day(date="2026-01-09")]}, "Saturday"),
        ({"year": 2026, "confirmed": True, "days": [_day(date="2027-01-09")]}, "not in its year"),
        ({"year": 2026, "confirmed": True, "days": [_day(), _day()]}, "given twice"),
        ({"year": 2026, "confirmed": True, "days": [_day(source=" ")]}, "'source'"),
        ({"year": 2026, "confirmed": True, "days": [_day(date="10/1/2026")]}, "ISO date"),
        ({"year": 2026, "confirmed": "yes", "days": []}, "'confirmed'"),
        ({"year": 1999, "confirmed": True, "days": []}, "2000 to 2100"),
    ],
)
def test_a_malformed_data_file_is_refused_saying_where(year, problem):
    with pytest.raises(OfficialCalendarError, match=problem):
        parse_official_calendar({"version": "t", "years": [year]})


def test_the_data_file_is_plain_json_listed_as_package_data():
    raw = json.loads(OFFICIAL_CALENDAR_FILE.read_text(encoding="utf-8"))
    assert parse_official_calendar(raw) == official_calendar()
    with open(OFFICIAL_CALENDAR_FILE.parents[3] / "pyproject.toml", encoding="utf-8") as f:
        pyproject = f.read()
    assert '"feedback/data/*.json"' in pyproject and '"holidays>=0.106,' in pyproject
