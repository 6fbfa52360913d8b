"""``flask backup``: SQLite online backup while the app writes; pg_dump for PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from survey_app.core.backup import BackupError, backup_sqlite, pg_dump_command
from survey_app.extensions import db
from tests import factories


def _sqlite_file(app) -> Path:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        pytest.skip("SQLite backup: the suite runs on PostgreSQL")
    return Path(url.database)


def _agency_codes(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {row[0] for row in conn.execute("SELECT code FROM agencies")}


def test_backup_while_a_write_transaction_is_open(app, runner, tmp_path):
    database = _sqlite_file(app)
    with app.app_context():
        for code in ("BK1", "BK2", "BK3"):
            factories.agency(code=code)
        db.session.commit()

    # another process's transaction, written but not committed while the backup runs
    writer = sqlite3.connect(database, timeout=5)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "INSERT INTO agencies (code, name, kind, path, is_active, created_at) "
        "VALUES ('PENDING', 'x', 'other', '/', 1, '2024-01-01 00:00:00')"
    )
    output = tmp_path / "copies" / "hailong.sqlite3"
    try:
        result = runner.invoke(args=["backup", "--output", str(output)])
    finally:
        writer.commit()
        writer.close()
    assert result.exit_code == 0, result.output
    assert f"backup written to {output}" in result.output

    # the copy is a consistent snapshot: committed rows in, the pending one not
    assert _agency_codes(output) == {"BK1", "BK2", "BK3"}
    assert output.stat().st_mode & 0o077 == 0  # personal data: owner only
    assert not output.with_name(output.name + "-wal").exists()
    with sqlite3.connect(output) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    with app.app_context():
        live = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert revision == live

    # restore: the copy replaces a database file and opens with every committed row
    restored = tmp_path / "restored.sqlite3"
    shutil.copyfile(output, restored)
    assert _agency_codes(restored) == {"BK1", "BK2", "BK3"}
    assert "PENDING" in _agency_codes(database)  # committed after the backup


def test_default_output_goes_to_backup_dir(app, runner, tmp_path):
    _sqlite_file(app)
    app.config["BACKUP_DIR"] = str(tmp_path / "nightly")
    try:
        result = runner.invoke(args=["backup"])
    finally:
        app.config["BACKUP_DIR"] = None
    assert result.exit_code == 0, result.output
    [made] = (tmp_path / "nightly").iterdir()
    assert made.name.startswith("hailong-") and made.suffix == ".sqlite3"


def test_a_missing_database_is_a_clear_error(tmp_path):
    with pytest.raises(BackupError, match="no SQLite database"):
        backup_sqlite(tmp_path / "absent.sqlite3", tmp_path / "out.sqlite3")
    assert not (tmp_path / "out.sqlite3").exists()


def test_a_corrupt_database_leaves_no_backup(tmp_path):
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"this is not a database" * 100)
    with pytest.raises(BackupError):
        backup_sqlite(broken, tmp_path / "out.sqlite3")
    assert list(tmp_path.iterdir()) == [broken]


def test_pg_dump_command_keeps_the_password_off_the_command_line(tmp_path):
    url = make_url("postgresql+psycopg://hailong:pa55word@db.local:5433/hailong")
    args, env = pg_dump_command(url, tmp_path / "x.dump")
    assert args == ["pg_dump", "--format=custom", "--no-owner", f"--file={tmp_path / 'x.dump'}"]
    assert "pa55word" not in " ".join(args)
    assert env == {
        "PGHOST": "db.local",
        "PGPORT": "5433",
        "PGUSER": "hailong",
        "PGPASSWORD": "pa55word",
        "PGDATABASE": "hailong",
    }


def test_without_pg_dump_the_command_explains_what_to_run(app, tmp_path, monkeypatch):
    from survey_app.core import backup

    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    runner = app.test_cli_runner()
    monkeypatch.setitem(app.config, "SQLALCHEMY_DATABASE_URI", "postgresql+psycopg://u@h/db")
    result = runner.invoke(args=["backup", "--output", str(tmp_path / "x.dump")])
    assert result.exit_code == 1
    assert "pg_dump is not installed" in result.output
    assert "PGHOST=h PGUSER=u PGDATABASE=db pg_dump --format=custom" in result.output


@pytest.mark.postgres
def test_pg_dump_backup_restores_with_pg_restore(app, runner, tmp_path):
    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() != "postgresql":
        pytest.skip("needs TEST_DATABASE_URL pointing at PostgreSQL")
    if not shutil.which("pg_dump") or not shutil.which("pg_restore"):
        pytest.skip("pg_dump/pg_restore not installed")
    with app.app_context():
        factories.agency(code="PGBK")
        db.session.commit()
    output = tmp_path / "hailong.dump"
    result = runner.invoke(args=["backup", "--output", str(output)])
    assert result.exit_code == 0, result.output
    listing = subprocess.run(
        ["pg_restore", "--list", str(output)], capture_output=True, text=True, check=True
    ).stdout
    assert "TABLE DATA public agencies" in listing
    data = subprocess.run(
        ["pg_restore", "--data-only", "--table=agencies", "--file=-", str(output)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "PGBK" in data
