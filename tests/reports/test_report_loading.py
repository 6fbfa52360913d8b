"""The report's fast paths give what the plain ones give: packed answers, the light load of
the previous period, the weighting rule on (agency, field) pairs, the fingerprint."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest
from sqlalchemy import select

from analysis.volumes import Volumes, agency_level_cells
from survey_app.agencies.models import DossierVolume
from survey_app.extensions import db
from survey_app.reports import services
from survey_app.reports.loading import window_filter
from survey_app.reports.packing import packed_answers_query
from survey_app.reports.periods import Period
from survey_app.surveys.models import Answer, Response
from tests import factories
from tests.reports.conftest import VN, respond

MARCH = Period.parse("2022-03")


def _answers_row_by_row(codes) -> dict[int, dict[str, int]]:
    """Every March response's answers, read one answer row at a time."""
    out: dict[int, dict[str, int]] = {}
    rows = db.session.execute(
        select(Response.id, Answer.item_code, Answer.value).join(
            Answer, Answer.response_id == Response.id
        )
    ).all()
    for rid, code, value in rows:
        if code in codes and value is not None:
            out.setdefault(rid, {})[code] = value
    return out


def test_packed_answers_unpack_to_every_item_and_value(app_ctx):
    codes = services.questionnaire().item_codes
    items = list(codes[1:])
    assert len(items) >= 21  # more than one pack would also do; this is the shipped one
    counter = factories.counter()
    rng = np.random.default_rng(3)
    respond(counter, 5, dict.fromkeys(items, 5))  # every bit of the pack set
    respond(counter, 1, dict.fromkeys(items, 1))
    respond(counter, 4, dict.fromkeys(items))  # all "not applicable"
    respond(counter, 3, {"ZZ99": 4, items[-1]: 2})  # a code of no column is ignored
    respond(counter, 2)  # Q0 only
    for _ in range(60):
        chosen = rng.choice(items, size=int(rng.integers(0, len(items) + 1)), replace=False)
        answers = {
            str(c): (None if rng.random() < 0.1 else int(rng.integers(1, 6))) for c in chosen
        }
        respond(counter, int(rng.integers(1, 6)), answers)
    db.session.commit()

    data = services.load_period(MARCH)
    r = data.responses
    assert r.n == 65
    expected = _answers_row_by_row(set(items))
    overall = dict(db.session.execute(select(Response.id, Response.overall)).all())
    for i, rid in enumerate(r.response_id.tolist()):
        want = [overall[rid]] + [expected.get(rid, {}).get(c, 0) for c in items]
        assert r.answers[i].tolist() == want
    assert r.answers[0].tolist() == [5] * len(codes)
    assert r.answers[2].tolist() == [4] + [0] * len(items)
    assert r.answers[3, -1] == 2 and r.answers[3, 1:-1].sum() == 0

    light = services.load_period(MARCH, details=False)
    assert np.array_equal(light.responses.answers, r.answers)
    assert np.array_equal(light.responses.agency, r.agency)
    assert np.array_equal(light.responses.response_id, r.response_id)
    assert np.array_equal(light.field, data.field)
    assert light.responses.submitted_at is None and light.responses.counter is None


@pytest.mark.parametrize("others_between", [1, 3], ids=["ids-contiguous", "ids-interleaved"])
def test_answers_of_other_responses_in_the_id_range_stay_out(app_ctx, others_between):
    """The answers are read over the range of the period's response ids: responses in
    that range outside the period (February's, staff-flagged, quarantined) add nothing,
    whether the range is dense (read as it is) or mostly other responses (the database
    then keeps only the period's)."""
    codes = services.questionnaire().item_codes
    items = list(codes[1:])
    counter = factories.counter()
    february = datetime(2022, 2, 1, 9, tzinfo=VN)
    ours = []
    for i in range(12):
        ours.append(respond(counter, 1 + i % 5, {items[i]: 1 + i % 5, items[-1]: 5 - i % 5}))
        for k in range(others_between):
            kind = (i + k) % 3
            other = respond(
                counter,
                1,
                dict.fromkeys(items, 1),
                february if kind == 0 else None,
                staff=kind == 1,
            )
            other.quarantined = kind == 2
    db.session.commit()

    ids = np.array([r.id for r in ours], dtype=np.int64)
    statement, _dtype = packed_answers_query(codes, ids, window_filter(MARCH))
    sql = str(statement.compile(db.engine))
    # 12 of 48 ids in the range: the period's own ids, not the range
    assert (" IN " in sql, " BETWEEN " in sql) == (
        (True, False) if others_between == 3 else (False, True)
    )

    r = services.load_period(MARCH).responses
    assert r.response_id.tolist() == ids.tolist()
    for i in range(12):
        row = dict(zip(codes, r.answers[i].tolist(), strict=True))
        assert row[codes[0]] == 1 + i % 5
        expected = {items[i]: 1 + i % 5, items[-1]: 5 - i % 5}
        assert {c: v for c, v in row.items() if v and c != codes[0]} == expected


