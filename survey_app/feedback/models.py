"""Phản ánh, kiến nghị (reports and proposals on administrative procedures).

One model for every channel. The workflow's states and allowed transitions
live in :mod:`survey_app.feedback.workflow`; this module only stores them.
"""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..agencies.models import Agency, Procedure, ProcedureField
from ..auth.models import User
from ..core.db import UTCDateTime
from ..core.time import now_utc
from ..extensions import db


class CaseKind(enum.StrEnum):
    report = "report"  #: phản ánh: about a regulation or how it is carried out
    proposal = "proposal"  #: kiến nghị: a proposal to change a regulation or practice


class CaseState(enum.StrEnum):
    submitted = "submitted"
    screening = "screening"
    rejected = "rejected"
    needs_info = "needs_info"
    redirected_complaint = "redirected_complaint"
    transferred = "transferred"
    accepted = "accepted"
    assigned = "assigned"
    in_progress = "in_progress"
    answered = "answered"
    approved = "approved"
    published = "published"
    closed = "closed"


class CaseChannel(enum.StrEnum):
    web = "web"  #: the public form
    survey = "survey"  #: turned from a survey suggestion
    paper = "paper"  #: written, entered by staff
    phone = "phone"  #: by phone, entered by staff
    email = "email"  #: by e-mail, entered by staff
    api = "api"  #: JSON API or Open311


class CitizenVerdict(enum.StrEnum):
    agree = "agree"
    disagree = "disagree"


class CalendarOverride(db.Model):
    """An admin's day: one the package and the announcements data get wrong or do not
    know yet (it wins over both, :mod:`survey_app.feedback.workdays`)."""

    __tablename__ = "calendar_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    #: True: a working day (e.g. a swapped Saturday); False: a day off.
    is_working_day: Mapped[bool] = mapped_column(Boolean)
    #: Why (the instrument, e.g. "Công văn …/VPCP-KGVX"), shown on the calendar page.
    note: Mapped[str] = mapped_column(String(255), default="")
    #: When the day was last set.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: Who last set it (NULL for days set before this was recorded, or an erased account).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    created_by: Mapped[User | None] = relationship()


#: Letters of the public id: no 0/O or 1/I to confuse.
PUBLIC_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
#: 16 characters of 32: 80 random bits, so public ids cannot be walked or guessed.
PUBLIC_ID_LENGTH = 16


def new_public_id() -> str:
    """A random public identifier for a case (public lists and Open311)."""
    return "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))


