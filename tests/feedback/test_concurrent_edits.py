"""Two people changing one case at once: one change is saved, the other gets a 409 with
the case as it is now and what was typed, never a 500 (issue 15, point 13).

The requests really run at the same time, in threads: a barrier placed after each has
read the case (and checked its page's version) makes both read the same version before
either writes, which is the race a double click or two colleagues produce. On
PostgreSQL they also run under REPEATABLE READ and SERIALIZABLE, where the database
itself refuses the loser (SQLSTATE 40001) instead of the versioned UPDATE matching no row.
"""

from __future__ import annotations

import re
import threading
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from survey_app.auth.models import Role
from survey_app.core.db import is_concurrent_change
from survey_app.core.time import now_utc
from survey_app.extensions import db
from survey_app.feedback import staff_views, views, workflow
from survey_app.feedback.models import CaseChannel, CaseEvent, CaseKind, CaseState, FeedbackCase
from survey_app.feedback.services import Submission, submit
from survey_app.feedback.workflow import transition
from tests import factories
from tests.helpers import csrf_from, logged_in


def _isolation_levels():
    import os

    if os.environ.get("TEST_DATABASE_URL"):
        return ["READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"]
    return [None]  # SQLite: one writer at a time


@pytest.fixture(params=_isolation_levels())
def isolation(request, app):
    """Every request's transaction at this isolation level (PostgreSQL), for the test."""
    level = request.param
    if level is None:
        yield None
        return
    with app.app_context():
        engine = db.engine

    def set_level(connection):
        connection.execution_options(isolation_level=level)

    event.listen(engine, "engine_connect", set_level)
    yield level
    event.remove(engine, "engine_connect", set_level)


@pytest.fixture
def world(app):
    with app.app_context():
        justice = factories.agency("Sở Tư pháp", code="STP")
        coordinator = factories.user(Role.coordinator)
        handler = factories.user(Role.handler, justice)
        case, secret = submit(
            Submission(
                kind=CaseKind.report,
                content="Quầy đòi bản sao không cần thiết khi đăng ký khai sinh.",
                submitter_name="Nguyễn Văn An",
                contact_phone="0912345678",
                consent=True,
                agency=justice,
            ),
            CaseChannel.web,
        )
        db.session.commit()
        return SimpleNamespace(
            case=case.id,
            code=case.code,
            secret=secret,
            coordinator=coordinator.email,
            handler=handler.email,
            handler_id=handler.id,
        )


def _bring_to(app, world, *states, answer="Sở đã chấn chỉnh việc yêu cầu bản sao."):
    """Move the case through ``states`` (as the coordinator), writing the answer on the way."""
    with app.app_context():
        case = db.session.get(FeedbackCase, world.case)
        coordinator = db.session.scalar(
            select(factories.User).where(factories.User.email == world.coordinator)
        )
        for state in states:
            if state == CaseState.answered:
                case.answer = answer
                # publishing needs the question as published, confirmed by staff
                case.public_summary = "Hỏi về việc yêu cầu bản sao."
                case.public_summary_confirmed_at = now_utc()
            assignee = coordinator if state == CaseState.assigned else None
            reason = "Xem lại" if state == CaseState.in_progress else None
            transition(case, state, coordinator, assignee=assignee, reason=reason)
        db.session.commit()


TO_IN_PROGRESS = (
    CaseState.screening,
    CaseState.accepted,
    CaseState.assigned,
    CaseState.in_progress,
)
TO_PUBLISHED = (*TO_IN_PROGRESS, CaseState.answered, CaseState.approved, CaseState.published)


def _version(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def _events(app, world) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == world.case)
        )