def test_one_agencys_load_is_its_rows_of_the_whole_load(app_ctx):
    codes = services.questionnaire().item_codes
    items = list(codes[1:])
    here, there = factories.counter(), factories.counter()
    rng = np.random.default_rng(5)
    for i in range(40):
        counter = here if i % 4 == 0 else there  # here's ids are a quarter of their range
        answers = {str(c): int(rng.integers(1, 6)) for c in rng.choice(items, size=5)}
        respond(counter, int(rng.integers(1, 6)), answers)
    db.session.commit()

    whole = services.load_period(MARCH).responses
    one = services.load_period(MARCH, agency_ids=[here.agency_id]).responses
    rows = whole.agency == here.agency_id
    assert one.n == 10
    assert np.array_equal(one.response_id, whole.response_id[rows])
    assert np.array_equal(one.answers, whole.answers[rows])


def test_weighting_applies_the_rule_per_pair_as_it_would_per_response(app_ctx):
    """Agencies whose responses all know a field with volume get agency × field cells,
    the others one cell; the same calibration as the rule applied response by response."""
    month = date(2022, 3, 1)
    f1, f2, f3 = factories.field(), factories.field(), factories.field()
    all_known, some_unknown, zero_volume = (factories.agency() for _ in range(3))
    for agency in (all_known, some_unknown, zero_volume):
        counter = factories.counter(agency)
        p1, p2 = factories.procedure(agency, f1), factories.procedure(agency, f2)
        p3 = factories.procedure(agency, f3)
        db.session.add_all(
            [
                DossierVolume(agency=agency, field=f1, month=month, dossiers=300),
                DossierVolume(agency=agency, field=f2, month=month, dossiers=100),
                DossierVolume(
                    agency=agency, field=f3, month=month, dossiers=0 if agency is zero_volume else 5
                ),
            ]
        )
        for i in range(30):
            procedure = (p1, p2, p3)[i % 3]
            if agency is some_unknown and i % 7 == 0:
                procedure = None
            respond(counter, 1 + i % 5, procedure=procedure)
    db.session.commit()

    data = services.load_period(MARCH)
    volumes = services.period_volumes(MARCH)
    calibration, info = services.weighting(data, volumes)
    assert info["used"] and info["agency_cells"] == 2 and info["agency_field_cells"] == 3

    # the rule applied to every response (string labels), as before
    r = data.responses
    keys = sorted(k for k, v in volumes.items() if v > 0)
    cells = Volumes(
        agency=np.array([a for a, _f in keys], dtype=np.int64),
        procedure_field=np.array([str(f) for _a, f in keys], dtype=str),
        dossiers=np.array([volumes[k] for k in keys], dtype=np.float64),
        line=np.arange(len(keys), dtype=np.int64),
    )
    known = np.where(data.field >= 0, data.field.astype(str), "")
    cells, known, _merged = agency_level_cells(r.agency, known, None, cells)
    labels = [f"{a}/{f}" for a, f in zip(cells.agency, cells.procedure_field, strict=True)]
    per_response = np.array([f"{a}/{f}" for a, f in zip(r.agency, known, strict=True)])
    expected = np.zeros(r.n)
    for label, dossiers in zip(labels, cells.dossiers, strict=True):
        members = per_response == label
        expected[members] = dossiers / members.sum()
    assert np.allclose(calibration.weights, expected, rtol=1e-12)


def test_the_report_fingerprint_is_the_periods_fingerprint(app_ctx):
    counter = factories.counter()
    for i in range(5):
        respond(counter, 1 + i)
    respond(counter, 5, staff=True)
    db.session.commit()
    report = services.compute_report(MARCH)
    assert report["fingerprint"] == services.fingerprint(MARCH)
    assert report["fingerprint"]["responses"] == 5
