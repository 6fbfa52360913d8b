"""Staff feedback pages with each role: scope, actions, locking, exports, audit, escaping."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from survey_app.auth.models import Role, User
from survey_app.extensions import db
from survey_app.feedback.models import AuditLog, CaseChannel, CaseKind, CaseState, FeedbackCase
from survey_app.feedback.services import Submission, submit
from tests import factories
from tests.helpers import csrf_from, logged_in

XSS = '<script>alert("x")</script><b>đậm</b>'


@pytest.fixture
def world(app):
    with app.app_context():
        a = factories.agency("Sở Tư pháp", code="STP")
        b = factories.agency("Sở Xây dựng", code="SXD")
        proc_a = factories.procedure(a, code="1.001193")
        users = {
            "admin": factories.user(Role.admin),
            "coordinator": factories.user(Role.coordinator),
            "handler_a": factories.user(Role.handler, a),
            "handler_b": factories.user(Role.handler, b),
            "viewer_a": factories.user(Role.viewer, a),
        }
        case_a, _ = submit(
            Submission(
                kind=CaseKind.report,
                content="Quầy đòi bản sao không cần thiết. " + XSS,
                submitter_name="Nguyễn Văn An",
                contact_phone="0912345678",
                consent=True,
                procedure=proc_a,
            ),
            CaseChannel.web,
        )
        case_b, _ = submit(
            Submission(
                kind=CaseKind.proposal,
                content="Đề nghị rút ngắn thời gian cấp phép.",
                submitter_name="Trần Thị Bình",
                contact_email="binh@example.vn",
                consent=True,
                agency=b,
            ),
            CaseChannel.web,
        )
        db.session.commit()
        return SimpleNamespace(
            a=case_a.id,
            b=case_b.id,
            code_a=case_a.code,
            agency_a=a.id,
            agency_b=b.id,
            emails={k: u.email for k, u in users.items()},
            ids={k: u.id for k, u in users.items()},
        )


def as_user(app, world, who):
    return logged_in(app, world.emails[who])


def _version(html):
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def test_handler_of_a_sees_only_agency_a(app, world):
    client = as_user(app, world, "handler_a")
    queue = client.get("/staff/feedback/").get_data(as_text=True)
    assert world.code_a in queue and "Sở Xây dựng" not in queue
    assert client.get(f"/staff/feedback/{world.a}").status_code == 200
    assert client.get(f"/staff/feedback/{world.b}").status_code == 404
    page = client.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
    for action in ("transition", "answer", "extend"):
        reply = client.post(
            f"/staff/feedback/{world.b}/{action}",
            data={"csrf_token": csrf_from(page), "version": "1", "to_state": "screening"},
        )
        assert reply.status_code == 404, action


def test_viewers_and_anonymous_have_no_access(app, client, world):
    assert client.get("/staff/feedback/").status_code == 302
    viewer = as_user(app, world, "viewer_a")
    assert viewer.get("/staff/feedback/").status_code == 403
    assert viewer.get(f"/staff/feedback/{world.a}").status_code == 403


def test_coordinator_sees_everything_and_counts_per_state(app, world):
    client = as_user(app, world, "coordinator")
    html = client.get("/staff/feedback/?scope=all").get_data(as_text=True)
    assert world.code_a in html and "Sở Xây dựng" in html
    assert "Mới gửi: <strong>2</strong>" in html


def test_user_text_is_escaped_on_staff_pages(app, world):
    client = as_user(app, world, "coordinator")
    html = client.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html


def test_reading_personal_data_is_audited(app, world):
    client = as_user(app, world, "handler_a")
    html = client.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
    assert "0912345678" in html
    with app.app_context():
        log = db.session.scalars(select(AuditLog)).all()
        assert [(e.action, e.case_id, e.user_id) for e in log] == [
            ("read_personal_data", world.a, world.ids["handler_a"])
        ]


def test_handler_screens_accepts_assigns_answers(app, world):
    client = as_user(app, world, "handler_a")
    for to, extra in [
        ("screening", {}),
        ("accepted", {}),
        ("assigned", {"assignee_id": str(world.ids["handler_a"])}),
        ("in_progress", {}),
    ]:
        page = client.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
        reply = client.post(
            f"/staff/feedback/{world.a}/transition",
            data={
                "csrf_token": csrf_from(page),
                "version": _version(page),
                "to_state": to,
                **extra,
            },
        )
        assert reply.status_code == 303, to
    page = client.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
    client.post(
        f"/staff/feedback/{world.a}/answer",
        data={
            "csrf_token": csrf_from(page),
            "version": _version(page),
            "answer": "Đã chấn chỉnh quầy.",
            "public_summary": "Quầy đòi bản sao không cần thiết.",
        },
    )
    page = client.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
    client.post(
        f"/staff/feedback/{world.a}/transition",
        data={"csrf_token": csrf_from(page), "version": _version(page), "to_state": "answered"},
    )
    with app.app_context():
        case = db.session.get(FeedbackCase, world.a)
        assert case.state == CaseState.answered and case.answer == "Đã chấn chỉnh quầy."
        assert [e.to_state for e in case.events] == [
            CaseState.screening,
            CaseState.accepted,
            CaseState.assigned,
            CaseState.in_progress,
            CaseState.answered,
        ]


def test_an_answer_too_long_is_explained_and_what_was_typed_stays(app, world):
    """It was a bare 413 page: the handler lost the text and did not learn the limit."""
    client = as_user(app, world, "coordinator")
    for to in ("screening", "accepted"):
        page = client.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
        data = {"csrf_token": csrf_from(page), "version": _version(page), "to_state": to}
        assert client.post(f"/staff/feedback/{world.a}/transition", data=data).status_code == 303
    page = client.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
    answer = "Sở đã chấn chỉnh quầy. " * 500  # 11 500 characters
    reply = client.post(
        f"/staff/feedback/{world.a}/answer",
        data={
            "csrf_token": csrf_from(page),
            "version": _version(page),
            "answer": answer,
            "public_summary": "Quầy đòi bản sao.",
        },
    )
    html = reply.get_data(as_text=True)
    assert reply.status_code == 400
    assert "tối đa 10000 ký tự" in html and answer.strip() in html
    with app.app_context():
        assert db.session.get(FeedbackCase, world.a).answer is None


def test_illegal_transition_shows_a_message_and_changes_nothing(app, world):
    client = as_user(app, world, "coordinator")
    page = client.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
    reply = client.post(
        f"/staff/feedback/{world.a}/transition",
        data={"csrf_token": csrf_from(page), "version": _version(page), "to_state": "published"},
    )
    assert reply.status_code == 400
    assert "không thể chuyển sang" in reply.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(FeedbackCase, world.a).state == CaseState.submitted


def _offered_tasks(html: str) -> list[str]:
    return re.findall(r'<details class="task" id="task-([a-z_]+)"', html)


def test_the_usual_step_comes_first_and_nothing_is_chosen_for_the_user(app, world):
    """A state dropdown offered "redirect as a complaint" first: a coordinator who pressed
    Save without choosing sent the citizen's case away. Each step is now its own form,
    the usual one first and open; the steps that end a case come last."""
    client = as_user(app, world, "coordinator")
    page = client.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
    assert _offered_tasks(page) == ["accept", "request_info", "transfer", "reject"]
    assert 'name="to_state"' not in page
    assert '<details class="task" id="task-accept" open>' in page
    assert "<h2>Hạn xem xét tiếp nhận</h2>" in page


def test_a_refused_step_keeps_what_was_typed(app, world):
    client = as_user(app, world, "coordinator")
    page = client.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
    reply = client.post(
        f"/staff/feedback/{world.a}/task/reject",
        data={
            "csrf_token": csrf_from(page),
            "version": _version(page),
            "reason": "",
            "note": "Đã gọi điện cho công dân <b>hôm qua</b>",
        },
    )
    html = reply.get_data(as_text=True)
    assert reply.status_code == 400 and "Vui lòng nêu lý do" in html
    assert '<details class="task" id="task-reject" open>' in html
    assert "Đã gọi điện cho công dân &lt;b&gt;hôm qua&lt;/b&gt;</textarea>" in html
    with app.app_context():
        assert db.session.get(FeedbackCase, world.a).state == CaseState.submitted


def test_a_case_is_not_offered_for_assignment_when_its_agency_has_no_handler(app, world):
    client = as_user(app, world, "coordinator")
    for to, extra in [("screening", {}), ("accepted", {"agency_id": str(world.agency_b)})]:
        page = client.get(f"/staff/feedback/{world.b}").get_data(as_text=True)
        reply = client.post(
            f"/staff/feedback/{world.b}/transition",
            data={"csrf_token": csrf_from(page), "version": _version(page), "to_state": to} | extra,
        )
        assert reply.status_code == 303, reply.get_data(as_text=True)
    with app.app_context():
        db.session.get(User, world.ids["handler_b"]).active = False
        db.session.commit()
    page = client.get(f"/staff/feedback/{world.b}").get_data(as_text=True)
    assert _offered_tasks(page) == ["transfer"]
    assert "Chưa có ai xử lý hồ sơ tại cơ quan này" in page


def test_stale_page_cannot_overwrite_a_colleagues_change(app, world):
    first, second = as_user(app, world, "coordinator"), as_user(app, world, "handler_a")
    page1 = first.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
    page2 = second.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
    assert (
        first.post(
            f"/staff/feedback/{world.a}/transition",
            data={
                "csrf_token": csrf_from(page1),
                "version": _version(page1),
                "to_state": "screening",
            },
        ).status_code
        == 303
    )
    reply = second.post(
        f"/staff/feedback/{world.a}/transition",
        data={
            "csrf_token": csrf_from(page2),
            "version": _version(page2),
            "to_state": "rejected",
            "reason": "x",
        },
    )
    assert reply.status_code == 409
    assert "Nothing was saved" in reply.get_data(
        as_text=True
    ) or "Không có gì được lưu" in reply.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(FeedbackCase, world.a).state == CaseState.screening


def test_coordinator_transfers_with_reason_and_the_timeline_shows_it(app, world):
    client = as_user(app, world, "coordinator")
    page = client.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
    client.post(
        f"/staff/feedback/{world.a}/transition",
        data={"csrf_token": csrf_from(page), "version": _version(page), "to_state": "screening"},
    )
    page = client.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
    reply = client.post(
        f"/staff/feedback/{world.a}/transition",
        data={
            "csrf_token": csrf_from(page),
            "version": _version(page),
            "to_state": "transferred",
            "agency_id": str(world.agency_b),
            "reason": "Thuộc thẩm quyền Sở Xây dựng",
        },
    )
    assert reply.status_code == 303
    html = client.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
    assert "Thuộc thẩm quyền Sở Xây dựng" in html and "Sở Xây dựng" in html
    assert as_user(app, world, "handler_a").get(f"/staff/feedback/{world.a}").status_code == 404
    assert as_user(app, world, "handler_b").get(f"/staff/feedback/{world.a}").status_code == 200


def test_export_masks_personal_data_for_handlers_not_for_coordinators(app, world):
    rows = list(
        csv.reader(
            io.StringIO(
                as_user(app, world, "handler_a")
                .get("/staff/feedback/export.csv")
                .get_data(as_text=True)
                .lstrip("\ufeff")
            )
        )
    )
    assert rows[0][:3] == ["Mã hồ sơ", "Loại", "Trạng thái"] or rows[0][0] == "Case code"
    assert len(rows) == 2
    assert rows[1][8] == "Nguyễn V. A." and rows[1][9] == "091****678"
    full = (
        as_user(app, world, "coordinator")
        .get("/staff/feedback/export.csv?scope=all")
        .get_data(as_text=True)
    )
    assert "Nguyễn Văn An" in full and "binh@example.vn" in full
    xlsx = as_user(app, world, "coordinator").get("/staff/feedback/export.xlsx?scope=all")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.max_row == 3 and sheet["A1"].value == rows[0][0]
    with app.app_context():
        assert (
            db.session.scalar(select(AuditLog.action).where(AuditLog.action == "export"))
            == "export"
        )


def test_staff_intake_by_phone(app, world):
    client = as_user(app, world, "coordinator")
    page = client.get("/staff/feedback/new").get_data(as_text=True)
    reply = client.post(
        "/staff/feedback/new",
        data={
            "csrf_token": csrf_from(page),
            "channel": "phone",
            "kind": "report",
            "procedure_code": "1.001193",
            "content": "Gọi điện phản ánh quầy thu phí sai quy định.",
            "submitter_name": "Phạm Văn Dũng",
            "contact_phone": "0987654321",
            "consent": "y",
        },
    )
    assert reply.status_code == 303
    with app.app_context():
        case = db.session.scalars(select(FeedbackCase).order_by(FeedbackCase.id.desc())).first()
        assert case.channel == CaseChannel.phone and case.created_by_id == world.ids["coordinator"]
        assert case.agency_id == world.agency_a


def test_staff_intake_refuses_missing_contact_with_the_reason(app, world):
    client = as_user(app, world, "coordinator")
    page = client.get("/staff/feedback/new").get_data(as_text=True)
    reply = client.post(
        "/staff/feedback/new",
        data={
            "csrf_token": csrf_from(page),
            "channel": "paper",
            "kind": "report",
            "content": "Một phản ánh đủ dài nhưng thiếu liên hệ.",
            "submitter_name": "A",
            "consent": "y",
        },
    )
    assert reply.status_code == 400
    assert "Điều 7 Nghị định 20/2008" in reply.get_data(as_text=True)


def test_staff_intake_checks_phone_and_e_mail_as_the_public_form_does(app, world):
    client = as_user(app, world, "coordinator")
    page = client.get("/staff/feedback/new").get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(page),
        "channel": "paper",
        "kind": "report",
        "content": "Một phản ánh đủ dài để xử lý.",
        "submitter_name": "A",
        "consent": "y",
    }
    reply = client.post(
        "/staff/feedback/new", data=data | {"contact_phone": "abc", "contact_email": "not mail"}
    )
    html = reply.get_data(as_text=True)
    assert reply.status_code == 400
    assert "nhập số điện thoại Việt Nam" in html and "nhập địa chỉ thư điện tử hợp lệ" in html
    with app.app_context():
        before = len(db.session.scalars(select(FeedbackCase)).all())
    reply = client.post("/staff/feedback/new", data=data | {"contact_phone": "0912 345.678"})
    assert reply.status_code == 303
    with app.app_context():
        case = db.session.scalars(select(FeedbackCase).order_by(FeedbackCase.id.desc())).first()
        assert case.contact_phone == "0912345678"  # stored as the public form stores it
        assert len(db.session.scalars(select(FeedbackCase)).all()) == before + 1


@pytest.mark.parametrize("who", ["admin", "coordinator", "handler_b", "viewer_a"])
def test_a_case_is_assigned_only_to_a_handler_of_its_agency(app, world, who):
    """The page offers the agency's handlers; any user id was accepted."""
    client = as_user(app, world, "coordinator")
    for step in ("screening", "accepted"):
        page = client.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
        reply = client.post(
            f"/staff/feedback/{world.a}/transition",
            data={"csrf_token": csrf_from(page), "version": _version(page), "to_state": step},
        )
        assert reply.status_code == 303, step
    page = client.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "version": _version(page), "to_state": "assigned"}
    reply = client.post(
        f"/staff/feedback/{world.a}/transition", data=data | {"assignee_id": str(world.ids[who])}
    )
    assert reply.status_code == 400
    reply = client.post(
        f"/staff/feedback/{world.a}/transition",
        data=data | {"assignee_id": str(world.ids["handler_a"])},
    )
    assert reply.status_code == 303
    with app.app_context():
        assert db.session.get(FeedbackCase, world.a).assignee_id == world.ids["handler_a"]


