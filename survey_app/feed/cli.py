"""``flask feed send`` (a timer, every minute) and ``flask feed prune`` (daily)."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from ..core.time import now_utc
from ..extensions import db
from . import delivery, services

feed_cli = AppGroup("feed", help="The outgoing feed: webhooks and the pull feed.")


@feed_cli.command("send")
@click.option(
    "--limit",
    type=click.IntRange(1, 100000),
    default=500,
    show_default=True,
    help="At most this many deliveries in this run.",
)
def send(limit: int) -> None:
    """Send the webhooks that are due; safe to run on several servers at once."""
    sequenced = services.sequence()  # the pull feed's order, ready for readers
    db.session.commit()
    result = delivery.send_pending(limit)
    click.echo(
        f"delivered: {result.delivered}, to retry: {result.retried}, failed: {result.failed}"
        + (f", events ordered for the pull feed: {sequenced}" if sequenced else "")
    )


@feed_cli.command("prune")
@click.option(
    "--days",
    type=click.IntRange(1, 36500),
    default=None,
    help="Keep this many days of events (default FEED_RETENTION_DAYS).",
)
def prune(days: int | None) -> None:
    """Delete events older than the retention period (none still being sent)."""
    days = days or int(current_app.config["FEED_RETENTION_DAYS"])
    events, deliveries = services.prune(now_utc() - timedelta(days=days))
    db.session.commit()
    click.echo(
        f"deleted {events} event(s) and {deliveries} delivery record(s) older than {days} days"
    )