def _at_once(monkeypatch, module, name, requests):
    """Run ``requests`` (callables) in threads; each waits at ``module.name`` (wrapped)
    until all have reached it, then they go on together. Returns their replies in order."""
    barrier = threading.Barrier(len(requests), timeout=20)
    real = getattr(module, name)

    def waiting(*args, **kwargs):
        result = real(*args, **kwargs)
        barrier.wait()
        return result

    monkeypatch.setattr(module, name, waiting)
    replies: list = [None] * len(requests)

    def run(i):
        replies[i] = requests[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    monkeypatch.undo()
    return replies


def _staff_post(client, world, action, data):
    page = client.get(f"/staff/feedback/{world.case}").get_data(as_text=True)
    payload = {"csrf_token": csrf_from(page), "version": _version(page), **data}
    return lambda: client.post(f"/staff/feedback/{world.case}/{action}", data=payload)


@pytest.mark.parametrize(
    "setup, first, second",
    [
        # both screen it (a double click, or two colleagues)
        (
            (),
            ("transition", {"to_state": "screening", "note": "Ghi chú của điều phối viên"}),
            ("transition", {"to_state": "screening", "note": "Ghi chú của cán bộ xử lý"}),
        ),
        # both write the answer
        (
            TO_IN_PROGRESS,
            ("answer", {"answer": "Trả lời thứ nhất của điều phối viên."}),
            ("answer", {"answer": "Trả lời thứ hai của cán bộ xử lý."}),
        ),
        # one extends the deadline while the other marks the case answered
        (
            (*TO_IN_PROGRESS,),
            ("extend", {"days": "5", "reason": "Cần xin ý kiến Bộ Tư pháp"}),
            ("transition", {"to_state": "answered", "note": "Đã trả lời xong"}),
        ),
    ],
    ids=["transition+transition", "answer+answer", "extend+transition"],
)
def test_two_staff_changing_one_case_at_once_one_is_saved_the_other_gets_409(
    app, world, isolation, monkeypatch, setup, first, second
):
    _bring_to(app, world, *setup)
    if second[1].get("to_state") == "answered":  # an answer must be saved first
        with app.app_context():
            db.session.get(FeedbackCase, world.case).answer = "Đã có câu trả lời."
            db.session.commit()
    events_before = _events(app, world)
    coordinator = logged_in(app, world.coordinator)
    handler = logged_in(app, world.handler)
    replies = _at_once(
        monkeypatch,
        staff_views,
        "_check_version",
        [_staff_post(coordinator, world, *first), _staff_post(handler, world, *second)],
    )
    statuses = [r.status_code for r in replies]
    assert sorted(statuses) == [303, 409], statuses
    saved, refused = (0, 1) if statuses[0] == 303 else (1, 0)
    html = replies[refused].get_data(as_text=True)
    # the case as it is now (its new version, so sending again is possible), and what
    # the refused user typed, in its form or shown to copy
    assert "Someone else changed this case" in html or "Người khác đã thay đổi hồ sơ" in html
    with app.app_context():
        case = db.session.get(FeedbackCase, world.case)
        assert f'name="version" value="{case.version}"' in html
        typed = (first, second)[refused][1]
        for value in typed.values():
            if len(value) > 2 and not value.isdigit() and value not in CaseState.__members__:
                assert value in html, value
        # exactly the winner's change is stored
        won = (first, second)[saved]
        if won[0] == "answer":
            assert case.answer == won[1]["answer"]
        elif won[0] == "extend":
            assert case.extension_days == 5 and case.state == CaseState.in_progress
        else:
            assert case.state == CaseState(won[1]["to_state"])
            assert case.events[-1].note == won[1]["note"]
    assert _events(app, world) - events_before == (0 if won[0] == "answer" else 1)


def test_a_stale_page_gets_the_current_case_and_keeps_what_was_typed(app, world):
    coordinator = logged_in(app, world.coordinator)
    handler = logged_in(app, world.handler)
    stale = handler.get(f"/staff/feedback/{world.case}").get_data(as_text=True)
    assert (
        _staff_post(coordinator, world, "transition", {"to_state": "screening"})().status_code
        == 303
    )
    reply = handler.post(
        f"/staff/feedback/{world.case}/transition",
        data={
            "csrf_token": csrf_from(stale),
            "version": _version(stale),
            "to_state": "screening",
            "reason": "Lý do tôi đã gõ",
            "note": "Ghi chú tôi đã gõ",
        },
    )
    assert reply.status_code == 409
    html = reply.get_data(as_text=True)
    assert ">Lý do tôi đã gõ</textarea>" in html and ">Ghi chú tôi đã gõ</textarea>" in html
    assert "Đang xem xét tiếp nhận" in html  # the state it is in now
    # the page of the answer is the current one: sent again from it, it is saved
    again = handler.post(
        f"/staff/feedback/{world.case}/transition",
        data={
            "csrf_token": csrf_from(html),
            "version": _version(html),
            "to_state": "accepted",
            "note": "Ghi chú tôi đã gõ",
        },
    )
    assert again.status_code == 303
    with app.app_context():
        assert db.session.get(FeedbackCase, world.case).state == CaseState.accepted


def test_an_answer_typed_on_a_stale_page_is_shown_when_its_form_is_gone(app, world):
    """The case was approved meanwhile: the answer form is no longer offered, the text
    typed in it is shown to copy, not lost."""
    _bring_to(app, world, *TO_IN_PROGRESS)
    handler = logged_in(app, world.handler)
    stale = handler.get(f"/staff/feedback/{world.case}").get_data(as_text=True)
    _bring_to(app, world, CaseState.answered, CaseState.approved)
    long_answer = "Câu trả lời dài tôi đã viết suốt một giờ. " * 20
    reply = handler.post(
        f"/staff/feedback/{world.case}/answer",
        data={"csrf_token": csrf_from(stale), "version": _version(stale), "answer": long_answer},
    )
    assert reply.status_code == 409
    html = reply.get_data(as_text=True)
    assert 'id="unsaved"' in html and long_answer.strip() in html
    assert f'action="/staff/feedback/{world.case}/answer"' not in html
    with app.app_context():
        assert db.session.get(FeedbackCase, world.case).answer != long_answer


def _tracked_citizen(app, world):
    client = app.test_client()
    html = client.get("/feedback/track").get_data(as_text=True)
    reply = client.post(
        "/feedback/track",
        data={"csrf_token": csrf_from(html), "code": world.code, "secret": world.secret},
    )
    assert reply.status_code == 303
    return client


def test_citizen_rating_while_staff_reopen_the_case_at_once(app, world, isolation, monkeypatch):
    _bring_to(app, world, *TO_PUBLISHED)
    citizen = _tracked_citizen(app, world)
    page = citizen.get(f"/feedback/track/{world.code}").get_data(as_text=True)
    rating = {
        "csrf_token": csrf_from(page),
        "version": _version(page),
        "verdict": "agree",
        "reason": "Cảm ơn quý cơ quan",
    }
    coordinator = logged_in(app, world.coordinator)
    reopen = _staff_post(
        coordinator, world, "transition", {"to_state": "in_progress", "reason": "Trả lời chưa đủ"}
    )
    barrier = threading.Barrier(2, timeout=20)
    real_check, real_record = staff_views._check_version, views._record_verdict

    def check(case):
        real_check(case)
        barrier.wait()

    def record(*args, **kwargs):
        barrier.wait()
        return real_record(*args, **kwargs)

    monkeypatch.setattr(staff_views, "_check_version", check)
    monkeypatch.setattr(views, "_record_verdict", record)
    replies = {}
    threads = [
        threading.Thread(target=lambda: replies.update(staff=reopen())),
        threading.Thread(
            target=lambda: replies.update(
                citizen=citizen.post(f"/feedback/track/{world.code}", data=rating)
            )
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    monkeypatch.undo()
    statuses = sorted(r.status_code for r in replies.values())
    assert statuses == [303, 409], statuses
    with app.app_context():
        case = db.session.get(FeedbackCase, world.case)
        if replies["citizen"].status_code == 303:
            assert case.state == CaseState.closed and case.citizen_verdict == "agree"
        else:
            assert case.state == CaseState.in_progress and case.citizen_verdict is None
            html = replies["citizen"].get_data(as_text=True)
            assert 'id="changed-meanwhile"' in html and "Cảm ơn quý cơ quan" in html


def test_a_rating_sent_from_a_page_of_an_older_answer_is_not_recorded(app, world):
    """Staff reopened the case and published a new answer after the citizen opened the
    page: the rating would have applied to an answer the citizen has not read."""
    _bring_to(app, world, *TO_PUBLISHED)
    citizen = _tracked_citizen(app, world)
    page = citizen.get(f"/feedback/track/{world.code}").get_data(as_text=True)
    _bring_to(app, world, CaseState.in_progress, CaseState.answered, CaseState.approved)
    _bring_to(app, world, CaseState.published)
    reply = citizen.post(
        f"/feedback/track/{world.code}",
        data={
            "csrf_token": csrf_from(page),
            "version": _version(page),
            "verdict": "agree",
            "reason": "Tôi đồng ý",
        },
    )
    assert reply.status_code == 409
    html = reply.get_data(as_text=True)
    assert 'id="changed-meanwhile"' in html
    assert 'value="agree" checked' in html and ">Tôi đồng ý</textarea>" in html  # kept
    with app.app_context():
        case = db.session.get(FeedbackCase, world.case)
        assert case.state == CaseState.published and case.citizen_verdict is None
        assert f'name="version" value="{case.version}"' in html
    # sent again from the page it was given, it counts
    again = citizen.post(
        f"/feedback/track/{world.code}",
        data={"csrf_token": csrf_from(html), "version": _version(html), "verdict": "agree"},
    )
    assert again.status_code == 303


def test_a_calendar_change_and_a_staff_change_at_once(app, world, isolation, monkeypatch):
    """The admin adds a day off while a colleague moves a running case: the due dates
    are recomputed on locked rows (the colleague's change waits, then is saved or told),
    never a 500 on either side."""
    _bring_to(app, world, *TO_IN_PROGRESS)
    with app.app_context():
        due = db.session.get(FeedbackCase, world.case).due_on
        admin_email = factories.user(Role.admin).email
        db.session.commit()
    admin = logged_in(app, admin_email)
    handler = logged_in(app, world.handler)
    calendar_page = admin.get("/staff/feedback/admin/calendar").get_data(as_text=True)
    selected = threading.Event()
    real_refresh = workflow.refresh_due

    def refresh(case):
        if not selected.is_set():
            selected.set()
            time.sleep(0.5)  # the colleague's request runs now
        return real_refresh(case)

    monkeypatch.setattr(workflow, "refresh_due", refresh)
    move = _staff_post(handler, world, "extend", {"days": "3", "reason": "Chờ ý kiến liên ngành"})
    replies = {}

    def add_day_off():
        replies["admin"] = admin.post(
            "/staff/feedback/admin/calendar",
            data={
                "csrf_token": csrf_from(calendar_page),
                "day": due.isoformat(),  # a working day: the due date moves
                "is_working_day": "0",
                "note": "Nghỉ bù",
            },
        )

    def extend_when_selected():
        assert selected.wait(20)
        replies["staff"] = move()

    threads = [threading.Thread(target=add_day_off), threading.Thread(target=extend_when_selected)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    monkeypatch.undo()
    assert replies["admin"].status_code == 303
    assert replies["staff"].status_code in (303, 409)
    with app.app_context():
        case = db.session.get(FeedbackCase, world.case)
        assert case.due_on > due  # recomputed with the day off
        if replies["staff"].status_code == 303:
            assert case.extension_days == 3


class _Orig(Exception):
    def __init__(self, sqlstate):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    "error, conflict",
    [
        (StaleDataError("UPDATE statement expected to update 1 row(s); 0 were matched."), True),
        (OperationalError("UPDATE", {}, _Orig("40001")), True),  # serialization_failure
        (OperationalError("UPDATE", {}, _Orig("40P01")), True),  # deadlock_detected
        (OperationalError("SELECT", {}, _Orig("08006")), False),  # connection failure
        (DBAPIError("SELECT", {}, _Orig(None)), False),
        (ValueError("x"), False),
    ],
)
def test_what_counts_as_a_concurrent_change(error, conflict):
    assert is_concurrent_change(error) is conflict


def test_any_other_view_losing_such_a_race_answers_409_not_500_or_503(app, world, monkeypatch):
    """The safety net for changes made outside the case views: a StaleDataError or a
    serialization failure is a 409 saying another request saved meanwhile."""
    with app.app_context():
        admin_email = factories.user(Role.admin).email
        db.session.commit()
    admin = logged_in(app, admin_email)
    page = admin.get("/staff/feedback/admin/calendar").get_data(as_text=True)
    for error in (
        StaleDataError("UPDATE statement expected to update 1 row(s); 0 were matched."),
        OperationalError("UPDATE", {}, _Orig("40001")),
    ):

        def fails(error=error):
            raise error

        monkeypatch.setattr(
            "survey_app.feedback.admin_views.recompute_open_deadlines", fails, raising=True
        )
        reply = admin.post(
            "/staff/feedback/admin/calendar",
            data={"csrf_token": csrf_from(page), "day": "2026-12-31", "is_working_day": "0"},
        )
        assert reply.status_code == 409, type(error)
        assert "cùng lúc" in reply.get_data(as_text=True)


def test_a_case_row_locked_too_long_by_another_request_is_a_409_with_the_case(
    app, world, monkeypatch
):
    """PostgreSQL's lock_timeout (SQLSTATE 55P03) while changing a case: someone is
    saving it right now; the user gets the case and what they typed, not a 503."""

    def locked(*args, **kwargs):
        raise OperationalError("UPDATE feedback_cases", {}, _Orig("55P03"))

    handler = logged_in(app, world.handler)
    send = _staff_post(handler, world, "transition", {"to_state": "screening", "note": "Đã xem"})
    monkeypatch.setattr(staff_views, "transition", locked)
    reply = send()
    assert reply.status_code == 409
    assert ">Đã xem</textarea>" in reply.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(FeedbackCase, world.case).state == CaseState.submitted
