"""``flask demo load`` and ``flask demo login``: the 2022 Hải Dương demo."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from ..agencies.models import Agency, Counter
from ..extensions import db
from .cases import load_demo_cases
from .data import load_demo
from .users import DEMO_PASSWORD, DEMO_USERS, ensure_demo_users

demo_cli = AppGroup("demo", help="Demonstration data.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has agencies.")
@click.option("--responses/--no-responses", default=True, help="Also generate a year of responses.")
@click.option(
    "--seed", default=2022, show_default=True, help="Random seed for the synthetic responses."
)
def load(if_empty: bool, responses: bool, seed: int) -> None:
    """Load the demo agencies, counters, procedures, volumes, a synthetic 2022, demo accounts,
    feedback cases in every state and answer templates."""
    if current_app.config.get("APP_ENV") == "production":
        # its accounts' password is printed in the README: never on a real server
        raise click.ClickException(
            "flask demo load refuses to run when APP_ENV=production: the demo accounts "
            "have a published password and the demo data would mix with real data. "
            "Use a development database (APP_ENV=development)."
        )
    if if_empty and db.session.scalar(select(Agency.id).limit(1)) is not None:
        # a real database: never add the demo accounts (their password is public)
        click.echo("demo: skipped, the database already has agencies")
        return
    summary = load_demo(with_responses=responses, seed=seed)
    created = ensure_demo_users()
    cases = load_demo_cases()
    db.session.commit()
    click.echo(summary)
    click.echo(cases)
    if created:
        click.echo(f"demo accounts created or updated: {', '.join(created)}")


@demo_cli.command("login")
@click.option("--host", default="127.0.0.1", show_default=True, help="Where `flask run` serves.")
@click.option("--port", default=5000, show_default=True, help="The port `flask run` serves on.")
def login(host: str, port: int) -> None:
    """Print where to open the app and the demo logins."""
    served = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    if current_app.config.get("PUBLIC_BASE_URL_FROM_REQUEST"):
        base = served  # development without PUBLIC_BASE_URL: links follow the address used
    else:
        base = current_app.config["PUBLIC_BASE_URL"]
    click.echo("")
    click.echo(f"  Hài Lòng is starting on {served}")
    if host in ("0.0.0.0", "::"):
        click.echo(
            f"  From a phone on the same network: http://<this computer's address>:{port}"
            " (`hostname -I` shows it)"
        )
    if base != served:
        click.echo(f"  Posters and QR codes encode PUBLIC_BASE_URL={base}")
    click.echo(f"  Staff login: {base}/login")
    for email, _name, role, agency in DEMO_USERS:
        scope = f" ({agency})" if agency else ""
        click.echo(f"    {role.value:<14}{scope:<14} {email}  /  {DEMO_PASSWORD}")
    counter = db.session.scalar(
        select(Counter).where(Counter.is_active.is_(True)).order_by(Counter.id).limit(1)
    )
    if counter is not None:
        click.echo(f"  A counter's survey: {base}/s/{counter.code}  ({counter.name})")
    click.echo(f"  Report a problem: {base}/feedback/new")
    click.echo("")
