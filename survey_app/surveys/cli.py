"""``flask survey link|questionnaires|screen``: receipt links, questionnaire files and the
ballot-stuffing screening from the shell."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..agencies.models import Procedure
from ..core.clitypes import Day, writing
from ..core.time import local_day_bounds_utc
from ..extensions import db
from . import qr, screening, shortlinks
from .questionnaire import available_versions, load_questionnaire
from .services import active_counter, questionnaire_row
from .shortlinks import issue_receipt_link

survey_cli = AppGroup("survey", help="Survey links and questionnaires.")


@survey_cli.command("link")
@click.option("--counter", "counter_code", required=True, help="Counter code.")
@click.option("--procedure", "procedure_code", help="National procedure code.")
@click.option("--dossier", "dossier_ref", help="Dossier reference (only a keyed hash is kept).")
@click.option(
    "--qr",
    "qr_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the QR code to this .svg or .png file.",
)
def link(
    counter_code: str, procedure_code: str | None, dossier_ref: str | None, qr_path: Path | None
) -> None:
    """Print a short, single-use survey link for one transaction."""
    counter = active_counter(counter_code)
    if counter is None:  # unknown, withdrawn, or its agency no longer takes part
        raise click.UsageError(f"no active counter with code {counter_code!r}")
    if (
        procedure_code
        and db.session.scalar(select(Procedure.id).where(Procedure.code == procedure_code)) is None
    ):
        raise click.UsageError(f"no procedure with code {procedure_code!r}")
    if qr_path and qr_path.suffix.lower() not in (".svg", ".png"):
        raise click.UsageError("--qr must end in .svg or .png")
    procedure = (
        db.session.scalar(select(Procedure).where(Procedure.code == procedure_code))
        if procedure_code
        else None
    )
    url = shortlinks.short_url(issue_receipt_link(counter.id, procedure, dossier_ref).id)
    if qr_path:  # first, so a link is only printed once its QR exists
        data = qr.qr_svg(url) if qr_path.suffix.lower() == ".svg" else qr.qr_png(url)
        with writing(qr_path):
            qr_path.write_bytes(data)
    db.session.commit()
    click.echo(url)
    if qr_path:
        click.echo(f"QR written to {qr_path}", err=True)


@survey_cli.command("questionnaires")
def questionnaires() -> None:
    """Check every questionnaire file and record its version in the database."""
    for version in available_versions():
        q = load_questionnaire(version)
        questionnaire_row(q)
        click.echo(
            f"{q.version}: {len(q.elements)} elements, {len(q.items)} items, sha256 {q.checksum[:12]}"
        )
    db.session.commit()


@survey_cli.command("screen")
@click.option("--from", "date_from", type=Day(), help="Screen from this day (YYYY-MM-DD) instead.")
@click.option("--to", "date_to", type=Day(), help="…to this day, included (default: today).")
def screen(date_from, date_to) -> None:
    """Quarantine bursts of responses (ballot stuffing) since the last run.

    For cron, every 5 minutes: idempotent, and safe on several servers (one
    run at a time). With --from/--to it screens those days again, e.g. the
    responses stored before the screening existed.
    """
    since = until = None
    if date_to is not None and date_from is None:
        raise click.UsageError("--to needs --from")
    if date_from is not None:
        since = local_day_bounds_utc(date_from.date())[0]
        if date_to is not None:
            if date_to < date_from:
                raise click.UsageError("--to is before --from")
            until = local_day_bounds_utc(date_to.date())[1]
    with db.engine.begin() as connection:
        result = screening.run(connection, since=since, until=until)
    click.echo(
        f"screened {result.screened} response(s) at {result.counters} counter(s) "
        f"from {result.since:%Y-%m-%d %H:%M} to {result.until:%Y-%m-%d %H:%M} UTC: "
        f"{len(result.new_bursts)} new burst(s), {len(result.extended_bursts)} extended, "
        f"{result.quarantined} response(s) quarantined"
        + (f"; {result.erased} address hash(es) erased" if result.erased else "")
    )
