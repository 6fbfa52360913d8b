"""The case page's tasks: each next step a staff member can take, with only what it needs.

A task is what a person sets out to do ("accept the case", "answer it"), not a
state to pick: it may pass through several states of the workflow on the way
(answering an assigned case starts it, then marks it answered; a coordinator may
approve and publish in the same step). Every state change still goes through
:func:`~.workflow.transition`, so the workflow's rules (who, from where, with what)
are the only rules; a task is offered only when the user may make every step of it.

Services flush, never commit: a task refused halfway is rolled back whole by the view.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..agencies.models import Agency
from ..agencies.services import subtree_filter
from ..auth.models import Role, User
from ..extensions import db
from .models import CaseState, FeedbackCase
from .workflow import TransitionError, may_step, transition

S = CaseState


@dataclass(frozen=True)
class Task:
    """One kind of next step: its name (in the URL), its label, and the states it passes
    through from each state it starts from."""

    name: str
    label: object  # a lazy string
    #: From a state, the states the case goes through, the last one the task's end.
    paths: dict[CaseState, tuple[CaseState, ...]]
    #: What the task is for, one line under its title.
    hint: object = ""
    #: The steps that may follow at once when the user may make them (an approval and
    #: publication after an answer): offered as a choice, never made silently.
    then: tuple[CaseState, ...] = field(default=())


TASKS: tuple[Task, ...] = (
    Task(
        "accept",
        _l("Accept"),
        {
            S.submitted: (S.screening, S.accepted),
            S.screening: (S.accepted,),
            S.needs_info: (S.screening, S.accepted),
            S.transferred: (S.accepted,),
        },
        _l("The case is feedback this agency answers: the answer deadline starts."),
    ),
    Task(
        "resume",
        _l("Information received"),
        {S.needs_info: (S.screening,)},
        _l("The citizen sent what was missing: screening goes on and the clock runs again."),
    ),
    Task(
        "answer",
        _l("Answer"),
        {
            S.in_progress: (S.answered,),
            S.assigned: (S.in_progress, S.answered),
            S.accepted: (S.assigned, S.in_progress, S.answered),
        },
        _l("Write the answer and the public summary, and send them in one step."),
        then=(S.approved, S.published),
    ),
    Task(
        "assign",
        _l("Assign"),
        {S.accepted: (S.assigned,), S.assigned: (S.assigned,)},
        _l("Choose the handler who writes the answer."),
    ),
    Task(
        "approve",
        _l("Approve"),
        {S.answered: (S.approved,)},
        _l("The answer is right and may be published."),
        then=(S.published,),
    ),
    Task(
        "publish",
        _l("Publish"),
        {S.approved: (S.published,)},
        _l("The citizen is told, and the answer appears on the public page without personal data."),
    ),
    Task(
        "send_back",
        _l("Send back for changes"),
        {S.answered: (S.in_progress,)},
        _l("The answer needs changes before it is approved: say what."),
    ),
    Task(
        "request_info",
        _l("Ask for more information"),
        {S.submitted: (S.screening, S.needs_info), S.screening: (S.needs_info,)},
        _l("The clock stops until the citizen sends what is missing."),
    ),
    Task(
        "transfer",
        _l("Transfer"),
        {
            S.submitted: (S.screening, S.transferred),
            S.screening: (S.transferred,),
            S.transferred: (S.transferred,),
            S.accepted: (S.transferred,),
            S.assigned: (S.transferred,),
            S.in_progress: (S.transferred,),
        },
        _l("Another agency is competent; the time spent here is charged to this agency."),
    ),
    Task(
        "reject",
        _l("Reject"),
        {
            S.submitted: (S.screening, S.rejected),  # (as handlers may: a screening decision)
            S.screening: (S.rejected,),
            S.needs_info: (S.rejected,),
        },
        _l("The case cannot be handled as feedback (Decree 20/2008): the citizen is told why."),
    ),
    Task(
        "close",
        _l("Close"),
        {S.published: (S.closed,)},
        _l("Nothing more to do on this case."),
    ),
    Task(
        "reopen",
        _l("Reopen"),
        {S.published: (S.in_progress,), S.closed: (S.in_progress,)},
        _l("The answer must be looked at again: a new answer deadline starts."),
    ),
)
BY_NAME = {task.name: task for task in TASKS}
#: Tasks that need a reason, and who reads it (the label of the field).
REASON_LABELS = {
    "transfer": _l("Reason for the transfer – read by the agency that receives it"),
    "request_info": _l("What is missing – sent to the citizen"),
    "reject": _l("Reason for the rejection – sent to the citizen"),
    "send_back": _l("What must change – read by the handler"),
    "reopen": _l("Why it is reopened – staff only"),
}


def handlers_for(case: FeedbackCase) -> list[User]:
    """The active handlers of the case's agency and the agencies below it."""
    if case.agency is None:
        return []
    return db.session.scalars(
        select(User)
        .join(Agency, User.agency_id == Agency.id)
        .where(subtree_filter(case.agency), User.role == Role.handler, User.active.is_(True))
        .order_by(User.full_name)
    ).all()


