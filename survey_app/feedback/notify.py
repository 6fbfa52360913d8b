"""What the citizen and staff are told, and the reminder and escalation run.

Messages are in Vietnamese (the default locale outside requests) and go through the
outbox, so they exist exactly when the change was committed. Citizens are told on
every channel they gave (e-mail, and their phone by Zalo or SMS as
NOTIFY_CHANNEL_ORDER says); staff by e-mail and, if they chose it and Zalo is set
up, by Zalo, for the events they chose (notifications.preferences).

Tracking numbers go into the messages but never into a log (notifications.base
masks them) and are emptied from the outbox once delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..agencies.models import Agency
from ..agencies.services import subtree_filter
from ..auth.models import Role, User
from ..core.i18n import local_date
from ..core.time import now_utc
from ..extensions import db
from ..notifications import messages, queue
from ..notifications.preferences import channels_for
from .models import CaseState, FeedbackCase
from .tracking import format_secret
from .workflow import OPEN_STATES, STATE_LABELS, work_calendar

#: Reminders go out when this many working days are left.
REMIND_AT = (3, 1)


def case_link(case: FeedbackCase) -> str:
    """The case's public page (it asks for the tracking number when the browser has not
    shown it yet): short enough for an SMS. The short links of issue 18 point 5 will
    replace it here, for every message at once."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/feedback/track/{case.code}"


def _staff_url(case: FeedbackCase) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/staff/feedback/{case.id}"


def _to_citizen(case: FeedbackCase, message: messages.Message, key: str, **kwargs) -> None:
    queue(message, email=case.contact_email, phone=case.contact_phone, dedupe_key=key, **kwargs)


def _to_staff(user: User, event: str, message: messages.Message, key: str) -> bool:
    """Queue ``message`` for ``user`` on the channels they chose for ``event``."""
    allowed = channels_for(user, event)
    if not allowed:
        return False
    return bool(
        queue(message, email=user.email, phone=user.zalo_phone, dedupe_key=key, allowed=allowed)
    )


# -- citizens ------------------------------------------------------------------------------
def citizen_received(case: FeedbackCase, secret: str) -> None:
    """Send the code and tracking number to every contact the citizen gave, and tell the
    staff whose queue the case is in (:func:`staff_new_case`)."""
    _to_citizen(
        case,
        messages.received(case.code, format_secret(secret), case_link(case)),
        f"received:{case.id}",
    )
    staff_new_case(case)


def citizen_state_changed(case: FeedbackCase, what: str) -> None:
    """Tell the citizen about a request for information, the published answer (and,
    a little later, ask them to rate it), an extension, a rejection or a redirect."""
    state = str(STATE_LABELS[case.state])
    key = f"citizen:{case.id}:{case.version}:{case.state.value}"
    link = case_link(case)
    if case.state == CaseState.needs_info:
        message = messages.needs_info(case.code, state, what, link)
    elif case.state == CaseState.published:
        message = messages.answered(case.code, state, link)
        hours = int(current_app.config.get("NOTIFY_RATE_INVITE_DELAY_HOURS") or 0)
        _to_citizen(
            case,
            messages.rate_invite(case.code, link),
            f"rate:{case.id}",
            send_after=now_utc() + timedelta(hours=hours),
        )
    else:
        message = messages.state_changed(case.code, state, what, link)
    _to_citizen(case, message, key)


@dataclass(frozen=True)
class Before:
    """Where a case was before a step: who must be told what changed."""

    agency_id: int | None
    assignee_id: int | None

    @classmethod
    def of(cls, case: FeedbackCase) -> Before:
        return cls(case.agency_id, case.assignee_id)


def after_transition(case: FeedbackCase, before: Before, actor: User | None) -> None:
    """After a step: a transfer tells the citizen and the new agency's staff; a new
    assignee (other than the one who assigned) is told the case is theirs."""
    if case.state == CaseState.transferred and case.agency_id != before.agency_id:
        agency = case.agency.name if case.agency else _("the coordinators")
        _to_citizen(
            case,
            messages.transferred(case.code, agency, case_link(case)),
            f"transferred:{case.id}:{case.version}",
        )
        staff_new_case(case)
    assignee = case.assignee
    if (
        assignee is not None
        and case.assignee_id != before.assignee_id
        and assignee.active
        and (actor is None or assignee.id != actor.id)
    ):
        _to_staff(
            assignee,
            "assigned",
            messages.assigned(case.code, _due(case), _staff_url(case)),
            f"assigned:{case.id}:{case.version}:{assignee.id}",
        )


# -- staff ---------------------------------------------------------------------------------
def _due(case: FeedbackCase) -> str:
    return local_date(case.due_on) if case.due_on else "-"


def staff_new_case(case: FeedbackCase) -> int:
    """Tell the handlers of the case's agency (the coordinators, for a case without one)
    that it is in their queue. :return: how many were told."""
    told = 0
    agency = case.agency.name if case.agency else _("the coordinators")
    message = messages.new_case(case.code, agency, _due(case), _staff_url(case))
    users = _agency_handlers(case.agency) if case.agency is not None else _coordinators()
    for user in users:
        if _to_staff(user, "new_case", message, f"new:{case.id}:{case.agency_id}:{user.id}"):
            told += 1
    return told


def _agency_handlers(agency: Agency) -> list[User]:
    return db.session.scalars(
        select(User)
        .join(Agency, User.agency_id == Agency.id)
        .where(subtree_filter(agency), User.role == Role.handler, User.active.is_(True))
    ).all()


def _handlers(case: FeedbackCase) -> list[User]:
    if case.assignee is not None and case.assignee.active:
        return [case.assignee]
    if case.agency is not None:
        return _agency_handlers(case.agency)
    return _coordinators()


def _coordinators() -> list[User]:
    return db.session.scalars(
        select(User).where(User.role == Role.coordinator, User.active.is_(True))
    ).all()


@dataclass
class RemindResult:
    reminders: int = 0
    escalations: int = 0


def remind(today: date) -> RemindResult:
    """Remind handlers of cases due in 3 and 1 working days; escalate overdue ones.

    Safe to run twice and from several servers: each message has a dedupe key
    (case, due date, kind) that the outbox's unique constraint enforces.
    """
    calendar = work_calendar()
    result = RemindResult()
    horizon = calendar.add_working_days(today, max(REMIND_AT))
    cases = db.session.scalars(
        select(FeedbackCase)
        .where(
            FeedbackCase.state.in_(OPEN_STATES),
            FeedbackCase.due_on.is_not(None),
            FeedbackCase.due_on <= horizon,
        )
        .order_by(FeedbackCase.due_on)
    ).all()
    for case in cases:
        if case.due_on < today:
            message = messages.escalation(
                case.code,
                case.agency.name if case.agency else "-",
                str(STATE_LABELS[case.state]),
                local_date(case.due_on),
                _staff_url(case),
            )
            for user in _coordinators():
                key = f"overdue:{case.id}:{case.due_on.isoformat()}:{user.id}"
                if _to_staff(user, "escalation", message, key):
                    result.escalations += 1
            continue
        left = calendar.working_days_between(today, case.due_on)
        if left not in REMIND_AT:
            continue
        message = messages.reminder(
            case.code,
            str(STATE_LABELS[case.state]),
            left,
            local_date(case.due_on),
            _staff_url(case),
        )
        for user in _handlers(case):
            key = f"remind:{case.id}:{case.due_on.isoformat()}:{left}:{user.id}"
            if _to_staff(user, "reminder", message, key):
                result.reminders += 1
    return result
