"""Agencies (any depth), counters, the procedure catalogue and dossier volumes."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime
from ..core.time import now_utc
from ..extensions import db


class AgencyKind(enum.StrEnum):
    province = "province"
    department = "department"
    #: A district-level unit (huyện, quận, thị xã): local government has had two tiers,
    #: province and commune, since 1 July 2025; kept for earlier data (the 2022 demo).
    district = "district"
    commune = "commune"
    other = "other"


class Agency(db.Model):
    """A unit of government: the province, a department, a commune…

    The tree has any depth: nothing assumes a number of levels (province → commune since
    July 2025, province → district → commune before). ``path`` holds the ids from the root down
    (``/1/14/203/``) so a subtree is one indexed prefix query on any database.
    """

    __tablename__ = "agencies"
    __table_args__ = (
        # varchar_pattern_ops: PostgreSQL uses the index for ``path LIKE 'prefix%'``
        Index("ix_agencies_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable short code used by imports and exports (e.g. ``SNV`` or ``H-NAMSACH``).
    code: Mapped[str] = mapped_column(String(40), unique=True)
    #: Vietnamese name as it appears on posters and reports.
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[AgencyKind] = mapped_column(
        Enum(AgencyKind, native_enum=False, length=20), default=AgencyKind.other
    )
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="RESTRICT"))
    #: Materialised path of ids, root first, with leading and trailing slashes.
    path: Mapped[str] = mapped_column(String(500), default="/")
    #: Disabled agencies keep their history but get no new counters or responses.
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # -- where complaints and denunciations about it go (khiếu nại, tố cáo): shown to a
    # citizen who is redirected (feedback.complaints.complaint_body); empty: the nearest
    # agency above it that has them, else the province-wide COMPLAINT_BODY_* settings --
    #: The body that receives them, e.g. "Thanh tra Sở Tư pháp" or "Ban Tiếp công dân tỉnh".
    complaint_body_name: Mapped[str | None] = mapped_column(String(255))
    #: Its address for citizens (where to go, where to write).
    complaint_body_address: Mapped[str | None] = mapped_column(String(500))
    #: Its telephone number, as printed for citizens.
    complaint_body_phone: Mapped[str | None] = mapped_column(String(60))

    parent: Mapped[Agency | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Agency]] = relationship(back_populates="parent", order_by="Agency.name")
    counters: Mapped[list[Counter]] = relationship(back_populates="agency", order_by="Counter.name")

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    def is_within(self, other: Agency) -> bool:
        """True if this agency is ``other`` or below it in the tree."""
        return self.path.startswith(other.path)

    def ancestors(self) -> list[Agency]:
        """Agencies from the root down to this one's parent."""
        ids = [int(part) for part in self.path.strip("/").split("/")[:-1] if part]
        if not ids:
            return []
        found = {a.id: a for a in db.session.scalars(select(Agency).where(Agency.id.in_(ids)))}
        return [found[i] for i in ids if i in found]

    def __repr__(self) -> str:
        return f"<Agency {self.code}>"


class Counter(db.Model):
    """A service point (quầy) where citizens are served and a QR poster hangs."""

    __tablename__ = "counters"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short public code in the QR link ``/s/<code>``; never changes once printed.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    #: Where the counter is, as printed on the poster (optional).
    location: Mapped[str] = mapped_column(String(255), default="")
    #: A disabled counter's link answers 404; its history stays.
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    agency: Mapped[Agency] = relationship(back_populates="counters")

    def __repr__(self) -> str:
        return f"<Counter {self.code}>"


class ProcedureField(db.Model):
    """A field (lĩnh vực) of administrative procedures, e.g. Đất đai, Hộ tịch."""

    __tablename__ = "procedure_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(255))


class Procedure(db.Model):
    """An administrative procedure (thủ tục hành chính) from the national catalogue."""

    __tablename__ = "procedures"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: National code from the Cơ sở dữ liệu quốc gia về TTHC, e.g. ``1.001234``.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    field_id: Mapped[int] = mapped_column(ForeignKey("procedure_fields.id"), index=True)
    #: The agency responsible for settling it.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)

    field: Mapped[ProcedureField] = relationship()
    agency: Mapped[Agency | None] = relationship()


