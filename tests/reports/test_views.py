"""Report pages: permissions, scope, sorting, charts as SVG, publishing, what changed."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from survey_app.agencies.models import Agency
from survey_app.auth.models import Role
from survey_app.demo.data import load_demo
from survey_app.extensions import db
from survey_app.reports.models import ReportSnapshot
from tests import factories
from tests.helpers import csrf_from, logged_in
from tests.reports.conftest import respond


@pytest.fixture
def demo(app):
    with app.app_context():
        load_demo(scale=0.3)
        by_code = dict(db.session.execute(select(Agency.code, Agency.id)).all())
        district = db.session.get(Agency, by_code["H-THANHHA"])
        users = {
            "admin": factories.user(Role.admin).email,
            "coordinator": factories.user(Role.coordinator).email,
            "viewer_all": factories.user(Role.viewer, db.session.get(Agency, by_code["HD"])).email,
            "handler_thanhha": factories.user(Role.handler, district).email,
        }
        db.session.commit()
        return SimpleNamespace(ids=by_code, users=users)


def as_user(app, demo, who):
    return logged_in(app, demo.users[who])


def test_anonymous_goes_to_login(client, demo):
    reply = client.get("/staff/reports/?period=2022")
    assert reply.status_code == 302 and "/login" in reply.headers["Location"]


def test_province_overview_with_chart_and_sorting(app, demo):
    client = as_user(app, demo, "coordinator")
    reply = client.get("/staff/reports/?period=2022&sort=index")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert "UBND huyện Thanh Hà" in html and "Dưới mục tiêu" in html
    assert 'id="weighting"' in html and "gia quyền" in html.lower()
    assert html.count("<svg") == 2 and "stroke-dasharray" in html
    assert ' style="' not in html  # the CSP forbids inline styles
    table = html[html.index('id="agencies"') :]
    # sorted by index, descending: Thanh Hà (≈65%) is last
    names = [line for line in table.split("<tr>") if "reports/agencies/" in line]
    assert "Thanh Hà" in names[-1]
    by_lower = client.get("/staff/reports/?period=2022&sort=lower").get_data(as_text=True)
    assert by_lower.index("UBND huyện Thanh Hà", by_lower.index('id="agencies"')) > 0


def test_bad_period_is_a_clear_400(app, demo):
    client = as_user(app, demo, "viewer_all")
    reply = client.get("/staff/reports/?period=2022-13")
    assert reply.status_code == 400
    assert "2022-13" in reply.get_data(as_text=True)


def test_empty_period_says_so(app, demo):
    client = as_user(app, demo, "viewer_all")
    html = client.get("/staff/reports/?period=2019-03").get_data(as_text=True)
    assert "Không có phiếu nào trong kỳ này" in html


def test_scoped_handler_sees_only_the_subtree(app, demo):
    client = as_user(app, demo, "handler_thanhha")
    html = client.get("/staff/reports/?period=2022").get_data(as_text=True)
    assert "UBND huyện Thanh Hà" in html and "UBND xã Thanh Hải" in html
    assert "UBND huyện Gia Lộc" not in html
    assert (
        client.get(f"/staff/reports/agencies/{demo.ids['H-GIALOC']}?period=2022").status_code == 404
    )
    page = client.get(f"/staff/reports/agencies/{demo.ids['H-THANHHA']}?period=2022")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="counters"' in html and "Quầy Đất đai - Xây dựng" in html
    assert 'id="elements"' in html and "<svg" in html  # trend
    assert "UBND xã Thanh Hải" in html  # drill-down to the agencies below
    # a handler cannot publish
    assert "Công bố báo cáo" not in client.get("/staff/reports/?period=2022").get_data(as_text=True)
    assert client.post("/staff/reports/publish", data={"period": "2022"}).status_code in (400, 403)


def test_publish_freezes_and_changes_shows_late_responses(app, demo):
    client = as_user(app, demo, "coordinator")
    page = client.get("/staff/reports/?period=2022-03").get_data(as_text=True)
    reply = client.post(
        "/staff/reports/publish", data={"period": "2022-03", "csrf_token": csrf_from(page)}
    )
    assert reply.status_code == 303
    with app.app_context():
        snapshot = db.session.scalars(select(ReportSnapshot)).one()
        n = snapshot.results["n_responses"]
        agency = db.session.get(Agency, demo.ids["H-THANHHA"])
        for _ in range(3):
            respond(agency.counters[0], 1)  # late responses inside March
        db.session.commit()
        snapshot_id = snapshot.id
    frozen = client.get(f"/staff/reports/snapshots/{snapshot_id}").get_data(as_text=True)
    assert f"{n}</td>" in frozen
    changes = client.get(f"/staff/reports/snapshots/{snapshot_id}/changes").get_data(as_text=True)
    assert 'id="new-responses"' in changes and ": 3." in changes
    listing = client.get("/staff/reports/snapshots").get_data(as_text=True)
    assert "2022-03" in listing


def test_downloads(app, demo):
    client = as_user(app, demo, "viewer_all")
    pdf = client.get("/staff/reports/report.pdf?period=2022-Q1")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    xlsx = client.get("/staff/reports/report.xlsx?period=2022-Q1")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
