"""Recounting running cases when a day changes: due dates and pause totals.

A case waiting for the citizen's information keeps the working days its pauses
covered (``paused_days``). Before, a calendar change recomputed the due date from
that stored total, so a paused day that became a day off (or a working day) was
still counted as it was: the total is now recounted from the case's timeline.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from survey_app.auth.models import Role
from survey_app.extensions import db
from survey_app.feedback import workdays
from survey_app.feedback.models import (
    AuditLog,
    CalendarOverride,
    CaseChannel,
    CaseKind,
    CaseState,
    FeedbackCase,
)
from survey_app.feedback.services import Submission, submit
from survey_app.feedback.workdays import OfficialDay
from survey_app.feedback.workflow import (
    extend,
    paused_days_from_history,
    recompute_open_deadlines,
    transition,
    work_calendar,
)
from tests import factories
from tests.helpers import csrf_from, logged_in

S = CaseState


def at(day: date, hour: int = 9) -> datetime:
    """``hour`` o'clock in Hà Nội on ``day``, in UTC."""
    return datetime(day.year, day.month, day.day, hour - 7, tzinfo=UTC)


def submission(**changes) -> Submission:
    data = dict(
        kind=CaseKind.report,
        content="Quầy yêu cầu nộp bản sao giấy khai sinh dù luật không đòi.",
        submitter_name="Nguyễn Văn An",
        contact_phone="0912345678",
        consent=True,
    )
    return Submission(**(data | changes))


def make_staff() -> dict:
    agency = factories.agency("Sở Tư pháp", code="STP")
    people = {
        "agency": agency,
        "coordinator": factories.user(Role.coordinator, email="dieuphoi@vp.vn"),
        "admin": factories.user(Role.admin, email="admin@vp.vn"),
        "handler": factories.user(Role.handler, agency, email="canbo@stp.vn"),
    }
    db.session.commit()
    return people


@pytest.fixture
def staff(app_ctx):
    return make_staff()


def paused_case(staff, resumed_on: date | None = date(2026, 3, 9)) -> FeedbackCase:
    """Received Monday 2/3/2026, asked for information the same day, the answer on
    ``resumed_on`` (None: still waiting). Screening is 2 working days."""
    with freeze_time(at(date(2026, 3, 2))):
        case, _ = submit(submission(), CaseChannel.web)
        transition(case, S.screening, staff["coordinator"])
        transition(case, S.needs_info, staff["coordinator"], reason="Xin cho biết quầy nào")
    if resumed_on:
        with freeze_time(at(resumed_on)):
            transition(case, S.screening, None, action="citizen_replied")
    db.session.commit()
    return case


def set_day(day: date, working: bool) -> None:
    db.session.add(CalendarOverride(day=day, is_working_day=working, note="thử"))
    db.session.flush()


def test_a_paused_day_that_becomes_a_day_off_is_recounted(staff):
    case = paused_case(staff)
    # paused 3, 4, 5, 6 and 9 March: 5 working days; due 2 + 5 working days after 2/3
    assert (case.paused_days, case.due_on) == (5, date(2026, 3, 11))
    set_day(date(2026, 3, 4), False)  # Wednesday, inside the pause
    result = recompute_open_deadlines()
    assert (result.cases, result.changed) == (1, 1)
    # 3, 5, 6, 9: 4 paused days; due after 3, 5, 6, 9, 10, 11 (the old code: 5 and 12/3)
    assert (case.paused_days, case.due_on) == (4, date(2026, 3, 11))


def test_a_paused_weekend_day_that_becomes_a_working_day_is_recounted(staff):
    case = paused_case(staff)
    set_day(date(2026, 3, 7), True)  # Saturday, inside the pause, now worked
    recompute_open_deadlines()
    # 3, 4, 5, 6, 7, 9 paused; due after 3, 4, 5, 6, 7, 9, 10, 11 (the old code: 5, 10/3)
    assert (case.paused_days, case.due_on) == (6, date(2026, 3, 11))


def test_removing_the_day_counts_it_back(staff):
    case = paused_case(staff)
    set_day(date(2026, 3, 4), False)
    recompute_open_deadlines()
    db.session.delete(db.session.scalar(select(CalendarOverride)))
    db.session.flush()
    recompute_open_deadlines()
    assert (case.paused_days, case.due_on) == (5, date(2026, 3, 11))


