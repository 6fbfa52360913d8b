"""Subscriptions, retries, the pull feed's order and cursor, and pruning.

Services flush; the view or command commits.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from ..agencies.models import Agency
from ..agencies.services import subtree_filter
from ..auth.models import User
from ..core.time import now_utc
from ..extensions import db
from ..feedback.audit import record
from .models import DeliveryStatus, FeedDelivery, FeedEvent, FeedSequence, WebhookSubscription

#: Prefix of generated secrets, so a leaked one is recognised for what it is.
SECRET_PREFIX = "whsec_"
#: A secret typed by an admin (one the receiver made): printable ASCII, no spaces.
SECRET_PATTERN = re.compile(r"[\x21-\x7e]{24,128}")
#: Events given their position per call of :func:`sequence`.
SEQUENCE_BATCH = 5000


def new_secret() -> str:
    """A signing secret: 256 random bits."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


# -- subscriptions ----------------------------------------------------------------------------


def create_subscription(
    user: User | None,
    name: str,
    url: str,
    event_types: list[str],
    secret: str | None = None,
    active: bool = True,
) -> tuple[WebhookSubscription, str]:
    """Add a receiver (the URL is assumed checked, :func:`.delivery.url_problem`).

    :param secret: one the receiver made; None: a new one is generated.
    :return: the subscription and its secret, to show once.
    """
    secret = secret or new_secret()
    subscription = WebhookSubscription(
        name=name.strip(),
        url=url.strip(),
        secret=secret,
        event_types=" ".join(sorted(set(event_types))),
        active=active,
        created_by_id=user.id if user else None,
    )
    db.session.add(subscription)
    db.session.flush()
    record(
        user,
        "webhook_created",
        detail=f"#{subscription.id} {subscription.name}: {subscription.url}",
    )
    return subscription, secret


def update_subscription(
    user: User | None,
    subscription: WebhookSubscription,
    name: str,
    url: str,
    event_types: list[str],
    active: bool,
) -> None:
    """Change a receiver's name, URL, event types or whether it is sent anything."""
    subscription.name = name.strip()
    subscription.url = url.strip()
    subscription.event_types = " ".join(sorted(set(event_types)))
    subscription.active = active
    db.session.flush()
    state = "active" if active else "paused"
    record(
        user,
        "webhook_changed",
        detail=f"#{subscription.id} {subscription.name}: {subscription.url}, {state}",
    )


def rotate_secret(user: User | None, subscription: WebhookSubscription) -> str:
    """Give the subscription a new secret (shown once); every later attempt is signed with it."""
    subscription.secret = new_secret()
    subscription.secret_set_at = now_utc()
    db.session.flush()
    record(user, "webhook_secret_rotated", detail=f"#{subscription.id} {subscription.name}")
    return subscription.secret


def delete_subscription(user: User | None, subscription: WebhookSubscription) -> None:
    """Remove a receiver and its deliveries (the events stay, in the pull feed)."""
    record(
        user,
        "webhook_deleted",
        detail=f"#{subscription.id} {subscription.name}: {subscription.url}",
    )
    db.session.execute(delete(FeedDelivery).where(FeedDelivery.subscription_id == subscription.id))
    db.session.delete(subscription)
    db.session.flush()


def retry(user: User | None, deliveries: list[FeedDelivery]) -> int:
    """Send failed deliveries again at the next ``flask feed send``, with a full round of
    attempts; return how many."""
    count = 0
    for delivery in deliveries:
        if delivery.status != DeliveryStatus.failed:
            continue
        delivery.status = DeliveryStatus.pending
        delivery.attempts = 0
        delivery.next_attempt_at = now_utc()
        count += 1
    if count:
        db.session.flush()
        ids = ", ".join(str(d.id) for d in deliveries[:20])
        record(user, "webhook_retry", detail=f"{count} deliveries: {ids}")
    return count


def counts_by_status(subscription: WebhookSubscription) -> dict[str, int]:
    """``{"pending": n, "delivered": n, "failed": n}`` for one subscription."""
    rows = db.session.execute(
        select(FeedDelivery.status, func.count())
        .where(FeedDelivery.subscription_id == subscription.id)
        .group_by(FeedDelivery.status)
    )
    found = {status.value: 0 for status in DeliveryStatus}
    found.update({DeliveryStatus(status).value: n for status, n in rows})
    return found


