"""``flask backup [--output PATH]``: a consistent copy of the database while the app runs.

SQLite: the online backup API (:meth:`sqlite3.Connection.backup`) copies the
database page by page inside one read transaction, so the copy is a snapshot
even while workers write (WAL mode lets them go on). The copy is checked with
``PRAGMA integrity_check``, switched out of WAL mode so it is one
self-contained file, and only then moved into place (mode 0600: it holds
personal data). Restore: stop the app, copy the file over the database file
(remove its ``-wal``/``-shm`` companions), start the app.

PostgreSQL: ``pg_dump --format=custom`` when it is installed (the password
goes through the environment, not the command line); otherwise the command
refuses and prints the ``pg_dump`` line to run. Restore with ``pg_restore``
(README, "Backups").
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import URL, make_url

from .clitypes import writing


class BackupError(click.ClickException):
    """The backup could not be made; nothing was left at the output path."""


def default_output(suffix: str) -> Path:
    """``BACKUP_DIR`` (default ``instance/backups``) / ``hailong-<UTC time>.<suffix>``."""
    folder = Path(
        current_app.config.get("BACKUP_DIR") or Path(current_app.instance_path, "backups")
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return folder / f"hailong-{stamp}.{suffix}"


def backup_sqlite(database: Path, output: Path) -> int:
    """Copy the SQLite ``database`` to ``output`` with the online backup API.

    :param database: the live database file.
    :param output: where the copy goes (replaced atomically if it exists).
    :return: the size of the copy in bytes.
    :raises BackupError: if the database cannot be read or the copy fails its integrity check.
    """
    if not database.is_file():
        raise BackupError(f"no SQLite database at {database}")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        # not mode=ro: a read-only connection cannot always open a WAL database
        source = sqlite3.connect(database, timeout=30)
        try:
            target = sqlite3.connect(partial)
            try:
                source.backup(target)
                # the copy carries the WAL flag of its source: make it a single file
                target.execute("PRAGMA journal_mode=DELETE")
                result = target.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                target.close()
        finally:
            source.close()
        if result != "ok":
            raise BackupError(f"the copy failed its integrity check: {result}")
        partial.chmod(0o600)
        partial.replace(output)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup failed: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return output.stat().st_size


def pg_dump_command(url: URL, output: Path) -> tuple[list[str], dict[str, str]]:
    """The ``pg_dump`` argument list and the libpq environment for ``url``."""
    env = {
        key: str(value)
        for key, value in {
            "PGHOST": url.host,
            "PGPORT": url.port,
            "PGUSER": url.username,
            "PGPASSWORD": url.password,
            "PGDATABASE": url.database,
        }.items()
        if value not in (None, "")
    }
    return ["pg_dump", "--format=custom", "--no-owner", f"--file={output}"], env


def backup_postgresql(url: URL, output: Path) -> int:
    """Dump the PostgreSQL database at ``url`` to ``output`` with ``pg_dump -Fc``.

    :raises BackupError: if ``pg_dump`` is missing (with the command to run) or fails.
    """
    args, env = pg_dump_command(url, output)
    if shutil.which("pg_dump") is None:
        shown = " ".join(f"{k}={v}" for k, v in env.items() if k != "PGPASSWORD")
        raise BackupError(
            "pg_dump is not installed here (apt-get install postgresql-client). "
            f"Run it where it is:\n  {shown} pg_dump --format=custom --no-owner "
            f"--file={output.name}\n(the password from ~/.pgpass or PGPASSWORD)"
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    args[-1] = f"--file={partial}"
    try:
        done = subprocess.run(
            args, env={**os.environ, **env}, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed ({done.returncode}): {done.stderr.strip()}")
        partial.chmod(0o600)
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    return output.stat().st_size


@click.command("backup")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: BACKUP_DIR/hailong-<UTC time>.sqlite3 or .dump).",
)
@with_appcontext
def backup_command(output: Path | None) -> None:
    """Back up the database: SQLite online backup, or pg_dump for PostgreSQL."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise BackupError("an in-memory SQLite database cannot be backed up")
        output = output or default_output("sqlite3")
        with writing(output):
            size = backup_sqlite(Path(url.database), output)
    elif backend == "postgresql":
        output = output or default_output("dump")
        with writing(output):
            size = backup_postgresql(url, output)
    else:
        raise BackupError(f"no backup method for {backend}")
    click.echo(f"backup written to {output} ({size} bytes)")
