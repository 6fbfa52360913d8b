"""The feedback workflow: states, allowed transitions, who may make them, and the clock.

Every state change of a case goes through :func:`transition` (or, for a
coordinator's decision that a case is or is not a complaint, :func:`reclassify`);
nothing else writes ``FeedbackCase.state``. An illegal transition raises
:class:`TransitionError`, whose message the views show as is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask import current_app, g
from flask_babel import lazy_gettext as _l

from ..agencies.models import Agency
from ..auth.models import Role, User
from ..core.time import local_today, local_tz, now_utc
from ..extensions import db
from . import published
from .models import CalendarOverride, CaseEvent, CaseState, FeedbackCase
from .workdays import Pause, WorkCalendar, compute_deadline

S = CaseState

#: The allowed transitions. Reopening (citizen disagrees, or repeats a closed
#: case) goes back to ``in_progress`` at the same agency.
TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    S.submitted: frozenset({S.screening, S.rejected, S.redirected_complaint}),
    S.screening: frozenset(
        {S.rejected, S.needs_info, S.redirected_complaint, S.transferred, S.accepted}
    ),
    S.needs_info: frozenset({S.screening, S.rejected}),
    S.transferred: frozenset({S.accepted, S.transferred}),
    S.accepted: frozenset({S.assigned, S.transferred}),
    S.assigned: frozenset({S.in_progress, S.assigned, S.transferred}),
    S.in_progress: frozenset({S.answered, S.transferred}),
    S.answered: frozenset({S.approved, S.in_progress}),
    S.approved: frozenset({S.published}),
    S.published: frozenset({S.closed, S.in_progress}),
    S.closed: frozenset({S.in_progress}),
    S.rejected: frozenset(),
    S.redirected_complaint: frozenset(),
}

#: Transitions only :func:`~.complaints.reclassify` makes (a coordinator's decision that a
#: case is, or is not, a complaint or denunciation): not offered as ordinary next steps.
RECLASSIFY_TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    **{
        state: frozenset({S.redirected_complaint})
        for state in (S.needs_info, S.transferred, S.accepted, S.assigned, S.in_progress)
    },
    S.redirected_complaint: frozenset({S.screening}),
}

#: The order next steps are offered in: along the usual way first, then the
#: detours, and the steps that end a case without an answer last.
STEP_ORDER: tuple[CaseState, ...] = (
    S.screening,
    S.accepted,
    S.assigned,
    S.in_progress,
    S.answered,
    S.approved,
    S.published,
    S.closed,
    S.needs_info,
    S.transferred,
    S.rejected,
    S.redirected_complaint,
)

#: Transitions an agency handler may make on a case of their agency; coordinators
#: and admins may make every allowed transition.
HANDLER_TRANSITIONS: frozenset[tuple[CaseState, CaseState]] = frozenset(
    {
        # screening of cases a routing rule sent straight to the agency
        (S.submitted, S.screening),
        (S.screening, S.accepted),
        (S.screening, S.needs_info),
        (S.screening, S.rejected),
        (S.screening, S.redirected_complaint),
        (S.screening, S.transferred),
        (S.needs_info, S.screening),
        (S.transferred, S.accepted),
        (S.accepted, S.assigned),
        (S.assigned, S.assigned),
        (S.assigned, S.in_progress),
        (S.in_progress, S.answered),
        # back to the coordinators when the case is not the agency's
        (S.accepted, S.transferred),
        (S.assigned, S.transferred),
        (S.in_progress, S.transferred),
    }
)

#: States in which the clock does not run at all.
FINAL_STATES = frozenset({S.rejected, S.redirected_complaint, S.published, S.closed})
#: States shown to staff as open work.
OPEN_STATES = frozenset(set(CaseState) - {S.rejected, S.redirected_complaint, S.closed})


class TransitionError(Exception):
    """The transition is not allowed; the message is shown to the user."""


@dataclass(frozen=True)
class Durations:
    """Legal durations in working days (settings, because decrees change)."""

    screening: int
    transfer: int
    answer: int
    publish: int

    @classmethod
    def from_config(cls) -> Durations:
        c = current_app.config
        return cls(
            screening=c["FEEDBACK_SCREENING_DAYS"],
            transfer=c["FEEDBACK_TRANSFER_DAYS"],
            answer=c["FEEDBACK_ANSWER_DAYS"],
            publish=c["FEEDBACK_PUBLISH_DAYS"],
        )


def work_calendar() -> WorkCalendar:
    """The calendar: the package, the Government's announcements (the shipped data file)
    and the admins' overrides (read once per request)."""
    if "work_calendar" not in g:
        rows = db.session.execute(db.select(CalendarOverride.day, CalendarOverride.is_working_day))
        g.work_calendar = WorkCalendar({day: working for day, working in rows})
    return g.work_calendar


