"""Report pages: permissions, scope, sorting, charts as SVG, publishing, what changed."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from survey_app.agencies.models import Agency
from survey_app.auth.models import Role
from survey_app.core.time import now_utc
from survey_app.demo.data import load_demo
from survey_app.extensions import db
from survey_app.reports.models import ReportSnapshot
from survey_app.reports.periods import Period
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
    # the agencies chart (its wide and phone layouts) and the funnel plot
    assert html.count("<svg") == 3 and "stroke-dasharray" in html
    # the funnel's axis, translated: the effective size capped at the respondents
    assert ">Số phiếu hiệu dụng, không quá số người trả lời (n_use)</text>" in html
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
    notice = html[html.index('id="empty-period"') :]
    assert "Không người dân nào trả lời khảo sát từ 15/02/2019 đến 14/03/2019" in notice
    assert "nên Tháng 3/2019 không có số liệu về sự hài lòng" in notice
    # and where the latest data are (the demo's responses end in December 2022)
    assert 'href="/staff/reports/?period=2023-01">Tháng 1/2023 (15/12/2022–14/01/2023)' in notice
    assert 'id="agencies"' not in html


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


@pytest.mark.parametrize("role", [Role.coordinator, Role.admin])
def test_only_province_wide_accounts_publish_the_province_report(app, demo, role):
    """A coordinator or admin of one district published, and so froze, the whole
    province's report: now they get a 403 and no button; province-wide accounts publish."""
    with app.app_context():
        district = db.session.get(Agency, demo.ids["H-THANHHA"])
        email = factories.user(role, district).email
        db.session.commit()
    client = logged_in(app, email)
    page = client.get("/staff/reports/?period=2022-03").get_data(as_text=True)
    assert "/staff/reports/publish" not in page  # no button, and no confirmation page
    assert client.get("/staff/reports/publish?period=2022-03").status_code == 403
    reply = client.post(
        "/staff/reports/publish", data={"period": "2022-03", "csrf_token": csrf_from(page)}
    )
    assert reply.status_code == 403
    assert "quản trị viên cấp tỉnh mới được công bố" in reply.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(ReportSnapshot.id)) is None
    whole = as_user(app, demo, "admin" if role == Role.admin else "coordinator")
    page = whole.get("/staff/reports/?period=2022-03").get_data(as_text=True)
    assert 'href="/staff/reports/publish?period=2022-03"' in page
    page = whole.get("/staff/reports/publish?period=2022-03").get_data(as_text=True)
    assert 'action="/staff/reports/publish"' in page  # the confirmation's form
    reply = whole.post(
        "/staff/reports/publish", data={"period": "2022-03", "csrf_token": csrf_from(page)}
    )
    assert reply.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(ReportSnapshot.published_by_id)) is not None


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
    assert "Tháng 3/2022" in listing


def test_a_running_period_is_published_only_as_an_interim_report_when_asked(app, demo):
    client = as_user(app, demo, "coordinator")
    with app.app_context():
        counter = db.session.get(Agency, demo.ids["H-THANHHA"]).counters[0]
        respond(counter, 5, when=now_utc())  # in the period now running
        db.session.commit()
    # the report opens on the month of the latest response: the one now running
    page = client.get("/staff/reports/").get_data(as_text=True)
    period = Period.containing("month", now_utc()).label
    assert f'<option value="{period}" selected>' in page
    assert f'href="/staff/reports/publish?period={period}"' in page
    confirm = client.get(f"/staff/reports/publish?period={period}").get_data(as_text=True)
    assert 'name="interim" value="y" required' in confirm and "báo cáo tạm thời" in confirm
    data = {"period": period, "csrf_token": csrf_from(confirm)}
    refused = client.post("/staff/reports/publish", data=data)
    assert refused.status_code == 400 and "vẫn còn thay đổi" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(ReportSnapshot)).all() == []
    assert client.post("/staff/reports/publish", data=data | {"interim": "y"}).status_code == 303
    # a period that has ended is published without the question
    past = client.get("/staff/reports/publish?period=2022-03").get_data(as_text=True)
    assert 'name="interim"' not in past and "Công bố báo cáo Tháng 3/2022" in past


