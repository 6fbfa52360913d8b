"""Case events as the feed sends them: their types, their payloads, and the hook
that records them.

The hook is a ``before_flush`` listener on every session: a new
:class:`~survey_app.feedback.models.FeedbackCase` is a ``case.received`` event,
and each new :class:`~survey_app.feedback.models.CaseEvent` (every transition,
extension or any step added later writes one) is the event its action says. So
the workflow needs no call of its own, and the feed event, with its deliveries,
is written in the same flush, hence the same transaction, as the change: it
exists exactly when the change is committed.

The payload holds **no personal data**: no name, phone, e-mail, address, the
citizen's text, the reasons staff typed, the case's code (which with the
tracking number opens the case) or the tracking secret. It carries the random
``public_id`` (Open311's ``service_request_id``), codes and names of the agency,
procedure and field, states, instants and the due date; a ``case.published``
event adds the question as published (confirmed by staff, refused if it holds
personal data) and the answer as published (redacted on publication).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..agencies.models import Agency
from ..core.time import now_utc
from ..feedback.models import CaseEvent, CaseState, FeedbackCase, new_public_id
from .models import FeedDelivery, FeedEvent, WebhookSubscription

S = CaseState

#: Version of the payload's shape; a change that removes or renames a field bumps it.
PAYLOAD_VERSION = "1"

#: Every event type, with what it means (docs/FEED.md and the admin page list them).
EVENT_TYPES: dict[str, str] = {
    "case.received": "a new case was received (any channel)",
    "case.screening": "screening started",
    "case.info_requested": "the citizen was asked for information (the clock stops)",
    "case.info_received": "the citizen's information arrived; screening resumes",
    "case.rejected": "the case was not accepted",
    "case.redirected_complaint": "the case is a complaint or denunciation, redirected",
    "case.transferred": "the case went to another agency or back to the coordinators",
    "case.accepted": "an agency accepted the case and will answer it",
    "case.assigned": "the case was given to a handler",
    "case.in_progress": "the handler is working on the answer",
    "case.answered": "an answer was written, awaiting approval",
    "case.approved": "the answer was approved, awaiting publication",
    "case.published": "the answer was published (the payload carries it)",
    "case.closed": "the case was closed",
    "case.reopened": "a published or closed case was reopened",
    "case.deadline_extended": "the answer deadline was extended (once)",
    "case.reclassified": "a coordinator changed what the case is: report, proposal, or a "
    "complaint redirected (or back)",
}

_ACTION = re.compile(r"[a-z][a-z0-9_]{0,40}")


def event_type(action: str, from_state: CaseState | None, to_state: CaseState | None) -> str:
    """The feed's type for a timeline event (an action added later, such as a
    reclassification, becomes ``case.<action>``)."""
    if action == "extended":
        return "case.deadline_extended"
    if action == "reclassified":  # report ↔ proposal, or to or from a redirected complaint
        return "case.reclassified"
    if to_state == S.needs_info:
        return "case.info_requested"
    if from_state == S.needs_info and to_state == S.screening:
        return "case.info_received"
    if to_state == S.in_progress and from_state in (S.published, S.closed):
        return "case.reopened"
    if to_state is not None and to_state != from_state:
        return f"case.{to_state.value}"
    return f"case.{action}" if _ACTION.fullmatch(action or "") else "case.updated"


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _coded(obj) -> dict | None:
    return {"code": obj.code, "name": obj.name} if obj is not None else None


def payload(
    uid: str,
    type_: str,
    case: FeedbackCase,
    occurred_at: datetime,
    previous_state: CaseState | None = None,
    previous_agency: Agency | None = None,
) -> dict:
    """The event as it is sent (webhook body, pull-feed item): no personal data.

    :param previous_agency: the agency the case left (a transfer), if it changed.
    """
    body = {
        "id": uid,
        "type": type_,
        "version": PAYLOAD_VERSION,
        "occurred_at": occurred_at.isoformat(),
        "case": {
            "public_id": case.public_id,
            "kind": case.kind.value,
            "channel": case.channel.value,
            "state": (case.state or S.submitted).value,
            "previous_state": previous_state.value if previous_state else None,
            "agency": _coded(case.agency),
            "previous_agency": _coded(previous_agency),
            "procedure": _coded(case.procedure),
            "field": _coded(case.field),
            "received_at": _when(case.received_at),
            "due_on": _when(case.due_on),
            "answered_at": _when(case.answered_at),
            "published_at": _when(case.published_at),
            "closed_at": _when(case.closed_at),
            "citizen_verdict": case.citizen_verdict.value if case.citizen_verdict else None,
        },
        "published_answer": None,
    }
    if type_ == "case.published":
        body["published_answer"] = {
            "question": case.public_summary,
            "answer": case.public_answer,
            "published_at": _when(case.published_at),
        }
    return body


def dumps(body: dict) -> str:
    """The exact text sent and signed: compact UTF-8 JSON."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _new_event(
    session: Session,
    subscriptions: list[WebhookSubscription],
    type_: str,
    case: FeedbackCase,
    occurred_at: datetime,
    **context,
) -> FeedEvent:
    uid = str(uuid.uuid4())
    record = FeedEvent(
        uid=uid,
        type=type_,
        case=case,
        agency_id=case.agency.id if case.agency is not None else None,
        occurred_at=occurred_at,
        payload=dumps(payload(uid, type_, case, occurred_at, **context)),
    )
    session.add(record)
    for subscription in subscriptions:
        if subscription.wants(type_):
            session.add(
                FeedDelivery(
                    subscription_id=subscription.id, event=record, next_attempt_at=occurred_at
                )
            )
    return record