def test_a_case_still_paused_recounts_its_earlier_pauses_and_has_no_due_date(staff):
    case = paused_case(staff)
    with freeze_time(at(date(2026, 3, 10))):
        transition(case, S.needs_info, staff["coordinator"], reason="Xin bản chụp biên nhận")
    db.session.commit()
    assert (case.paused_days, case.paused_since, case.due_on) == (5, date(2026, 3, 10), None)
    set_day(date(2026, 3, 5), False)
    recompute_open_deadlines()
    assert (case.paused_days, case.paused_since, case.due_on) == (4, date(2026, 3, 10), None)
    with freeze_time(at(date(2026, 3, 12))):  # the second answer: 11 and 12 paused
        transition(case, S.screening, None, action="citizen_replied")
    assert case.paused_days == 6
    assert case.due_on == work_calendar().add_working_days(date(2026, 3, 2), 2 + 6)


def test_a_pause_in_an_earlier_step_no_longer_counts(staff):
    """Accepting the case starts the answer clock afresh: the screening's pauses are gone
    from it, and a day off inside them changes nothing but the new step's own days."""
    case = paused_case(staff)
    with freeze_time(at(date(2026, 3, 10))):
        transition(case, S.accepted, staff["coordinator"], agency=staff["agency"])
    db.session.commit()
    assert (case.paused_days, case.due_on) == (0, date(2026, 3, 31))  # 15 working days
    set_day(date(2026, 3, 4), False)
    assert recompute_open_deadlines().changed == 0
    assert (case.paused_days, case.due_on) == (0, date(2026, 3, 31))


def test_recounting_an_unchanged_calendar_changes_nothing(staff):
    """Cases through every kind of step (pauses, a transfer back to the coordinators and
    on, an extension, approval, a reopening): the timeline gives back what was stored."""
    coordinator, handler, agency = staff["coordinator"], staff["handler"], staff["agency"]
    cases = [paused_case(staff), paused_case(staff, resumed_on=None)]
    with freeze_time(at(date(2026, 3, 2))):
        transferred, _ = submit(submission(agency=agency), CaseChannel.web)
        answered, _ = submit(submission(agency=agency), CaseChannel.web)
    with freeze_time(at(date(2026, 3, 3))):
        transition(transferred, S.screening, coordinator)
        transition(transferred, S.needs_info, coordinator, reason="Xin thêm")
    with freeze_time(at(date(2026, 3, 6))):
        transition(transferred, S.screening, None, action="citizen_replied")
        transition(transferred, S.transferred, coordinator, reason="Không thuộc Sở", agency=None)
    with freeze_time(at(date(2026, 3, 9))):
        transition(transferred, S.accepted, coordinator, agency=agency)
        extend(transferred, coordinator, 5, "Cần ý kiến liên ngành")
        for step in (S.screening, S.accepted):
            transition(answered, step, coordinator, agency=agency)
        transition(answered, S.assigned, coordinator, assignee=handler)
        transition(answered, S.in_progress, handler)
        answered.answer = "Sở đã chấn chỉnh quầy."
        transition(answered, S.answered, handler)
        transition(answered, S.approved, coordinator)
    db.session.commit()
    cases += [transferred, answered]
    before = [(c.paused_days, c.paused_since, c.due_on, c.version) for c in cases]
    assert before[0][0] == 5 and transferred.paused_days == 0
    result = recompute_open_deadlines()
    db.session.commit()
    assert (result.cases, result.changed) == (4, 0)
    assert [(c.paused_days, c.paused_since, c.due_on, c.version) for c in cases] == before


def test_a_total_the_timeline_does_not_explain_is_kept(staff):
    """A case written without its events (an import, an old row): its total is kept."""
    case = paused_case(staff)
    case.events.clear()
    db.session.flush()
    assert paused_days_from_history(case, work_calendar()) is None
    set_day(date(2026, 3, 4), False)
    recompute_open_deadlines()
    assert case.paused_days == 5  # kept; the due date still moves with the day off
    assert case.due_on == date(2026, 3, 12)


