"""The case page's tasks in a real desktop browser: each next step is its own form, an
answer goes out in one step, and an answer template is inserted with JavaScript (where
the cursor is, without leaving the page) and without it (the page comes back with the
template added, nothing typed lost).

Assertions are on URLs, statuses, element ids and names and on what reached the
database, not on translated text. Every test makes its own agency and accounts.
"""

from __future__ import annotations

import secrets
from types import SimpleNamespace

import pytest

from survey_app.auth.models import Role
from survey_app.auth.services import create_user
from survey_app.extensions import db
from survey_app.feedback.models import (
    AnswerTemplate,
    CaseChannel,
    CaseKind,
    CaseState,
    FeedbackCase,
)
from survey_app.feedback.services import Submission, submit
from tests import factories
from tests.e2e.test_feedback_browser import DESKTOP, log_in, new_page, submit_form

pytestmark = pytest.mark.e2e
S = CaseState

TEMPLATE_BODY = "Sở đã chấn chỉnh bộ phận một cửa; bản sao giấy khai sinh không còn bị yêu cầu."
SUMMARY = "Quầy yêu cầu bản sao giấy khai sinh không có trong luật."


def world(live, cases: int = 1) -> SimpleNamespace:
    """Two agencies, a handler of the first, a coordinator, an answer template and
    ``cases`` new web cases at the first agency."""
    n = secrets.token_hex(4)
    with live.app.app_context():
        agency = factories.agency(f"Sở Tư pháp {n}")
        other = factories.agency(f"Sở Xây dựng {n}")
        handler = create_user(
            f"h-{n}@example.gov.vn", "Trần Thị Xử Lý", factories.PASSWORD, Role.handler, agency
        )
        coordinator = create_user(
            f"c-{n}@example.gov.vn", "Lê Văn Điều Phối", factories.PASSWORD, Role.coordinator
        )
        template = AnswerTemplate(title=f"Chấn chỉnh {n}", body=TEMPLATE_BODY, agency=agency)
        db.session.add(template)
        ids = []
        for i in range(cases):
            case, _ = submit(
                Submission(
                    kind=CaseKind.report,
                    content=f"Quầy yêu cầu nộp thêm bản sao giấy khai sinh ({i}).",
                    submitter_name="Nguyễn Văn An",
                    contact_phone="0912345678",
                    consent=True,
                    agency=agency,
                ),
                CaseChannel.web,
            )
            ids.append(case.id)
        db.session.commit()
        out = SimpleNamespace(
            cases=ids,
            agency=agency.id,
            other=other.id,
            handler=handler.id,
            handler_email=handler.email,
            coordinator_email=coordinator.email,
            template=template.id,
        )
        db.session.remove()
        return out


def state_of(live, case_id: int) -> SimpleNamespace:
    with live.app.app_context():
        case = db.session.get(FeedbackCase, case_id)
        out = SimpleNamespace(
            state=case.state,
            agency_id=case.agency_id,
            assignee_id=case.assignee_id,
            answer=case.answer,
            kind=case.kind,
            public_reason=case.public_reason,
            events=[(e.from_state, e.to_state) for e in case.events],
        )
        db.session.remove()
        return out


def open_case(page, live, case_id: int) -> None:
    assert page.goto(f"{live.url}/staff/feedback/{case_id}").status == 200


def offered(page) -> list[str]:
    return page.locator("details.task[id^=task-]").evaluate_all("ds => ds.map(d => d.id.slice(5))")


def take(page, live, case_id: int, name: str, *, fill=None, select=None, check=(), status=200):
    """Open the task's card, fill its fields, press its main button; the case page (or the
    queue, once the case left the user's sight) comes back with ``status``."""
    card = page.locator(f"details#task-{name}")
    assert card.count() == 1, (name, offered(page))
    if card.get_attribute("open") is None:
        card.locator("summary").click()
    for field, value in (fill or {}).items():
        card.locator(f"[name={field}]").fill(value)
    for field, value in (select or {}).items():
        card.locator(f"select[name={field}]").select_option(str(value))
    for field in check:
        card.locator(f"input[name={field}]").check()
    reply = submit_form(page, f"details#task-{name} button.primary")
    assert reply.status == status, (name, reply.status)
    if status == 200:
        assert page.url in (f"{live.url}/staff/feedback/{case_id}", f"{live.url}/staff/feedback/")


