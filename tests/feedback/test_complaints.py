"""Complaints and denunciations: words only suggest, a coordinator reclassifies either
way (audited, reversible), and the redirected citizen is told where to go."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from survey_app.auth.models import Role
from survey_app.extensions import db
from survey_app.feedback import complaints, services
from survey_app.feedback.complaints import complaint_body, complaint_words, reclassify
from survey_app.feedback.models import AuditLog, CaseChannel, CaseKind, CaseState
from survey_app.feedback.workflow import TransitionError, transition
from tests import factories

S = CaseState


@pytest.mark.parametrize(
    "text",
    [
        "Tôi không khiếu nại, chỉ kiến nghị bỏ bớt giấy tờ.",
        "Đây chẳng phải tố cáo ai, chỉ mong quầy niêm yết rõ phí.",
        "Đây không phải là đơn khiếu nại mà là kiến nghị sửa quy trình.",
        "Tôi không có ý tố cáo cán bộ, chỉ phản ánh việc chờ lâu.",
        "Toi khong khieu nai, chi kien nghi them ghe cho.",  # typed without accents
        "I am not making a complaint, just a suggestion.",
        "Cần thêm ghế chờ và bàn viết.",
    ],
)
def test_denied_or_absent_complaint_words_suggest_nothing(text):
    assert complaint_words(text) == []
    assert not complaints.looks_like_complaint(text)


@pytest.mark.parametrize(
    "text, word",
    [
        ("Tôi muốn tố giác cán bộ quầy 3 đòi tiền ngoài quy định.", "tố giác"),
        ("Tôi khiếu nại quyết định thu hồi đất.", "khiếu nại"),
        ("Làm sao để khiếu nại quyết định này?", "khiếu nại"),  # asks how: confirmed, not imposed
        ("Tôi làm đơn TỐ CÁO ông A.", "TỐ CÁO"),
        ("Toi muon to cao can bo xa.", "to cao"),
        ("Tôi không khiếu nại, nhưng muốn tố cáo cán bộ nhận tiền.", "tố cáo"),
        ("Cha tôi khiếu nại từ năm ngoái.", "khiếu nại"),  # "cha" here is a father
        ("I want to denounce an official.", "denounce"),
    ],
)
def test_complaint_words_are_found_as_written(text, word):
    assert complaint_words(text) == [word]


@pytest.fixture
def world(app_ctx):
    province = factories.agency("UBND tỉnh", code="HD")
    justice = factories.agency("Sở Tư pháp", province, code="STP")
    office = factories.agency("Phòng Hộ tịch", justice, code="STP-HT")
    return {
        "province": province,
        "justice": justice,
        "office": office,
        "coordinator": factories.user(Role.coordinator),
        "admin": factories.user(Role.admin),
        "handler": factories.user(Role.handler, justice),
    }


def _case(world, content="Quầy yêu cầu nộp bản sao giấy khai sinh dù luật không đòi."):
    case, _ = services.submit(
        services.Submission(
            kind=CaseKind.report,
            content=content,
            submitter_name="Nguyễn Văn An",
            contact_phone="0912345678",
            agency=world["justice"],
        ),
        CaseChannel.web,
    )
    return case


def test_the_complaint_body_is_the_agencys_else_above_it_else_the_provinces(app, world):
    default = complaint_body(None)
    assert default.name == app.config["COMPLAINT_BODY_NAME"] and default.agency is None
    assert complaint_body(world["office"]).name == default.name  # nobody set one
    world["justice"].complaint_body_name = "Thanh tra Sở Tư pháp"
    world["justice"].complaint_body_address = "Số 1 Đường A"
    world["justice"].complaint_body_phone = "0220 3 123 456"
    inherited = complaint_body(world["office"])  # the office below has none: its parent's
    assert (inherited.name, inherited.address, inherited.phone) == (
        "Thanh tra Sở Tư pháp",
        "Số 1 Đường A",
        "0220 3 123 456",
    )
    assert inherited.agency == world["justice"]
    world["office"].complaint_body_name = "Tổ tiếp dân Phòng Hộ tịch"
    assert complaint_body(world["office"]).name == "Tổ tiếp dân Phòng Hộ tịch"
    assert complaint_body(world["province"]).name == default.name


def test_a_recorded_redirect_keeps_no_personal_data_and_is_counted(world):
    case, secret = complaints.record_redirect(
        agency=world["justice"], content="Tôi tố giác cán bộ A nhận tiền."
    )
    assert case.state == S.redirected_complaint and case.code.startswith("KT-")
    assert services.check_secret(case, secret)
    assert (case.submitter_name, case.contact_phone, case.contact_email) == (None, None, None)
    assert case.agency == world["justice"] and case.due_on is None


def test_a_coordinator_reclassifies_a_proposal_as_a_complaint_and_back(world):
    coordinator = world["coordinator"]
    case = _case(world, "Tôi không khiếu nại, chỉ kiến nghị bỏ bớt giấy tờ.")
    transition(case, S.screening, coordinator)
    reclassify(case, "complaint", coordinator, "Nội dung là khiếu nại quyết định hành chính.")
    assert case.state == S.redirected_complaint
    assert case.public_reason == "Nội dung là khiếu nại quyết định hành chính."
    assert case.closed_at is not None and case.due_on is None
    assert case.kind == CaseKind.report  # kept for a reversal
    assert case.submitter_name == "Nguyễn Văn An"  # not a deletion
    # the decision is undone: a proposal again, screened afresh
    reclassify(case, CaseKind.proposal, coordinator, "Người dân chỉ kiến nghị.")
    assert (case.state, case.kind) == (S.screening, CaseKind.proposal)
    assert case.public_reason is None and case.closed_at is None
    assert case.due_on is not None  # the screening clock runs again
    events = [(e.action, e.from_state, e.to_state, e.actor_id) for e in case.events]
    assert events[-2:] == [
        ("reclassified", S.screening, S.redirected_complaint, coordinator.id),
        ("reclassified", S.redirected_complaint, S.screening, coordinator.id),
    ]
    assert case.events[-1].note.startswith("complaint → proposal")
    lines = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "reclassify").order_by(AuditLog.id)
    ).all()
    assert [(a.user_id, a.case_id, a.detail) for a in lines] == [
        (
            coordinator.id,
            case.id,
            "report → complaint: Nội dung là khiếu nại quyết định hành chính.",
        ),
        (coordinator.id, case.id, "complaint → proposal: Người dân chỉ kiến nghị."),
    ]


def test_a_case_already_being_answered_can_be_redirected(world):
    coordinator = world["coordinator"]
    case = _case(world)
    transition(case, S.screening, coordinator)
    transition(case, S.accepted, coordinator)
    transition(case, S.assigned, coordinator, assignee=world["handler"])
    transition(case, S.in_progress, coordinator)
    reclassify(case, "complaint", world["admin"], "Là tố cáo, chuyển Thanh tra.")
    assert case.state == S.redirected_complaint


def test_report_and_proposal_swap_without_changing_the_state_or_code(world):
    case = _case(world)
    code = case.code
    reclassify(case, "proposal", world["coordinator"], "Đề nghị sửa quy định.")
    assert (case.kind, case.state, case.code) == (CaseKind.proposal, S.submitted, code)
    assert case.events[-1].action == "reclassified"


@pytest.mark.parametrize(
    "who, to_kind, reason, message",
    [
        ("handler", "complaint", "x", "coordinators"),
        ("coordinator", "complaint", " ", "reason"),
        ("coordinator", "appeal", "x", "report, proposal or complaint"),
        ("coordinator", "report", "x", "already"),
    ],
)
def test_reclassifying_is_refused_with_a_reason_and_changes_nothing(
    world, who, to_kind, reason, message
):
    case = _case(world)
    with pytest.raises(TransitionError) as info:
        reclassify(case, to_kind, world[who], reason)
    with force_locale("en"):  # (the Vietnamese of new messages may not be compiled yet)
        assert message in str(info.value)
    assert (case.state, case.kind) == (S.submitted, CaseKind.report)
    assert case.events == []
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "reclassify")) is None


def test_an_answered_case_or_an_empty_record_is_not_reclassified(world):
    coordinator = world["coordinator"]
    case = _case(world)
    transition(case, S.screening, coordinator)
    transition(case, S.accepted, coordinator)
    transition(case, S.assigned, coordinator, assignee=world["handler"])
    transition(case, S.in_progress, coordinator)
    case.answer = "Trả lời."
    transition(case, S.answered, coordinator)
    with pytest.raises(TransitionError):
        reclassify(case, "complaint", coordinator, "x")
    empty, _ = complaints.record_redirect(agency=world["justice"])  # chosen before writing
    with pytest.raises(TransitionError):
        reclassify(empty, "report", coordinator, "x")
    assert empty.state == S.redirected_complaint


def test_the_ordinary_next_steps_do_not_offer_the_reclassification(world):
    """Only reclassify() reopens a redirected complaint: a plain transition is refused."""
    case, _ = complaints.record_redirect(agency=world["justice"], content="Tôi tố cáo ông A.")
    with pytest.raises(TransitionError):
        transition(case, S.screening, world["coordinator"])


def test_the_reclassification_options_offered_to_staff(world):
    coordinator, handler = world["coordinator"], world["handler"]
    case = _case(world)
    assert complaints.reclassify_options(case, coordinator) == ["proposal", "complaint"]
    assert complaints.reclassify_options(case, handler) == []  # coordinators decide
    reclassify(case, "complaint", coordinator, "Là khiếu nại.")
    assert complaints.reclassify_options(case, coordinator) == ["report", "proposal"]
    empty, _ = complaints.record_redirect(agency=world["justice"])
    assert complaints.reclassify_options(empty, world["admin"]) == []