def start_clock(case: FeedbackCase, days: int, start: date | None = None) -> None:
    """Start a new step of ``days`` working days from ``start`` (default today; a case
    entered from paper counts from the day it was received)."""
    case.clock_start_on = start or local_today()
    case.clock_days = days
    case.paused_days = 0
    case.paused_since = None
    case.extension_days = 0  # an extension belongs to the step it extended
    refresh_due(case)


def refresh_due(case: FeedbackCase) -> None:
    """Recompute ``due_on`` from the clock fields (None while paused or finished)."""
    if case.state in FINAL_STATES:
        case.due_on = None
        return
    case.due_on = explain_due(case).due


def deadline_title(case: FeedbackCase) -> str:
    """What the running deadline is for: screening, a transfer, the answer or publication."""
    if case.state in (S.submitted, S.screening, S.needs_info):
        return _l("Screening deadline")
    if case.state == S.transferred and case.agency is None:
        return _l("Transfer deadline")
    if case.state == S.approved:
        return _l("Publication deadline")
    return _l("Answer deadline")


def explain_due(case: FeedbackCase):
    """The :class:`~.workdays.Deadline` of the current step: the due date and its reasons."""
    return compute_deadline(
        work_calendar(),
        case.clock_start_on,
        case.clock_days,
        [Pause(case.paused_since, None)] if case.paused_since else [],
        extension_days=case.extension_days,
        paused_days=case.paused_days,
    )


def may_transition(user: User | None, case: FeedbackCase, to_state: CaseState) -> bool:
    """Whether ``user`` may move ``case`` to ``to_state`` (None = the citizen or the system)."""
    return may_step(user, case, case.state, to_state)


def may_step(
    user: User | None, case: FeedbackCase, from_state: CaseState, to_state: CaseState
) -> bool:
    """Whether ``user`` may move ``case``, once it is in ``from_state``, to ``to_state``
    (for a task of several steps, checked before the first one is made)."""
    if to_state not in TRANSITIONS[from_state]:
        return False
    if user is None:
        return True
    if user.role in (Role.admin, Role.coordinator):
        return True
    if user.role == Role.handler and case.agency is not None and user.can_see_agency(case.agency):
        return (from_state, to_state) in HANDLER_TRANSITIONS
    return False


