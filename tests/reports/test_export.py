"""``flask export responses|volumes``, and agreement with ``python -m analysis indices``."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from analysis import load_questionnaire
from survey_app.agencies.models import DossierVolume
from survey_app.extensions import db
from survey_app.surveys import services
from survey_app.surveys.models import Channel
from tests import factories

ITEMS = load_questionnaire().item_codes  # Q0, A1 … E4


def _respond(counter, overall, ratings=None, *, when, procedure=None, staff=False):
    origin = services.Origin(Channel.poster, "vi", "c" * 32, staff_flag=staff, procedure=procedure)
    response = services.record_overall(counter, overall, origin)
    if ratings is not None:
        services.record_details(response, ratings, {})
    response.submitted_at = when
    db.session.flush()
    return response


def _read(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_export_responses_columns_and_values(app, runner, tmp_path):
    with app.app_context():
        counter = factories.counter(factories.agency(code="SNV"), code="K1")
        proc = factories.procedure(field_=factories.field(code="HT"))
        first = _respond(
            counter,
            5,
            {"A1": 4, "A2": None, "C3": 2},
            when=datetime(2024, 3, 1, 2, 30, tzinfo=UTC),
            procedure=proc,
        )
        second = _respond(counter, 2, when=datetime(2024, 3, 2, 2, tzinfo=UTC))
        _respond(counter, 1, {"A1": 1}, when=datetime(2024, 3, 2, 3, tzinfo=UTC), staff=True)
        _respond(counter, 3, when=datetime(2024, 4, 2, 3, tzinfo=UTC))  # outside the range
        db.session.commit()
        ids = (first.id, second.id)

    result = runner.invoke(
        args=["export", "responses", "--from", "2024-03-01", "--to", "2024-03-31"]
    )
    assert result.exit_code == 0, result.output
    assert "1 response(s) sent by logged-in staff (staff_flag) left out" in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split(",") == [
        "response_id",
        "agency",
        "submitted_at",
        "counter",
        "procedure_field",
        "questionnaire_version",
        *ITEMS,
    ]
    rows = _read(result.stdout)
    assert [int(r["response_id"]) for r in rows] == list(ids)
    one, two = rows
    assert (one["agency"], one["counter"], one["procedure_field"]) == ("SNV", "K1", "HT")
    assert one["submitted_at"] == "2024-03-01T02:30:00Z"
    assert one["questionnaire_version"] == "sipas-2023.1"
    assert (one["Q0"], one["A1"], one["A2"], one["C3"], one["E4"]) == ("5", "4", "", "2", "")
    assert two["procedure_field"] == "" and two["Q0"] == "2"
    assert all(two[c] == "" for c in ITEMS[1:])

    out = tmp_path / "responses.csv"
    result = runner.invoke(
        args=["export", "responses", "--from", "2024-03-01", "--to", "2024-03-31", "-o", str(out)]
    )
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8") == "\n".join(lines) + "\n"
    assert [p.name for p in tmp_path.iterdir()] == ["responses.csv"]  # no temporary left


def test_export_range_is_local_days(app, runner):
    with app.app_context():
        counter = factories.counter()
        # 23:30 UTC on 29 Feb is 06:30 on 1 March in Viet Nam
        _respond(counter, 4, when=datetime(2024, 2, 29, 23, 30, tzinfo=UTC))
        _respond(counter, 4, when=datetime(2024, 2, 29, 16, 59, tzinfo=UTC))  # 23:59 on 29 Feb
        db.session.commit()
    result = runner.invoke(
        args=["export", "responses", "--from", "2024-03-01", "--to", "2024-03-01"]
    )
    assert [r["submitted_at"] for r in _read(result.stdout)] == ["2024-02-29T23:30:00Z"]
    result = runner.invoke(
        args=["export", "responses", "--from", "2024-03-02", "--to", "2024-03-01"]
    )
    assert result.exit_code == 2 and "--to is before --from" in result.output


def test_export_volumes(app, runner):
    with app.app_context():
        a, b = factories.agency(code="A"), factories.agency(code="B")
        f = factories.field(code="HT")
        for agency_, month, n in ((a, 2, 10), (a, 3, 11), (b, 3, 0), (a, 4, 12), (b, 5, 9)):
            db.session.add(
                DossierVolume(agency=agency_, field=f, month=date(2024, month, 1), dossiers=n)
            )
        db.session.commit()
    result = runner.invoke(args=["export", "volumes", "--from", "2024-02-15", "--to", "2024-04-14"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "agency,procedure_field,month,dossiers",
        "A,HT,2024-03,11",
        "A,HT,2024-04,12",
        "B,HT,2024-03,0",
    ]
    assert "3 volume row(s) exported" in result.stderr


@pytest.mark.parametrize("command", ["responses", "volumes"])
def test_export_needs_a_range(runner, command):
    result = runner.invoke(args=["export", command, "--from", "2024-03-01"])
    assert result.exit_code == 2 and "--to" in result.output
