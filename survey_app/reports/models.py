"""Published reports, frozen: what leaders were shown stays what they were shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Role, User
from ..core.db import UTCDateTime
from ..core.time import now_utc
from ..extensions import db


class ReportSnapshot(db.Model):
    """The results of one period's report as published.

    Late responses change the live report, never a snapshot; the live report
    is compared against it to show what changed.
    """

    __tablename__ = "report_snapshots"
    __table_args__ = (Index("ix_report_snapshots_period", "period", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Period label, e.g. ``2022-03``, ``2022-Q1``, ``2022-H1``, ``2022``.
    period: Mapped[str] = mapped_column(String(16))
    #: ``month``, ``quarter``, ``half`` or ``year``.
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The inputs: response count, highest response id, checksum of the volumes.
    fingerprint: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The whole report as computed (services.compute_report).
    results: Mapped[dict[str, Any]] = mapped_column(JSON)

    published_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<ReportSnapshot {self.period} #{self.id}>"


class ReportSubscription(db.Model):
    """Who is sent a kind of periodic report by e-mail once its period has closed
    (``flask report send``, :mod:`.mailing`).

    The recipient is either a role, meaning every active account with it, each
    sent the report of its own scope; or one e-mail address outside the service
    (a leader without an account), sent the province's report.
    """

    __tablename__ = "report_subscriptions"
    __table_args__ = (
        CheckConstraint("(role IS NULL) <> (email IS NULL)", name="one_recipient"),
        # NULLs are distinct: each constraint only binds the rows of its own kind of recipient
        UniqueConstraint("role", "kind"),
        UniqueConstraint("email", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Every active account with this role (None for an e-mail subscription).
    role: Mapped[Role | None] = mapped_column(Enum(Role, native_enum=False, length=20))
    #: An address outside the service, lower-case (None for a role subscription).
    email: Mapped[str | None] = mapped_column(String(255))
    #: ``month``, ``quarter``, ``half`` or ``year``: the report sent when such a period closes.
    kind: Mapped[str] = mapped_column(String(10))
    #: Paused subscriptions are kept but sent nothing.
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<ReportSubscription {self.role or self.email} {self.kind}>"
