"""Test fixtures: one app per session, its schema built by the Alembic migrations.

Runs on SQLite (a temporary file) by default and on PostgreSQL when
``TEST_DATABASE_URL`` is set. Each test starts from empty tables: rows are
deleted after every test, so code under test commits for real (as it does in
production) and a test can check what a failed request left behind.
"""

from __future__ import annotations

import os
import re

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from survey_app import create_app
from survey_app.config import TestConfig
from survey_app.extensions import db, limiter
from survey_app.reports.services import forget_cached_reports
from survey_app.surveys.services import forget_cached_ids

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")


def pytest_report_header(config):
    if POSTGRES_URL:
        shown = re.sub(r"//[^@/]*@", "//***@", POSTGRES_URL)
        return [f"database: PostgreSQL ({shown})"]
    return [
        "database: SQLite (temporary file). PostgreSQL tests SKIPPED: set TEST_DATABASE_URL "
        "to run the whole suite on PostgreSQL."
    ]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if POSTGRES_URL:
        return POSTGRES_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    app = create_app(Config)
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    with app.app_context():
        if database_url.startswith("postgresql"):
            # a clean slate even if an earlier run was interrupted
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        downgrade(revision="base")  # the downgrades are tested too
        db.engine.dispose()


def _empty_all_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        return
    with db.engine.connect() as conn:
        # agencies refer to themselves; SQLite checks that row by row
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        for table in tables:
            conn.execute(text(f"DELETE FROM {table}"))
        conn.commit()
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Every test starts with empty tables (only for tests that use the app)."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    yield
    with app.app_context():
        db.session.remove()
        _empty_all_tables()
    forget_cached_ids()
    forget_cached_reports()


@pytest.fixture(autouse=True)
def _limiter_off_for_the_shared_app():
    """Flask-Limiter's state is per process: an app a test builds with limits on
    must not leave them on for the session's app."""
    yield
    limiter.enabled = False


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
