"""The change since the previous period is measured against what was published for it."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select

import analysis
from survey_app.agencies.models import Counter
from survey_app.auth.models import Role
from survey_app.extensions import db
from survey_app.reports import services
from survey_app.reports.models import ReportSnapshot
from survey_app.reports.periods import Period
from tests import factories
from tests.helpers import logged_in
from tests.reports.conftest import VN, respond

MARCH = Period.parse("2022-03")
FEBRUARY = Period.parse("2022-02")
IN_FEBRUARY = datetime(2022, 1, 20, 9, tzinfo=VN)


@pytest.fixture
def two_months(app_ctx):
    agency = factories.agency()
    counter = factories.counter(agency)
    for i in range(40):
        respond(counter, 5 if i % 4 else 1, {"A1": 4})  # March: 0.75 satisfied
    for i in range(40):
        respond(counter, 5 if i % 2 else 1, {"A1": 4}, IN_FEBRUARY)  # February: 0.5
    db.session.commit()
    return agency.id


def _analyses(monkeypatch) -> list:
    calls = []
    real = analysis.analyse
    monkeypatch.setattr(
        analysis, "analyse", lambda *a, **k: calls.append(k.get("by")) or real(*a, **k)
    )
    return calls


def test_without_a_publication_the_previous_period_is_computed_now(two_months):
    report = services.compute_report(MARCH)
    assert report["change_basis"] == {"period": "2022-02", "published_snapshot": None}
    (row,) = report["agencies"]
    live = services.period_summary(FEBRUARY)["agencies"][two_months]
    assert row["change"]["previous"] == pytest.approx(live["index"])
    # the report keeps its own estimates for the next period's change
    estimates = report["estimates"]
    assert estimates["agencies"][str(two_months)][0] == pytest.approx(row["index"])
    assert estimates["agencies"][str(two_months)][1] == pytest.approx(row["se"] ** 2)
    assert estimates["province"][0] == pytest.approx(report["province"]["index"])
    json.dumps(report, allow_nan=False)


def test_the_change_is_against_the_published_previous_period(two_months, monkeypatch):
    computed_then = services.compute_report(MARCH)
    services.forget_cached_reports()
    snapshot = services.publish(FEBRUARY)
    published_index = snapshot.results["agencies"][0]["index"]
    db.session.commit()
    # late February responses: the live February moves, the published one does not
    counter = db.session.scalars(select(Counter).where(Counter.agency_id == two_months)).one()
    for _ in range(30):
        respond(counter, 1, {"A1": 1}, IN_FEBRUARY)
    db.session.commit()
    assert services.period_summary(FEBRUARY)["agencies"][two_months]["index"] < published_index

    calls = _analyses(monkeypatch)
    report = services.compute_report(MARCH)
    assert report["change_basis"] == {"period": "2022-02", "published_snapshot": snapshot.id}
    (row,) = report["agencies"]
    assert row["change"]["previous"] == pytest.approx(published_index)
    assert row["change"] == computed_then["agencies"][0]["change"]
    assert report["province"]["change"] == computed_then["province"]["change"]
    assert calls == [("agency",), ("agency", "counter")]  # February is not analysed


def test_a_later_publication_of_the_previous_period_is_used_at_once(two_months):
    first = services.compute_report(MARCH)
    assert first["change_basis"]["published_snapshot"] is None
    snapshot = services.publish(FEBRUARY)
    db.session.commit()
    again = services.compute_report(MARCH)
    assert again is not first and again["change_basis"]["published_snapshot"] == snapshot.id


def test_a_publication_without_estimates_falls_back_to_computing(two_months):
    snapshot = services.publish(FEBRUARY)
    older = dict(snapshot.results)
    del older["estimates"]  # as published before reports kept their estimates
    snapshot.results = older
    db.session.commit()
    assert db.session.get(ReportSnapshot, snapshot.id).results.get("estimates") is None
    report = services.compute_report(MARCH)
    assert report["change_basis"]["published_snapshot"] is None
    live = services.period_summary(FEBRUARY)["agencies"][two_months]
    assert report["agencies"][0]["change"]["previous"] == pytest.approx(live["index"])


def test_the_report_page_says_what_the_change_is_measured_against(app):
    with app.app_context():
        counter = factories.counter(factories.agency())
        for i in range(40):
            respond(counter, 5 if i % 4 else 1, {"A1": 4})
            respond(counter, 5 if i % 2 else 1, {"A1": 4}, IN_FEBRUARY)
        admin = factories.user(Role.admin).email
        db.session.commit()
    client = logged_in(app, admin)
    page = client.get("/staff/reports/?period=2022-03").get_data(as_text=True)
    assert "so với kỳ Tháng 2/2022 theo số liệu hiện tại (chưa công bố)" in page
    with app.app_context():
        services.publish(FEBRUARY)
        db.session.commit()
    page = client.get("/staff/reports/?period=2022-03").get_data(as_text=True)
    assert "so với báo cáo đã công bố kỳ Tháng 2/2022" in page
