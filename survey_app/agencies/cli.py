"""``flask import agencies|counters|procedures|volumes FILE.csv``: all or nothing."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from ..extensions import db
from .importers import IMPORTERS, ImportFailed

import_cli = AppGroup("import", help="Import real data from CSV files (see docs/IMPORT.md).")


def _make_command(kind: str):
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def command(path: Path) -> None:
        try:
            result = IMPORTERS[kind](path)
        except ImportFailed as exc:
            db.session.rollback()
            for error in exc.errors:
                click.echo(f"{path.name}: {error}", err=True)
            raise click.ClickException(f"nothing imported: {exc.total} problem(s) found") from None
        db.session.commit()
        line = f"{kind}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
        if result.superseded:
            line += f", {result.superseded} replaced by figures covering the same dossiers"
        click.echo(line)

    command.__doc__ = HELP[kind]
    return import_cli.command(kind)(command)


HELP = {
    "agencies": "Agencies: code, name, parent_code, kind.",
    "counters": "Counters: agency_code, name, code (optional), location, active.",
    "procedures": "Procedures: code, name, field_code, field_name, agency_code.",
    "volumes": "Dossier volumes: agency_code, field_code, month (YYYY-MM), dossiers; "
    "optional return_channel, resolved, resolved_on_time, resolved_late.",
}
for _kind in HELP:
    _make_command(_kind)
