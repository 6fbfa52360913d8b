"""``flask translate extract|update|compile``: keep the vi and en catalogues in step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

ROOT = Path(__file__).resolve().parents[2]
POT = ROOT / "translations" / "messages.pot"

translate_cli = AppGroup("translate", help="Translation catalogues (vi default, en).")


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


def extract_messages(output: Path) -> None:
    """Write every message of the code and templates to the template ``output``."""
    _pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "-k",
        "_nl:1,2",
        "--no-location",
        "--sort-output",
        "--omit-header",
        "-o",
        str(output),
        "survey_app",
    )


@translate_cli.command("extract")
def extract() -> None:
    """Extract messages from the code and templates into messages.pot."""
    extract_messages(POT)
    click.echo(f"wrote {POT.relative_to(ROOT)}")


@translate_cli.command("update")
def update() -> None:
    """Extract, then merge new messages into every catalogue."""
    extract.callback()  # type: ignore[misc]
    _pybabel(
        "update",
        "-i",
        str(POT),
        "-d",
        "translations",
        "--no-fuzzy-matching",
        "--ignore-obsolete",
        "--width",
        "100",
    )


#: The language the msgids are written in: its catalogue only overrides some wordings,
#: so "2% translated" would be a false alarm.
SOURCE_LANGUAGE = "en"


@translate_cli.command("compile")
def compile_() -> None:
    """Compile the catalogues to .mo files (with statistics for the translations only)."""
    for language in sorted(p.name for p in (ROOT / "translations").iterdir() if p.is_dir()):
        if not (ROOT / "translations" / language / "LC_MESSAGES" / "messages.po").exists():
            continue
        if language == SOURCE_LANGUAGE:
            _pybabel("compile", "-d", "translations", "-l", language)
            click.echo(f"{language}: the source language (the msgids), compiled with its overrides")
        else:
            _pybabel("compile", "-d", "translations", "-l", language, "--statistics")
