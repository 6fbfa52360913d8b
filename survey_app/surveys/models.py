"""Questionnaire versions, survey responses and their answers."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..agencies.models import Agency, Counter, Procedure
from ..auth.models import User
from ..core.db import UTCDateTime
from ..core.time import now_utc
from ..extensions import db

#: 64-bit ids on PostgreSQL; SQLite only autoincrements a plain INTEGER primary key.
BigId = BigInteger().with_variant(Integer, "sqlite")


class Channel(enum.StrEnum):
    """How the respondent reached the survey."""

    poster = "poster"  #: scanned the QR poster at the counter
    receipt = "receipt"  #: scanned the per-transaction link printed on the receipt
    kiosk = "kiosk"  #: the tablet at the counter
    web = "web"  #: typed or followed the link elsewhere
    invite = "invite"  #: an SMS/Zalo invitation sent when the dossier's result was returned


class QuestionnaireVersion(db.Model):
    """A version of the questionnaire, loaded from its data file in ``surveys/questionnaires``."""

    __tablename__ = "questionnaire_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: File stem, e.g. ``sipas-2023.1``.
    version: Mapped[str] = mapped_column(String(40), unique=True)
    #: SHA-256 of the file, so an edited file under an old version name is caught.
    checksum: Mapped[str] = mapped_column(String(64))
    #: The whole definition as loaded, kept so old responses stay interpretable.
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class Response(db.Model):
    """One citizen's answers about one transaction at one counter.

    Holds nothing that identifies the respondent: only what fraud review needs
    (timings, a salted daily hash of the client, the counter and the time).
    """

    __tablename__ = "responses"
    __table_args__ = (
        CheckConstraint("overall BETWEEN 1 AND 5", name="overall_range"),
        Index("ix_responses_counter_submitted", "counter_id", "submitted_at"),
        Index("ix_responses_agency_submitted", "agency_id", "submitted_at"),
        # reports and exports read a whole period across every agency
        Index("ix_responses_submitted_at", "submitted_at"),
        # an index, not a constraint: SQLite adds it without copying the table
        Index("uq_responses_start_nonce", "start_nonce", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id", ondelete="RESTRICT"))
    #: The counter's agency when the response was given (counters can move).
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="RESTRICT"))
    #: Known when the response came through a receipt link.
    procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedures.id"), index=True)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"))
    channel: Mapped[Channel] = mapped_column(Enum(Channel, native_enum=False, length=16))
    #: How the dossier's result went back to the citizen, when known (invitations):
    #: ``counter``, ``online`` or ``post``; the analysis may post-stratify by it.
    return_channel: Mapped[str | None] = mapped_column(String(10))
    #: Language the survey was answered in (``vi`` or ``en``).
    language: Mapped[str] = mapped_column(String(8))
    #: Q0, the one-tap overall rating (1–5).
    overall: Mapped[int] = mapped_column(SmallInteger)
    #: When the survey page was shown (from the signed form), for completion time.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the overall rating was tapped: the response counts from here.
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: When the last optional step was saved.
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Trips needed to complete the dossier: 0, 1 or 2 (= two or more).
    trips: Mapped[int | None] = mapped_column(SmallInteger)
    #: Agencies contacted: 1, 2 or 3 (= three or more).
    agencies_contacted: Mapped[int | None] = mapped_column(SmallInteger)
    respondent_type: Mapped[str | None] = mapped_column(String(20))
    age_group: Mapped[str | None] = mapped_column(String(20))
    gender: Mapped[str | None] = mapped_column(String(20))
    #: Free-text suggestion (step 3).
    comment: Mapped[str | None] = mapped_column(Text)
    #: The respondent asked for the suggestion to be handled as formal feedback.
    wants_feedback: Mapped[bool] = mapped_column(default=False)
    #: HMAC of the client address and browser with a daily salt: links taps of one
    #: device within a day for duplicate and burst detection, and nothing more.
    client_hash: Mapped[str] = mapped_column(String(32))
    #: HMAC of the client address alone (an IPv4 address, an IPv6 /64) with a daily
    #: salt: links taps of one address whatever browser string they send, for burst
    #: screening only; erased by the screening two days later (``surveys.screening``).
    address_hash: Mapped[str | None] = mapped_column(String(32))
    #: Left out of reports and exports: caught in a burst by the screening and not
    #: restored by a reviewer (the burst says why, see :class:`ResponseBurst`).
    quarantined: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Submitted from a browser where a staff member was logged in.
    staff_flag: Mapped[bool] = mapped_column(default=False)
    #: SHA-256 of the receipt token used, unique: a token is answered once.
    receipt_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: Random number of the survey page the tap came from, unique: a double tap (two
    #: requests from one page at once, before the browser's session knows of the
    #: first) stores one response.
    start_nonce: Mapped[str | None] = mapped_column(String(32))
    #: Keyed hash of the dossier reference carried by the receipt token.
    dossier_ref_hash: Mapped[str | None] = mapped_column(String(64))

    counter: Mapped[Counter] = relationship()
    agency: Mapped[Agency] = relationship()
    procedure: Mapped[Procedure | None] = relationship()
    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="Answer.item_code"
    )

    @property
    def completion_seconds(self) -> float | None:
        """Seconds from the page being shown to the last step saved (or the tap)."""
        if self.started_at is None:
            return None
        end = self.completed_at or self.submitted_at
        return (end - self.started_at).total_seconds()


class Answer(db.Model):
    """The answer to one questionnaire item; ``value`` NULL means "not applicable"."""

    __tablename__ = "answers"
    __table_args__ = (
        CheckConstraint("value IS NULL OR value BETWEEN 1 AND 5", name="value_range"),
    )

    response_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    #: Item code from the questionnaire version, e.g. ``C3``.
    item_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[int | None] = mapped_column(SmallInteger)

    response: Mapped[Response] = relationship(back_populates="answers")


class Kiosk(db.Model):
    """A tablet at a counter, running the survey full screen for one citizen after another.

    It opens the survey through a signed link that carries this row's id, its
    counter and the number of its current link, so the tablet is locked to that
    counter; revoking the row, replacing the link or the link's last valid day
    passing kills the link (:mod:`.kiosks`). Its responses have the channel
    ``kiosk``, and are judged by the kiosk: a staff login in the tablet's browser
    does not flag them.
    """

    __tablename__ = "kiosks"

    id: Mapped[int] = mapped_column(primary_key=True)
    counter_id: Mapped[int] = mapped_column(
        ForeignKey("counters.id", ondelete="CASCADE"), index=True
    )
    #: Where the tablet stands, for the staff list ("Tablet by counter 3").
    label: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Number of the kiosk's current link: a link carrying another number (issued
    #: before an admin replaced it) no longer opens the kiosk.
    link_generation: Mapped[int] = mapped_column(default=1, server_default="1")
    #: When the link stops working (the end of its last valid local day), set by an
    #: admin; NULL: no end date.
    link_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    counter: Mapped[Counter] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class BurstState(enum.StrEnum):
    """Where a burst caught by the screening stands."""

    quarantined = "quarantined"  #: caught, left out of reports, waiting for a reviewer
    confirmed = "confirmed"  #: a reviewer judged it ballot stuffing: stays out
    restored = "restored"  #: a reviewer judged it genuine: its responses count again


class ResponseBurst(db.Model):
    """Responses at one counter that came faster than the counter's usual rate allows,
    or too many from one address or one browser (``surveys.screening``).

    Its responses are kept but left out of the reports (``Response.quarantined``)
    until a province-wide coordinator or admin restores them; every decision is
    in the audit log.
    """

    __tablename__ = "response_bursts"
    __table_args__ = (Index("ix_response_bursts_state_first", "state", "first_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    counter_id: Mapped[int] = mapped_column(
        ForeignKey("counters.id", ondelete="CASCADE"), index=True
    )
    #: The agency the responses counted for (their ``agency_id``).
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    #: When its first and last response were submitted.
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: The rules that caught it, comma-separated: ``counter`` (the counter's rate),
    #: ``address`` (one address), ``client`` (one address and browser).
    reasons: Mapped[str] = mapped_column(String(60))
    n_responses: Mapped[int] = mapped_column(Integer)
    #: What the reviewer is shown: per rule and window the count, the threshold and the
    #: usual count; how many addresses and browsers sent it; its ratings.
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[BurstState] = mapped_column(
        Enum(BurstState, native_enum=False, length=16), default=BurstState.quarantined
    )
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The reviewer's reason, optional.
    review_note: Mapped[str] = mapped_column(Text, default="")

    counter: Mapped[Counter] = relationship()
    agency: Mapped[Agency] = relationship()
    reviewed_by: Mapped[User | None] = relationship()


class BurstMember(db.Model):
    """A response caught in a burst (at most one burst per response)."""

    __tablename__ = "response_burst_members"

    response_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    burst_id: Mapped[int] = mapped_column(
        ForeignKey("response_bursts.id", ondelete="CASCADE"), index=True
    )


class ScreeningState(db.Model):
    """One row: how far ``flask survey screen`` has screened (and the lock its runs take)."""

    __tablename__ = "screening_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Responses submitted before this were screened by an earlier run.
    screened_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the last run finished its work (wall clock).
    ran_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
