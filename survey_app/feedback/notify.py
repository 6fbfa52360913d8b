"""What the citizen and staff are told, and the reminder and escalation run.

Messages are in Vietnamese (the default locale outside requests) and go
through the outbox, so they exist exactly when the change was committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..agencies.models import Agency
from ..agencies.services import subtree_filter
from ..auth.models import Role, User
from ..core.i18n import local_date
from ..extensions import db
from .models import FeedbackCase
from .outbox import enqueue
from .tracking import format_secret
from .workflow import OPEN_STATES, STATE_LABELS, work_calendar

#: Reminders go out when this many working days are left.
REMIND_AT = (3, 1)


def _track_url(case: FeedbackCase) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/feedback/track"


def _staff_url(case: FeedbackCase) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/staff/feedback/{case.id}"


def citizen_received(case: FeedbackCase, secret: str) -> None:
    """Send the code and tracking number to the citizen's e-mail, if they gave one."""
    if not case.contact_email:
        return
    enqueue(
        case.contact_email,
        _("Your report or proposal %(code)s has been received", code=case.code),
        _(
            "Case code: %(code)s\nTracking number: %(secret)s\n\nFollow it at %(url)s",
            code=case.code,
            secret=format_secret(secret),
            url=_track_url(case),
        ),
        dedupe_key=f"received:{case.id}",
    )


def citizen_state_changed(case: FeedbackCase, what: str) -> None:
    """Tell the citizen about an extension, a request for information, or the published answer."""
    if not case.contact_email:
        return
    enqueue(
        case.contact_email,
        _("Case %(code)s: %(state)s", code=case.code, state=STATE_LABELS[case.state]),
        _(
            "%(what)s\n\nFollow the case at %(url)s with its code and tracking number.",
            what=what,
            url=_track_url(case),
        ),
        dedupe_key=f"citizen:{case.id}:{case.version}:{case.state.value}",
    )


def _handlers(case: FeedbackCase) -> list[User]:
    if case.assignee is not None and case.assignee.active:
        return [case.assignee]
    if case.agency is not None:
        return db.session.scalars(
            select(User)
            .join(Agency, User.agency_id == Agency.id)
            .where(subtree_filter(case.agency), User.role == Role.handler, User.active.is_(True))
        ).all()
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
            for user in _coordinators():
                if enqueue(
                    user.email,
                    _(
                        "Overdue: case %(code)s was due on %(date)s",
                        code=case.code,
                        date=local_date(case.due_on),
                    ),
                    _(
                        "The case %(code)s (%(agency)s, %(state)s) is overdue.\n%(url)s",
                        code=case.code,
                        agency=case.agency.name if case.agency else "-",
                        state=STATE_LABELS[case.state],
                        url=_staff_url(case),
                    ),
                    dedupe_key=f"overdue:{case.id}:{case.due_on.isoformat()}:{user.id}",
                ):
                    result.escalations += 1
            continue
        left = calendar.working_days_between(today, case.due_on)
        if left not in REMIND_AT:
            continue
        for user in _handlers(case):
            if enqueue(
                user.email,
                _("Case %(code)s is due in %(n)d working days", code=case.code, n=left),
                _(
                    "The case %(code)s (%(state)s) is due on %(date)s.\n%(url)s",
                    code=case.code,
                    state=STATE_LABELS[case.state],
                    date=local_date(case.due_on),
                    url=_staff_url(case),
                ),
                dedupe_key=f"remind:{case.id}:{case.due_on.isoformat()}:{left}:{user.id}",
            ):
                result.reminders += 1
    return result
