"""``flask export … --for-people``: the survey data with Vietnamese headers and local
times, formulas still neutralised; the default form stays what ``python -m analysis`` reads."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from survey_app.agencies.models import DossierVolume
from survey_app.extensions import db
from tests import factories
from tests.reports.conftest import respond


def _vi(app, msgid: str) -> str:
    from flask_babel import gettext

    with app.test_request_context(headers={"Accept-Language": "vi"}):
        return gettext(msgid)


def _world(app):
    with app.app_context():
        agency = factories.agency(code="=STP")
        field = factories.field(code="HT")
        procedure = factories.procedure(agency, field)
        counter = factories.counter(agency, code="Q1")
        # 17:30 UTC on 31 March is 00:30 on 1 April in Hà Nội
        respond(
            counter,
            5,
            {"A1": 4},
            when=datetime(2024, 3, 31, 17, 30, tzinfo=UTC),
            procedure=procedure,
        )
        db.session.add(
            DossierVolume(agency=agency, field=field, month=date(2024, 4, 1), dossiers=50)
        )
        db.session.commit()


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_responses_for_people(app, runner, tmp_path):
    _world(app)
    path = tmp_path / "people.csv"
    args = ["export", "responses", "--from", "2024-04-01", "--to", "2024-04-30", "-o", str(path)]
    result = runner.invoke(args=[*args, "--for-people"])
    assert result.exit_code == 0, result.output
    text = path.read_text(encoding="utf-8")
    assert text.startswith("\ufeff")  # Excel reads it as UTF-8
    header, row = _rows(text.lstrip("\ufeff"))
    expected = [
        "Response number",
        "Agency code",
        "Submitted at (Vietnam time)",
        "Counter code",
        "Procedure field code",
        "Questionnaire version",
    ]
    assert header[:6] == [_vi(app, m) for m in expected]
    assert "response_id" not in header and "submitted_at" not in header
    assert row[2] == "01/04/2024 00:30"  # the local day, not 31 March UTC
    assert row[1] == "'=STP"  # still no formula

    plain = tmp_path / "plain.csv"
    assert runner.invoke(args=[*args[:-1], str(plain)]).exit_code == 0
    header, row = _rows(plain.read_text(encoding="utf-8"))
    assert header[:3] == ["response_id", "agency", "submitted_at"]
    assert row[2] == "2024-03-31T17:30:00Z"  # what the analysis reads


def test_volumes_for_people(app, runner, tmp_path):
    _world(app)
    path = tmp_path / "volumes.csv"
    result = runner.invoke(
        args=[
            "export",
            "volumes",
            "--from",
            "2024-04-01",
            "--to",
            "2024-04-30",
            "-o",
            str(path),
            "--for-people",
        ]
    )
    assert result.exit_code == 0, result.output
    header, row = _rows(path.read_text(encoding="utf-8").lstrip("\ufeff"))
    assert header == [
        _vi(app, m) for m in ("Agency code", "Procedure field code", "Month", "Dossiers")
    ]
    assert row[2:] == ["04/2024", "50"]
