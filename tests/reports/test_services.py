"""Reports from the database: loading, weighting to dossier volumes, the demo's differences."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy import select

import analysis
from survey_app.agencies.models import Agency, DossierVolume
from survey_app.demo.data import load_demo
from survey_app.extensions import db
from survey_app.reports import services
from survey_app.reports.periods import Period
from tests import factories
from tests.reports.conftest import VN, respond

MARCH = Period.parse("2022-03")


def test_an_empty_period_gives_an_empty_report_that_says_so(app_ctx):
    report = services.compute_report(MARCH)
    assert report["empty"] is True and report["n_responses"] == 0
    assert report["agencies"] == [] and report["province"] is None
    assert report["window"]["first_day"] == "2022-02-15"
    assert report["window"]["last_day"] == "2022-03-14"
    json.dumps(report)


def test_loading_pivots_answers_and_leaves_out_staff_and_other_periods(app_ctx):
    counter = factories.counter()
    respond(counter, 5, {"A1": 4, "A2": None, "C1": 2})
    respond(counter, 2, {"A1": 1})
    respond(counter, 5, {"A1": 5}, staff=True)
    respond(counter, 5, {"A1": 5}, datetime(2022, 3, 15, 8, tzinfo=VN))  # April's
    respond(counter, 3, {"A1": 3}, datetime(2022, 2, 15, 0, 0, 1, tzinfo=VN))  # March's first
    db.session.commit()
    data = services.load_period(MARCH)
    r = data.responses
    assert r.n == 3
    codes = list(r.item_codes)
    assert r.answers[:, codes.index("Q0")].tolist() == [5, 2, 3]
    assert r.answers[:, codes.index("A1")].tolist() == [4, 1, 3]
    assert r.answers[:, codes.index("A2")].tolist() == [0, 0, 0]  # N/A and unanswered
    assert r.answers[:, codes.index("C1")].tolist() == [2, 0, 0]


def test_report_without_volumes_is_unweighted_and_says_so(app_ctx):
    a = factories.agency("Sở Tư pháp")
    counter = factories.counter(a)
    for i in range(40):
        respond(counter, 5 if i % 4 else 2, {"A1": 5 if i % 5 else 1, "C1": 4})
    respond(counter, 1, comment="Gọi tôi 0912 345 678 hoặc a.b@example.com")
    db.session.commit()
    report = services.compute_report(MARCH)
    assert report["weighting"]["used"] is False
    assert report["weighting"]["agencies_without_volume"] == [a.id]
    (row,) = report["agencies"]
    assert row["name"] == "Sở Tư pháp" and row["responses"] == 41
    assert row["q0"]["n"] == 41
    assert row["q0"]["index"] == pytest.approx(30 / 41)
    assert row["counters"][0]["n"] == row["n"]
    json.dumps(report)
    (comment,) = services.comments(a, MARCH)
    assert "0912" not in comment["text"] and "example.com" not in comment["text"]


def test_report_is_weighted_to_dossier_volumes_when_known(app_ctx):
    small = factories.agency("Sở nhỏ")
    large = factories.agency("Sở lớn")
    field = factories.field()
    for agency, volume, share in ((small, 100, 1.0), (large, 900, 0.5)):
        counter = factories.counter(agency)
        db.session.add(
            DossierVolume(agency=agency, field=field, month=date(2022, 3, 1), dossiers=volume)
        )
        for i in range(40):
            respond(counter, 5 if i < 40 * share else 1)
    db.session.commit()
    report = services.compute_report(MARCH)
    assert report["weighting"]["used"] is True
    assert report["weighting"]["agency_cells"] == 2
    # unweighted the province would be 75%; weighted by dossiers 0.1·1 + 0.9·0.5
    assert report["province"]["q0"]["index"] == pytest.approx(0.55)
    rows = {row["name"]: row for row in report["agencies"]}
    assert rows["Sở lớn"]["coverage"] == pytest.approx(40 / 900)
    assert rows["Sở lớn"]["dossiers"] == 900


def test_agency_by_field_cells_when_every_response_knows_its_field(app_ctx):
    agency = factories.agency()
    counter = factories.counter(agency)
    f1, f2 = factories.field(), factories.field()
    p1, p2 = factories.procedure(agency, f1), factories.procedure(agency, f2)
    for month_volume, f in ((800, f1), (200, f2)):
        db.session.add(
            DossierVolume(agency=agency, field=f, month=date(2022, 3, 1), dossiers=month_volume)
        )
    for i in range(40):
        respond(counter, 5 if i < 20 else 1, procedure=p1 if i < 20 else p2)
    db.session.commit()
    report = services.compute_report(MARCH)
    assert report["weighting"]["agency_field_cells"] == 2
    assert report["agencies"][0]["q0"]["index"] == pytest.approx(0.8)


def test_the_demo_year_shows_thanh_ha_below_target_and_a_change(app_ctx):
    load_demo(scale=0.3)
    db.session.commit()
    report = services.compute_report(Period.parse("2022"))
    assert report["weighting"]["used"] is True
    rows = {row["code"]: row for row in report["agencies"]}
    assert rows["H-THANHHA"]["verdict"] == "below_target"
    assert rows["H-THANHHA"]["ci_high"] < 0.90
    assert rows["H-THANHHA"]["q0"]["verdict"] == "below_target"
    assert (
        report["province"]["ci_low"] < report["province"]["index"] < report["province"]["ci_high"]
    )
    assert set(report["province"]["alpha"]) == set(report["elements"])
    assert report["funnel"]["points"] and "0.998" in report["funnel"]["limits"]
    march = services.compute_report(MARCH)
    assert march["province"]["change"]["previous"] is not None
    thanh_ha = db.session.scalars(select(Agency).where(Agency.code == "H-THANHHA")).one()
    points = services.trend(thanh_ha, MARCH)
    assert [p["period"] for p in points][-1] == "2022-03"
    assert points[0]["n"] == 0 and points[-1]["n"] > 0  # April 2021: before the demo


def test_compare_counts_new_responses_and_index_differences(app_ctx):
    agency = factories.agency()
    counter = factories.counter(agency)
    for _ in range(35):
        respond(counter, 5, {"A1": 5})
    db.session.commit()
    published = services.compute_report(MARCH)
    for _ in range(5):
        respond(counter, 1, {"A1": 1})
    db.session.commit()
    live = services.compute_report(MARCH)
    diff = services.compare(published, live)
    assert diff["new_responses"] == 5 and diff["inputs_changed"] is True
    (row,) = diff["agencies"]
    assert row["difference"] == pytest.approx(35 / 40 - 1)


def test_a_published_report_never_changes_when_late_responses_arrive(app_ctx):
    from survey_app.reports.models import ReportSnapshot

    agency = factories.agency()
    counter = factories.counter(agency)
    publisher = factories.user()
    for _ in range(35):
        respond(counter, 5)
    db.session.commit()
    snapshot_id = services.publish(MARCH, publisher).id
    db.session.commit()
    respond(counter, 1, when=datetime(2022, 3, 10, 9, tzinfo=VN))  # late, inside March
    db.session.commit()
    db.session.expire_all()
    snapshot = db.session.get(ReportSnapshot, snapshot_id)
    assert snapshot.results["n_responses"] == 35 and snapshot.published_by_id == publisher.id
    assert snapshot.fingerprint["responses"] == 35
    assert services.published_snapshots(MARCH) == [snapshot]
    live = services.compute_report(MARCH)
    assert live["n_responses"] == 36
    assert services.compare(snapshot.results, live)["new_responses"] == 1


def _two_field_agency():
    """An agency whose responses all know their field: weighting changes its index."""
    agency = factories.agency()
    counter = factories.counter(agency)
    f1, f2 = factories.field(), factories.field()
    p1, p2 = factories.procedure(agency, f1), factories.procedure(agency, f2)
    return agency, counter, (f1, p1), (f2, p2)


def test_trend_points_are_weighted_like_each_periods_report(app_ctx):
    agency, counter, (f1, p1), (f2, p2) = _two_field_agency()
    # March has volumes (80% of dossiers in f1, all satisfied); February has none
    db.session.add(DossierVolume(agency=agency, field=f1, month=date(2022, 3, 1), dossiers=800))
    db.session.add(DossierVolume(agency=agency, field=f2, month=date(2022, 3, 1), dossiers=200))
    feb = datetime(2022, 2, 1, 9, tzinfo=VN)
    for i in range(40):
        good = {"A1": 5, "B1": 5, "C1": 5, "D1": 5, "E1": 5}
        bad = {"A1": 1, "B1": 1, "C1": 1, "D1": 1, "E1": 1}
        first = i < 20
        respond(counter, 5 if first else 1, good if first else bad, procedure=p1 if first else p2)
        respond(counter, 5 if i < 30 else 1, good if i < 30 else bad, feb, procedure=p1)
    db.session.commit()
    points = services.trend(agency, MARCH)
    assert [p["period"] for p in points] == [p.label for p in MARCH.last(12)]
    by_period = {p["period"]: p for p in points}
    for label in ("2022-01", "2022-02", "2022-03"):
        report = services.compute_report(Period.parse(label))
        row = services.agency_row(report, agency.id)
        point = by_period[label]
        if row is None:
            assert point["n"] == 0 and point["index"] is None and point["weighted"] is None
            continue
        assert point["weighted"] is report["weighting"]["used"]
        for key in ("n", "index", "ci_low", "ci_high", "verdict"):
            assert point[key] == row[key], (label, key)
    march = by_period["2022-03"]
    assert march["weighted"] is True and by_period["2022-02"]["weighted"] is False
    # weighted to 800/200 dossiers the index is 0.8, not the unweighted 0.5
    assert march["index"] == pytest.approx(0.8)
    assert march["ci_low"] < march["index"] < march["ci_high"]
    assert by_period["2022-02"]["index"] == pytest.approx(0.75)


def test_reports_are_cached_until_the_data_change(app_ctx, monkeypatch):
    from survey_app.surveys.services import record_details

    agency = factories.agency()
    counter = factories.counter(agency)
    responses = [respond(counter, 5, {"A1": 5}) for _ in range(35)]
    for _ in range(3):
        respond(counter, 4, {"A1": 4}, datetime(2022, 1, 20, 9, tzinfo=VN))  # February's
    db.session.commit()
    calls = []
    real = analysis.analyse
    monkeypatch.setattr(analysis, "analyse", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = services.compute_report(MARCH)
    analysed = len(calls)
    assert analysed == 3  # March by agency and by counter, February for the change
    again = services.compute_report(MARCH)
    assert again is first and len(calls) == analysed  # nothing re-analysed
    points = services.trend(agency, MARCH)
    assert [p["n"] for p in points][-2:] == [3, 35]
    assert len(calls) == analysed  # March's and February's analyses are reused

    respond(counter, 1, {"A1": 1})  # a new response
    db.session.commit()
    second = services.compute_report(MARCH)
    assert second["n_responses"] == 36 and len(calls) == analysed + 2
    assert second["agencies"][0]["q0"]["index"] == pytest.approx(35 / 36)

    record_details(responses[0], {"A1": 1}, {})  # details added to an existing response
    db.session.commit()
    third = services.compute_report(MARCH)
    assert third is not second
    assert third["agencies"][0]["items"]["A1"]["index"] == pytest.approx(34 / 36)