def test_every_task_from_screening_to_publication(browser, live):
    w = world(live, cases=1)
    (case_id,) = w.cases

    context, page = new_page(browser, DESKTOP)
    try:
        log_in(page, live, w.handler_email)
        open_case(page, live, case_id)
        assert page.locator("select[name=to_state]").count() == 0  # no state dropdown
        assert offered(page) == ["accept", "request_info", "transfer", "reject"]
        assert page.locator("details#task-accept").get_attribute("open") is not None

        # Yêu cầu bổ sung: refused without saying what is missing, the note kept
        take(page, live, case_id, "request_info", fill={"note": "Đã gọi điện"}, status=400)
        assert page.locator("[role=alert]").count() == 1
        assert page.locator("details#task-request_info textarea[name=note]").input_value() == (
            "Đã gọi điện"
        )
        take(page, live, case_id, "request_info", fill={"reason": "Bản chụp tờ khai"})
        assert state_of(live, case_id).state == S.needs_info
        take(page, live, case_id, "resume")
        assert state_of(live, case_id).state == S.screening

        # Tiếp nhận, Phân công
        take(page, live, case_id, "accept")
        assert state_of(live, case_id).state == S.accepted
        take(page, live, case_id, "assign", select={"assignee_id": w.handler})
        assert state_of(live, case_id).assignee_id == w.handler

        # Trả lời, in one step: answered, waiting for the coordinators named on the page
        assert page.locator("#answer-approver").count() == 1
        card = page.locator("details#task-answer")
        card.locator("textarea[name=answer]").fill("Kính gửi ông An,")
        card.locator("select[name=template_id]").select_option(str(w.template))
        card.locator("#insert-template").click()  # JavaScript: in place, no request
        assert page.url == f"{live.url}/staff/feedback/{case_id}"
        assert card.locator("textarea[name=answer]").input_value() == (
            "Kính gửi ông An,\n\n" + TEMPLATE_BODY
        )
        card.locator("textarea[name=public_summary]").fill(SUMMARY)
        take(page, live, case_id, "answer", check=["confirm_summary"])
        after = state_of(live, case_id)
        assert after.state == S.answered
        assert after.answer == "Kính gửi ông An,\n\n" + TEMPLATE_BODY
        assert offered(page) == []  # approving is not the handler's
        assert page.locator("#who-approves").count() == 1
        assert page.watch.problems == []
    finally:
        context.close()

    context, page = new_page(browser, DESKTOP)
    try:
        log_in(page, live, w.coordinator_email)
        assert page.url.endswith("/staff/feedback/?scope=all")  # the coordinator's landing
        open_case(page, live, case_id)
        assert offered(page) == ["approve", "send_back"]
        # Trả lại để sửa needs what must change
        take(page, live, case_id, "send_back", status=400)
        take(page, live, case_id, "send_back", fill={"reason": "Nêu căn cứ pháp lý"})
        assert state_of(live, case_id).state == S.in_progress
        # the coordinator answers, approves and publishes at once
        take(
            page,
            live,
            case_id,
            "answer",
            fill={"answer": "Theo Nghị định 118/2025, " + TEMPLATE_BODY},
            check=["go_on"],
        )
        assert state_of(live, case_id).state == S.published
        assert [e[1] for e in state_of(live, case_id).events[-3:]] == [
            S.answered,
            S.approved,
            S.published,
        ]
        assert offered(page) == ["close", "reopen"]
        take(page, live, case_id, "close")
        assert state_of(live, case_id).state == S.closed
        take(page, live, case_id, "reopen", fill={"reason": "Công dân gửi thêm"})
        assert state_of(live, case_id).state == S.in_progress
        assert page.watch.problems == []
    finally:
        context.close()


