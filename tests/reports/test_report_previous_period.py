"""``flask report … --period previous``: the period a timer should report on."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from survey_app.reports.report_cli import _period


@pytest.mark.parametrize(
    "now, kind, calendar, expected",
    [
        # the plan's months run 15th → 14th (local time): on the 15th March is closed
        ("2024-03-14T16:59:00Z", "month", False, "2024-02"),  # 14 March 23:59 local
        ("2024-03-14T17:00:00Z", "month", False, "2024-03"),  # 15 March 00:00 local
        ("2024-01-20T00:00:00Z", "month", False, "2024-01"),  # 15 Dec → 14 Jan
        ("2024-03-20T00:00:00Z", "quarter", False, "2024-Q1"),
        ("2024-12-15T00:00:00Z", "year", False, "2024"),
        # calendar months: on the 1st the month before is closed
        ("2024-04-01T00:00:00Z", "month", True, "2024-03"),
        ("2024-01-02T00:00:00Z", "month", True, "2023-12"),
    ],
)
def test_previous_is_the_last_closed_period(app, now, kind, calendar, expected):
    with app.app_context(), freeze_time(now):
        app.config["REPORT_CALENDAR_MONTHS"] = calendar
        try:
            assert _period(kind, "previous").label == expected
        finally:
            app.config["REPORT_CALENDAR_MONTHS"] = False


def test_monthly_report_for_the_previous_month_from_the_command_line(runner, tmp_path):
    with freeze_time("2024-03-16T03:00:00Z"):
        result = runner.invoke(
            args=["report", "monthly", "--period", "previous", "--output-dir", str(tmp_path)]
        )
    assert result.exit_code == 0, result.output
    assert "report 2024-03:" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bao-cao-hai-long-2024-03.pdf",
        "bao-cao-hai-long-2024-03.xlsx",
    ]


def test_a_label_still_works_and_nonsense_is_refused(runner, tmp_path):
    bad = runner.invoke(
        args=["report", "monthly", "--period", "last", "--output-dir", str(tmp_path)]
    )
    assert bad.exit_code == 2 and "not a period" in bad.output
