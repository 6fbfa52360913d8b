"""``flask users create``: the first admin and other accounts from the shell."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from ..agencies.models import Agency
from ..core.clitypes import EmailAddress, Text
from ..extensions import db
from .models import Role
from .services import MIN_PASSWORD_LENGTH, create_account, user_by_email

users_cli = AppGroup("users", help="Staff accounts.")


@users_cli.command("create")
@click.option("--email", type=EmailAddress(), required=True, help="Login e-mail.")
@click.option("--name", "full_name", type=Text(255), required=True, help="Full name.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option(
    "--agency",
    "agency_code",
    help="Agency code (required for handler and viewer; none for report_reader).",
)
@click.password_option(
    help=f"Password (asked for if not given; at least {MIN_PASSWORD_LENGTH} characters)."
)
def create(email: str, full_name: str, role: str, agency_code: str | None, password: str) -> None:
    """Create a staff account, e.g. the first admin (audited as the shell's)."""
    agency = None
    if agency_code:
        agency = db.session.scalar(select(Agency).where(Agency.code == agency_code))
        if agency is None:
            raise click.UsageError(f"no agency with code {agency_code!r}")
    if user_by_email(email) is not None:
        raise click.UsageError(f"an account with e-mail {email.strip().lower()} already exists")
    try:
        with force_locale("en"):  # the commands speak English, as their help does
            user = create_account(
                None, email, full_name, password, Role(role), agency, via="flask users create"
            )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    db.session.commit()
    click.echo(f"created {user.role.value} {user.email}")
