"""``flask export responses|volumes --from … --to … [--output FILE]``: CSV for ``python -m analysis``."""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from ..core.clitypes import Day, writing
from ..surveys.questionnaire import load_questionnaire
from ..surveys.services import current_questionnaire
from .export import write_responses_csv, write_volumes_csv
from .periods import FIRST_YEAR, LAST_YEAR

export_cli = AppGroup("export", help="Export responses and dossier volumes as CSV.")

_date = Day(FIRST_YEAR, LAST_YEAR)
_range = [
    click.option("--from", "date_from", type=_date, required=True, help="First day (YYYY-MM-DD)."),
    click.option("--to", "date_to", type=_date, required=True, help="Last day, included."),
    click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write to this file (default: standard output).",
    ),
    click.option(
        "--for-people",
        is_flag=True,
        help="Vietnamese column headers and local times (dd/mm/yyyy HH:MM), for a "
        "spreadsheet; python -m analysis reads only the default form.",
    ),
]


def _with_range(command):
    for option in reversed(_range):
        command = option(command)
    return command


@contextmanager
def _destination(path: Path | None):
    """Standard output, or a file that only appears, whole, once writing succeeded."""
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    with writing(path):
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            yield out
        with writing(path):
            os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


@export_cli.command("responses")
@_with_range
@click.option(
    "--questionnaire-version",
    "version",
    help="Item columns of this version and only its responses "
    "(default: the current questionnaire's items, every response in the range).",
)
@click.option(
    "--return-channel",
    is_flag=True,
    help="Add a return_channel column (counter, online, post; empty when unknown), for "
    "python -m analysis indices --by-return-channel.",
)
def responses(
    date_from,
    date_to,
    output: Path | None,
    for_people: bool,
    version: str | None,
    return_channel: bool,
) -> None:
    """Responses submitted from --from to --to (local days), one row each.

    Columns: response_id, agency, submitted_at (UTC), counter, procedure_field,
    questionnaire_version, Q0 and one column per item, 1–5 or empty (not
    answered or N/A). Responses sent by logged-in staff are left out.
    """
    if date_to < date_from:
        raise click.UsageError("--to is before --from")
    try:
        questionnaire = load_questionnaire(version) if version else current_questionnaire()
    except LookupError as exc:
        raise click.UsageError(str(exc)) from None
    with _destination(output) as out, force_locale("vi"):
        summary = write_responses_csv(
            out,
            date_from.date(),
            date_to.date(),
            questionnaire,
            only_version=bool(version),
            for_people=for_people,
            return_channel=return_channel,
        )
    click.echo(
        f"note: {summary.staff_excluded} response(s) sent by logged-in staff (staff_flag) left out",
        err=True,
    )
    if summary.quarantined_excluded:
        click.echo(
            f"note: {summary.quarantined_excluded} response(s) quarantined as ballot stuffing "
            "left out (flask survey screen; restored ones are exported)",
            err=True,
        )
    if len(summary.versions) > 1:
        mix = ", ".join(f"{v}: {n}" for v, n in sorted(summary.versions.items()))
        click.echo(
            f"warning: the export mixes questionnaire versions ({mix}); python -m analysis "
            "refuses a mix: export one with --questionnaire-version",
            err=True,
        )
    click.echo(
        f"{summary.written} response(s) from {date_from:%Y-%m-%d} to {date_to:%Y-%m-%d} exported"
        + (f" to {output}" if output else ""),
        err=True,
    )


@export_cli.command("volumes")
@_with_range
@click.option(
    "--return-channel",
    is_flag=True,
    help="Add a return_channel column: a row per channel where the figures give every "
    "dossier's channel, else one row for all (empty).",
)
def volumes(
    date_from, date_to, output: Path | None, for_people: bool, return_channel: bool
) -> None:
    """Dossier volumes of the months whose first day is from --from to --to.

    Columns: agency, procedure_field, month (YYYY-MM), dossiers (received; days and
    sources summed). A reporting range (15th → 14th) gives the months it reports on.
    """
    if date_to < date_from:
        raise click.UsageError("--to is before --from")
    with _destination(output) as out, force_locale("vi"):
        written = write_volumes_csv(
            out,
            date_from.date(),
            date_to.date(),
            for_people=for_people,
            by_return_channel=return_channel,
        )
    click.echo(f"{written} volume row(s) exported" + (f" to {output}" if output else ""), err=True)