def test_queue_filters(app, world):
    client = as_user(app, world, "coordinator")
    html = client.get(f"/staff/feedback/?scope=all&agency={world.agency_b}").get_data(as_text=True)
    assert world.code_a not in html and "Sở Xây dựng" in html
    html = client.get("/staff/feedback/?scope=all&q=bản sao").get_data(as_text=True)
    assert world.code_a in html
    assert client.get("/staff/feedback/?due_before=31-12-2026").status_code == 400
    html = client.get("/staff/feedback/?scope=all&overdue=1").get_data(as_text=True)
    assert world.code_a not in html


def test_case_page_explains_the_due_date_in_vietnamese(app, world):
    from datetime import datetime

    from freezegun import freeze_time

    from survey_app.feedback.services import Submission, submit

    with app.app_context(), freeze_time(datetime(2023, 1, 19, 2, tzinfo=UTC)):
        case, _ = submit(
            Submission(
                kind=CaseKind.report,
                content="Phản ánh gửi ngay trước Tết.",
                submitter_name="An",
                contact_phone="0912345678",
                consent=True,
            ),
            CaseChannel.web,
        )
        db.session.commit()
        case_id = case.id
    html = (
        as_user(app, world, "coordinator").get(f"/staff/feedback/{case_id}").get_data(as_text=True)
    )
    explained = html[html.index('id="due-explained"') :]
    assert "2 ngày làm việc" in explained and "Tết Nguyên đán Quý Mão" in explained
    assert 'id="due-on">30 thg 1, 2023' in html or "30/01/2023" in html or "30 thg 1, 2023" in html


