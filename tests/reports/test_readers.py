"""Who reads which report: the province-wide report reader, the scoped viewer's "filtered
to …" note on the pages, in the PDF and in the XLSX, and the demo's accounts."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from survey_app.agencies.models import Agency
from survey_app.auth.models import Role, User
from survey_app.auth.services import create_user
from survey_app.demo.data import load_demo
from survey_app.demo.users import DEMO_PASSWORD, DEMO_USERS, ensure_demo_users
from survey_app.extensions import db
from tests import factories
from tests.helpers import csrf_from, logged_in

CHOOSE = "Vui lòng chọn một trong các lựa chọn có sẵn."
NOTE = "Báo cáo này chỉ gồm các cơ quan thuộc UBND huyện Thanh Hà (phạm vi tài khoản của bạn)"


@pytest.fixture
def demo(app):
    with app.app_context():
        load_demo(scale=0.3)
        ensure_demo_users()
        ids = dict(db.session.execute(select(Agency.code, Agency.id)).all())
        coordinator = factories.user(Role.coordinator).email
        db.session.commit()
        return SimpleNamespace(ids=ids, coordinator=coordinator)


def _agency_rows(html: str) -> list[str]:
    table = html[html.index('id="agencies"') :]
    return re.findall(r'href="/staff/reports/agencies/(\d+)', table)


def _pdf_text(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)


def test_the_demo_leader_reads_every_agency_and_no_feedback_case(app, demo):
    leader = logged_in(app, "lanhdao@demo.hailong.vn", DEMO_PASSWORD)
    coordinator = logged_in(app, demo.coordinator)
    html = leader.get("/staff/reports/?period=2022").get_data(as_text=True)
    assert 'id="scope-note"' not in html
    rows = _agency_rows(html)
    assert len(rows) > 20
    assert sorted(rows) == sorted(_agency_rows(coordinator.get("/staff/reports/?period=2022").text))
    assert "Đọc báo cáo toàn tỉnh" in html  # the role, named in the header
    # an agency far from the Sở Nội vụ it was once scoped to
    assert (
        leader.get(f"/staff/reports/agencies/{demo.ids['H-THANHHA']}?period=2022").status_code
        == 200
    )
    pdf = leader.get("/staff/reports/report.pdf?period=2022")
    assert pdf.status_code == 200
    text = _pdf_text(pdf.data)
    assert "UBND huyện Thanh Hà" in text and "Sở Tư pháp" in text
    assert "chỉ gồm các cơ quan thuộc" not in text
    # no feedback case, no export of one, no publishing
    for url in ("/staff/feedback/", "/staff/feedback/export.csv", "/staff/feedback/admin/audit"):
        assert leader.get(url).status_code == 403, url
    token = csrf_from(leader.get("/staff/reports/?period=2022").text)
    reply = leader.post("/staff/reports/publish", data={"period": "2022", "csrf_token": token})
    assert reply.status_code == 403
    assert "Feedback" not in html and "/staff/feedback/" not in html  # no link to the queue


def test_the_scoped_demo_viewer_is_told_the_filter_on_the_page_pdf_and_xlsx(app, demo):
    viewer = logged_in(app, "thanhha@demo.hailong.vn", DEMO_PASSWORD)
    html = viewer.get("/staff/reports/?period=2022").get_data(as_text=True)
    assert 'id="scope-note"' in html and NOTE in html
    assert "Số liệu toàn tỉnh là của cả tỉnh." in html
    with app.app_context():
        inside = {
            str(a.id)
            for a in db.session.scalars(select(Agency))
            if a.path.startswith(db.session.get(Agency, demo.ids["H-THANHHA"]).path)
        }
    rows = _agency_rows(html)
    assert rows and set(rows) <= inside and str(demo.ids["H-THANHHA"]) in rows

    pdf = viewer.get("/staff/reports/report.pdf?period=2022").data
    text = _pdf_text(pdf)
    first_page = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert NOTE in first_page
    assert "UBND huyện Thanh Hà" in text and "Sở Tư pháp" not in text

    book = load_workbook(io.BytesIO(viewer.get("/staff/reports/report.xlsx?period=2022").data))
    first = book.worksheets[0]
    assert first["A2"].value == "Phạm vi" and NOTE in first["B2"].value
    names = {row[1] for row in book["Cơ quan"].iter_rows(min_row=2, values_only=True)}
    assert "UBND huyện Thanh Hà" in names and "Sở Tư pháp" not in names

    # the published report too, and what changed since
    with app.app_context():
        from survey_app.reports import services
        from survey_app.reports.periods import Period

        snapshot = services.publish(Period.parse("2022"))
        db.session.commit()
        snapshot_id = snapshot.id
    assert NOTE in viewer.get(f"/staff/reports/snapshots/{snapshot_id}").text
    assert NOTE in viewer.get(f"/staff/reports/snapshots/{snapshot_id}/changes").text
    pdf = viewer.get(f"/staff/reports/report.pdf?snapshot={snapshot_id}").data
    assert NOTE in _pdf_text(pdf)


def test_province_wide_staff_see_no_note(app, demo):
    coordinator = logged_in(app, demo.coordinator)
    assert 'id="scope-note"' not in coordinator.get("/staff/reports/?period=2022").text
    book = load_workbook(io.BytesIO(coordinator.get("/staff/reports/report.xlsx?period=2022").data))
    assert book.worksheets[0]["A2"].value != "Phạm vi"


def test_demo_load_brings_an_old_demo_leader_up_to_date(app):
    """A demo loaded when the leader was a viewer of Sở Nội vụ: loading it again makes the
    account the province-wide reader."""
    with app.app_context():
        load_demo(with_responses=False)
        snv = db.session.scalar(select(Agency).where(Agency.code == "SNV"))
        create_user(
            "lanhdao@demo.hailong.vn",
            "Lãnh đạo Sở Nội vụ",
            DEMO_PASSWORD,
            Role.viewer,
            snv,
            enforce_policy=False,
        )
        db.session.commit()
        changed = ensure_demo_users()
        db.session.commit()
        assert "lanhdao@demo.hailong.vn" in changed
        leader = db.session.scalar(select(User).where(User.email == "lanhdao@demo.hailong.vn"))
        assert leader.role == Role.report_reader and leader.agency_id is None
        assert leader.sees_whole_province
        assert ensure_demo_users() == []  # nothing more to do
        roles = {email: (role, code) for email, _n, role, code in DEMO_USERS}
        assert roles["lanhdao@demo.hailong.vn"] == (Role.report_reader, None)
        assert roles["thanhha@demo.hailong.vn"] == (Role.viewer, "H-THANHHA")


# -- the account form and the command line ------------------------------------------------


@pytest.fixture
def admins(app):
    with app.app_context():
        district = factories.agency("UBND huyện Thử", code="HUYEN")
        province_admin = factories.user(Role.admin).email
        district_admin = factories.user(Role.admin, district).email
        db.session.commit()
        return SimpleNamespace(
            district=district.id, province_admin=province_admin, district_admin=district_admin
        )


def _new_user(client, **fields):
    token = csrf_from(client.get("/staff/users/new").text)
    data = {
        "email": "docbaocao@example.gov.vn",
        "full_name": "Chuyên viên Sở Nội vụ",
        "password": "một mật khẩu đủ dài 2024",
        "active": "y",
        "csrf_token": token,
    } | fields
    return client.post("/staff/users/new", data=data)


def test_the_user_form_offers_the_role_without_an_agency(app, admins):
    admin = logged_in(app, admins.province_admin)
    page = admin.get("/staff/users/new").text
    assert 'value="report_reader"' in page and "Đọc báo cáo toàn tỉnh" in page
    reply = _new_user(admin, role="report_reader", agency_id="")
    assert reply.status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "docbaocao@example.gov.vn"))
        assert user.role == Role.report_reader and user.agency_id is None
    assert "Đọc báo cáo toàn tỉnh" in admin.get("/staff/users").text


def test_the_user_form_refuses_an_agency_for_the_role(app, admins):
    admin = logged_in(app, admins.province_admin)
    reply = _new_user(admin, role="report_reader", agency_id=str(admins.district))
    assert reply.status_code == 400
    assert "Người đọc báo cáo toàn tỉnh đọc báo cáo của mọi cơ quan" in reply.text
    with app.app_context():
        assert db.session.scalar(select(User).where(User.role == Role.report_reader)) is None


def test_an_agency_admin_cannot_give_the_province_wide_role(app, admins):
    admin = logged_in(app, admins.district_admin)
    page = admin.get("/staff/users/new").text
    assert 'value="report_reader"' not in page and "toàn tỉnh" not in page  # not offered
    for agency_id in ("", str(admins.district)):
        reply = _new_user(admin, role="report_reader", agency_id=agency_id)
        assert reply.status_code == 400 and CHOOSE in reply.text
    with app.app_context():
        viewer = factories.user(Role.viewer, db.session.get(Agency, admins.district))
        db.session.commit()
        viewer_id = viewer.id
    # nor turn an account of the district into one
    token = csrf_from(admin.get(f"/staff/users/{viewer_id}/edit").text)
    reply = admin.post(
        f"/staff/users/{viewer_id}/edit",
        data={
            "email": "sua@example.gov.vn",
            "full_name": "Người xem",
            "role": "report_reader",
            "agency_id": str(admins.district),
            "active": "y",
            "csrf_token": token,
        },
    )
    assert reply.status_code == 400 and CHOOSE in reply.text
    with app.app_context():
        assert db.session.get(User, viewer_id).role == Role.viewer


def test_the_command_line_creates_a_report_reader_and_refuses_an_agency(app, runner):
    with app.app_context():
        factories.agency("Sở Nội vụ", code="SNV")
        db.session.commit()
    args = ["users", "create", "--role", "report_reader", "--name", "Lãnh đạo"]
    password = ["--password", "một mật khẩu đủ dài 2024"]
    result = runner.invoke(args=[*args, "--email", "a@tinh.gov.vn", "--agency", "SNV", *password])
    assert result.exit_code != 0 and "no agency" in result.output
    result = runner.invoke(args=[*args, "--email", "b@tinh.gov.vn", *password])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "b@tinh.gov.vn"))
        assert user.role == Role.report_reader and user.sees_whole_province
