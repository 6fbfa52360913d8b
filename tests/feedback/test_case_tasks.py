"""The case page's tasks: each next step its own form with only its fields, the roles
that may take it, one-step answers, answer templates without JavaScript, the labels
that say who reads what, and a coordinator's reclassification."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from survey_app.auth.models import Role
from survey_app.extensions import db
from survey_app.feedback import tasks
from survey_app.feedback.models import (
    AnswerTemplate,
    AuditLog,
    CaseChannel,
    CaseKind,
    CaseState,
    FeedbackCase,
    OutboxMessage,
)
from survey_app.feedback.services import Submission, submit
from survey_app.feedback.workflow import TRANSITIONS, transition
from tests import factories
from tests.helpers import csrf_from, logged_in

S = CaseState


@pytest.fixture
def world(app):
    with app.app_context():
        a = factories.agency("Sở Tư pháp", code="STP")
        b = factories.agency("Sở Xây dựng", code="SXD")
        users = {
            "admin": factories.user(Role.admin),
            "coordinator": factories.user(Role.coordinator),
            "handler_a": factories.user(Role.handler, a),
            "handler_b": factories.user(Role.handler, b),
            "viewer_a": factories.user(Role.viewer, a),
        }
        users["coordinator"].full_name = "Lê Văn Điều Phối"
        case, _ = submit(
            Submission(
                kind=CaseKind.report,
                content="Quầy đòi bản sao giấy khai sinh không cần thiết.",
                submitter_name="Nguyễn Văn An",
                contact_phone="0912345678",
                contact_email="an@example.vn",
                consent=True,
                agency=a,
            ),
            CaseChannel.web,
        )
        template = AnswerTemplate(title="Đã chấn chỉnh", body="Sở đã chấn chỉnh bộ phận một cửa.")
        other = AnswerTemplate(title="Của Sở Xây dựng", body="Mẫu riêng.", agency=b)
        db.session.add_all([template, other])
        db.session.commit()
        return SimpleNamespace(
            case=case.id,
            agency_a=a.id,
            agency_b=b.id,
            template=template.id,
            other_template=other.id,
            emails={k: u.email for k, u in users.items()},
            ids={k: u.id for k, u in users.items()},
        )


def as_user(app, world, who):
    return logged_in(app, world.emails[who])


def move(app, world, *states, assignee="handler_a"):
    """Walk the case through ``states`` as the coordinator (set-up, not under test)."""
    from survey_app.auth.models import User

    with app.app_context():
        case = db.session.get(FeedbackCase, world.case)
        coordinator = db.session.get(User, world.ids["coordinator"])
        for state in states:
            transition(
                case,
                state,
                coordinator,
                assignee=db.session.get(User, world.ids[assignee]) if state == S.assigned else None,
                reason="Bổ sung tờ khai" if state == S.needs_info else None,
            )
        db.session.commit()


def page_of(client, world, lang=None):
    url = f"/staff/feedback/{world.case}" + (f"?lang={lang}" if lang else "")
    reply = client.get(url)
    assert reply.status_code == 200
    return reply.get_data(as_text=True)


def task_names(html: str) -> list[str]:
    return re.findall(r'<details class="task" id="task-([a-z_]+)"', html)


def task_form(html: str, name: str) -> str:
    match = re.search(rf'<details class="task" id="task-{name}".*?</details>', html, re.S)
    assert match, name
    return match.group(0)


def field_names(form_html: str) -> set[str]:
    names = set(re.findall(r'<(?:input|textarea|select)[^>]*\bname="([^"]+)"', form_html))
    return names - {"csrf_token", "version"}


def send(client, world, name: str, html: str, **data):
    return client.post(
        f"/staff/feedback/{world.case}/task/{name}",
        data={"csrf_token": csrf_from(html), "version": version_of(html), **data},
    )


def version_of(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def the_case(app, world) -> FeedbackCase:
    with app.app_context():
        case = db.session.get(FeedbackCase, world.case)
        db.session.expunge(case)
        return case


def events(app, world):
    with app.app_context():
        case = db.session.get(FeedbackCase, world.case)
        return [(e.from_state, e.to_state, e.actor_id) for e in case.events]


# -- the tasks and their fields ---------------------------------------------------


def test_every_path_of_every_task_is_made_of_allowed_transitions():
    for task in tasks.TASKS:
        for start, path in task.paths.items():
            state = start
            for step in (*path, *task.then):
                assert step in TRANSITIONS[state], (task.name, state, step)
                state = step


def test_a_new_case_offers_the_screening_tasks_and_no_state_dropdown(app, world):
    html = page_of(as_user(app, world, "coordinator"), world)
    assert task_names(html) == ["accept", "request_info", "transfer", "reject"]
    assert 'name="to_state"' not in html
    assert '<details class="task" id="task-accept" open>' in html  # the usual step, open
    handler = page_of(as_user(app, world, "handler_a"), world)
    assert task_names(handler) == ["accept", "request_info", "transfer", "reject"]
    assert 'id="reclassify"' in html and 'id="reclassify"' not in handler  # coordinators only


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("accept", {"note"}),  # the case has its agency: nothing to choose
        ("request_info", {"reason", "note"}),
        ("reject", {"reason", "note"}),
        ("transfer", {"agency_id", "reason", "note"}),
    ],
)
def test_each_screening_task_has_only_its_fields(app, world, name, expected):
    assert field_names(task_form(page_of(as_user(app, world, "coordinator"), world), name)) == (
        expected
    )


def test_a_handler_transfers_back_to_the_coordinators_without_choosing_an_agency(app, world):
    client = as_user(app, world, "handler_a")
    html = page_of(client, world)
    assert field_names(task_form(html, "transfer")) == {"reason", "note"}
    reply = send(client, world, "transfer", html, reason="Không thuộc thẩm quyền của Sở")
    assert reply.status_code == 303 and reply.headers["Location"].endswith("/staff/feedback/")
    case = the_case(app, world)
    assert case.state == S.transferred and case.agency_id is None


def test_accept_takes_a_new_case_through_screening_in_one_step(app, world):
    client = as_user(app, world, "handler_a")
    reply = send(client, world, "accept", page_of(client, world), note="Đủ điều kiện")
    assert reply.status_code == 303
    case = the_case(app, world)
    assert case.state == S.accepted and case.due_on is not None
    assert events(app, world) == [
        (S.submitted, S.screening, world.ids["handler_a"]),
        (S.screening, S.accepted, world.ids["handler_a"]),
    ]
    html = page_of(client, world)
    assert "Đủ điều kiện" in html
    assert task_names(html)[:2] == ["answer", "assign"]  # a handler usually answers


def test_a_coordinator_accepting_a_case_without_agency_chooses_it(app, world):
    with app.app_context():
        db.session.get(FeedbackCase, world.case).agency_id = None
        db.session.commit()
    client = as_user(app, world, "coordinator")
    html = page_of(client, world)
    assert field_names(task_form(html, "accept")) == {"agency_id", "note"}
    refused = send(client, world, "accept", html)
    assert refused.status_code == 400 and the_case(app, world).state == S.submitted
    reply = send(client, world, "accept", html, agency_id=str(world.agency_b))
    assert reply.status_code == 303
    case = the_case(app, world)
    assert (case.state, case.agency_id) == (S.accepted, world.agency_b)


def test_asking_for_information_needs_what_is_missing_and_keeps_the_note(app, world):
    client = as_user(app, world, "coordinator")
    html = page_of(client, world)
    refused = send(client, world, "request_info", html, reason="", note="Gọi không được <b>x</b>")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and the_case(app, world).state == S.submitted
    assert '<details class="task" id="task-request_info" open>' in body
    assert "Gọi không được &lt;b&gt;x&lt;/b&gt;</textarea>" in body
    reply = send(client, world, "request_info", html, reason="Bản chụp tờ khai")
    assert reply.status_code == 303
    case = the_case(app, world)
    assert case.state == S.needs_info and case.public_reason == "Bản chụp tờ khai"
    assert task_names(page_of(client, world)) == ["accept", "resume", "reject"]
    with app.app_context():  # the citizen is told by e-mail
        assert db.session.scalar(select(OutboxMessage.body)).startswith("Bản chụp tờ khai")


def test_reject_tells_the_citizen_why(app, world):
    client = as_user(app, world, "coordinator")
    reply = send(client, world, "reject", page_of(client, world), reason="Không có nội dung")
    assert reply.status_code == 303
    case = the_case(app, world)
    assert case.state == S.rejected and case.public_reason == "Không có nọi dung".replace(
        "nọi", "nội"
    )
    assert task_names(page_of(client, world)) == []


def test_a_coordinator_transfers_to_another_agency_with_a_reason(app, world):
    client = as_user(app, world, "coordinator")
    html = page_of(client, world)
    refused = send(client, world, "transfer", html, agency_id=str(world.agency_b))
    assert refused.status_code == 400  # no reason
    reply = send(
        client, world, "transfer", html, agency_id=str(world.agency_b), reason="Thuộc Sở Xây dựng"
    )
    assert reply.status_code == 303
    case = the_case(app, world)
    assert (case.state, case.agency_id) == (S.transferred, world.agency_b)
    # the agency it is at is not offered as a target
    options = re.findall(
        r'<option value="(\d+)"',
        task_form(page_of(client, world), "transfer").split("</select>")[0],
    )
    assert str(world.agency_b) not in options and str(world.agency_a) in options


def test_assign_offers_the_agencys_handlers_and_refuses_others(app, world):
    move(app, world, S.screening, S.accepted)
    client = as_user(app, world, "coordinator")
    html = page_of(client, world)
    form = task_form(html, "assign")
    assert field_names(form) == {"assignee_id", "note"}
    assert f'value="{world.ids["handler_a"]}"' in form
    assert f'value="{world.ids["handler_b"]}"' not in form
    refused = send(client, world, "assign", html, assignee_id=str(world.ids["handler_b"]))
    assert refused.status_code == 400 and the_case(app, world).assignee_id is None
    reply = send(client, world, "assign", html, assignee_id=str(world.ids["handler_a"]))
    assert reply.status_code == 303
    assert the_case(app, world).assignee_id == world.ids["handler_a"]


# -- answering in one step ----------------------------------------------------------


ANSWER = "Sở đã chấn chỉnh bộ phận một cửa; bản sao không còn bị yêu cầu."
SUMMARY = "Quầy đòi bản sao giấy khai sinh không cần thiết."


def test_a_handler_sends_the_answer_in_one_step_and_sees_who_approves_it(app, world):
    move(app, world, S.screening, S.accepted, S.assigned)
    client = as_user(app, world, "handler_a")
    html = page_of(client, world)
    form = task_form(html, "answer")
    assert field_names(form) == {
        "template_id",
        "answer",
        "public_summary",
        "confirm_summary",
        "note",
    }
    assert "Lê Văn Điều Phối" in form and 'id="answer-approver"' in form  # who approves
    reply = send(
        client, world, "answer", html, answer=ANSWER, public_summary=SUMMARY, confirm_summary="y"
    )
    assert reply.status_code == 303
    case = the_case(app, world)
    assert (case.state, case.answer, case.public_summary) == (S.answered, ANSWER, SUMMARY)
    assert case.public_summary_confirmed_at is not None
    assert [e[:2] for e in events(app, world)[-2:]] == [
        (S.assigned, S.in_progress),
        (S.in_progress, S.answered),
    ]
    after = page_of(client, world)
    assert task_names(after) == []  # approving is not the handler's step
    assert 'id="who-approves"' in after and "Lê Văn Điều Phối" in after
    # and the handler may not approve by posting anyway
    refused = client.post(
        f"/staff/feedback/{world.case}/task/approve",
        data={"csrf_token": csrf_from(after), "version": str(the_case(app, world).version)},
    )
    assert refused.status_code == 400 and the_case(app, world).state == S.answered


def test_a_handler_answers_an_unassigned_case_and_it_becomes_theirs(app, world):
    move(app, world, S.screening, S.accepted)
    client = as_user(app, world, "handler_a")
    reply = send(client, world, "answer", page_of(client, world), answer=ANSWER)
    assert reply.status_code == 303
    case = the_case(app, world)
    assert (case.state, case.assignee_id) == (S.answered, world.ids["handler_a"])


def test_a_coordinator_answers_approves_and_publishes_in_one_step(app, world):
    move(app, world, S.screening, S.accepted, S.assigned, S.in_progress)
    client = as_user(app, world, "coordinator")
    html = page_of(client, world)
    assert "go_on" in field_names(task_form(html, "answer"))
    reply = send(
        client,
        world,
        "answer",
        html,
        answer=ANSWER,
        public_summary=SUMMARY,
        confirm_summary="y",
        go_on="y",
    )
    assert reply.status_code == 303
    case = the_case(app, world)
    assert case.state == S.published and case.public_answer == ANSWER
    assert [e[1] for e in events(app, world)[-3:]] == [S.answered, S.approved, S.published]
    assert task_names(page_of(client, world)) == ["close", "reopen"]


def test_an_answer_is_not_sent_without_its_text_and_nothing_is_half_done(app, world):
    move(app, world, S.screening, S.accepted, S.assigned)
    client = as_user(app, world, "handler_a")
    reply = send(client, world, "answer", page_of(client, world), answer="", note="Ghi chú")
    assert reply.status_code == 400
    case = the_case(app, world)
    assert case.state == S.assigned and len(events(app, world)) == 3  # in_progress rolled back


def test_publishing_at_once_needs_a_confirmed_summary(app, world):
    move(app, world, S.screening, S.accepted, S.assigned, S.in_progress)
    client = as_user(app, world, "coordinator")
    reply = send(
        client, world, "answer", page_of(client, world), answer=ANSWER, public_summary=SUMMARY,
        go_on="y",
    )  # fmt: skip
    assert reply.status_code == 400
    assert the_case(app, world).state == S.in_progress and the_case(app, world).answer is None
    assert ANSWER in reply.get_data(as_text=True)  # what was typed stays


def test_approve_then_publish_as_two_tasks(app, world):
    move(app, world, S.screening, S.accepted, S.assigned, S.in_progress)
    with app.app_context():
        case = db.session.get(FeedbackCase, world.case)
        case.answer = ANSWER
        db.session.commit()
    move(app, world, S.answered)
    client = as_user(app, world, "coordinator")
    html = page_of(client, world)
    assert task_names(html) == ["approve", "send_back"]
    # the summary was never confirmed: the approval form asks for it
    assert field_names(task_form(html, "approve")) == {
        "public_summary",
        "confirm_summary",
        "go_on",
        "note",
    }
    assert send(client, world, "approve", html).status_code == 303
    assert the_case(app, world).state == S.approved
    html = page_of(client, world)
    assert task_names(html) == ["publish"]
    reply = send(client, world, "publish", html, public_summary=SUMMARY, confirm_summary="y")
    assert reply.status_code == 303 and the_case(app, world).state == S.published


def test_send_back_needs_what_must_change(app, world):
    move(app, world, S.screening, S.accepted, S.assigned, S.in_progress)
    with app.app_context():
        db.session.get(FeedbackCase, world.case).answer = ANSWER
        db.session.commit()
    move(app, world, S.answered)
    client = as_user(app, world, "coordinator")
    html = page_of(client, world)
    assert send(client, world, "send_back", html).status_code == 400
    reply = send(client, world, "send_back", html, reason="Nêu rõ căn cứ pháp lý")
    assert reply.status_code == 303 and the_case(app, world).state == S.in_progress


def test_a_stale_task_form_is_a_409_with_what_was_typed(app, world):
    first, second = as_user(app, world, "coordinator"), as_user(app, world, "handler_a")
    page1, page2 = page_of(first, world), page_of(second, world)
    assert send(first, world, "accept", page1).status_code == 303
    reply = send(second, world, "reject", page2, reason="Trùng lặp với hồ sơ khác")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 409
    assert the_case(app, world).state == S.accepted
    assert "Trùng lặp với hồ sơ khác" in html  # the reject form is gone: shown to copy
    assert 'id="unsaved"' in html


def test_viewers_cannot_take_tasks(app, world):
    viewer = as_user(app, world, "viewer_a")
    reply = viewer.post(
        f"/staff/feedback/{world.case}/task/accept",
        data={
            "csrf_token": csrf_from(viewer.get("/staff/").get_data(as_text=True)),
            "version": "1",
        },
    )
    assert reply.status_code == 403
    assert the_case(app, world).state == S.submitted


def test_an_unknown_task_is_a_404(app, world):
    client = as_user(app, world, "coordinator")
    assert send(client, world, "fly", page_of(client, world)).status_code == 404


# -- answer templates without JavaScript -------------------------------------------


def test_insert_template_without_javascript_keeps_what_was_typed(app, world):
    move(app, world, S.screening, S.accepted, S.assigned)
    client = as_user(app, world, "handler_a")
    html = page_of(client, world)
    form = task_form(html, "answer")
    assert f'value="{world.template}"' in form
    assert f'value="{world.other_template}"' not in form  # another agency's template
    reply = client.post(
        f"/staff/feedback/{world.case}/insert-template",
        data={
            "csrf_token": csrf_from(html),
            "version": version_of(html),
            "template_id": str(world.template),
            "answer": "Kính gửi ông An,",
            "public_summary": "Tóm tắt đang viết",
            "note": "nháp",
        },
    )
    assert reply.status_code == 200
    body = reply.get_data(as_text=True)
    answer = task_form(body, "answer")
    assert '<details class="task" id="task-answer" open>' in body
    assert ">Kính gửi ông An,\n\nSở đã chấn chỉnh bộ phận một cửa.</textarea>" in answer, answer
    assert ">Tóm tắt đang viết</textarea>" in answer and ">nháp</textarea>" in answer
    assert the_case(app, world).answer is None  # nothing saved
    # another agency's template is not inserted
    refused = client.post(
        f"/staff/feedback/{world.case}/insert-template",
        data={
            "csrf_token": csrf_from(html),
            "template_id": str(world.other_template),
            "answer": "x",
        },
    )
    assert refused.status_code == 400 and "Mẫu riêng." not in refused.get_data(as_text=True)


def test_a_draft_is_saved_without_sending(app, world):
    move(app, world, S.screening, S.accepted, S.assigned, S.in_progress)
    client = as_user(app, world, "handler_a")
    html = page_of(client, world)
    assert f'formaction="/staff/feedback/{world.case}/answer"' in task_form(html, "answer")
    reply = client.post(
        f"/staff/feedback/{world.case}/answer",
        data={"csrf_token": csrf_from(html), "version": version_of(html), "answer": ANSWER},
    )
    assert reply.status_code == 303
    case = the_case(app, world)
    assert (case.state, case.answer) == (S.in_progress, ANSWER)


# -- labels that say who reads what ----------------------------------------------------


def test_labels_say_who_reads_each_field(app, world):
    move(app, world, S.screening, S.accepted, S.assigned, S.in_progress)
    html = page_of(as_user(app, world, "coordinator"), world, lang="en")
    form = task_form(html, "answer")
    assert "Answer – sent to the citizen" in form
    assert "Public summary – shown on the public page" in form
    assert "Internal note – staff only" in form
    labels = re.findall(r"<label[^>]*>([^<]*)", form)
    assert not [
        text for text in labels if "public" in text.lower() and "summary" not in text.lower()
    ]


def test_the_template_text_is_not_labelled_keyword(app, world):
    html = as_user(app, world, "coordinator").get("/staff/feedback/admin/templates")
    body = html.get_data(as_text=True)
    label = re.search(r'<label for="body">([^<]*)</label>', body).group(1)
    assert label != "Từ khóa" and label.strip()


# -- reclassification ----------------------------------------------------------------


def test_a_coordinator_reclassifies_a_case_as_a_complaint_and_back(app, world):
    client = as_user(app, world, "coordinator")
    html = page_of(client, world)
    url = f"/staff/feedback/{world.case}/reclassify"
    data = {"csrf_token": csrf_from(html), "version": version_of(html), "to_kind": "complaint"}
    assert client.post(url, data=data).status_code == 400  # no reason
    assert the_case(app, world).state == S.submitted
    assert (
        client.post(url, data=data | {"reason": "Công dân khiếu nại quyết định"}).status_code == 303
    )
    case = the_case(app, world)
    assert case.state == S.redirected_complaint and case.due_on is None
    html = page_of(client, world)
    assert 'value="report"' in html and 'value="proposal"' in html
    data = {"csrf_token": csrf_from(html), "version": version_of(html), "to_kind": "proposal"}
    reply = client.post(url, data=data | {"reason": "Thực ra là kiến nghị"})
    assert reply.status_code == 303
    case = the_case(app, world)
    assert (case.state, case.kind) == (S.screening, CaseKind.proposal)
    assert case.due_on is not None and case.public_reason is None
    with app.app_context():
        case = db.session.get(FeedbackCase, world.case)
        assert [e.action for e in case.events] == ["reclassified", "reclassified"]
        assert [e.note for e in case.events] == ["report → complaint", "complaint → proposal"]
        assert [e.reason for e in case.events] == [
            "Công dân khiếu nại quyết định",
            "Thực ra là kiến nghị",
        ]
        audited = db.session.scalars(
            select(AuditLog.detail).where(AuditLog.action == "reclassify")
        ).all()
        assert audited == [
            "report → complaint: Công dân khiếu nại quyết định",
            "complaint → proposal: Thực ra là kiến nghị",
        ]
    assert "Reclassified" in page_of(client, world, lang="en")  # on the timeline


def test_handlers_cannot_reclassify(app, world):
    html = page_of(as_user(app, world, "coordinator"), world)
    handler = as_user(app, world, "handler_a")
    reply = handler.post(
        f"/staff/feedback/{world.case}/reclassify",
        data={
            "csrf_token": csrf_from(page_of(handler, world)),
            "version": version_of(html),
            "to_kind": "complaint",
            "reason": "x",
        },
    )
    assert reply.status_code == 403 and the_case(app, world).state == S.submitted


def test_a_published_case_cannot_be_reclassified(app, world):
    from survey_app.feedback.complaints import reclassify
    from survey_app.feedback.workflow import TransitionError

    move(app, world, S.screening, S.accepted, S.assigned, S.in_progress)
    with app.app_context():
        from survey_app.auth.models import User

        case = db.session.get(FeedbackCase, world.case)
        case.answer, case.public_summary = ANSWER, SUMMARY
        from survey_app.core.time import now_utc

        case.public_summary_confirmed_at = now_utc()
        coordinator = db.session.get(User, world.ids["coordinator"])
        for state in (S.answered, S.approved, S.published):
            transition(case, state, coordinator)
        with pytest.raises(TransitionError):
            reclassify(case, "complaint", coordinator, "muộn")
        db.session.rollback()


# -- the later tasks: their fields, who may take them, stale pages -------------------


def _answered(app, world):
    move(app, world, S.screening, S.accepted, S.assigned, S.in_progress)
    with app.app_context():
        from survey_app.core.time import now_utc

        case = db.session.get(FeedbackCase, world.case)
        case.answer, case.public_summary = ANSWER, SUMMARY
        case.public_summary_confirmed_at = now_utc()
        db.session.commit()
    move(app, world, S.answered)


@pytest.mark.parametrize(
    ("states", "name", "expected"),
    [
        ((S.screening, S.needs_info), "resume", {"note"}),
        ((S.approved,), "publish", {"note"}),  # the summary is confirmed: nothing to write
        ((), "send_back", {"reason", "note"}),
        ((), "approve", {"go_on", "note"}),
        ((S.approved, S.published), "close", {"note"}),
        ((S.approved, S.published), "reopen", {"reason", "note"}),
    ],
)
def test_each_later_task_has_only_its_fields(app, world, states, name, expected):
    if name == "resume":
        move(app, world, *states)
    else:
        _answered(app, world)
        move(app, world, *states)
    html = page_of(as_user(app, world, "coordinator"), world)
    assert field_names(task_form(html, name)) == expected


@pytest.mark.parametrize("name", ["approve", "send_back"])
def test_a_handler_cannot_approve_or_send_back_even_by_posting(app, world, name):
    _answered(app, world)
    client = as_user(app, world, "handler_a")
    html = page_of(client, world)
    assert task_names(html) == []
    reply = client.post(
        f"/staff/feedback/{world.case}/task/{name}",
        data={
            "csrf_token": csrf_from(html),
            "version": str(the_case(app, world).version),
            "reason": "x",
        },
    )
    assert reply.status_code == 400 and the_case(app, world).state == S.answered


def test_a_stale_answer_is_a_409_and_the_answer_typed_stays_in_its_form(app, world):
    move(app, world, S.screening, S.accepted, S.assigned, S.in_progress)
    handler = as_user(app, world, "handler_a")
    stale = page_of(handler, world)
    with app.app_context():  # meanwhile a colleague saves a draft
        db.session.get(FeedbackCase, world.case).answer = "Bản nháp của điều phối viên"
        db.session.commit()
    reply = send(handler, world, "answer", stale, answer=ANSWER, public_summary=SUMMARY)
    html = reply.get_data(as_text=True)
    assert reply.status_code == 409
    assert '<details class="task" id="task-answer" open>' in html
    assert f">{ANSWER}</textarea>" in html
    assert the_case(app, world).state == S.in_progress


def test_inserting_a_template_once_the_case_moved_on_keeps_what_was_typed(app, world):
    _answered(app, world)
    client = as_user(app, world, "handler_a")
    html = page_of(client, world)
    reply = client.post(
        f"/staff/feedback/{world.case}/insert-template",
        data={"csrf_token": csrf_from(html), "template_id": str(world.template), "answer": "Chào"},
    )
    body = reply.get_data(as_text=True)
    assert reply.status_code == 409 and 'id="unsaved"' in body and ">Chào</textarea>" in body
