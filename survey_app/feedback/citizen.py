"""What the citizen who tracks a case is told about it, in plain words.

Staff work with thirteen states (:mod:`~survey_app.feedback.workflow`); the citizen
needs to know three things: has my case been *received* (đã nhận), has it been
*accepted* for handling (đã tiếp nhận xử lý), has it been *answered* (đã trả lời); and
when the answer is due. This module turns a case and its timeline into that: a stage,
a list of dated sentences, and the deadline that matters to the citizen. It never
shows who handled the case (staff names are personal data), only agencies.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _

from ..core.i18n import local_date
from ..core.time import local_today, local_tz
from .models import CaseEvent, CaseKind, CaseState, FeedbackCase
from .workflow import work_calendar

S = CaseState


class Stage(enum.StrEnum):
    """Where the case is, as the citizen sees it."""

    received = "received"  #: đã nhận: being screened
    needs_info = "needs_info"  #: waiting for the citizen's information
    forwarded = "forwarded"  #: back with the coordinators, to be sent to the competent agency
    transferred = "transferred"  #: sent to an agency, which has not accepted it yet
    accepted = "accepted"  #: đã tiếp nhận xử lý: an agency is answering it
    answering = "answering"  #: the answer is written and being approved or published
    answered = "answered"  #: đã trả lời: the answer is published
    not_accepted = "not_accepted"  #: rejected, with the reason
    redirected = "redirected"  #: a complaint or denunciation: where to send it


STAGE_OF: dict[CaseState, Stage] = {
    S.submitted: Stage.received,
    S.screening: Stage.received,
    S.needs_info: Stage.needs_info,
    S.transferred: Stage.transferred,  # (see stage_of for the coordinators' queue)
    S.accepted: Stage.accepted,
    S.assigned: Stage.accepted,
    S.in_progress: Stage.accepted,
    S.answered: Stage.answering,
    S.approved: Stage.answering,
    S.published: Stage.answered,
    S.closed: Stage.answered,
    S.rejected: Stage.not_accepted,
    S.redirected_complaint: Stage.redirected,
}

#: The citizen's path, in order (the stages a case normally passes).
PATH = (Stage.received, Stage.accepted, Stage.answered)


def stage_of(case: FeedbackCase) -> Stage:
    """The citizen's stage of ``case``."""
    if case.state == S.transferred and case.agency_id is None:
        return Stage.forwarded
    return STAGE_OF[case.state]


def stage_title(stage: Stage) -> str:
    """The stage in a few words (the case page's heading line)."""
    return {
        Stage.received: _("Received, being screened"),
        Stage.needs_info: _("Received, waiting for your information"),
        Stage.forwarded: _("Received, being sent to the competent agency"),
        Stage.transferred: _("Received, sent to the agency that will answer it"),
        Stage.accepted: _("Accepted for handling"),
        Stage.answering: _("Accepted, the answer is being finalised"),
        Stage.answered: _("Answered"),
        Stage.not_accepted: _("Not accepted"),
        Stage.redirected: _("Not handled as feedback: a complaint or denunciation"),
    }[stage]


def path_steps(stage: Stage) -> list[tuple[str, str]]:
    """The three steps received → accepted → answered, each ``done``, ``current`` or
    ``todo``, for the progress line at the top of the case page."""
    reached = {
        Stage.received: 1,
        Stage.needs_info: 1,
        Stage.forwarded: 1,
        Stage.transferred: 1,
        Stage.accepted: 2,
        Stage.answering: 2,
        Stage.answered: 3,
    }.get(stage)
    labels = (_("Received by the office"), _("Accepted for handling"), _("Answered"))
    if reached is None:  # ended without an answer: only "received" happened
        return [(labels[0], "done")]
    out = []
    for number, label in enumerate(labels, start=1):
        state = "done" if number < reached or reached == 3 else "todo"
        if number == reached and reached != 3:
            state = "current"
        out.append((label, state))
    return out


@dataclass(frozen=True)
class Line:
    """One dated sentence of the citizen's timeline."""

    on: date
    text: str
    #: A reason the citizen is meant to read (a request for information, a rejection…).
    detail: str | None = None


def _day(at: datetime | None) -> date:
    return at.astimezone(local_tz()).date() if at else local_today()


def _agency_name(event: CaseEvent) -> str | None:
    return event.to_agency.name if event.to_agency is not None else None