def test_lists_mask_names_for_every_role_and_only_the_case_page_shows_them(app, world):
    html = (
        as_user(app, world, "coordinator").get("/staff/feedback/?scope=all").get_data(as_text=True)
    )
    assert "Nguyễn V. A." in html and "Nguyễn Văn An" not in html and "0912345678" not in html


def test_the_answer_deadline_is_extended_once_and_a_refusal_keeps_what_was_typed(app, world):
    client = as_user(app, world, "handler_a")
    for to, extra in [
        ("screening", {}),
        ("accepted", {}),
        ("assigned", {"assignee_id": str(world.ids["handler_a"])}),
    ]:
        page = client.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
        data = {"csrf_token": csrf_from(page), "version": _version(page), "to_state": to}
        assert (
            client.post(f"/staff/feedback/{world.a}/transition", data=data | extra).status_code
            == 303
        )
    with app.app_context():
        due = db.session.get(FeedbackCase, world.a).due_on
    page = client.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
    assert "<h2>Hạn trả lời</h2>" in page
    data = {"csrf_token": csrf_from(page), "version": _version(page), "days": "5"}
    refused = client.post(f"/staff/feedback/{world.a}/extend", data=data | {"reason": ""})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Vui lòng nêu lý do" in html
    assert 'name="days" type="number" min="1" max="10" value="5"' in html
    assert '<details class="task" id="extension" open>' in html
    assert '<details class="task" id="task-answer" open>' not in html  # the other forms closed
    reply = client.post(
        f"/staff/feedback/{world.a}/extend", data=data | {"reason": "Cần xác minh tại xã"}
    )
    assert reply.status_code == 303
    with app.app_context():
        case = db.session.get(FeedbackCase, world.a)
        assert case.due_on > due and case.extension_reason == "Cần xác minh tại xã"
    page = client.get(f"/staff/feedback/{world.a}").get_data(as_text=True)
    assert f"/staff/feedback/{world.a}/extend" not in page  # once only