def transition(
    case: FeedbackCase,
    to_state: CaseState,
    actor: User | None,
    *,
    reason: str | None = None,
    note: str | None = None,
    agency: Agency | None = None,
    assignee: User | None = None,
    action: str | None = None,
    reclassifying: bool = False,
) -> CaseEvent:
    """Move ``case`` to ``to_state``, update its clock and record the event.

    :param reason: required for rejection, a request for information, a
        redirect as a complaint and a transfer (the citizen or the next agency
        sees it).
    :param agency: the new agency for a transfer (None = the coordinators' queue).
    :param reclassifying: also allow :data:`RECLASSIFY_TRANSITIONS` (only
        :func:`~.complaints.reclassify` sets it, after its own role check).
    :raises TransitionError: if the transition is not allowed, or not for this user,
        or a required reason or target is missing, or (publishing) the question as
        published is not confirmed or still holds personal data.
    """
    from_state = case.state
    allowed = TRANSITIONS[from_state]
    if reclassifying:
        allowed = allowed | RECLASSIFY_TRANSITIONS.get(from_state, frozenset())
    if to_state not in allowed:
        raise TransitionError(
            _l(
                "A case that is “%(from)s” cannot become “%(to)s”.",
                **{"from": state_label(from_state), "to": state_label(to_state)},
            )
        )
    if not reclassifying and not may_transition(actor, case, to_state):
        raise TransitionError(_l("Your role does not allow this step on this case."))
    needs_reason = {S.rejected, S.needs_info, S.redirected_complaint, S.transferred}
    if (
        agency is not None
        and actor is not None
        and actor.role == Role.handler
        and (to_state == S.transferred or agency.id != case.agency_id)
    ):  # (accepting it "for" another agency moved it there as a transfer does)
        raise TransitionError(
            _l(
                "Handlers return a case to the coordinators; only they transfer it to another agency."
            )
        )
    if to_state in needs_reason and not (reason and reason.strip()):
        raise TransitionError(_l("Give a reason for this step."))
    if from_state == S.published and to_state == S.in_progress and actor is not None and not reason:
        raise TransitionError(_l("Give a reason for reopening the case."))

    # every check before anything changes: a refused step leaves no trace
    if to_state == S.transferred and agency is not None and case.agency_id == agency.id:
        raise TransitionError(_l("The case is already at this agency."))
    if to_state == S.accepted and agency is None and case.agency is None:
        raise TransitionError(_l("Choose the agency that will answer the case."))
    if to_state == S.assigned and assignee is None:
        raise TransitionError(_l("Choose who will handle the case."))
    if to_state == S.answered and not (case.answer and case.answer.strip()):
        raise TransitionError(_l("Write the answer before marking the case answered."))
    if to_state == S.published and (problem := published.publication_problem(case)):
        raise TransitionError(problem)  # never the citizen's own text on a public page

    durations = Durations.from_config()
    from_agency = case.agency
    event = CaseEvent(
        action=action or to_state.value,
        actor=actor,
        from_state=from_state,
        to_state=to_state,
        from_agency_id=case.agency_id,
        reason=reason,
        note=note,
    )
    today = local_today()
    case.state = to_state

    if to_state == S.transferred:
        # time spent at the agency that gives the case up is charged to it
        event.working_days = work_calendar().working_days_between(case.clock_start_on, today)
        case.agency = agency
        case.assignee = None
        event.to_agency_id = agency.id if agency else None
        if agency is not None:
            start_clock(case, durations.answer)  # the new agency answers within 15 days
        else:
            # back to the coordinators: the transfer to the competent agency is due
            # within 5 working days of the case's receipt, not of this step
            start_clock(case, durations.transfer)
            case.clock_start_on = case.received_at.astimezone(local_tz()).date()
            refresh_due(case)
    elif to_state == S.needs_info:
        case.paused_since = today
        case.public_reason = reason
        refresh_due(case)
    elif from_state == S.redirected_complaint and to_state == S.screening:
        # a coordinator found it is a report or proposal after all: screened afresh
        case.public_reason = None
        case.closed_at = None
        start_clock(case, durations.screening)
    elif from_state == S.needs_info and to_state == S.screening:
        case.paused_days += work_calendar().working_days_between(case.paused_since, today)
        case.paused_since = None
        refresh_due(case)
    elif to_state == S.accepted:
        if agency is not None:
            case.agency = agency
            event.to_agency_id = agency.id
        if from_state != S.transferred:  # a transfer already started the answer clock
            start_clock(case, durations.answer)
    elif to_state == S.assigned:
        case.assignee = assignee
    elif to_state == S.in_progress and from_state in (S.published, S.closed):
        # the citizen's disagreement (if that is what reopened it) stays on record
        case.published_at = case.closed_at = None
        published.unpublish(case)
        start_clock(case, durations.answer)
    elif to_state == S.approved:
        case.approved_at = now_utc()
        start_clock(case, durations.publish)
    elif to_state == S.published:
        case.published_at = now_utc()
        published.publish(case)
        case.citizen_verdict = None  # a new answer awaits the citizen's opinion
        refresh_due(case)
    elif to_state == S.closed:
        case.closed_at = now_utc()
        refresh_due(case)
    elif to_state in (S.rejected, S.redirected_complaint):
        case.public_reason = reason
        case.closed_at = now_utc()
        refresh_due(case)
    elif to_state == S.answered:
        case.answered_at = now_utc()
    if from_agency is not None and event.to_agency_id is None and to_state != S.transferred:
        event.to_agency_id = case.agency_id
    case.events.append(event)
    db.session.flush()
    return event


