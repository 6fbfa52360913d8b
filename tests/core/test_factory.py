"""The application factory and its configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from survey_app import create_app
from survey_app.config import TestConfig


def test_testing_config(app):
    assert app.testing
    assert app.config["PUBLIC_BASE_URL"] == "https://hailong.example.gov.vn"


def test_defaults_without_environment(monkeypatch, tmp_path):
    # (the instance folder is a temporary one: nothing is written into the checkout's)
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(tmp_path))
    app = create_app(
        {"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": None, "SECRET_KEY": None}
    )
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'hailong.sqlite3'}"
    assert app.config["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()
    assert len(app.config["SECRET_KEY"]) >= 32
    assert app.config["TIMEZONE"] == "Asia/Ho_Chi_Minh"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


_PRINT_CONFIG = """
import json
from survey_app import create_app
app = create_app()
print(json.dumps({k: str(app.config[k]) for k in (
    "APP_ENV", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "PUBLIC_BASE_URL", "TIMEZONE",
    "RATELIMIT_STORAGE_URI", "SESSION_COOKIE_SECURE", "DUPLICATE_WINDOW_SECONDS",
)}))
"""


def _config_from_environment(env: dict[str, str]) -> dict:
    """``create_app()`` in a fresh interpreter with just these settings in its environment."""
    root = Path(__file__).resolve().parents[2]
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    result = subprocess.run(
        [sys.executable, "-c", _PRINT_CONFIG],
        env=clean | {"PYTHONPATH": str(root)} | env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_settings_come_from_the_environment(tmp_path):
    config = _config_from_environment(
        {
            "APP_ENV": "production",
            "DATABASE_URL": "postgres://hailong@db.internal:5432/hailong",
            "SECRET_KEY": "s" * 40,
            "PUBLIC_BASE_URL": "https://hailong.haiduong.gov.vn/",
            "TIMEZONE": "Asia/Bangkok",
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/3",
            "DUPLICATE_WINDOW_SECONDS": "120",
        }
    )
    assert config == {
        "APP_ENV": "production",
        # psycopg 3, the driver shipped
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://hailong@db.internal:5432/hailong",
        "SECRET_KEY": "s" * 40,
        "PUBLIC_BASE_URL": "https://hailong.haiduong.gov.vn",
        "TIMEZONE": "Asia/Bangkok",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/3",
        "SESSION_COOKIE_SECURE": "True",
        "DUPLICATE_WINDOW_SECONDS": "120",
    }


def test_development_secret_key_is_generated_once_and_kept(tmp_path):
    from pathlib import Path

    from survey_app.config import Config

    first: dict = {
        "SECRET_KEY": None,
        "APP_ENV": "development",
        "PUBLIC_BASE_URL": "x",
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
    }
    second = dict(first)
    Config.finalise(first, Path(tmp_path))
    Config.finalise(second, Path(tmp_path))
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_requires_a_secret_key():
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(
            {"APP_ENV": "production", "SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
        )


@pytest.mark.parametrize(
    "given, expected",
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_postgres_urls_use_psycopg3(given, expected):
    app = create_app({"SQLALCHEMY_DATABASE_URI": given, "SECRET_KEY": "k"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == expected


def test_config_class_is_accepted():
    class Custom(TestConfig):
        PUBLIC_BASE_URL = "https://khaosat.haiphong.gov.vn/"

    app = create_app(Custom)
    assert app.config["PUBLIC_BASE_URL"] == "https://khaosat.haiphong.gov.vn"


def test_schema_comes_from_migrations_and_matches_the_models(app_ctx):
    """A model change without a migration fails here (alembic's autogenerate check)."""
    import warnings

    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from survey_app.extensions import db

    with db.engine.connect() as conn, warnings.catch_warnings():
        # SQLite cannot reflect the queue's expression indexes; tests/feedback/test_queries.py
        # checks those on both databases
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index"
        )
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []
