"""``flask demo load``: the 2022 Hải Dương demo data (idempotent)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..extensions import db
from .data import load_demo

demo_cli = AppGroup("demo", help="Demonstration data.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has agencies.")
@click.option("--responses/--no-responses", default=True, help="Also generate a year of responses.")
@click.option("--seed", default=2022, show_default=True, help="Random seed for the synthetic responses.")
def load(if_empty: bool, responses: bool, seed: int) -> None:
    """Load the demo agencies, counters, procedures, volumes and a synthetic 2022."""
    summary = load_demo(if_empty=if_empty, with_responses=responses, seed=seed)
    db.session.commit()
    click.echo(summary)