def extend(case: FeedbackCase, actor: User, days: int, reason: str) -> CaseEvent:
    """The single extension of the answer deadline, with its reason (the citizen is told).

    :raises TransitionError: a second extension, no reason, or a case not being answered.
    """
    if case.state not in (S.accepted, S.assigned, S.in_progress, S.transferred):
        raise TransitionError(_l("Only a case being answered can be extended."))
    if case.extension_reason:
        raise TransitionError(_l("This case was already extended once."))
    maximum = current_app.config["FEEDBACK_EXTENSION_MAX_DAYS"]
    if not 1 <= days <= maximum:
        raise TransitionError(_l("An extension is 1 to %(n)d working days.", n=maximum))
    if not reason.strip():
        raise TransitionError(_l("Give a reason for this step."))
    case.extension_days = days
    case.extension_reason = reason.strip()
    refresh_due(case)
    event = CaseEvent(
        actor=actor,
        action="extended",
        from_state=case.state,
        to_state=case.state,
        reason=reason.strip(),
        working_days=days,
        from_agency_id=case.agency_id,
        to_agency_id=case.agency_id,
    )
    case.events.append(event)
    db.session.flush()
    return event


#: Reclassification (phản ánh/kiến nghị ↔ khiếu nại/tố cáo) is decided in
#: :mod:`.complaints`; a redirected case's kind as the staff case page names it.
COMPLAINT = "complaint"


def current_kind(case: FeedbackCase) -> str:
    """``report``, ``proposal`` or ``complaint`` (a case redirected as a complaint)."""
    return COMPLAINT if case.state == S.redirected_complaint else case.kind.value


def state_label(state: CaseState) -> str:
    return str(STATE_LABELS[state])


STATE_LABELS = {
    S.submitted: _l("Submitted"),
    S.screening: _l("Screening"),
    S.rejected: _l("Rejected"),
    S.needs_info: _l("Waiting for the citizen's information"),
    S.redirected_complaint: _l("Redirected as a complaint"),
    S.transferred: _l("Transferred"),
    S.accepted: _l("Accepted"),
    S.assigned: _l("Assigned"),
    S.in_progress: _l("In progress"),
    S.answered: _l("Answered, awaiting approval"),
    S.approved: _l("Approved, awaiting publication"),
    S.published: _l("Answer published"),
    S.closed: _l("Closed"),
}


def restarts_clock(from_state: CaseState, to_state: CaseState) -> bool:
    """Whether a transition starts a new step (:func:`start_clock`: the pause total back
    to 0), as :func:`transition` does: a transfer, an acceptance that is not the end of a
    transfer, a reopening, an approval, taking back a case redirected as a complaint."""
    return (
        from_state == S.redirected_complaint
        or to_state == S.transferred
        or (to_state == S.accepted and from_state != S.transferred)
        or (to_state == S.in_progress and from_state in (S.published, S.closed))
        or to_state == S.approved
        or from_state == S.redirected_complaint  # a complaint reclassified as feedback
    )


