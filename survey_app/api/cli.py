"""``flask api-keys``: keys for the one-stop software."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..agencies.models import Agency, Counter
from ..core.clitypes import Text
from ..extensions import db
from .models import SCOPES, ApiClient
from .services import create_api_client

api_keys_cli = AppGroup("api-keys", help="API keys for integrating systems.")


@api_keys_cli.command("create")
@click.option(
    "--name", type=Text(255), required=True, help="Who uses the key, e.g. 'Một cửa điện tử'."
)
@click.option("--counter", "counter_code", help="Limit the key to this counter.")
@click.option("--agency", "agency_code", help="Limit the key to this agency's counters.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(sorted(SCOPES)),
    help="An extra scope (repeatable): feed = read the outgoing feed of case events; "
    "events = report 'result returned' events (invitations); dossiers = send the one-stop "
    "system's dossier counts.",
)
def create(
    name: str, counter_code: str | None, agency_code: str | None, scopes: tuple[str, ...]
) -> None:
    """Create a key; it is printed once and cannot be shown again."""
    counter = agency = None
    if counter_code:
        counter = db.session.scalar(select(Counter).where(Counter.code == counter_code.upper()))
        if counter is None:
            raise click.UsageError(f"no counter with code {counter_code!r}")
    if agency_code:
        agency = db.session.scalar(select(Agency).where(Agency.code == agency_code))
        if agency is None:
            raise click.UsageError(f"no agency with code {agency_code!r}")
    client, key = create_api_client(name, counter=counter, agency=agency, scopes=scopes)
    db.session.commit()
    click.echo(f"key for {client.name} (id {client.id}): {key}")
    click.echo("Store it now: only its hash is kept.")


@api_keys_cli.command("list")
def list_() -> None:
    """List keys (prefix, scope, last use)."""
    for client in db.session.scalars(select(ApiClient).order_by(ApiClient.id)):
        scope = (
            f"counter {client.counter.code}"
            if client.counter
            else f"agency {client.agency.code}"
            if client.agency
            else "all counters"
        )
        state = "active" if client.active else "revoked"
        click.echo(
            f"{client.id}\t{client.key_prefix}…\t{client.name}\t{scope}\t"
            f"scopes: {client.scopes or '-'}\t{state}\t"
            f"last used {client.last_used_at or 'never'}"
        )


@api_keys_cli.command("revoke")
@click.argument("client_id", type=click.IntRange(1, 2**31 - 1))
def revoke(client_id: int) -> None:
    """Revoke a key by its id."""
    client = db.session.get(ApiClient, client_id)
    if client is None:
        raise click.UsageError(f"no API key with id {client_id}")
    client.active = False
    db.session.commit()
    click.echo(f"revoked key {client.key_prefix}… ({client.name})")
