"""``flask export responses|volumes``, and agreement with ``python -m analysis indices``."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from analysis import Responses, analyse, load_questionnaire, period_month, poststratify
from analysis.cli import main as cli_main
from survey_app.agencies.models import DossierVolume
from survey_app.extensions import db
from survey_app.surveys import services
from survey_app.surveys.models import Channel, QuestionnaireVersion, Response
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


# --------------------------------------------------------------- app and CLI agree
def assert_close(got, want, path=""):
    """Equal JSON-like structures, numbers to 1e-12 (relative, or absolute near 0)."""
    if isinstance(want, dict):
        assert set(got) == set(want), path
        for key in want:
            assert_close(got[key], want[key], f"{path}.{key}")
    elif isinstance(want, list):
        assert len(got) == len(want), path
        for k, (g, w) in enumerate(zip(got, want)):
            assert_close(g, w, f"{path}[{k}]")
    elif isinstance(want, float):
        assert got is not None and math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-14), path
    else:
        assert got == want, path


def _survey_data(untagged: str | None = None):
    """Two agencies, two fields, 150 responses over two reporting months, some by staff.

    :param untagged: the code of an agency where a third of the responses came
        from a poster (no procedure field).
    """
    rng = np.random.default_rng(7)
    fields = [factories.field(code=c) for c in ("DD", "HT")]
    agencies = [factories.agency(code=c) for c in ("SNV", "STP")]
    counters = [factories.counter(a) for a in agencies for _ in range(2)]
    procedures = {(a.id, f.id): factories.procedure(a, f) for a in agencies for f in fields}
    questionnaire = services.current_questionnaire()
    items = questionnaire.item_codes
    for k in range(150):
        counter = counters[rng.integers(len(counters))]
        field_ = fields[int(rng.random() < 0.3)]
        # local days 16 Feb – 13 Apr: reporting months 2024-03 and 2024-04
        when = datetime(2024, 2, 15, 17, tzinfo=UTC) + timedelta(
            days=float(rng.uniform(1, 58)), seconds=k
        )
        ratings = None
        if rng.random() < 0.8:
            ratings = {}
            for code in items:
                u = rng.random()
                if u < 0.1:
                    ratings[code] = None  # N/A
                elif u < 0.9:
                    ratings[code] = int(rng.choice([1, 2, 3, 4, 5], p=[0.05, 0.1, 0.15, 0.4, 0.3]))
        _respond(
            counter,
            int(rng.choice([2, 3, 4, 5], p=[0.1, 0.1, 0.4, 0.4])),
            ratings,
            when=when,
            procedure=None
            if counter.agency.code == untagged and k % 3 == 0
            else procedures[(counter.agency_id, field_.id)],
            staff=k % 30 == 0,
        )
    for a in agencies:
        for f in fields:
            for month in (3, 4):
                db.session.add(
                    DossierVolume(
                        agency=a,
                        field=f,
                        month=date(2024, month, 1),
                        dossiers=int(rng.integers(200, 900)),
                    )
                )
    db.session.commit()


def _responses_from_the_database():
    """The same responses as analysis arrays, straight from the ORM (not through CSV)."""
    rows = db.session.scalars(
        select(Response).where(Response.staff_flag.is_(False)).order_by(Response.id)
    ).all()
    answers = np.zeros((len(rows), len(ITEMS)), dtype=np.int8)
    column = {code: j for j, code in enumerate(ITEMS)}
    for i, r in enumerate(rows):
        answers[i, 0] = r.overall
        for a in r.answers:
            if a.value is not None:
                answers[i, column[a.item_code]] = a.value
    stamps = [r.submitted_at.astimezone(UTC).replace(tzinfo=None) for r in rows]
    return Responses(
        answers=answers,
        item_codes=ITEMS,
        agency=np.array([r.agency.code for r in rows]),
        submitted_at=np.array(stamps, dtype="datetime64[s]"),
        response_id=np.array([str(r.id) for r in rows]),
        counter=np.array([r.counter.code for r in rows]),
        procedure_field=np.array([r.procedure.field.code for r in rows]),
    )


def test_export_then_cli_agrees_with_analyse(app, runner, tmp_path):
    with app.app_context():
        _survey_data()
        want = _responses_from_the_database()
        volumes = {
            (v.agency.code, v.field.code, f"{v.month:%Y-%m}"): v.dossiers
            for v in db.session.scalars(select(DossierVolume))
        }
    responses_csv, volumes_csv = tmp_path / "responses.csv", tmp_path / "volumes.csv"
    notes = {}
    for kind, path in (("responses", responses_csv), ("volumes", volumes_csv)):
        result = runner.invoke(
            args=["export", kind, "--from", "2024-02-15", "--to", "2024-04-14", "-o", str(path)]
        )
        assert result.exit_code == 0, result.output
        notes[kind] = result.stderr
    assert "5 response(s) sent by logged-in staff (staff_flag) left out" in notes["responses"]
    assert "8 volume row(s) exported" in notes["volumes"]

    by = ("agency", "month")
    common = ["--by", "agency,month", "--min-n", "10"]
    status = cli_main(["indices", str(responses_csv), *common, "-o", str(tmp_path / "base.json")])
    assert status == 0
    got = json.loads((tmp_path / "base.json").read_text())
    expected = analyse(want, by=by, min_n=10).to_dict()
    assert got["inputs"]["n_responses"] == want.n == 145
    assert got["weighting"]["method"] == "base"
    assert len(got["groups"]) == 4
    assert_close(got["groups"], expected["groups"], "groups")
    assert_close(got["overall"], expected["overall"], "overall")

    status = cli_main(
        [
            "indices",
            str(responses_csv),
            "--volumes",
            str(volumes_csv),
            *common,
            "-o",
            str(tmp_path / "weighted.json"),
        ]
    )
    assert status == 0
    got = json.loads((tmp_path / "weighted.json").read_text())
    month = period_month(want.submitted_at).astype(str)
    keys = sorted(volumes)
    cell = np.array(
        [keys.index(k) for k in zip(want.agency, want.procedure_field, month)], dtype=np.int64
    )
    calibration = poststratify(np.ones(want.n), cell, np.array([volumes[k] for k in keys], float))
    expected = analyse(want, by=by, min_n=10, calibration=calibration).to_dict()
    assert got["weighting"]["method"] == "poststratify"
    assert got["weighting"]["coverage_gaps"] == []
    assert got["weighting"]["volume_total"] == sum(volumes.values())
    assert_close(got["groups"], expected["groups"], "groups")
    assert_close(got["overall"], expected["overall"], "overall")
    # post-stratified: each agency-month weighs what its dossiers say
    for g in got["groups"]:
        total = sum(v for (a, _, m), v in volumes.items() if (a, m) == (g["agency"], g["month"]))
        assert math.isclose(g["items"]["Q0"]["weight_total"], total)


def test_mixed_versions_are_warned_about_and_refused_by_the_cli(app, runner, tmp_path):
    with app.app_context():
        counter = factories.counter()
        for day in (1, 2, 3):
            _respond(counter, 4, {"A1": 5}, when=datetime(2024, 3, day, 2, tzinfo=UTC))
        old = QuestionnaireVersion(version="sipas-2019.1", checksum="0" * 64, definition={})
        db.session.add(old)
        db.session.flush()
        db.session.scalars(
            select(Response).order_by(Response.id)
        ).first().questionnaire_version = old
        db.session.commit()
    path = tmp_path / "r.csv"
    result = runner.invoke(
        args=["export", "responses", "--from", "2024-03-01", "--to", "2024-03-31", "-o", str(path)]
    )
    assert result.exit_code == 0
    assert "the export mixes questionnaire versions (sipas-2019.1: 1, sipas-2023.1: 2)" in (
        result.stderr
    )
    err = io.StringIO()
    assert cli_main(["indices", str(path)], stdout=io.StringIO(), stderr=err) == 2
    assert (
        "questionnaire versions are mixed (sipas-2019.1 from line 2, sipas-2023.1 from line 3)"
        in (err.getvalue())
    )
    result = runner.invoke(
        args=[
            "export",
            "responses",
            "--from",
            "2024-03-01",
            "--to",
            "2024-03-31",
            "--questionnaire-version",
            "sipas-2023.1",
            "-o",
            str(path),
        ]
    )
    assert result.exit_code == 0 and "mixes" not in result.stderr
    assert [r["questionnaire_version"] for r in _read(path.read_text())] == ["sipas-2023.1"] * 2
    assert cli_main(["indices", str(path), "--min-n", "1"], stdout=io.StringIO()) == 0
    result = runner.invoke(
        args=[
            "export",
            "responses",
            "--from",
            "2024-03-01",
            "--to",
            "2024-03-31",
            "--questionnaire-version",
            "sipas-1999",
        ]
    )
    assert result.exit_code == 2 and "no questionnaire file" in result.output


def test_cli_and_app_agree_when_some_responses_have_no_procedure_field(app, runner, tmp_path):
    """The one weighting rule (README, "Weighting to dossier volumes"): an agency with a
    response without a procedure field is one cell with its total volume, in the app's
    report and in ``python -m analysis indices`` alike."""
    from survey_app.reports.periods import Period
    from survey_app.reports.services import compute_report

    with app.app_context():
        _survey_data(untagged="SNV")
        report = compute_report(Period.parse("2024-03"))
    responses_csv, volumes_csv = tmp_path / "responses.csv", tmp_path / "volumes.csv"
    for kind, path in (("responses", responses_csv), ("volumes", volumes_csv)):
        result = runner.invoke(
            args=["export", kind, "--from", "2024-02-15", "--to", "2024-03-14", "-o", str(path)]
        )
        assert result.exit_code == 0, result.output
    untagged = [r for r in _read(responses_csv.read_text()) if r["procedure_field"] == ""]
    assert untagged and {r["agency"] for r in untagged} == {"SNV"}
    out = tmp_path / "cli.json"
    argv = ["indices", str(responses_csv), "--volumes", str(volumes_csv), "-o", str(out)]
    assert cli_main(argv) == 0
    got = json.loads(out.read_text())

    assert report["weighting"]["used"] is True
    weighting = report["weighting"]
    assert (weighting["agency_cells"], weighting["agency_field_cells"]) == (1, 2)
    assert [c["agency"] for c in got["weighting"]["agency_cells"]] == ["SNV"]
    assert got["inputs"]["n_responses"] == report["n_responses"]
    app_rows = {row["code"]: row for row in report["agencies"]}
    cli_rows = {g["agency"]: g for g in got["groups"]}
    assert set(app_rows) == set(cli_rows) == {"SNV", "STP"}
    keys = ("n", "n_eff", "index", "se", "ci_low", "ci_high", "p_below", "p_above", "verdict")
    for code in ("SNV", "STP"):
        for key in keys:
            assert_close(app_rows[code][key], cli_rows[code][key], f"{code}.{key}")
        for item in ("Q0", "A1"):
            for key in keys:
                assert_close(
                    app_rows[code]["items"][item][key],
                    cli_rows[code]["items"][item][key],
                    f"{code}.{item}.{key}",
                )
    for key in keys:
        assert_close(report["province"][key], got["overall"][key], f"overall.{key}")
    # weighted to the dossiers: the province counts SNV by its whole volume
    with app.app_context():
        snv_dossiers = sum(
            v.dossiers
            for v in db.session.scalars(select(DossierVolume))
            if v.agency.code == "SNV" and v.month == date(2024, 3, 1)
        )
    assert math.isclose(cli_rows["SNV"]["items"]["Q0"]["weight_total"], snv_dossiers)


def test_the_apps_exports_go_through_the_cli_when_an_agency_got_no_response(app, runner, tmp_path):
    """The analyst's path on the app's own data: an agency that handled dossiers
    but got no response that period is a coverage gap the CLI reports, not a
    refusal ("a volume for an unknown agency" before)."""
    with app.app_context():
        _survey_data()
        quiet = factories.agency(code="SXD")
        db.session.add(
            DossierVolume(
                agency=quiet, field=factories.field(code="XD"), month=date(2024, 3, 1), dossiers=77
            )
        )
        db.session.commit()
    responses_csv, volumes_csv = tmp_path / "responses.csv", tmp_path / "volumes.csv"
    for kind, path in (("responses", responses_csv), ("volumes", volumes_csv)):
        result = runner.invoke(
            args=["export", kind, "--from", "2024-02-15", "--to", "2024-04-14", "-o", str(path)]
        )
        assert result.exit_code == 0, result.output
    assert "SXD" in volumes_csv.read_text() and "SXD" not in responses_csv.read_text()
    out, err = tmp_path / "cli.json", io.StringIO()
    argv = ["indices", str(responses_csv), "--volumes", str(volumes_csv), "-o", str(out)]
    assert cli_main(argv, stderr=err) == 0, err.getvalue()
    got = json.loads(out.read_text())
    unanswered = got["weighting"]["unanswered_agencies"]
    assert [(a["agency"], a["dossiers"]) for a in unanswered] == [("SXD", 77)]
    assert {g["agency"] for g in got["groups"]} == {"SNV", "STP"}
    assert any(g["agency"] == "SXD" for g in got["weighting"]["coverage_gaps"])