class ReturnChannel(enum.StrEnum):
    """How a dossier's result goes back to the citizen (what the one-stop system records)."""

    counter = "counter"  #: collected at the one-stop counter
    online = "online"  #: returned online (the public service portal)
    post = "post"  #: sent by public postal service (bưu chính công ích)


#: ``DossierVolume.return_channel`` of a figure that covers every return channel.
ALL_CHANNELS = "all"
#: ``DossierVolume.source`` of the figures imported from CSV files.
IMPORT_SOURCE = "import"


def api_source(client_id: int) -> str:
    """``DossierVolume.source`` of the figures an API key sends (one per system)."""
    return f"api:{client_id}"


def _month_period(context) -> str:
    """A figure's default period: its month, ``YYYY-MM``."""
    month = context.get_current_parameters()["month"]
    if isinstance(month, str):  # a date as text (SQLite bulk inserts)
        return month[:7]
    return f"{month:%Y-%m}"


class DossierVolume(db.Model):
    """Dossiers of one agency in one procedure field over a month or a day, from one source.

    The denominator for response coverage, the totals for post-stratification
    (``dossiers``) and the on-time rate (``resolved_on_time / resolved``).
    A figure comes from a **source**: the CSV import (``import``) or one
    integrating system's API key (``api:<key id>``); figures of different
    sources add up, and a source's new figure for the same agency, field,
    period and return channel replaces its earlier one. ``period`` is
    ``YYYY-MM`` (a month) or ``YYYY-MM-DD`` (a day); ``month`` is the month it
    falls in, so summing by ``month`` rolls days up into months.
    """

    __tablename__ = "dossier_volumes"
    __table_args__ = (
        UniqueConstraint(
            "source",
            "agency_id",
            "field_id",
            "return_channel",
            "period",
            name="uq_dossier_volumes_figure",
        ),
        CheckConstraint("dossiers >= 0", name="dossiers_non_negative"),
        CheckConstraint("resolved >= 0", name="resolved_non_negative"),
        CheckConstraint(
            "resolved_on_time >= 0 AND resolved_late >= 0", name="on_time_late_non_negative"
        ),
        CheckConstraint(
            "resolved_on_time + resolved_late <= resolved", name="on_time_late_within_resolved"
        ),
        Index("ix_dossier_volumes_month", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``import`` (CSV files) or ``api:<ApiClient id>``: whose figure this is.
    source: Mapped[str] = mapped_column(String(40), default=IMPORT_SOURCE)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("procedure_fields.id", ondelete="CASCADE"))
    #: ``YYYY-MM`` for a month's figure, ``YYYY-MM-DD`` for a day's (default: ``month``'s).
    period: Mapped[str] = mapped_column(String(10), default=_month_period)
    #: First day of the month the period is in (a day's figure rolls up into it).
    month: Mapped[date] = mapped_column(Date)
    #: ``counter``, ``online``, ``post`` (:class:`ReturnChannel`) or ``all``.
    return_channel: Mapped[str] = mapped_column(String(10), default=ALL_CHANNELS)
    #: Dossiers received (tiếp nhận) in the period: the weighting total and coverage's denominator.
    dossiers: Mapped[int] = mapped_column(Integer)
    #: Dossiers whose result was given (đã giải quyết) in the period; None when not reported.
    resolved: Mapped[int | None] = mapped_column(Integer)
    #: Of ``resolved``, those settled on or before their due date (trước hạn, đúng hạn).
    resolved_on_time: Mapped[int | None] = mapped_column(Integer)
    #: Of ``resolved``, those settled after their due date (quá hạn).
    resolved_late: Mapped[int | None] = mapped_column(Integer)
    #: When the figure was last written (None: imported before it was kept).
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=now_utc)

    agency: Mapped[Agency] = relationship()
    field: Mapped[ProcedureField] = relationship()