def _sentence(event: CaseEvent) -> tuple[str, str | None] | None:
    """What ``event`` means to the citizen, and the reason they should read; None for
    steps that are staff's own business (a reassignment, a note)."""
    when = local_date(_day(event.at))
    before, after, action = event.from_state, event.to_state, event.action
    agency = _agency_name(event)
    if action == "extended":
        return (
            _(
                "On %(date)s the answer's deadline was extended by %(n)d working days.",
                date=when,
                n=event.working_days or 0,
            ),
            event.reason,
        )
    if action == "citizen_agreed":
        return _("On %(date)s you agreed with the answer; the case is closed.", date=when), None
    if action == "citizen_disagreed":
        return (
            _("On %(date)s you did not agree with the answer; the case was reopened.", date=when),
            None,
        )
    if after == S.transferred:  # (also from one agency to another: same state)
        if agency:
            return _("On %(date)s it was sent to %(agency)s.", date=when, agency=agency), None
        return (
            _(
                "On %(date)s it was returned to the provincial office, to be sent to the "
                "competent agency.",
                date=when,
            ),
            None,
        )
    if after is None or before == after:
        return None
    if after == S.screening and before == S.redirected_complaint:
        return (
            _(
                "On %(date)s it was found to be a report or proposal after all; it is being "
                "screened.",
                date=when,
            ),
            None,
        )
    if after == S.screening and before == S.needs_info:
        return _("On %(date)s your information was received; screening went on.", date=when), None
    if after == S.screening:
        return None  # screening began: the case is still "received"
    if after == S.needs_info:
        return _("On %(date)s you were asked for more information.", date=when), event.reason
    if after == S.accepted:
        if agency:
            return (
                _("On %(date)s %(agency)s accepted it for handling.", date=when, agency=agency),
                None,
            )
        return _("On %(date)s it was accepted for handling.", date=when), None
    if after == S.assigned:
        return _("On %(date)s an official was put in charge of it.", date=when), None
    if after == S.in_progress and before in (S.published, S.closed):
        return _("On %(date)s the case was reopened.", date=when), None
    if after == S.in_progress:
        return None  # work began: still "accepted"
    if after == S.answered:
        return _("On %(date)s the answer was written; it is being approved.", date=when), None
    if after == S.approved:
        return _("On %(date)s the answer was approved.", date=when), None
    if after == S.published:
        return _("On %(date)s the answer was sent and published.", date=when), None
    if after == S.closed:
        return _("On %(date)s the case was closed.", date=when), None
    if after == S.rejected:
        return _("On %(date)s it was not accepted.", date=when), event.reason
    if after == S.redirected_complaint:
        return (
            _("On %(date)s it was found to be a complaint or denunciation.", date=when),
            event.reason,
        )
    return None


def timeline(case: FeedbackCase) -> list[Line]:
    """The case's history in plain sentences, oldest first, starting with its receipt."""
    received = _day(case.received_at)
    lines = [
        Line(
            received,
            _(
                "On %(date)s your %(kind)s was received.",
                date=local_date(received),
                kind=_("report") if case.kind == CaseKind.report else _("proposal"),
            ),
        )
    ]
    for event in case.events:
        said = _sentence(event)
        if said is not None:
            lines.append(Line(_day(event.at), said[0], said[1]))
    return lines


@dataclass(frozen=True)
class CitizenDeadline:
    """The deadline that matters to the citizen: when the answer is due."""

    #: ``answer`` (the answer's due date), ``expected`` (the latest the answer can be due
    #: if the case is accepted in time), ``paused``, ``publish`` (approved: the date it
    #: is sent by), ``answered`` (done: the day it was published) or ``none``.
    kind: str
    on: date | None = None
    #: The step before the answer's clock starts (screening or a transfer) and its due date.
    step_due: date | None = None


def deadline(case: FeedbackCase) -> CitizenDeadline:
    """When the answer is due, counted in working days as the workflow counts them.

    Before the answer's clock runs (screening, or a transfer back to the coordinators),
    the answer is due at the latest ``FEEDBACK_ANSWER_DAYS`` working days after the
    current step's own due date: that is the date shown, marked as the latest.
    """
    state = case.state
    if state in (S.rejected, S.redirected_complaint):
        return CitizenDeadline("none")
    if state in (S.published, S.closed):
        return CitizenDeadline("answered", _day(case.published_at) if case.published_at else None)
    if state == S.needs_info or case.due_on is None:
        return CitizenDeadline("paused" if state == S.needs_info else "none")
    if state in (S.submitted, S.screening) or (state == S.transferred and case.agency_id is None):
        answer_days = current_app.config["FEEDBACK_ANSWER_DAYS"]
        latest = work_calendar().add_working_days(case.due_on, answer_days)
        return CitizenDeadline("expected", latest, step_due=case.due_on)
    if state == S.approved:
        return CitizenDeadline("publish", case.due_on)
    return CitizenDeadline("answer", case.due_on)