#: ``session.info`` key: the ``case.received`` events of this transaction whose case
#: is still in the state it was received in, as (case, event, state). A new case is
#: often flushed early (a query while it is being set up autoflushes it, before its
#: due date is computed): its payload is built again at each later flush and at
#: commit, until its state changes (then the event stays the case as received).
_RECEIVED = "feed_received"


def _refresh_received(session: Session) -> None:
    """Rebuild the payloads of this transaction's ``case.received`` events from their
    cases as they are now, for the cases still in the state they were received in."""
    pending = session.info.get(_RECEIVED)
    if not pending:
        return
    keep = []
    changed = session.dirty  # (computed once: a transaction may file many cases)
    for case, record, state in pending:
        if (case.state or S.submitted) != state:
            continue
        keep.append((case, record, state))
        if case not in changed:
            continue  # not changed since its payload was built
        body = dumps(payload(record.uid, record.type, case, record.occurred_at))
        if body != record.payload:
            record.payload = body
        agency_id = case.agency.id if case.agency is not None else None
        if agency_id != record.agency_id:
            record.agency_id = agency_id
    session.info[_RECEIVED] = keep


def _before_flush(session: Session, flush_context, instances) -> None:
    """Record a feed event for each new case and each new timeline event (see the module)."""
    cases = [obj for obj in session.new if isinstance(obj, FeedbackCase)]
    steps = [obj for obj in session.new if isinstance(obj, CaseEvent)]
    if not cases and not steps and not session.info.get(_RECEIVED):
        return
    with session.no_autoflush:
        _refresh_received(session)
        if not cases and not steps:
            return
        # FOR KEY SHARE (PostgreSQL): a subscription being deleted at this moment is
        # either seen gone or waits for this transaction, never a foreign-key error
        # that would lose the case's change
        subscriptions = list(
            session.scalars(
                select(WebhookSubscription)
                .where(WebhookSubscription.active.is_(True))
                .with_for_update(read=True, key_share=True)
            )
        )
        for case in cases:
            if not case.public_id:  # (the column default would only fill it on INSERT)
                case.public_id = new_public_id()
            record = _new_event(
                session, subscriptions, "case.received", case, case.received_at or now_utc()
            )
            session.info.setdefault(_RECEIVED, []).append((case, record, case.state or S.submitted))
        for step in steps:
            case = step.case
            if case is None and step.case_id is not None:
                case = session.get(FeedbackCase, step.case_id)
            if case is None:
                continue
            if step.at is None:
                step.at = now_utc()
            previous = None
            # (the relationship, not case.agency_id: that column is only set by this flush)
            now_at = case.agency.id if case.agency is not None else None
            if step.from_agency_id is not None and step.from_agency_id != now_at:
                previous = session.get(Agency, step.from_agency_id)
            _new_event(
                session,
                subscriptions,
                event_type(step.action, step.from_state, step.to_state),
                case,
                step.at,
                previous_state=step.from_state,
                previous_agency=previous,
            )


def _before_commit(session: Session) -> None:
    with session.no_autoflush:
        _refresh_received(session)


def _forget(session: Session, *args) -> None:
    session.info.pop(_RECEIVED, None)


def install() -> None:
    """Listen to every session's flushes (once per process)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_commit", _forget)
        event.listen(Session, "after_rollback", _forget)