# -- the pull feed ----------------------------------------------------------------------------


class CursorError(ValueError):
    """A cursor this feed never gave; the message says so."""


_CURSOR = re.compile(r"[A-Za-z0-9_-]{1,40}")
_CURSOR_BODY = re.compile(r"p([0-9]{1,15})")


def encode_cursor(position: int) -> str:
    """An opaque cursor for "after this position"."""
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The position a cursor stands for (0: none given, the beginning).

    :raises CursorError: not a cursor of this feed.
    """
    if cursor is None or cursor == "":
        return 0
    message = str(
        _l(
            "The cursor is not one this feed gave: use next_cursor from an earlier page, or no cursor to start from the beginning."
        )
    )
    if not _CURSOR.fullmatch(cursor):
        raise CursorError(message)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError) as exc:
        raise CursorError(message) from exc
    match = _CURSOR_BODY.fullmatch(raw)
    if match is None:
        raise CursorError(message)
    return int(match.group(1))


def _sequence_row() -> FeedSequence:
    """The counter row, locked (a write takes SQLite's lock, and the row's on PostgreSQL)."""
    locked = db.session.execute(
        update(FeedSequence)
        .where(FeedSequence.id == 1)
        .values(last_position=FeedSequence.last_position)
        .execution_options(synchronize_session=False)
    )
    if locked.rowcount:
        return db.session.get(FeedSequence, 1, populate_existing=True)
    start = db.session.scalar(select(func.coalesce(func.max(FeedEvent.position), 0)))
    try:
        with db.session.begin_nested():
            row = FeedSequence(id=1, last_position=start)
            db.session.add(row)
        return row
    except IntegrityError:  # another process made it at the same moment
        return _sequence_row()


def sequence(limit: int = SEQUENCE_BATCH) -> int:
    """Give the committed events that have no position yet the next positions, in the
    order of their ids; return how many.

    Only committed events are visible here, and the counter row stays locked until
    the caller commits, so positions follow the order in which events became
    visible: a reader that has seen position *n* never later finds a new event
    before *n*.
    """
    if not db.session.scalar(select(exists().where(FeedEvent.position.is_(None)))):
        return 0
    row = _sequence_row()
    ids = db.session.scalars(
        select(FeedEvent.id).where(FeedEvent.position.is_(None)).order_by(FeedEvent.id).limit(limit)
    ).all()
    if ids:
        start = row.last_position
        db.session.execute(
            update(FeedEvent),
            [{"id": event_id, "position": start + n} for n, event_id in enumerate(ids, 1)],
        )
        row.last_position = start + len(ids)
    db.session.flush()
    return len(ids)


@dataclass(frozen=True)
class Page:
    events: list[FeedEvent]
    #: Position of the last event returned (or the cursor's, when none was).
    last: int
    has_more: bool


def page(after: int, limit: int, within: Agency | None = None) -> Page:
    """Up to ``limit`` events after position ``after``, in order.

    :param within: only events whose agency (after the event) is this one or below it.
    """
    stmt = (
        select(FeedEvent)
        .where(FeedEvent.position.is_not(None), FeedEvent.position > after)
        .order_by(FeedEvent.position)
        .limit(limit + 1)
    )
    if within is not None:
        stmt = stmt.where(FeedEvent.agency_id.in_(select(Agency.id).where(subtree_filter(within))))
    events = db.session.scalars(stmt).all()
    shown = events[:limit]
    return Page(
        events=list(shown),
        last=shown[-1].position if shown else after,
        has_more=len(events) > limit,
    )


# -- pruning ----------------------------------------------------------------------------------


def prune(before: datetime) -> tuple[int, int]:
    """Delete events that occurred before ``before`` and have no delivery still being
    tried, with their deliveries; return (events, deliveries) deleted."""
    pending = exists().where(
        FeedDelivery.event_id == FeedEvent.id, FeedDelivery.status == DeliveryStatus.pending
    )
    old = select(FeedEvent.id).where(FeedEvent.occurred_at < before, ~pending)
    deliveries = db.session.execute(
        delete(FeedDelivery).where(FeedDelivery.event_id.in_(old)),
        execution_options={"synchronize_session": False},
    ).rowcount
    events = db.session.execute(
        delete(FeedEvent).where(FeedEvent.occurred_at < before, ~pending),
        execution_options={"synchronize_session": False},
    ).rowcount
    return events or 0, deliveries or 0
