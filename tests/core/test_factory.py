"""The application factory and its configuration."""

from __future__ import annotations

import pytest

from survey_app import create_app
from survey_app.config import TestConfig


def test_testing_config(app):
    assert app.testing
    assert app.config["PUBLIC_BASE_URL"] == "https://hailong.example.gov.vn"


def test_defaults_without_environment(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "SECRET_KEY", "APP_ENV", "PUBLIC_BASE_URL", "TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(
        {"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": None, "SECRET_KEY": None}
    )
    app.instance_path = str(tmp_path)  # already finalised; check the generated values instead
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/hailong.sqlite3")
    assert len(app.config["SECRET_KEY"]) >= 32
    assert app.config["TIMEZONE"] == "Asia/Ho_Chi_Minh"


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
