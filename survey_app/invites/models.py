"""Result-returned events from the one-stop software, the phones recently invited, and the
counters that online and postal returns are rated at."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..agencies.models import Agency, Counter, Procedure
from ..core.db import UTCDateTime
from ..core.time import now_utc
from ..extensions import db


class ReturnChannel(enum.StrEnum):
    """How the dossier's result went back to the citizen (``Response.return_channel``)."""

    counter = "counter"  #: handed over at a counter
    online = "online"  #: sent electronically (the national or provincial portal)
    post = "post"  #: sent by post (dịch vụ bưu chính công ích)


class Outcome(enum.StrEnum):
    """What the service decided for one event."""

    invited = "invited"  #: an SMS with a short link was queued
    not_sampled = "not_sampled"  #: outside the share invited (``INVITE_SHARE``)
    recently_invited = "recently_invited"  #: the phone was invited within the period
    opted_out = "opted_out"  #: the phone asked for no more messages
    stale = "stale"  #: the result was returned too long ago to ask about it


class InviteEvent(db.Model):
    """One "result returned" event, as received: what it was about and what was decided.

    Holds no phone number and no hash of one (see :class:`InvitePhone`): only
    what the coordinator's counts and the idempotency of re-sends need. (The
    number is one of the inputs of the keyed ``fingerprint`` of the whole event,
    which cannot be searched by number.)
    """

    __tablename__ = "invite_events"
    __table_args__ = (
        UniqueConstraint("api_client_id", "event_id", name="uq_invite_events_client_event"),
        Index("ix_invite_events_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The system that sent it: event ids are unique per sending system.
    api_client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"))
    #: The sender's id of the event: a re-send with the same id is the same event.
    event_id: Mapped[str] = mapped_column(String(100))
    #: Keyed hash of the event's content: a re-send that differs is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id", ondelete="CASCADE"))
    #: The counter a response to the invitation counts for: the one named, or the
    #: agency's online or postal counter (:class:`InviteCounter`).
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id", ondelete="CASCADE"))
    return_channel: Mapped[str] = mapped_column(String(10))
    #: When the one-stop software says the result was returned.
    returned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    outcome: Mapped[Outcome] = mapped_column(Enum(Outcome, native_enum=False, length=20))

    agency: Mapped[Agency] = relationship()
    procedure: Mapped[Procedure] = relationship()
    counter: Mapped[Counter] = relationship()


class InvitePhone(db.Model):
    """A phone invited lately, known only by a keyed hash: one invitation per period.

    The number itself is in the outbox only until the SMS is sent (the gateway
    needs it); here, only the HMAC of its normalised form and the local day of
    its last invitation (a day, not a time, so this row cannot be matched to the
    moment a response came in). ``flask invites purge`` deletes rows whose period
    has passed.
    """

    __tablename__ = "invite_phones"

    #: HMAC-SHA256 of the number in national form (0912345678), keyed from SECRET_KEY.
    phone_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Local day of the last invitation.
    invited_on: Mapped[date] = mapped_column(Date, index=True)


class InviteCounter(db.Model):
    """The counter of an agency that online or postal returns are rated at.

    A response needs a counter (``Response.counter_id``); a dossier returned
    online or by post was not handed over at one. So each agency gets, when its
    first such event arrives, an ordinary counter named for the way of return
    ("Trả kết quả trực tuyến", "Trả kết quả qua bưu chính"): reports show it
    beside the real counters, and ``Response.return_channel`` says the rest.
    """

    __tablename__ = "invite_counters"

    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True
    )
    return_channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    counter_id: Mapped[int] = mapped_column(
        ForeignKey("counters.id", ondelete="CASCADE"), unique=True
    )

    counter: Mapped[Counter] = relationship()
