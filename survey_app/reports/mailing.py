"""The periodic reports by e-mail (``flask report send``): when a period is sent, who is
sent which report, with which figures, and the PDF attached (the mail's words are in
:mod:`.mail_text`).

The rules:

- **When.** A period is sent once it has closed: from the first instant after
  its window, i.e. the day after its last day, local time (the 15th for the
  plan's 15th → 14th months). Run by a daily timer, the command sends each
  kind's last closed period while it closed less than ``REPORT_MAIL_DAYS`` ago
  (at most ``OUTBOX_RETENTION_DAYS``, since the purge forgets what was sent), so
  a server that was down a few days catches up and never sends old reports;
  ``--period`` sends a given closed period by hand.
- **Once.** One mail per period × address, whatever the number of
  subscriptions that reach the address: the outbox's dedupe key
  (``report:<period>:<hash of the address>``) makes a second run, on this
  server or another at the same moment, queue nothing.
- **Who and what.** A role subscription reaches every active account with the
  role, each sent the report of its own scope (a scoped viewer's holds only
  their agencies and says so); an e-mail subscription reaches an address
  outside the service, sent the province's report. An address reached both
  ways gets the province's.
- **Which figures.** The period's report as published, if it was published
  after the period closed (the latest such; an interim one published while the
  period ran is not used), else the report computed at sending; the mail says
  which.
- **The PDF** is attached to every mail (an outside leader has no account to
  log in with): the outbox keeps it in the database, so any server sends it,
  and empties it once delivered. Account holders also get the report page's
  address, which asks them to log in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ..auth.models import User
from ..auth.permissions import ROLE_PERMISSIONS, Permission
from ..core.time import now_utc
from ..extensions import db
from ..feedback.outbox import enqueue, is_queued
from .mail_text import compose
from .models import ReportSnapshot, ReportSubscription
from .periods import KINDS, Period
from .scope import scope_of, scoped_report


class PeriodNotClosed(ValueError):
    """The period is still running (or has not started): its report is not sent."""


@dataclass(frozen=True)
class Recipient:
    """An address the report goes to, with the account it belongs to (None for an
    e-mail subscription, which is sent the province's report)."""

    address: str
    user: User | None = None

    @property
    def province_wide(self) -> bool:
        return self.user is None or self.user.sees_whole_province


@dataclass
class SendResult:
    """What a run did for one period."""

    period: Period
    #: Mails queued by this run.
    queued: int = 0
    #: Recipients already sent (or queued) this period's report.
    already: int = 0
    #: ``published`` or ``computed``: where the figures came from (None: nothing to send).
    source: str | None = None


# -- when ---------------------------------------------------------------------------------


def closes_at(period: Period) -> datetime:
    """The instant ``period`` closes: the start of the day after its last day, local time."""
    return period.window()[1]


def catch_up_days() -> int:
    """Days after a period closes during which the daily run still sends it:
    ``REPORT_MAIL_DAYS``, but never more than ``OUTBOX_RETENTION_DAYS`` (the purge
    deletes the sent mails, and with them the memory that they were sent)."""
    config = current_app.config
    return max(1, min(int(config["REPORT_MAIL_DAYS"]), int(config["OUTBOX_RETENTION_DAYS"])))


def due_periods(now: datetime | None = None) -> list[Period]:
    """The periods the daily run sends: per kind with an active subscription, the
    last closed period, if it closed less than :func:`catch_up_days` ago."""
    now = now or now_utc()
    kinds = set(
        db.session.scalars(
            select(ReportSubscription.kind).where(ReportSubscription.active.is_(True)).distinct()
        )
    )
    window = timedelta(days=catch_up_days())
    due = []
    for kind in KINDS:
        if kind not in kinds:
            continue
        period = Period.containing(kind, now).previous()
        if now - closes_at(period) < window:
            due.append(period)
    return due


# -- who -------------------------------------------------------------------------------------


def recipients(kind: str) -> list[Recipient]:
    """Everyone the active subscriptions to ``kind`` reach, one per address (the widest
    scope wins; then an account over a bare address), sorted by address.

    Accounts that are disabled, cannot read reports, or are scoped to no agency are
    left out.
    """
    subscriptions = db.session.scalars(
        select(ReportSubscription).where(
            ReportSubscription.kind == kind, ReportSubscription.active.is_(True)
        )
    ).all()
    found: dict[str, Recipient] = {}

    def add(recipient: Recipient) -> None:
        key = recipient.address.lower()
        old = found.get(key)
        if (
            old is None
            or (recipient.province_wide and not old.province_wide)
            or (
                recipient.province_wide == old.province_wide
                and recipient.user is not None
                and old.user is None
            )
        ):
            found[key] = recipient

    for subscription in subscriptions:
        if subscription.email:
            add(Recipient(subscription.email.lower()))
            continue
        users = db.session.scalars(
            select(User).where(User.role == subscription.role, User.active.is_(True))
        ).all()
        for user in users:
            if Permission.view_reports not in ROLE_PERMISSIONS.get(user.role, ()):
                continue
            if not user.sees_whole_province and user.agency is None:
                continue  # reads no agency: nothing to send
            add(Recipient(user.email.lower(), user))
    return [found[k] for k in sorted(found)]


def dedupe_key(period: Period, address: str) -> str:
    """The outbox key of the report of ``period`` to ``address`` (hashed: the key is short
    and the address is already in the row)."""
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()[:40]
    return f"report:{period.label}:{digest}"


# -- what --------------------------------------------------------------------------------------


def published_after_close(period: Period) -> ReportSnapshot | None:
    """The latest snapshot of ``period`` published once the period had closed, if any."""
    return db.session.scalar(
        select(ReportSnapshot)
        .where(
            ReportSnapshot.period == period.label,
            ReportSnapshot.published_at.is_not(None),
            ReportSnapshot.published_at >= closes_at(period),
        )
        .order_by(ReportSnapshot.published_at.desc(), ReportSnapshot.id.desc())
        .limit(1)
    )


def period_report(period: Period) -> tuple[dict, ReportSnapshot | None]:
    """The figures to send: the published report (:func:`published_after_close`) or, if
    there is none, the report computed now; with the snapshot used (or None)."""
    from .assembly import compute_report

    snapshot = published_after_close(period)
    if snapshot is not None:
        return snapshot.results, snapshot
    return compute_report(period), None


def document_report(report: dict, recipient: Recipient, snapshot: ReportSnapshot | None) -> dict:
    """The report as ``recipient`` may read it: scoped to their account, or the
    province's for an address; citizens' comments and trends left out (neither the
    PDF nor the mail shows them)."""
    base = {k: v for k, v in report.items() if k not in ("comments", "trends")}
    if snapshot is not None:
        base["snapshot_published_at"] = snapshot.published_at.isoformat()  # UTC
    if recipient.user is None:
        return dict(base, scope=None)
    return scoped_report(base, recipient.user)


# -- the run -----------------------------------------------------------------------------------


def send_period(period: Period, now: datetime | None = None) -> SendResult:
    """Queue the report of ``period`` to every recipient not sent it yet, with its PDF.

    Idempotent per period × address (:func:`dedupe_key`); nothing is computed when
    everyone has had it. One PDF is drawn per scope. Flushes, never commits.

    :raises PeriodNotClosed: ``period`` has not closed yet.
    """
    from .documents import report_pdf

    now = now or now_utc()
    if now < closes_at(period):
        raise PeriodNotClosed(period.label)
    result = SendResult(period)
    pending = []
    for recipient in recipients(period.kind):
        if is_queued(dedupe_key(period, recipient.address)):
            result.already += 1
        else:
            pending.append(recipient)
    if not pending:
        return result
    report, snapshot = period_report(period)
    result.source = "published" if snapshot is not None else "computed"
    pdfs: dict[int | None, bytes] = {}
    for recipient in pending:
        document = document_report(report, recipient, snapshot)
        scope = scope_of(recipient.user) if recipient.user is not None else None
        key = scope["agency_id"] if scope else None
        if key not in pdfs:
            pdfs[key] = report_pdf(document)
        subject, body, filename = compose(document, period, snapshot, recipient)
        queued = enqueue(
            recipient.address,
            subject,
            body,
            dedupe_key=dedupe_key(period, recipient.address),
            attachment=(filename, "application/pdf", pdfs[key]),
        )
        if queued:
            result.queued += 1
        else:  # another server queued it meanwhile
            result.already += 1
    db.session.flush()
    return result
