"""Commands that write files say which path they cannot write, and write nothing
half: a missing folder, a file where a folder should be (each was a traceback)."""

from __future__ import annotations

import pytest

from survey_app.extensions import db
from tests import factories


@pytest.fixture
def blocked(tmp_path):
    """A regular file: nothing can be written "inside" it."""
    path = tmp_path / "a-file"
    path.write_text("x")
    return path


def test_survey_link_with_an_unwritable_qr_prints_no_link(app, runner, blocked):
    with app.app_context():
        code = factories.counter(factories.agency("UBND huyện Nam Sách")).code
        db.session.commit()
    target = blocked / "qr.png"
    result = runner.invoke(args=["survey", "link", "--counter", code, "--qr", str(target)])
    assert result.exit_code == 1, result.output
    assert f"cannot write {target}" in result.output and "/r/" not in result.output
    assert "Traceback" not in result.output


def test_report_into_an_unwritable_folder(runner, blocked):
    target = blocked / "reports"
    result = runner.invoke(
        args=["report", "monthly", "--period", "2022-03", "--output-dir", str(target)]
    )
    assert result.exit_code == 1 and f"cannot write {target}" in result.output, result.output


@pytest.mark.parametrize("command", ["responses", "volumes"])
def test_export_into_a_missing_folder(runner, tmp_path, command):
    target = tmp_path / "no-such-folder" / "x.csv"
    result = runner.invoke(
        args=["export", command, "--from", "2022-01-01", "--to", "2022-01-31", "-o", str(target)]
    )
    assert result.exit_code == 1 and f"cannot write {target}" in result.output, result.output
    assert not target.parent.exists()


@pytest.mark.parametrize(
    ("date_from", "date_to"),
    [("2022-01-01", "9999-12-31"), ("0001-01-01", "2022-01-31"), ("1999-12-31", "2022-01-01")],
)
def test_export_days_are_in_the_years_reports_cover(runner, date_from, date_to):
    """9999-12-31 has no next day: an OverflowError traceback."""
    result = runner.invoke(args=["export", "responses", "--from", date_from, "--to", date_to])
    assert result.exit_code == 2 and "outside the years 2000–2100" in result.output, result.output


def test_backup_to_an_unwritable_path(app, runner, blocked):
    from tests.core.test_backup import _sqlite_file

    _sqlite_file(app)
    target = blocked / "copy.sqlite3"
    result = runner.invoke(args=["backup", "--output", str(target)])
    assert result.exit_code == 1 and f"cannot write {target}" in result.output, result.output