def paused_days_from_history(
    case: FeedbackCase, calendar: WorkCalendar, events: Iterable[CaseEvent] | None = None
) -> int | None:
    """The working days the current step's finished pauses covered, recounted from the
    case's timeline with ``calendar``.

    A pause runs from the local day of the event that asked for the citizen's
    information (→ ``needs_info``) to the day of the event that ended it; only pauses
    ended by the citizen's answer (→ ``screening``) move the due date, as in
    :func:`transition`.

    :param events: the case's events in order (default: ``case.events``).
    :return: the total, or None when the timeline does not show how the stored total
        was reached (a pause ended without its start, an open pause the case does not
        know of, a total without any pause): the caller then keeps the stored total.
    """
    tz = local_tz()
    total, start, pauses = 0, None, 0
    for event in case.events if events is None else events:
        before, after = event.from_state, event.to_state
        if before is None or after is None or before == after:
            continue  # an extension, a reassignment, a note: not the clock's business
        at = (event.at or now_utc()).astimezone(tz).date()
        if restarts_clock(before, after):
            total, start, pauses = 0, None, 0
        if after == S.needs_info:
            start = at
            pauses += 1
        elif before == S.needs_info:
            if start is None:
                return None
            if after == S.screening:
                total += calendar.working_days_between(start, at)
            start = None
    if (start is None) != (case.paused_since is None) or (not pauses and case.paused_days):
        return None
    return total


@dataclass(frozen=True)
class Recount:
    """What :func:`recompute_open_deadlines` did."""

    #: Running cases read (and locked).
    cases: int
    #: Of them, those whose due date or pause total changed.
    changed: int


def recount_case(case: FeedbackCase, events: Iterable[CaseEvent] | None = None) -> bool:
    """Recount a running case with the request's calendar (:func:`work_calendar`): its
    pause total from its timeline, then its due date.

    :param events: the case's events in order, if already read (default: ``case.events``).
    :return: whether the pause total or the due date changed.
    """
    before = (case.paused_days, case.due_on)
    paused = paused_days_from_history(case, work_calendar(), events)
    if paused is not None and paused != case.paused_days:
        case.paused_days = paused
    refresh_due(case)
    return (case.paused_days, case.due_on) != before


def _pause_timelines(case_ids: list[int]) -> dict[int, list[CaseEvent]]:
    """The events of those of ``case_ids`` that were ever paused, by case, in order
    (the others' timelines have no pause to recount: not read)."""
    out: dict[int, list[CaseEvent]] = {}
    paused = S.needs_info
    for i in range(0, len(case_ids), 500):
        chunk = case_ids[i : i + 500]
        with_pauses = (
            db.select(CaseEvent.case_id)
            .where(CaseEvent.case_id.in_(chunk))
            .where((CaseEvent.to_state == paused) | (CaseEvent.from_state == paused))
        )
        events = db.session.scalars(
            db.select(CaseEvent)
            .where(CaseEvent.case_id.in_(with_pauses))
            .order_by(CaseEvent.case_id, CaseEvent.id)
        )
        for event in events:
            out.setdefault(event.case_id, []).append(event)
    return out


def recompute_open_deadlines() -> Recount:
    """Recount every running case after the calendar changed (an override added or
    removed, a new data file of announcements): its pause total from its timeline
    (a paused day may have become a day off or a working day) and its due date.

    The cases are read locked (``FOR UPDATE`` on PostgreSQL; SQLite's writer lock is
    already held by the calendar change): a colleague's change to one of them waits
    for this transaction instead of making it fail on a stale version. Only cases whose
    figures changed are written (and get a new version).
    """
    g.pop("work_calendar", None)  # the calendar as it is now
    cases = db.session.scalars(
        db.select(FeedbackCase)
        .where(FeedbackCase.state.in_(OPEN_STATES - FINAL_STATES))
        .order_by(FeedbackCase.id)  # one order for every locker: no deadlock
        .with_for_update()
        .execution_options(populate_existing=True)  # the locked rows, not what was read before
    ).all()
    timelines = _pause_timelines([case.id for case in cases])
    changed = sum(recount_case(case, timelines.get(case.id, ())) for case in cases)
    db.session.flush()
    return Recount(cases=len(cases), changed=changed)