def test_publish_twice_without_new_data_keeps_one_report_and_the_future_has_none(app, demo):
    """Publish pressed twice gave two identical published reports; a period that has not
    begun (2100-12, interim) was published too."""
    client = as_user(app, demo, "coordinator")
    page = client.get("/staff/reports/?period=2022-03").get_data(as_text=True)
    data = {"period": "2022-03", "csrf_token": csrf_from(page)}
    first = client.post("/staff/reports/publish", data=data)
    second = client.post("/staff/reports/publish", data=data)
    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert "không thay đổi" in client.get(second.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert len(db.session.scalars(select(ReportSnapshot)).all()) == 1
        respond(db.session.get(Agency, demo.ids["H-THANHHA"]).counters[0], 2)  # late, in March
        db.session.commit()
    assert client.post("/staff/reports/publish", data=data).status_code == 303
    with app.app_context():
        assert len(db.session.scalars(select(ReportSnapshot)).all()) == 2  # new data: new report
    future = {"period": "2100-12", "interim": "y", "csrf_token": data["csrf_token"]}
    reply = client.post("/staff/reports/publish", data=future)
    assert reply.status_code == 400 and "chưa bắt đầu" in reply.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.scalars(select(ReportSnapshot)).all()) == 2


def test_downloads(app, demo):
    client = as_user(app, demo, "viewer_all")
    pdf = client.get("/staff/reports/report.pdf?period=2022-Q1")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    xlsx = client.get("/staff/reports/report.xlsx?period=2022-Q1")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_published_agency_page_keeps_its_comments_and_trend(app, demo):
    from datetime import datetime

    from tests.reports.conftest import VN

    thanh_ha = demo.ids["H-THANHHA"]
    with app.app_context():
        counter = db.session.get(Agency, thanh_ha).counters[0]
        when = datetime(2022, 3, 13, 9, tzinfo=VN)
        respond(counter, 4, comment="Cán bộ tận tình, gọi 0912 345 678", when=when)
        db.session.commit()
    client = as_user(app, demo, "coordinator")
    page = client.get("/staff/reports/?period=2022-03").get_data(as_text=True)
    token = csrf_from(page)
    client.post("/staff/reports/publish", data={"period": "2022-03", "csrf_token": token})
    with app.app_context():
        snapshot = db.session.scalars(select(ReportSnapshot)).one()
        snapshot_id = snapshot.id
        counter = db.session.get(Agency, thanh_ha).counters[0]
        for _ in range(5):  # late, inside March, unhappy, with a comment
            when = datetime(2022, 3, 14, 9, tzinfo=VN)
            respond(counter, 1, {"A1": 1}, when, comment="Phiếu đến muộn")
        db.session.commit()
    live = client.get(f"/staff/reports/agencies/{thanh_ha}?period=2022-03").get_data(as_text=True)
    assert "Phiếu đến muộn" in live and "Cán bộ tận tình" in live
    frozen_province = client.get(f"/staff/reports/snapshots/{snapshot_id}").get_data(as_text=True)
    url = f"/staff/reports/snapshots/{snapshot_id}/agencies/{thanh_ha}"
    assert url in frozen_province  # the frozen report links to frozen agency pages
    reply = client.get(url)
    frozen = reply.get_data(as_text=True)
    assert reply.status_code == 200 and 'id="frozen"' in frozen
    assert "Cán bộ tận tình" in frozen and "0912" not in frozen  # redacted
    assert "Phiếu đến muộn" not in frozen
    # the frozen trend's last point is the published index, not the live one
    with app.app_context():
        snapshot = db.session.get(ReportSnapshot, snapshot_id)
        row = next(r for r in snapshot.results["agencies"] if r["agency_id"] == thanh_ha)
        points = snapshot.results["trends"][str(thanh_ha)]
    assert points[-1]["period"] == "2022-03" and points[-1]["index"] == row["index"]
    # the page's trend is the headline's (the share satisfied overall by default)
    assert points[-1]["q0"]["index"] == row["q0"]["index"]
    published = f"{100 * row['q0']['index']:.1f}\u00a0%".replace(".", ",")
    trend_table = frozen[frozen.index('id="trend"') :]
    assert published in trend_table[: trend_table.index("</table>")]
    assert "theo số hồ sơ" in trend_table  # the demo has volumes: weighted points say so
    live_march = live[live.index('id="trend"') :].split("<td>Tháng 3/2022</td>")[1]
    assert published not in live_march.split("</tr>")[0]  # the live one moved
    # a scoped handler cannot open another district's frozen page
    other = as_user(app, demo, "handler_thanhha")
    gia_loc = f"/staff/reports/snapshots/{snapshot_id}/agencies/{demo.ids['H-GIALOC']}"
    assert other.get(gia_loc).status_code == 404


@pytest.mark.parametrize("period", ["1900", "1900-01", "9998-12", "2022-13"])
def test_a_period_outside_the_service_is_a_400_on_every_report_address(app, demo, period):
    client = as_user(app, demo, "coordinator")
    for path in ("/staff/reports/", "/staff/reports/report.pdf", "/staff/reports/report.xlsx"):
        reply = client.get(f"{path}?period={period}")
        assert reply.status_code == 400, path
        assert "Không phải kỳ báo cáo" in reply.get_data(as_text=True), path
