"""Routing rules, answer templates, calendar overrides and the audit log pages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from survey_app.agencies.models import Agency
from survey_app.auth.models import Role
from survey_app.extensions import db
from survey_app.feedback.models import (
    AnswerTemplate,
    AuditLog,
    CalendarOverride,
    CaseChannel,
    CaseKind,
    FeedbackCase,
    RoutingRule,
)
from survey_app.feedback.services import Submission, route, submit
from tests import factories
from tests.helpers import csrf_from, logged_in


@pytest.fixture
def world(app):
    with app.app_context():
        a = factories.agency("Sở Tư pháp", code="STP")
        b = factories.agency("Sở Xây dựng", code="SXD")
        field = factories.field(code="XD", name="Xây dựng")
        procedure = factories.procedure(None, field, code="1.009999")
        users = {
            r: factories.user(role, agency).email
            for r, role, agency in [
                ("admin", Role.admin, None),
                ("coordinator", Role.coordinator, None),
                ("handler", Role.handler, a),
            ]
        }
        db.session.commit()
        return SimpleNamespace(a=a.id, b=b.id, field=field.id, procedure=procedure.id, users=users)


def as_user(app, world, who):
    return logged_in(app, world.users[who])


def test_routing_rule_by_field_sends_new_cases(app, world):
    client = as_user(app, world, "coordinator")
    page = client.get("/staff/feedback/admin/routing").get_data(as_text=True)
    reply = client.post(
        "/staff/feedback/admin/routing",
        data={
            "csrf_token": csrf_from(page),
            "field_id": str(world.field),
            "agency_id": str(world.b),
        },
    )
    assert reply.status_code == 303
    with app.app_context():
        procedure = db.session.get(factories.Procedure, world.procedure)
        assert route(procedure, None).id == world.b
    again = client.post(
        "/staff/feedback/admin/routing",
        data={
            "csrf_token": csrf_from(page),
            "field_id": str(world.field),
            "agency_id": str(world.a),
        },
    )
    assert again.status_code == 400 and "đã có quy tắc" in again.get_data(as_text=True)


def test_routing_needs_exactly_one_of_procedure_or_field(app, world):
    client = as_user(app, world, "coordinator")
    page = client.get("/staff/feedback/admin/routing").get_data(as_text=True)
    reply = client.post(
        "/staff/feedback/admin/routing",
        data={"csrf_token": csrf_from(page), "agency_id": str(world.a)},
    )
    assert reply.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(RoutingRule)).all() == []


def test_handlers_may_not_edit_routing_or_calendar_or_see_the_audit_log(app, world):
    client = as_user(app, world, "handler")
    for url in (
        "/staff/feedback/admin/routing",
        "/staff/feedback/admin/calendar",
        "/staff/feedback/admin/audit",
    ):
        assert client.get(url).status_code == 403, url
    assert as_user(app, world, "coordinator").get("/staff/feedback/admin/audit").status_code == 403
    assert as_user(app, world, "admin").get("/staff/feedback/admin/audit").status_code == 200


@pytest.mark.parametrize("role", [Role.admin, Role.coordinator])
def test_staff_of_one_agency_may_not_change_routing_or_the_calendar(app, world, role):
    """Both act on every agency's cases: a rule sent another agency's cases (with the
    citizens' contacts) to their own, a day off moved every running case's due date."""
    with app.app_context():
        email = factories.user(role, db.session.get(Agency, world.a)).email
        db.session.commit()
    client = logged_in(app, email)
    queue = client.get("/staff/feedback/").get_data(as_text=True)
    assert "/staff/feedback/admin/routing" not in queue  # not offered
    token = csrf_from(client.get("/staff/feedback/admin/templates").get_data(as_text=True))
    for url, data in (
        (
            "/staff/feedback/admin/routing",
            {"field_id": str(world.field), "agency_id": str(world.a)},
        ),
        ("/staff/feedback/admin/calendar", {"day": "2027-01-04", "is_working_day": "0"}),
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, data=data | {"csrf_token": token}).status_code == 403, url
    with app.app_context():
        assert db.session.scalars(select(RoutingRule)).all() == []
        assert db.session.scalars(select(CalendarOverride)).all() == []


def test_handler_template_is_scoped_to_their_agency(app, world):
    client = as_user(app, world, "handler")
    page = client.get("/staff/feedback/admin/templates").get_data(as_text=True)
    client.post(
        "/staff/feedback/admin/templates",
        data={
            "csrf_token": csrf_from(page),
            "title": "Chấn chỉnh quầy",
            "body": "Sở đã chấn chỉnh...",
            "agency_id": str(world.b),
        },
    )  # a handler cannot pick another agency
    with app.app_context():
        (template,) = db.session.scalars(select(AnswerTemplate)).all()
        assert template.agency_id == world.a


@pytest.mark.parametrize("agency_id", ["99999", "abc"])
def test_a_template_for_an_agency_that_does_not_exist_is_refused(app, world, agency_id):
    client = as_user(app, world, "admin")
    page = client.get("/staff/feedback/admin/templates").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "title": "T", "body": "B", "agency_id": agency_id}
    reply = client.post("/staff/feedback/admin/templates", data=data)
    assert reply.status_code == 400
    assert "Vui lòng chọn cơ quan." in reply.get_data(as_text=True)
    # "all agencies" (empty) and a real agency are taken
    for value in ("", str(world.b)):
        data["agency_id"] = value
        assert client.post("/staff/feedback/admin/templates", data=data).status_code == 303
    with app.app_context():
        stored = db.session.scalars(select(AnswerTemplate.agency_id)).all()
        assert sorted(stored, key=str) == sorted([None, world.b], key=str)


def test_a_new_day_off_moves_running_deadlines(app, world):
    with app.app_context(), freeze_time(datetime(2026, 3, 2, 2, tzinfo=UTC)):
        case, _ = submit(
            Submission(
                kind=CaseKind.report,
                content="Nội dung phản ánh đủ dài.",
                submitter_name="A",
                contact_phone="0912345678",
                consent=True,
            ),
            CaseChannel.web,
        )
        db.session.commit()
        assert case.due_on == date(2026, 3, 4)
        case_id = case.id
    client = as_user(app, world, "coordinator")
    page = client.get("/staff/feedback/admin/calendar").get_data(as_text=True)
    reply = client.post(
        "/staff/feedback/admin/calendar",
        data={
            "csrf_token": csrf_from(page),
            "day": "2026-03-03",
            "is_working_day": "0",
            "note": "Nghỉ bù đột xuất",
        },
    )
    assert reply.status_code == 303
    with app.app_context():
        assert db.session.get(FeedbackCase, case_id).due_on == date(2026, 3, 5)
        assert db.session.scalar(select(CalendarOverride.note)) == "Nghỉ bù đột xuất"
    bad = client.post(
        "/staff/feedback/admin/calendar", data={"csrf_token": csrf_from(page), "day": "3/3/2026"}
    )
    assert bad.status_code == 400


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("20261231", "Ngày phải có dạng 2026-03-31."),
        ("2026-W53-7", "Ngày phải có dạng 2026-03-31."),
        ("2026-02-30", "Ngày phải có dạng 2026-03-31."),
        ("0001-01-01", "Ngày phải thuộc các năm 2000–2100."),
        ("9999-12-31", "Ngày phải thuộc các năm 2000–2100."),
    ],
)
def test_calendar_days_are_written_in_full_and_in_2000_to_2100(app, world, day, message):
    """Each was stored: a day no deadline can reach, or a day the writer did not mean."""
    client = as_user(app, world, "coordinator")
    page = client.get("/staff/feedback/admin/calendar").get_data(as_text=True)
    reply = client.post(
        "/staff/feedback/admin/calendar",
        data={"csrf_token": csrf_from(page), "day": day, "is_working_day": "0"},
    )
    assert reply.status_code == 400 and message in reply.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(CalendarOverride)).all() == []


def test_texts_read_without_a_form_are_cleaned_too(app, world):
    """A template titled 'T\\x00…' was stored with the NUL on SQLite and refused by
    PostgreSQL (400): such texts now go through the same cleaning as form fields."""
    client = as_user(app, world, "coordinator")
    page = client.get("/staff/feedback/admin/templates").get_data(as_text=True)
    reply = client.post(
        "/staff/feedback/admin/templates",
        data={
            "csrf_token": csrf_from(page),
            "title": "  Chấn\x00 chỉnh\x1b  ",
            "body": "Sở đã\x07 chấn chỉnh.",
            "agency_id": "",
        },
    )
    assert reply.status_code == 303
    page = client.get("/staff/feedback/admin/calendar").get_data(as_text=True)
    reply = client.post(
        "/staff/feedback/admin/calendar",
        data={
            "csrf_token": csrf_from(page),
            "day": "2026-03-03",
            "is_working_day": "0",
            "note": "Nghỉ\x00 bù",
        },
    )
    assert reply.status_code == 303
    with app.app_context():
        template = db.session.scalar(select(AnswerTemplate))
        assert (template.title, template.body) == ("Chấn chỉnh", "Sở đã chấn chỉnh.")
        assert db.session.scalar(select(CalendarOverride.note)) == "Nghỉ bù"


# -- the working-day calendar page: what decided each day, years to confirm ---------

DECEMBER_2026 = datetime(2026, 12, 7, 2, tzinfo=UTC)


def _rows(html: str, table: str) -> list[str]:
    """The rows of the table with id ``table``, as text with the tags left in."""
    body = html.split(f'<table id="{table}">', 1)[1].split("</table>", 1)[0]
    return body.split("<tr>")[2:]  # (the header row first)


def _row(html: str, table: str, day: str) -> str:
    [row] = [r for r in _rows(html, table) if day in r]
    return row


def test_the_calendar_lists_a_confirmed_years_days_with_their_source(app, world):
    with freeze_time(DECEMBER_2026):  # (logged in then too: sessions expire)
        client = as_user(app, world, "coordinator")
        html = client.get("/staff/feedback/admin/calendar").get_data(as_text=True)
    assert 'aria-current="page">2026<' in html  # the current year by default
    assert "Đã xác nhận" in html.split('id="year-status"', 1)[1].split("</p>", 1)[0]
    swap = _row(html, "days", "Thứ Sáu, 2 tháng 1, 2026")
    assert "Ngày nghỉ" in swap and "Nghỉ hoán đổi (làm bù thứ Bảy 10/1/2026)" in swap
    assert "Dữ liệu thông báo, năm đã xác nhận: Công văn 12729/VPCP-KGVX ngày 25/12/2025" in swap
    worked = _row(html, "days", "Thứ Bảy, 10 tháng 1, 2026")
    assert "Ngày làm việc" in worked and "Công văn 12729/VPCP-KGVX" in worked
    assert "80-NQ/TW" in _row(html, "days", "Thứ Ba, 24 tháng 11, 2026")
    assert "Thông báo 9441/TB-BNV" in _row(html, "days", "Thứ Ba, 17 tháng 2, 2026")
    # the package missed the New Year swap (both days) and takes Culture Day for a holiday
    differences = _rows(html, "differences")
    assert len(differences) == 3 and "2 tháng 1, 2026" in differences[0]
    assert "24 tháng 11, 2026" in differences[2]
    # 2026 is confirmed, 2027 is not: the warning names 2027 only
    gaps = html.split('id="calendar-gaps"', 1)[1].split("</section>", 1)[0]
    assert "2027: chưa có thông báo đã xác nhận" in gaps and "2026:" not in gaps


def test_an_unconfirmed_year_shows_the_package_and_the_overrides_with_their_author(app, world):
    client = as_user(app, world, "admin")
    page = client.get("/staff/feedback/admin/calendar?year=2027").get_data(as_text=True)
    assert "Chưa xác nhận" in page.split('id="year-status"', 1)[1].split("</p>", 1)[0]
    tet = _row(page, "days", "Thứ Hai, 8 tháng 2, 2027")
    assert "Ngày nghỉ" in tet and "Gói holidays (chưa xác nhận)" in tet
    reply = client.post(
        "/staff/feedback/admin/calendar",
        data={
            "csrf_token": csrf_from(page),
            "day": "2027-02-12",
            "is_working_day": "0",
            "note": "Thông báo số 1/TB-BNV",
        },
    )
    assert reply.status_code == 303 and reply.location.endswith("?year=2027")
    html = client.get(reply.location).get_data(as_text=True)
    added = _row(html, "days", "Thứ Sáu, 12 tháng 2, 2027")
    assert "Do Nguyễn Văn A đặt lúc" in added and "Thông báo số 1/TB-BNV" in added
    assert "Nguyễn Văn A" in _row(html, "overrides", "12 tháng 2, 2027")
    with app.app_context():
        audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "calendar_day_set"))
        assert audit.detail == "2027-02-12 day off: Thông báo số 1/TB-BNV"
        assert audit.user.email == world.users["admin"]


@pytest.mark.parametrize("year", ["abc", "1999", "2101", "99999999999999", "-1", "2026.0"])
def test_a_calendar_year_out_of_range_is_a_400_saying_so(app, world, year):
    reply = as_user(app, world, "coordinator").get(f"/staff/feedback/admin/calendar?year={year}")
    assert reply.status_code == 400
    assert "Năm phải trong khoảng 2000–2100." in reply.get_data(as_text=True)


def test_the_dashboard_warns_those_who_may_change_the_calendar(app, world):
    with app.app_context():
        local_admin = factories.user(Role.admin, db.session.get(Agency, world.a)).email
        db.session.commit()

    def dashboards() -> dict[str, str]:
        clients = {who: as_user(app, world, who) for who in ("admin", "coordinator", "handler")}
        clients["agency admin"] = logged_in(app, local_admin)
        return {who: c.get("/staff/").get_data(as_text=True) for who, c in clients.items()}

    with freeze_time(DECEMBER_2026):  # (logged in then too: sessions expire)
        pages = dashboards()
    for who in ("admin", "coordinator"):
        assert 'id="calendar-gaps"' in pages[who] and "2027: chưa có thông báo" in pages[who]
        assert "/staff/feedback/admin/calendar?year=2027" in pages[who]
    for who in ("handler", "agency admin"):  # they cannot change it
        assert 'id="calendar-gaps"' not in pages[who] and "<h1>Quầy</h1>" in pages[who]
    with freeze_time(datetime(2025, 6, 1, 2, tzinfo=UTC)):  # 2025 and 2026 confirmed
        pages = dashboards()
    assert all('id="calendar-gaps"' not in page for page in pages.values())
    assert all("<h1>Quầy</h1>" in page for page in pages.values())  # (the dashboards)
