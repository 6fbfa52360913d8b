"""``flask invites stats|purge``: invitations after the result, from the shell."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import click
from flask.cli import AppGroup

from ..core.clitypes import Day
from ..core.time import local_day_bounds_utc, local_today
from ..extensions import db
from . import services

invites_cli = AppGroup(
    "invites", help="Invitations to rate, sent when a dossier's result is returned."
)


@invites_cli.command("stats")
@click.option("--from", "first", type=Day(), help="First day (local), default 30 days ago.")
@click.option("--to", "last", type=Day(), help="Last day (local), default today.")
def stats(first: date | None, last: date | None) -> None:
    """Events received, invitations sent and answered, and responses by return channel."""
    # (click gives datetimes)
    last = last.date() if isinstance(last, datetime) else local_today()
    first = first.date() if isinstance(first, datetime) else last - timedelta(days=29)
    if first > last:
        raise click.UsageError("--from must not be after --to")
    start, _ = local_day_bounds_utc(first)
    _, end = local_day_bounds_utc(last)
    counts = services.counts(start, end)
    click.echo(f"{first.isoformat()} – {last.isoformat()}")
    click.echo(f"events received\t{counts.received}")
    for outcome, n in counts.by_outcome.items():
        click.echo(f"  {outcome}\t{n}")
    click.echo(f"invited\t{counts.invited}")
    rate = f" ({counts.response_rate:.0%})" if counts.response_rate is not None else ""
    click.echo(f"responded\t{counts.responded}{rate}")
    for channel, n in sorted(counts.responses_by_return_channel.items()):
        click.echo(f"responses returned by {channel}\t{n}")


@invites_cli.command("purge")
def purge() -> None:
    """Forget the phones (hashes) whose period has passed; run it daily."""
    n = services.purge()
    db.session.commit()
    click.echo(f"phone hashes deleted: {n}")
