"""Reporting periods: the plan's 15th → 14th cut-off, calendar months, labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from survey_app.reports.periods import Period, PeriodError, last_periods

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=VN)


def test_q1_2022_is_15_december_2021_to_14_march_2022():
    start, end = Period.parse("2022-Q1").window(calendar=False)
    assert start == local(2021, 12, 15)
    assert end == local(2022, 3, 15)
    assert start.tzinfo == UTC and start == datetime(2021, 12, 14, 17, tzinfo=UTC)
    first, last = Period.parse("2022-Q1").local_days(calendar=False)
    assert (first.isoformat(), last.isoformat()) == ("2021-12-15", "2022-03-14")


def test_year_2022_is_15_december_2021_to_14_december_2022():
    period = Period.parse("2022")
    start, end = period.window(calendar=False)
    assert (start, end) == (local(2021, 12, 15), local(2022, 12, 15))
    # the whole of the 14th is in, the first second of the 15th is not
    last_second = local(2022, 12, 14, 23, 59, 59)
    assert start <= last_second < end
    assert not local(2022, 12, 15) < end


def test_month_and_half_windows():
    assert Period.parse("2022-03").window(calendar=False) == (
        local(2022, 2, 15),
        local(2022, 3, 15),
    )
    assert Period.parse("2022-01").window(calendar=False) == (
        local(2021, 12, 15),
        local(2022, 1, 15),
    )
    assert Period.parse("2022-H2").window(calendar=False) == (
        local(2022, 6, 15),
        local(2022, 12, 15),
    )


def test_calendar_months_mode():
    assert Period.parse("2022-03").window(calendar=True) == (local(2022, 3, 1), local(2022, 4, 1))
    assert Period.parse("2022-Q1").window(calendar=True) == (local(2022, 1, 1), local(2022, 4, 1))
    assert Period.parse("2022").window(calendar=True) == (local(2022, 1, 1), local(2023, 1, 1))
    assert Period.parse("2022-12").window(calendar=True)[1] == local(2023, 1, 1)


def test_calendar_setting_is_read_from_the_app(app):
    period = Period.parse("2022-03")
    with app.app_context():
        assert period.window() == (local(2022, 2, 15), local(2022, 3, 15))
        app.config["REPORT_CALENDAR_MONTHS"] = True
        try:
            assert period.window() == (local(2022, 3, 1), local(2022, 4, 1))
        finally:
            app.config["REPORT_CALENDAR_MONTHS"] = False


@pytest.mark.parametrize("label", ["2022-03", "2022-Q1", "2022-H2", "2022", "2000-12"])
def test_labels_round_trip(label):
    assert Period.parse(label).label == label
    assert Period.parse(label.lower()).label == label


@pytest.mark.parametrize(
    "label", ["", "2022-13", "2022-00", "2022-Q5", "2022-H3", "22-03", "2022/03", "March", None]
)
def test_bad_labels_are_refused_clearly(label):
    with pytest.raises(PeriodError, match="not a"):
        Period.parse(label)


def test_previous_and_last_twelve():
    assert Period.parse("2022-01").previous().label == "2021-12"
    assert Period.parse("2022-Q1").previous().label == "2021-Q4"
    assert Period.parse("2022-H1").previous().label == "2021-H2"
    assert Period.parse("2022").previous().label == "2021"
    twelve = last_periods(Period.parse("2022-03"))
    assert [p.label for p in twelve][:2] == ["2021-04", "2021-05"]
    assert twelve[-1].label == "2022-03" and len(twelve) == 12
    assert [p.label for p in Period.parse("2022-Q1").last(3)] == ["2021-Q3", "2021-Q4", "2022-Q1"]


def test_consecutive_windows_tile_without_gaps():
    period = Period.parse("2021-11")
    for _ in range(14):
        assert period.window(calendar=False)[1] == period.next().window(calendar=False)[0]
        period = period.next()


def test_period_containing_an_instant():
    assert Period.containing("month", local(2022, 3, 14, 23, 59), calendar=False).label == "2022-03"
    assert Period.containing("month", local(2022, 3, 15), calendar=False).label == "2022-04"
    assert Period.containing("year", local(2022, 12, 20), calendar=False).label == "2023"
    assert Period.containing("quarter", local(2022, 12, 20), calendar=True).label == "2022-Q4"
    instant = local(2022, 6, 14, 12) + timedelta(hours=13)  # 15 June, 01:00 local
    assert Period.containing("half", instant, calendar=False).label == "2022-H2"


def test_months_covered_are_the_volume_keys():
    assert [d.month for d in Period.parse("2022-Q2").months()] == [4, 5, 6]


@pytest.mark.parametrize("label", ["1900", "1999-12", "1900-Q1", "2101-H1", "9998"])
def test_years_outside_the_service_are_refused(label):
    with pytest.raises(PeriodError, match="reporting year"):
        Period.parse(label)


@pytest.mark.parametrize("label", ["2000-01", "2000", "2100-12", "2100"])
def test_the_first_and_last_years_have_the_periods_a_report_reads_around_them(label):
    period = Period.parse(label)
    assert len(period.last(12)) == 12 and period.next().year >= period.year