def approvers(case: FeedbackCase) -> list[User]:
    """Who may approve the case's answer: the active coordinators who see it (province-wide
    ones, or those of an agency the case's agency is within)."""
    rows = db.session.scalars(
        select(User)
        .where(User.role == Role.coordinator, User.active.is_(True))
        .order_by(User.full_name)
    ).all()
    return [
        u for u in rows if u.sees_whole_province or (case.agency and u.can_see_agency(case.agency))
    ]


def path_of(task: Task, case: FeedbackCase, user: User) -> tuple[CaseState, ...] | None:
    """The states ``task`` takes ``case`` through for ``user``, or None if it is not
    offered: no path from the case's state, a step the user may not make, or nobody
    to assign it to."""
    path = task.paths.get(case.state)
    if path is None:
        return None
    state = case.state
    for step in path:
        if not may_step(user, case, state, step):
            return None
        state = step
    if task.name == "assign" and not handlers_for(case):
        return None
    if task.name == "answer" and case.state == S.accepted and user not in handlers_for(case):
        return None  # answering an unassigned case assigns it to oneself: a handler only
    if task.name == "transfer" and user.role == Role.handler and case.agency is None:
        return None
    return path


def offered(case: FeedbackCase, user: User) -> list[Task]:
    """The tasks ``user`` may take on ``case`` now, the usual way first."""
    return [task for task in TASKS if path_of(task, case, user) is not None]


def may_continue(task: Task, case: FeedbackCase, user: User) -> bool:
    """Whether ``user`` may also make ``task.then`` at once (approve and publish)."""
    if not task.then:
        return False
    path = task.paths.get(case.state) or ()
    state = path[-1] if path else case.state
    for step in task.then:
        if not may_step(user, case, state, step):
            return False
        state = step
    return True


@dataclass
class TaskInput:
    """What the task's form gave (each task reads only its own fields)."""

    reason: str | None = None
    note: str | None = None
    agency: Agency | None = None
    assignee: User | None = None
    #: Approve and publish (or publish) in the same step.
    go_on: bool = False


def run(task: Task, case: FeedbackCase, user: User, data: TaskInput) -> CaseState:
    """Take ``task`` on ``case``: every state of its path in turn, then (``data.go_on``)
    the steps that may follow. The reason and note go with the step that needs them
    (the last one of the path); an assignment on the way assigns the user.

    :return: the state the case ends in.
    :raises TransitionError: the task is not offered, a field it needs is missing, or
        the workflow refuses a step; the caller rolls back (nothing is half done).
    """
    path = path_of(task, case, user)
    if path is None:
        raise TransitionError(_l("Your role does not allow this step on this case."))
    if task.name in REASON_LABELS and not (data.reason and data.reason.strip()):
        raise TransitionError(_l("Give a reason for this step."))
    if task.name == "assign" and data.assignee is None:
        raise TransitionError(_l("Choose who will handle the case."))
    steps = list(path)
    if data.go_on and may_continue(task, case, user):
        steps += task.then
    last = len(path) - 1
    for i, step in enumerate(steps):
        final = i == last
        transition(
            case,
            step,
            user,
            reason=data.reason if final else None,
            note=data.note if final else None,
            agency=data.agency if final and task.name in ("accept", "transfer") else None,
            assignee=(data.assignee if task.name == "assign" else user)
            if step == S.assigned
            else None,
        )
    return case.state