class FeedbackCase(db.Model):
    """A report or proposal, from intake to publication.

    **Complaints and denunciations** (khiếu nại, tố cáo) are recorded here too, never
    processed (:mod:`survey_app.feedback.complaints`). The classification is
    ``state``: ``redirected_complaint`` means "a complaint or denunciation, redirected"
    (clock stopped, ``public_reason`` says where to go, ``closed_at`` set); any other
    state means a report or proposal, whose ``kind`` says which. A redirect keeps
    ``kind``, so it can be undone: :func:`~survey_app.feedback.complaints.reclassify`
    (coordinators and admins) moves a case either way — to ``redirected_complaint``
    from any state before the answer, back to ``screening`` with a new screening clock
    — or swaps report and proposal, each time with a ``reclassified`` event and a
    ``reclassify`` audit line. Nothing is deleted. Records the citizen made by choosing
    or confirming "complaint" have codes ``KT-…`` and no name, contact or address.
    """

    __tablename__ = "feedback_cases"
    __table_args__ = (
        Index("ix_feedback_cases_agency_state", "agency_id", "state"),
        Index("ix_feedback_cases_state_due", "state", "due_on"),
        Index("ix_feedback_cases_received", "received_at"),
        # an index, not a constraint: SQLite adds it without copying the table
        Index("uq_feedback_cases_submit_key_hash", "submit_key_hash", unique=True),
        Index("uq_feedback_cases_public_id", "public_id", unique=True),
        Index("ix_feedback_cases_published_at", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Human-friendly code the citizen tracks the case with, e.g. ``PA-26-K7Q2MX``;
    #: never shown in public lists (with the tracking number it opens the case).
    code: Mapped[str] = mapped_column(String(20), unique=True)
    #: Random id that public lists and Open311 show instead of the code (every row has
    #: one: the default here and the migration's backfill).
    public_id: Mapped[str | None] = mapped_column(String(24), default=new_public_id)
    #: Keyed hash of the tracking secret given to the citizen.
    secret_hash: Mapped[str] = mapped_column(String(64))
    #: SHA-256 of the public form's submission key with the text sent: the same form
    #: sent twice (a double click, Send again after the back button) is one case.
    submit_key_hash: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[CaseKind] = mapped_column(Enum(CaseKind, native_enum=False, length=16))
    state: Mapped[CaseState] = mapped_column(
        Enum(CaseState, native_enum=False, length=24), default=CaseState.submitted
    )
    channel: Mapped[CaseChannel] = mapped_column(Enum(CaseChannel, native_enum=False, length=16))
    procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedures.id"), index=True)
    field_id: Mapped[int | None] = mapped_column(ForeignKey("procedure_fields.id"))
    #: The agency currently responsible; NULL while in the coordinators' queue.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    # -- personal data (erased by the retention purge) --
    submitter_name: Mapped[str | None] = mapped_column(String(255))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(String(500))
    #: When a consent was recorded (staff intake on paper or by phone, an integrating
    #: portal). Handling the case does not rest on consent (NĐ 20/2008; NĐ 13/2023
    #: Art. 17): the public form shows a notice and asks none, so NULL there.
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contact_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # -- origin --
    response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # -- clock (dates are local working days; *_at are instants) --
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: Start of the step the current due date measures from (local date).
    clock_start_on: Mapped[date] = mapped_column(Date)
    #: Working days allowed for the current step.
    clock_days: Mapped[int] = mapped_column(Integer)
    #: Working days the clock stood still in the current step (waiting for the citizen).
    paused_days: Mapped[int] = mapped_column(Integer, default=0)
    #: Local date the current pause began; NULL when the clock runs.
    paused_since: Mapped[date | None] = mapped_column(Date)
    #: Current due date (NULL while paused or when no step is running).
    due_on: Mapped[date | None] = mapped_column(Date)
    extension_days: Mapped[int] = mapped_column(Integer, default=0)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    # -- outcome --
    #: Reason shown to the citizen for a rejection, a request for information or a redirect.
    public_reason: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    #: The question as published: the content without personal data (set by staff).
    public_summary: Mapped[str | None] = mapped_column(Text)
    #: When staff confirmed that ``public_summary`` holds no personal data; an edit
    #: without a new confirmation clears it. Publishing needs it (who: the audit log).
    public_summary_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The answer as published: ``answer`` with personal data masked, set on publication
    #: and cleared when the case is reopened. Public pages and Open311 show only this.
    public_answer: Mapped[str | None] = mapped_column(Text)
    #: Words of the published procedure, question and answer, folded (no diacritics),
    #: for the public search; NULL unless published. A full-text index on PostgreSQL.
    search_text: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    citizen_verdict: Mapped[CitizenVerdict | None] = mapped_column(
        Enum(CitizenVerdict, native_enum=False, length=16)
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)
    #: Optimistic locking: a concurrent update of the same case fails instead of
    #: silently overwriting the other staff member's change.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    procedure: Mapped[Procedure | None] = relationship()
    field: Mapped[ProcedureField | None] = relationship()
    agency: Mapped[Agency | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<FeedbackCase {self.code} {self.state}>"


class CaseEvent(db.Model):
    """One line of a case's timeline: who did what, when and why."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_cases.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: NULL for the citizen or the system.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[CaseState | None] = mapped_column(
        Enum(CaseState, native_enum=False, length=24)
    )
    to_state: Mapped[CaseState | None] = mapped_column(
        Enum(CaseState, native_enum=False, length=24)
    )
    from_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    to_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    #: Why (a transfer's reason, a rejection's legal ground…).
    reason: Mapped[str | None] = mapped_column(Text)
    #: Internal note, never shown to the citizen.
    note: Mapped[str | None] = mapped_column(Text)
    #: Working days this step took, charged to ``from_agency_id`` (time at a wrong agency).
    working_days: Mapped[int | None] = mapped_column(Integer)

    case: Mapped[FeedbackCase] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
    from_agency: Mapped[Agency | None] = relationship(foreign_keys=[from_agency_id])
    to_agency: Mapped[Agency | None] = relationship(foreign_keys=[to_agency_id])


class TrackingGuard(db.Model):
    """Wrong tracking numbers entered for one case, and the pause they cause
    (:mod:`survey_app.feedback.tracking`).

    Apart from the case's row: a guess must neither change the case's version (staff
    pages would turn stale) nor wait for a colleague's change to the case.
    """

    __tablename__ = "case_tracking_guards"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_cases.id", ondelete="CASCADE"), primary_key=True
    )
    #: Wrong numbers since the last pause or the last right number.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    #: Tracking with the number is paused until then; NULL or past: not paused.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Every wrong number entered for the case (shown to staff).
    total_failures: Mapped[int] = mapped_column(Integer, default=0)
    #: How many times tracking was paused.
    locks: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Attachment(db.Model):
    """A file attached to a case, stored outside the web root under a random name."""

    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_cases.id", ondelete="CASCADE"), index=True
    )
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    #: Detected from the content, not the name.
    mimetype: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    case: Mapped[FeedbackCase] = relationship(back_populates="attachments")


class RoutingRule(db.Model):
    """Where new cases go: by procedure, else by field; unmatched → coordinators."""

    __tablename__ = "routing_rules"
    __table_args__ = (
        UniqueConstraint("procedure_id", name="uq_routing_rules_procedure"),
        UniqueConstraint("field_id", name="uq_routing_rules_field"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_id: Mapped[int | None] = mapped_column(
        ForeignKey("procedures.id", ondelete="CASCADE")
    )
    field_id: Mapped[int | None] = mapped_column(
        ForeignKey("procedure_fields.id", ondelete="CASCADE")
    )
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))

    agency: Mapped[Agency] = relationship()
    procedure: Mapped[Procedure | None] = relationship()
    field: Mapped[ProcedureField | None] = relationship()


class AnswerTemplate(db.Model):
    """A canned answer an agency reuses."""

    __tablename__ = "answer_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)

    agency: Mapped[Agency | None] = relationship()


class AuditLog(db.Model):
    """Who read a case's personal data or changed a case, and when (viewable by admins)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_case_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: ``read_personal_data``, ``export``, ``transition``, ``answer``, ``purge``…
    action: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback_cases.id", ondelete="SET NULL")
    )
    detail: Mapped[str] = mapped_column(Text, default="")
    #: The staff account an administrator's action was about (created, role changed, unlocked…).
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    case: Mapped[FeedbackCase | None] = relationship()
    target_user: Mapped[User | None] = relationship(foreign_keys=[target_user_id])


class OutboxMessage(db.Model):
    """A notification waiting to be sent by ``flask outbox send`` (e-mail, SMS or Zalo),
    retried with back-off."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "send_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: How it goes: ``email``, ``sms`` or ``zalo`` (the recipient is then a phone number).
    channel: Mapped[str] = mapped_column(String(10), default="email", server_default="email")
    recipient: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    #: Makes enqueueing idempotent: a reminder for the same case and due date is queued once.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    send_after: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: A file sent with the message (a report's PDF), its name and MIME type; in the
    #: database, so any server may send it. Emptied once delivered, as the body is.
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    attachment_name: Mapped[str | None] = mapped_column(String(255))
    attachment_type: Mapped[str | None] = mapped_column(String(100))
    #: What it says (``received``, ``needs_info``, ``reminder``…): picks the Zalo template.
    kind: Mapped[str | None] = mapped_column(String(30))
    #: Zalo: the template's parameters (JSON); emptied once delivered, as the body is.
    payload: Mapped[str | None] = mapped_column(Text)
    #: SMS: ``gsm7`` or ``ucs2`` and the number of parts (notifications.segments).
    encoding: Mapped[str | None] = mapped_column(String(10))
    segments: Mapped[int | None] = mapped_column(Integer)
    #: ``queued``, ``sent`` (the provider took it), ``delivered`` / ``failed`` (its
    #: delivery report, or given up on; ``last_error`` says why) or ``opted_out``.
    status: Mapped[str] = mapped_column(String(12), default="queued", server_default="queued")
    #: The provider's id of the message, which its delivery reports quote.
    provider_id: Mapped[str | None] = mapped_column(String(100), index=True)
    #: When the status last changed (the delivery report's arrival).
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RetentionMark(db.Model):
    """How far a retention step has got, so that each run of ``flask feedback purge``
    only reads what became old since the last one (survey comments, report snapshots)."""

    __tablename__ = "retention_marks"

    #: The step, e.g. ``survey_comments``.
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: Everything dated before this instant has been processed.
    done_until: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)


# The staff queue's order (due first, no due date last): an index in exactly that
# order lets both databases stop at the page's LIMIT instead of sorting every
# visible case (bench/feedback_queue.md, finding 1).
Index(
    "ix_feedback_cases_queue_order",
    FeedbackCase.due_on.is_(None),
    FeedbackCase.due_on,
    FeedbackCase.id,
)
Index(
    "ix_feedback_cases_agency_queue_order",
    FeedbackCase.agency_id,
    FeedbackCase.due_on.is_(None),
    FeedbackCase.due_on,
    FeedbackCase.id,
)
# The public search of published answers (feedback.published): a full-text index of the
# folded words, PostgreSQL only (SQLite searches the few published rows with LIKE).
Index(
    "ix_feedback_cases_search",
    func.to_tsvector(text("'simple'::regconfig"), FeedbackCase.search_text),
    postgresql_using="gin",
    postgresql_where=FeedbackCase.search_text.is_not(None),
).ddl_if(dialect="postgresql")