def test_transfer_reject_approve_publish_and_reclassify(browser, live):
    w = world(live, cases=3)
    transferred, rejected, answered = w.cases
    context, page = new_page(browser, DESKTOP)
    try:
        log_in(page, live, w.coordinator_email)
        # Chuyển: to another agency, with the reason
        open_case(page, live, transferred)
        take(page, live, transferred, "transfer", select={"agency_id": w.other}, status=400)
        take(
            page,
            live,
            transferred,
            "transfer",
            select={"agency_id": w.other},
            fill={"reason": "Thuộc thẩm quyền Sở Xây dựng"},
        )
        assert (state_of(live, transferred).state, state_of(live, transferred).agency_id) == (
            S.transferred,
            w.other,
        )
        # Từ chối, with the reason the citizen reads
        open_case(page, live, rejected)
        take(page, live, rejected, "reject", fill={"reason": "Không có nội dung phản ánh"})
        assert state_of(live, rejected).public_reason == "Không có nội dung phản ánh"
        # Phân loại lại: a complaint, then back to a proposal
        open_case(page, live, answered)
        page.locator("details#reclassify summary").click()
        page.check("details#reclassify input[name=to_kind][value=complaint]")
        page.locator("details#reclassify textarea[name=reason]").fill("Khiếu nại quyết định")
        assert submit_form(page, "details#reclassify button[type=submit]").status == 200
        assert state_of(live, answered).state == S.redirected_complaint
        page.locator("details#reclassify summary").click()
        page.check("details#reclassify input[name=to_kind][value=proposal]")
        page.locator("details#reclassify textarea[name=reason]").fill("Thực ra là kiến nghị")
        assert submit_form(page, "details#reclassify button[type=submit]").status == 200
        back = state_of(live, answered)
        assert (back.state, back.kind) == (S.screening, CaseKind.proposal)
        # Tiếp nhận, Phân công, then Duyệt and Công bố as separate tasks
        take(page, live, answered, "accept")
        take(page, live, answered, "assign", select={"assignee_id": w.handler})
        take(
            page,
            live,
            answered,
            "answer",
            fill={"answer": TEMPLATE_BODY, "public_summary": SUMMARY},
            check=["confirm_summary"],
        )
        assert state_of(live, answered).state == S.answered
        take(page, live, answered, "approve")
        assert state_of(live, answered).state == S.approved
        take(page, live, answered, "publish")
        assert state_of(live, answered).state == S.published
        assert page.watch.problems == []
    finally:
        context.close()


def test_insert_a_template_without_javascript(browser, live):
    w = world(live, cases=1)
    (case_id,) = w.cases
    with live.app.app_context():
        from survey_app.auth.models import User
        from survey_app.feedback.workflow import transition

        case = db.session.get(FeedbackCase, case_id)
        handler = db.session.get(User, w.handler)
        for state in (S.screening, S.accepted):
            transition(case, state, handler)
        transition(case, S.assigned, handler, assignee=handler)
        db.session.commit()
        db.session.remove()
    context, page = new_page(browser, DESKTOP, java_script_enabled=False)
    try:
        log_in(page, live, w.handler_email)
        assert page.url.endswith("/staff/feedback/?scope=mine")  # the handler's landing
        open_case(page, live, case_id)
        card = page.locator("details#task-answer")
        assert card.get_attribute("open") is not None  # the step to take, open
        card.locator("textarea[name=answer]").fill("Kính gửi ông An,")
        card.locator("textarea[name=note]").fill("Nháp của tôi")
        card.locator("select[name=template_id]").select_option(str(w.template))
        reply = submit_form(page, "#insert-template")
        assert reply.status == 200
        assert page.url == f"{live.url}/staff/feedback/{case_id}/insert-template"
        card = page.locator("details#task-answer")
        assert card.get_attribute("open") is not None
        assert card.locator("textarea[name=answer]").input_value() == (
            "Kính gửi ông An,\n\n" + TEMPLATE_BODY
        )
        assert card.locator("textarea[name=note]").input_value() == "Nháp của tôi"
        assert state_of(live, case_id).answer is None  # nothing saved yet
        card.locator("textarea[name=public_summary]").fill(SUMMARY)
        take(page, live, case_id, "answer", check=["confirm_summary"])
        done = state_of(live, case_id)
        assert done.state == S.answered and done.answer == "Kính gửi ông An,\n\n" + TEMPLATE_BODY
    finally:
        context.close()