def test_the_calendar_page_recounts_paused_cases(app):
    # (requests outside the test's own app context: theirs is fresh, as in production)
    with app.app_context():
        case_id = paused_case(make_staff()).id

    def case_now():
        with app.app_context():
            case = db.session.get(FeedbackCase, case_id)
            return case.paused_days, case.due_on

    admin = logged_in(app, "admin@vp.vn")
    page = admin.get("/staff/feedback/admin/calendar?year=2026").get_data(as_text=True)
    reply = admin.post(
        "/staff/feedback/admin/calendar",
        data={
            "csrf_token": csrf_from(page),
            "day": "2026-03-04",
            "is_working_day": "0",
            "note": "Nghỉ đột xuất",
        },
        follow_redirects=True,
    )
    assert reply.status_code == 200
    assert "1 hồ sơ đang xử lý đã được tính lại" in reply.get_data(as_text=True)
    assert case_now() == (4, date(2026, 3, 11))
    with app.app_context():
        row = db.session.scalar(select(CalendarOverride))
        row_id, author = row.id, row.created_by.email
    assert author == "admin@vp.vn"
    delete = admin.post(
        "/staff/feedback/admin/calendar",
        data={"csrf_token": csrf_from(page), "delete": str(row_id)},
    )
    assert delete.status_code == 303 and delete.location.endswith("?year=2026")
    assert case_now() == (5, date(2026, 3, 11))
    with app.app_context():
        actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions[-2:] == ["calendar_day_set", "calendar_day_removed"]


def _with_day_off(official, day: date):
    """``official`` as a new version of the data file would have it: ``day`` off."""
    year = official.years[day.year]
    extra = OfficialDay(day, True, "Nghỉ thử", "Test day off", "Thông báo thử")
    years = dict(official.years)
    years[day.year] = dataclasses.replace(year, days={**year.days, day: extra})
    return dataclasses.replace(official, version="test-2", years=years)


def test_the_recount_command_after_a_new_data_file(staff, runner, monkeypatch):
    case = paused_case(staff)
    shipped = workdays.official_calendar()
    monkeypatch.setattr(
        workdays, "official_calendar", lambda: _with_day_off(shipped, date(2026, 3, 4))
    )
    with freeze_time(at(date(2026, 3, 10))):
        result = runner.invoke(args=["feedback", "recount"])
    assert result.exit_code == 0, result.output
    assert "announcements data test-2: 1 running case(s) recounted, 1 changed" in result.output
    db.session.expire_all()
    case = db.session.get(FeedbackCase, case.id)
    assert (case.paused_days, case.due_on) == (4, date(2026, 3, 11))
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "calendar_recount"))
    assert audit.detail == "announcements data test-2: 1 running, 1 changed"
    # run again: nothing left to change
    again = runner.invoke(args=["feedback", "recount"])
    assert "1 running case(s) recounted, 0 changed" in again.output


def test_the_recount_command_warns_of_years_without_announcement(app_ctx, runner):
    with freeze_time(at(date(2026, 12, 7))):
        result = runner.invoke(args=["feedback", "recount"])
    assert result.exit_code == 0
    assert "0 running case(s) recounted" in result.output
    assert "warning: 2027 has no confirmed announcement" in result.output


def test_the_2026_new_year_swap_in_a_cases_deadlines(staff):
    with freeze_time(at(date(2025, 12, 31))):  # Wednesday; 1/1 and Friday 2/1 off
        case, _ = submit(submission(), CaseChannel.web)
        transition(case, S.screening, staff["coordinator"])
    assert case.due_on == date(2026, 1, 6)
    with freeze_time(at(date(2026, 1, 8))):  # the Saturday 10/1 worked counts
        transition(case, S.accepted, staff["coordinator"], agency=staff["agency"])
    assert case.due_on == date(2026, 1, 28)  # the package alone: 29/1


def test_a_case_paused_over_the_new_year_is_recounted_when_the_data_arrives(
    staff, runner, monkeypatch
):
    """Counted while the app had the package alone (2/1 worked, 10/1 not): deploying
    the announcements and running the recount puts the due date right."""
    monkeypatch.setattr(workdays, "official_calendar", lambda: workdays.NO_OFFICIAL_DATA)
    with freeze_time(at(date(2025, 12, 30))):
        case, _ = submit(submission(), CaseChannel.web)
        transition(case, S.screening, staff["coordinator"])
        transition(case, S.needs_info, staff["coordinator"], reason="Xin bản chụp")
    with freeze_time(at(date(2026, 1, 9))):
        transition(case, S.screening, None, action="citizen_replied")
    db.session.commit()
    # package: 31/12, 2/1, 5–9/1 paused (7); due 2 + 7 working days after 30/12
    assert (case.paused_days, case.due_on) == (7, date(2026, 1, 13))
    monkeypatch.undo()  # the release with the data file
    result = runner.invoke(args=["feedback", "recount"])
    assert "1 running case(s) recounted, 1 changed" in result.output
    db.session.expire_all()
    case = db.session.get(FeedbackCase, case.id)
    # announcements: 31/12, 5–9/1 paused (6; 2/1 was a day off); due after 31/12, 5–10/1, 12/1
    assert (case.paused_days, case.due_on) == (6, date(2026, 1, 12))
