"""Early warning: what the detector last saw of each counter and agency, and its warnings.

A *subject* is a counter (``counter:<id>``) or an agency as a whole
(``agency:<id>``, the responses of its own counters). The detector
(:mod:`.warnings`) keeps one :class:`SatisfactionWatch` per subject, rewritten
on every run, and records a :class:`SatisfactionWarning` when a subject's
share of dissatisfied taps rises; at most one warning per subject is not
closed at any time (a unique partial index), so two runs at once, or on two
servers, record one.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..agencies.models import Agency, Counter
from ..auth.models import User
from ..core.db import UTCDateTime
from ..core.time import now_utc
from ..extensions import db


class WarningStatus(enum.StrEnum):
    open = "open"  #: raised; the agency's admins were told
    acknowledged = "acknowledged"  #: an admin has seen it; still watched until it closes
    closed = "closed"  #: the counter is back to its usual level (or it left the survey)


class SatisfactionWatch(db.Model):
    """The detector's last look at one subject: monitored or not, against what baseline."""

    __tablename__ = "satisfaction_watches"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``counter:<id>`` or ``agency:<id>``.
    subject: Mapped[str] = mapped_column(String(40), unique=True)
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    #: NULL for an agency as a whole.
    counter_id: Mapped[int | None] = mapped_column(
        ForeignKey("counters.id", ondelete="CASCADE"), index=True
    )
    #: When the detector last ran over it.
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: Taps (Q0 answers) and dissatisfied ones (Q0 of 1–3) in the baseline window.
    baseline_taps: Mapped[int] = mapped_column(Integer)
    baseline_dissatisfied: Mapped[int] = mapped_column(Integer)
    #: False: too little history to be judged against itself yet.
    monitored: Mapped[bool] = mapped_column(default=False)
    #: The usual dissatisfied share (shrunk toward the agency's), and the upper bound of
    #: it the chart is designed for (so its false-alarm rate holds).
    baseline_share: Mapped[float | None] = mapped_column(Float)
    design_share: Mapped[float | None] = mapped_column(Float)
    #: Taps per day in the baseline window (the usual rate).
    taps_per_day: Mapped[float | None] = mapped_column(Float)
    #: The false-alarm target the design met: average taps between false alarms.
    arl0_target: Mapped[float | None] = mapped_column(Float)
    #: The chart (analysis.monitoring.CusumDesign) and its exact run lengths in taps.
    weight_up: Mapped[int | None] = mapped_column(Integer)
    weight_down: Mapped[int | None] = mapped_column(Integer)
    threshold: Mapped[int | None] = mapped_column(Integer)
    shift_share: Mapped[float | None] = mapped_column(Float)
    arl0_taps: Mapped[float | None] = mapped_column(Float)
    arl1_taps: Mapped[float | None] = mapped_column(Float)
    #: Quiet taps after an alarm that close a warning (analysis.monitoring.taps_to_rule_out).
    quiet_taps: Mapped[int | None] = mapped_column(Integer)
    #: Taps in the monitoring window, and the statistic after the last of them.
    window_taps: Mapped[int] = mapped_column(Integer, default=0)
    statistic: Mapped[int | None] = mapped_column(Integer)

    agency: Mapped[Agency] = relationship()
    counter: Mapped[Counter | None] = relationship()


class SatisfactionWarning(db.Model):
    """A counter (or an agency) whose citizens turned dissatisfied, found by the CUSUM.

    Times are those of taps (``signal_at``, ``watch_started_at``) or of the
    detector's runs (``opened_at``, ``closed_at``). The chart is stored with the
    warning: while it is open the subject is judged against the baseline it had
    when the warning opened, so "back to normal" means back to *that* normal.
    """

    __tablename__ = "satisfaction_warnings"
    __table_args__ = (
        # one warning not yet closed per subject: the dedupe of concurrent runs
        Index(
            "uq_satisfaction_warnings_open_subject",
            "subject",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index("ix_satisfaction_warnings_agency_status", "agency_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``counter:<id>`` or ``agency:<id>``.
    subject: Mapped[str] = mapped_column(String(40))
    #: The counter's agency when the warning opened, or the agency watched as a whole.
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    #: NULL for an agency as a whole.
    counter_id: Mapped[int | None] = mapped_column(
        ForeignKey("counters.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[WarningStatus] = mapped_column(
        Enum(WarningStatus, native_enum=False, length=16), default=WarningStatus.open
    )
    #: When the detector recorded it.
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: The tap at which the chart signalled (the first alarm of this episode).
    signal_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The first tap of the stretch that raised it (after the statistic was last at 0).
    watch_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The latest alarm of this episode (the chart restarts after each one).
    last_signal_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Alarms in this episode so far (more than one: still dissatisfied after an alarm).
    signals: Mapped[int] = mapped_column(Integer, default=1)
    #: Taps and dissatisfied taps from ``watch_started_at`` to ``signal_at``.
    recent_taps: Mapped[int] = mapped_column(Integer)
    recent_dissatisfied: Mapped[int] = mapped_column(Integer)
    #: The usual dissatisfied share, the upper bound of it the chart is designed for,
    #: and the baseline taps that gave them.
    baseline_share: Mapped[float] = mapped_column(Float)
    design_share: Mapped[float] = mapped_column(Float)
    baseline_taps: Mapped[int] = mapped_column(Integer)
    #: The usual taps per day, which turns run lengths in taps into days.
    taps_per_day: Mapped[float] = mapped_column(Float)
    #: The chart: integer weights, threshold, the share it is tuned to detect, its exact
    #: average run lengths in taps (ARL0 between false alarms, ARL1 to detect that share),
    #: and the quiet taps after an alarm that close the warning.
    weight_up: Mapped[int] = mapped_column(Integer)
    weight_down: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[int] = mapped_column(Integer)
    shift_share: Mapped[float] = mapped_column(Float)
    arl0_taps: Mapped[float] = mapped_column(Float)
    arl1_taps: Mapped[float] = mapped_column(Float)
    quiet_taps: Mapped[int] = mapped_column(Integer)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: ``recovered`` (quiet long enough) or ``withdrawn`` (counter or agency disabled).
    close_reason: Mapped[str | None] = mapped_column(String(20))

    agency: Mapped[Agency] = relationship()
    counter: Mapped[Counter | None] = relationship()
    acknowledged_by: Mapped[User | None] = relationship()

    @property
    def arl0_days(self) -> float:
        """Days between false alarms at the usual rate of taps."""
        return self.arl0_taps / self.taps_per_day

    @property
    def arl1_days(self) -> float:
        """Days the chart needs on average to notice a rise to ``shift_share``."""
        return self.arl1_taps / self.taps_per_day

    @property
    def recent_share(self) -> float:
        return self.recent_dissatisfied / self.recent_taps if self.recent_taps else 0.0

    def __repr__(self) -> str:
        return f"<SatisfactionWarning {self.subject} {self.status}>"
