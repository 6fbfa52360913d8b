"""Reports from the database: loading, weighting to dossier volumes, the demo's differences."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy import select

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
