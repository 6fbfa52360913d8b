"""``flask feedback remind|purge|recount`` and ``flask outbox send`` (cron or systemd
timers; ``recount`` after an upgrade)."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from ..core.time import local_today, now_utc
from ..extensions import db
from . import attachments, notify, outbox, retention
from .audit import record
from .workdays import unconfirmed_years
from .workflow import recompute_open_deadlines, work_calendar

feedback_cli = AppGroup("feedback", help="Feedback deadlines and retention.")
outbox_cli = AppGroup("outbox", help="Notification outbox.")


@feedback_cli.command("remind")
def remind() -> None:
    """Remind handlers of cases due in 3 and 1 working days; escalate overdue ones.

    Safe to run twice and on several servers at once.
    """
    result = notify.remind(local_today())
    db.session.commit()
    click.echo(f"reminders queued: {result.reminders}, escalations queued: {result.escalations}")


@feedback_cli.command("purge")
@click.option(
    "--days",
    type=click.IntRange(1, 36500),
    default=None,
    help="Retention in days, 1 to 36500 (default FEEDBACK_RETENTION_DAYS).",
)
def purge(days: int | None) -> None:
    """Erase or redact the personal data of cases closed or published longer than the
    retention period, of survey comments and report comments as old, and of sent
    notifications; delete attachment files left without their case for over a day.

    docs/PERSONAL_DATA.md lists what is kept and what goes. Safe to run twice and on
    several servers at once; each run is in the audit log (counts, not data).
    """
    config = current_app.config
    if days is None:
        days = config["FEEDBACK_RETENTION_DAYS"]
        if not 1 <= days <= 36500:
            raise click.ClickException(
                f"FEEDBACK_RETENTION_DAYS is {days}: it must be 1 to 36500; nothing was erased"
            )
    outbox_days = config["OUTBOX_RETENTION_DAYS"]
    if not 1 <= outbox_days <= 36500:
        raise click.ClickException(
            f"OUTBOX_RETENTION_DAYS is {outbox_days}: it must be 1 to 36500; nothing was erased"
        )
    now = now_utc()
    cutoff = now - timedelta(days=days)
    total = retention.PurgeCounts()
    while True:  # one transaction per batch: a long backlog holds no lock for long
        batch = retention.purge_cases(cutoff, days)
        db.session.commit()
        retention.delete_files(batch.files)  # after the commit: never a row without its file
        total += batch.counts
        if batch.counts.cases < retention.BATCH:
            break
    total.survey_comments += retention.redact_survey_comments(cutoff)
    db.session.commit()
    total.report_snapshots = retention.redact_report_snapshots(cutoff)
    db.session.commit()
    total.outbox_messages += retention.purge_outbox(now - timedelta(days=min(days, outbox_days)))
    orphans = attachments.sweep_orphans()
    record(
        None,
        "purge_run",
        detail=f"retention {days} days: {total.summary()}, orphan files={orphans}",
    )
    db.session.commit()
    click.echo(
        f"contact data erased from {total.cases} case(s) closed or published more than "
        f"{days} days ago"
    )
    click.echo(
        f"attachments deleted: {total.attachments}, notifications deleted: "
        f"{total.outbox_messages}, survey comments redacted: {total.survey_comments}, "
        f"reports redacted: {total.report_snapshots}"
    )
    click.echo(f"attachment files without a case deleted: {orphans}")


@feedback_cli.command("recount")
def recount() -> None:
    """Recount every running case's pause total and due date with the calendar as it is
    now: after deploying a new version of the Government's announcements data file
    (admins' overrides recount by themselves). Safe to run twice; audited with counts.
    """
    result = recompute_open_deadlines()
    official = work_calendar().official  # the data the recount used
    version = official.version
    record(
        None,
        "calendar_recount",
        detail=f"announcements data {version}: {result.cases} running, {result.changed} changed",
    )
    db.session.commit()
    click.echo(
        f"announcements data {version}: {result.cases} running case(s) recounted, "
        f"{result.changed} changed (pause total or due date)"
    )
    for year in unconfirmed_years(local_today(), official):
        click.echo(f"warning: {year} has no confirmed announcement in the data file", err=True)


@outbox_cli.command("send")
@click.option("--limit", type=click.IntRange(1, 100_000), default=200, show_default=True)
def send(limit: int) -> None:
    """Send queued notifications: e-mail (SMTP), SMS (HTTP gateway) and Zalo (ZNS), as
    configured (docs/NOTIFICATIONS.md); channels without a provider are logged."""
    sent, failed = outbox.send_pending(limit)
    click.echo(f"sent {sent}, failed {failed} (will retry)")
