"""Working days and deadlines around Tết, weekends, compensatory and swapped days, pauses."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from survey_app.feedback.workdays import Pause, WorkCalendar, compute_deadline

CAL = WorkCalendar()


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
    # 24/11 became a day off (Ngày Văn hóa Việt Nam) from 2026: the package knows it
    assert CAL.working_days_between(date(2026, 11, 23), date(2026, 11, 30)) == 4


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
