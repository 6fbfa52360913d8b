"""Feedback intake, routing and the workflow's transitions and clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from survey_app.auth.models import Role
from survey_app.core.time import now_utc
from survey_app.extensions import db
from survey_app.feedback import services
from survey_app.feedback.models import CaseChannel, CaseKind, CaseState, FeedbackCase, RoutingRule
from survey_app.feedback.workflow import (
    STEP_ORDER,
    TRANSITIONS,
    TransitionError,
    extend,
    transition,
)
from tests import factories

S = CaseState
# Monday 2 March 2026, 09:00 in Hà Nội
MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def submission(**overrides):
    data = dict(
        kind=CaseKind.report,
        content="Quầy yêu cầu nộp bản sao giấy khai sinh dù luật không đòi.",
        submitter_name="Nguyễn Văn An",
        contact_phone="0912345678",
        consent=True,
    )
    data.update(overrides)
    return services.Submission(**data)


@pytest.fixture
def world(app_ctx):
    province = factories.agency("UBND tỉnh", code="HD")
    justice = factories.agency("Sở Tư pháp", province, code="STP")
    land = factories.agency("Sở Tài nguyên và Môi trường", province, code="STNMT")
    civil = factories.field(code="HT", name="Hộ tịch")
    birth = factories.procedure(justice, civil, code="1.001193")
    return {
        "justice": justice,
        "land": land,
        "civil": civil,
        "birth": birth,
        "coordinator": factories.user(Role.coordinator),
        "handler_justice": factories.user(Role.handler, justice),
        "handler_land": factories.user(Role.handler, land),
    }


def test_submission_is_routed_to_the_procedures_agency_with_a_code_and_secret(world):
    with freeze_time(MONDAY):
        case, secret = services.submit(submission(procedure=world["birth"]), CaseChannel.web)
    assert case.code.startswith("PA-26-") and len(case.code) == 12
    assert len(secret) == 12 and set(secret) <= set("23456789")  # 8^12 ≈ 6.9·10^10
    assert services.check_secret(case, secret) and not services.check_secret(case, "00000000")
    # typed as printed, in groups, or with dashes
    spaced = f"{secret[:4]} {secret[4:8]} {secret[8:]}"
    assert services.check_secret(case, spaced) and services.check_secret(case, f" {spaced}-")
    assert case.agency == world["justice"] and case.field == world["civil"]
    assert case.state == S.submitted
    assert case.due_on == date(2026, 3, 4)  # screening: 2 working days


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"submitter_name": " "}, "submitter_name"),
        ({"contact_phone": None}, "contact"),
        ({"content": "ngắn"}, "content"),
    ],
)
def test_missing_parts_are_refused_with_the_lawful_reason_and_nothing_is_stored(
    world, overrides, field
):
    with pytest.raises(services.IntakeError) as info:
        services.submit(submission(**overrides), CaseChannel.web)
    assert field in info.value.errors
    assert "20/2008" in info.value.errors[field] or "13/2023" in info.value.errors[field]
    assert db.session.scalar(select(func.count()).select_from(FeedbackCase)) == 0


def test_no_consent_is_needed_to_handle_feedback(world):
    """NĐ 20/2008 makes handling feedback the office's duty; NĐ 13/2023 Art. 17 lets it
    process the data without consent: a case without any consent is taken in."""
    case, _ = services.submit(submission(consent=False), CaseChannel.web)
    assert case.state == S.submitted and case.consent_at is None
    assert case.submitter_name == "Nguyễn Văn An"


def test_words_of_a_complaint_do_not_redirect_a_case_by_themselves(world):
    case, _ = services.submit(
        submission(content="Tôi muốn khiếu nại quyết định thu hồi đất của huyện."), CaseChannel.web
    )
    assert case.state == S.submitted and case.due_on is not None  # a coordinator decides


def test_a_chosen_complaint_is_recorded_as_redirected_without_personal_data(world):
    case, _ = services.submit(
        submission(content="Tôi muốn khiếu nại quyết định thu hồi đất.", is_complaint=True),
        CaseChannel.web,
    )
    assert case.state == S.redirected_complaint and case.code.startswith("KT-")
    assert "Luật Khiếu nại" in case.public_reason or "Law on Complaints" in case.public_reason
    assert case.due_on is None
    assert [e.action for e in case.events] == ["redirected_complaint"]
    assert (case.submitter_name, case.contact_phone, case.contact_email, case.address) == (
        None,
        None,
        None,
        None,
    )


def test_field_rule_and_the_coordinators_queue(world):
    other_field = factories.field(code="DD", name="Đất đai")
    db.session.add(RoutingRule(field=other_field, agency=world["land"]))
    case, _ = services.submit(submission(field=other_field), CaseChannel.web)
    assert case.agency == world["land"]
    unrouted, _ = services.submit(submission(), CaseChannel.phone)
    assert unrouted.agency is None


def test_full_path_with_transfer_charging_the_wrong_agency(world):
    with freeze_time(MONDAY):
        case, _ = services.submit(submission(procedure=world["birth"]), CaseChannel.web)
        transition(case, S.screening, world["handler_justice"])
    with freeze_time(datetime(2026, 3, 4, 2, tzinfo=UTC)):  # Wednesday
        transition(case, S.transferred, world["handler_justice"], reason="Không thuộc thẩm quyền")
        assert case.agency is None  # back to the coordinators
        assert case.due_on == date(2026, 3, 9)  # transfer due 5 working days after receipt
        event = transition(
            case,
            S.transferred,
            world["coordinator"],
            reason="Thuộc lĩnh vực đất đai",
            agency=world["land"],
        )
        assert event.from_agency_id is None and event.to_agency_id == world["land"].id
    justice_event = [e for e in case.events if e.action == "transferred"][0]
    assert justice_event.from_agency_id == world["justice"].id and justice_event.working_days == 2
    assert case.due_on == date(2026, 3, 25)  # 15 working days from the transfer
    with pytest.raises(TransitionError):  # another agency's handler
        transition(case, S.accepted, world["handler_justice"])
    transition(case, S.accepted, world["handler_land"])
    transition(case, S.assigned, world["handler_land"], assignee=world["handler_land"])
    transition(case, S.in_progress, world["handler_land"])
    with pytest.raises(TransitionError, match="soạn nội dung trả lời"):
        transition(case, S.answered, world["handler_land"])
    case.answer = "Sở đã chấn chỉnh quầy; bản sao giấy khai sinh không phải nộp."
    transition(case, S.answered, world["handler_land"])
    with pytest.raises(TransitionError):  # a handler cannot approve their own answer
        transition(case, S.approved, world["handler_land"])
    with freeze_time(datetime(2026, 3, 20, 2, tzinfo=UTC)):  # Friday
        transition(case, S.approved, world["coordinator"])
        assert case.due_on == date(2026, 3, 24)  # publish within 2 working days
        # never the citizen's own text: the question as published, confirmed by staff
        with pytest.raises(TransitionError, match="viết nội dung công khai"):
            transition(case, S.published, world["coordinator"])
        case.public_summary = "Quầy đòi bản sao giấy khai sinh không cần thiết."
        case.public_summary_confirmed_at = now_utc()
        transition(case, S.published, world["coordinator"])
    assert case.due_on is None and case.published_at is not None


def test_illegal_transition_is_refused_with_a_message(world):
    case, _ = services.submit(submission(), CaseChannel.web)
    with pytest.raises(TransitionError) as info:
        transition(case, S.published, world["coordinator"])
    assert (
        str(info.value)
        == "Hồ sơ đang ở trạng thái “Mới gửi” không thể chuyển sang “Đã công khai trả lời”."
    )
    assert case.state == S.submitted and case.events == []


def test_reason_is_required_for_rejection_and_transfer(world):
    case, _ = services.submit(submission(), CaseChannel.web)
    transition(case, S.screening, world["coordinator"])
    with pytest.raises(TransitionError, match="nêu lý do"):
        transition(case, S.rejected, world["coordinator"], reason="  ")


def test_handlers_cannot_transfer_to_another_agency_directly(world):
    case, _ = services.submit(submission(procedure=world["birth"]), CaseChannel.web)
    transition(case, S.screening, world["handler_justice"])
    with pytest.raises(TransitionError, match="điều phối"):
        transition(case, S.transferred, world["handler_justice"], reason="x", agency=world["land"])
    # nor by accepting it "for" the other agency (it moved there, out of their sight)
    with pytest.raises(TransitionError, match="điều phối"):
        transition(case, S.accepted, world["handler_justice"], agency=world["land"])
    assert case.agency != world["land"] and case.state == S.screening
    transition(case, S.accepted, world["handler_justice"], agency=case.agency)  # its own: fine
    assert case.state == S.accepted


def test_waiting_for_information_pauses_the_clock(world):
    with freeze_time(MONDAY):
        case, _ = services.submit(submission(), CaseChannel.web)
        transition(case, S.screening, world["coordinator"])
        assert case.due_on == date(2026, 3, 4)
        transition(case, S.needs_info, world["coordinator"], reason="Xin cho biết quầy nào")
        assert case.due_on is None and case.paused_since == date(2026, 3, 2)
    with freeze_time(datetime(2026, 3, 9, 2, tzinfo=UTC)):  # a week later
        transition(case, S.screening, None, action="citizen_replied")
    assert case.paused_days == 5
    assert case.due_on == date(2026, 3, 11)


def test_single_extension_with_a_reason(world):
    with freeze_time(MONDAY):
        case, _ = services.submit(submission(procedure=world["birth"]), CaseChannel.web)
        transition(case, S.screening, world["handler_justice"])
        transition(case, S.accepted, world["handler_justice"])
        due = case.due_on
        extend(case, world["handler_justice"], 5, "Cần xác minh với UBND xã")
    assert case.due_on > due and case.extension_reason
    with pytest.raises(TransitionError, match="một lần"):
        extend(case, world["handler_justice"], 3, "again")


def test_reopen_after_publication_needs_a_reason_and_restarts_the_answer_clock(world):
    case, _ = services.submit(submission(procedure=world["birth"]), CaseChannel.web)
    for state in (S.screening, S.accepted):
        transition(case, state, world["coordinator"])
    transition(case, S.assigned, world["coordinator"], assignee=world["handler_justice"])
    transition(case, S.in_progress, world["coordinator"])
    case.answer = "Đã trả lời."
    case.public_summary, case.public_summary_confirmed_at = "Hỏi về khai sinh.", now_utc()
    for state in (S.answered, S.approved, S.published):
        transition(case, state, world["coordinator"])
    assert case.public_answer == "Đã trả lời." and "khai sinh" in case.search_text
    with pytest.raises(TransitionError):
        transition(case, S.in_progress, world["coordinator"])
    transition(case, S.in_progress, world["coordinator"], reason="Công dân không đồng ý")
    assert case.published_at is None and case.due_on is not None
    assert case.public_answer is None and case.search_text is None  # no longer public


def test_concurrent_update_of_the_same_case_is_detected(app, world):
    case, _ = services.submit(submission(), CaseChannel.web)
    db.session.commit()
    case_id = case.id
    with app.app_context():
        other = db.session.get(FeedbackCase, case_id)
        other.content = other.content + " (bổ sung)"
        db.session.commit()
    case.answer = "changed meanwhile"
    with pytest.raises(StaleDataError):
        db.session.commit()
    db.session.rollback()


def test_every_step_a_case_can_take_has_its_place_in_the_offered_order():
    targets = set().union(*TRANSITIONS.values())
    assert targets <= set(STEP_ORDER) and len(STEP_ORDER) == len(set(STEP_ORDER))
