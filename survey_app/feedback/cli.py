"""``flask feedback remind|purge`` and ``flask outbox send`` (cron or systemd timers)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..core.time import local_today
from ..extensions import db
from . import attachments, notify, outbox

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
    """Erase contact data of cases closed longer than the retention period, and attachment
    files left without their case (a worker stopped while storing it) for over a day."""
    if days is None:
        days = current_app.config["FEEDBACK_RETENTION_DAYS"]
        if not 1 <= days <= 36500:
            raise click.ClickException(
                f"FEEDBACK_RETENTION_DAYS is {days}: it must be 1 to 36500; nothing was erased"
            )
    erased = notify.purge_contacts(local_today(), days)
    db.session.commit()
    click.echo(f"contact data erased from {erased} case(s) closed more than {days} days ago")
    orphans = attachments.sweep_orphans()
    click.echo(f"attachment files without a case deleted: {orphans}")


@outbox_cli.command("send")
@click.option("--limit", type=click.IntRange(1, 100_000), default=200, show_default=True)
def send(limit: int) -> None:
    """Send queued notifications (SMTP settings; printed to the log in development)."""
    sent, failed = outbox.send_pending(limit)
    click.echo(f"sent {sent}, failed {failed} (will retry)")
