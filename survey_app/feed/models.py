"""The outgoing feed: case events, webhook subscriptions and their deliveries.

A :class:`FeedEvent` is written in the transaction that changes the case (see
:mod:`.events`), with one :class:`FeedDelivery` per active subscription that
wants its type, so an event exists exactly when its change was committed and no
delivery is ever lost. Payloads hold no personal data (:func:`.events.payload`).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..core.db import UTCDateTime
from ..core.time import now_utc
from ..extensions import db
from ..feedback.models import FeedbackCase


class FeedEvent(db.Model):
    """One thing that happened to a case, as the outside world may see it."""

    __tablename__ = "feed_events"
    __table_args__ = (
        # the few events not yet given their place in the pull feed (see services.sequence)
        Index(
            "ix_feed_events_unsequenced",
            "id",
            sqlite_where=text("position IS NULL"),
            postgresql_where=text("position IS NULL"),
        ),
        Index("uq_feed_events_position", "position", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random id sent with the event (``X-HaiLong-Event-Id``, the payload's ``id``): a
    #: receiver that has already processed it ignores a second delivery.
    uid: Mapped[str] = mapped_column(String(40), unique=True)
    #: ``case.received``, ``case.transferred``, ``case.published``… (:data:`.events.EVENT_TYPES`).
    type: Mapped[str] = mapped_column(String(60))
    #: The case; NULL if it was deleted since (the event stays as it was sent).
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback_cases.id", ondelete="SET NULL"), index=True
    )
    #: The agency responsible after the event (an agency-limited key sees only its subtree's).
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="SET NULL"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)
    #: The JSON body sent to webhooks and returned by the pull feed, as sent (no personal data).
    payload: Mapped[str] = mapped_column(Text)
    #: Place in the pull feed, given once the event's transaction is committed, in the
    #: order of commits (ids are taken in the order of inserts, which concurrent
    #: transactions commit in any order: a reader following ids could skip one).
    position: Mapped[int | None] = mapped_column(Integer)

    case: Mapped[FeedbackCase | None] = relationship()


class FeedSequence(db.Model):
    """The pull feed's last position: one row, locked while positions are given."""

    __tablename__ = "feed_sequence"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_position: Mapped[int] = mapped_column(Integer, default=0)


class WebhookSubscription(db.Model):
    """A receiver of signed webhooks (the province's data-sharing platform, LGSP/NDXP)."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    #: Where events are POSTed (https in production; see :func:`.delivery.check_url`).
    url: Mapped[str] = mapped_column(String(2000))
    #: The signing secret; the receiver holds the same. Shown to the admin once, when made.
    secret: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Event types sent, space-separated; empty: every type.
    event_types: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: When the secret was last set (made or rotated).
    secret_set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    created_by: Mapped[User | None] = relationship()

    @property
    def types(self) -> list[str]:
        return self.event_types.split()

    def wants(self, event_type: str) -> bool:
        """True if this subscription is sent events of ``event_type``."""
        return not self.event_types or event_type in self.types


class DeliveryStatus(enum.StrEnum):
    pending = "pending"  #: waiting for its (next) attempt
    delivered = "delivered"  #: the receiver answered 2xx
    failed = "failed"  #: given up after the last attempt; an admin may retry it


class FeedDelivery(db.Model):
    """One event to one subscription: attempts, back-off and the last error."""

    __tablename__ = "feed_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_feed_deliveries_event"),
        Index("ix_feed_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int] = mapped_column(
        ForeignKey("feed_events.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, native_enum=False, length=16), default=DeliveryStatus.pending
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The HTTP status of the last attempt (NULL: no answer: refused, timed out…).
    last_status: Mapped[int | None] = mapped_column(Integer)
    #: Why the last attempt failed, shown to admins (the start of the receiver's answer).
    last_error: Mapped[str | None] = mapped_column(Text)

    subscription: Mapped[WebhookSubscription] = relationship()
    event: Mapped[FeedEvent] = relationship()
