"""The database cannot hang the service: statement and lock timeouts, bounded health checks,
migrations that give up on a lock, indexes built without blocking writes.

A second connection holds a lock (PostgreSQL: ACCESS EXCLUSIVE on a table, as a
migration does; SQLite: the write lock) and lets go after :data:`HOLD` seconds
whatever happens, so that without the timeouts a test waits that long and fails
rather than hanging.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager

import click
import pytest
from flask_migrate import upgrade
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from survey_app import create_app
from survey_app.config import TestConfig
from survey_app.core.db import create_index_concurrently, engine_options
from survey_app.extensions import db
from survey_app.surveys.models import Response
from tests import factories
from tests.helpers import csrf_from

#: Seconds the locking connection holds its lock at most.
HOLD = 8


def _app(url: str, **settings):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url

    for name, value in settings.items():
        setattr(Config, name, value)
    return create_app(Config)


def _postgres(url: str) -> bool:
    return url.startswith("postgresql")


def _libpq(url: str) -> str:
    """The URL as psycopg takes it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def _locked(url: str, table: str):
    """Another connection holds ``table`` locked (SQLite: the whole database) for up to HOLD s."""
    if _postgres(url):
        import psycopg

        holder = psycopg.connect(_libpq(url))
        holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    else:
        holder = sqlite3.connect(make_url(url).database, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")  # the write lock; readers go on (WAL)
    timer = threading.Timer(HOLD, holder.rollback)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        holder.rollback()
        holder.close()


def _timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


# -- settings ------------------------------------------------------------------------


def test_engine_options_give_postgresql_connections_their_timeouts():
    base = {
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://hailong@db/hailong",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "DATABASE_STATEMENT_TIMEOUT": 15,
        "DATABASE_LOCK_TIMEOUT": 5,
        "DATABASE_CONNECT_TIMEOUT": 5,
    }
    options = engine_options(base)
    assert options == {
        "pool_pre_ping": True,
        "connect_args": {
            "options": "-c statement_timeout=15000 -c lock_timeout=5000",
            "connect_timeout": 5,
        },
    }
    assert base["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True}  # not modified
    # 0 leaves it to the server; fractions of a second are milliseconds
    options = engine_options(
        {**base, "DATABASE_STATEMENT_TIMEOUT": 0, "DATABASE_LOCK_TIMEOUT": 0.25}
    )
    assert options["connect_args"]["options"] == "-c lock_timeout=250"
    options = engine_options({**base, "DATABASE_STATEMENT_TIMEOUT": 0, "DATABASE_LOCK_TIMEOUT": 0})
    assert "options" not in options["connect_args"]
    # options in the URL are kept, and come last so that they win
    url = "postgresql+psycopg://hailong@db/hailong?options=-c%20search_path%3Dx&connect_timeout=9"
    options = engine_options({**base, "SQLALCHEMY_DATABASE_URI": url})
    assert options["connect_args"] == {
        "options": "-c statement_timeout=15000 -c lock_timeout=5000 -c search_path=x"
    }
    # SQLite: nothing to pass (its busy timeout is a PRAGMA)
    assert engine_options({**base, "SQLALCHEMY_DATABASE_URI": "sqlite://"}) == {
        "pool_pre_ping": True
    }


@pytest.mark.parametrize(("command", "limited"), [("run", True), ("python -m flask", False)])
def test_flask_jobs_have_no_statement_timeout_the_development_server_has(command, limited):
    """A 1M-response month reads for longer than a request may: ``flask report monthly``
    failed on PostgreSQL when its load query passed 15 s. Jobs get their own limit."""
    url = "postgresql+psycopg://hailong@db/hailong"
    with click.Context(click.Command(command), info_name=command):
        made = _app(url, DATABASE_STATEMENT_TIMEOUT=15, DATABASE_JOB_STATEMENT_TIMEOUT=0)
    options = made.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"]
    assert ("statement_timeout=15000" in options) is limited
    assert "lock_timeout=5000" in options  # a job still does not queue behind a lock
    with click.Context(click.Command(command), info_name=command):
        made = _app(url, DATABASE_JOB_STATEMENT_TIMEOUT=600)
    options = made.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"]
    assert ("statement_timeout=600000" in options) is not limited
    # outside the command line (gunicorn, the tests): a request's limit
    made = _app(url, DATABASE_STATEMENT_TIMEOUT=15)
    assert (
        "statement_timeout=15000"
        in made.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"]
    )


def test_the_defaults_are_15_and_5_seconds(app):
    assert app.config["DATABASE_STATEMENT_TIMEOUT"] == 15
    assert app.config["DATABASE_LOCK_TIMEOUT"] == 5
    assert app.config["HEALTH_DATABASE_TIMEOUT"] <= 2


def test_every_connection_has_the_timeouts(database_url):
    """PostgreSQL: statement_timeout and lock_timeout as set; SQLite: the busy timeout is
    DATABASE_LOCK_TIMEOUT."""
    app = _app(database_url, DATABASE_STATEMENT_TIMEOUT=12, DATABASE_LOCK_TIMEOUT=0.75)
    with app.app_context():
        if _postgres(database_url):
            assert db.session.scalar(text("SHOW statement_timeout")) == "12s"
            assert db.session.scalar(text("SHOW lock_timeout")) == "750ms"
        else:
            assert db.session.scalar(text("PRAGMA busy_timeout")) == 750
        db.session.remove()
        db.engine.dispose()


# -- requests and health checks under a lock ------------------------------------------


@pytest.fixture
def counter_code(app):
    with app.app_context():
        code = factories.counter().code
        db.session.commit()
        return code


def test_a_locked_table_costs_a_request_a_quick_503_not_a_hang(app, database_url, counter_code):
    """The survey tap needs ``responses``, which a migration holds: the citizen gets the
    503 page after DATABASE_LOCK_TIMEOUT, and the worker is free again."""
    locked_app = _app(database_url, DATABASE_LOCK_TIMEOUT=0.5)
    client = locked_app.test_client()
    token = csrf_from(client.get(f"/s/{counter_code}").get_data(as_text=True))
    with _locked(database_url, "responses"):
        reply, seconds = _timed(
            lambda: client.post(f"/s/{counter_code}", data={"csrf_token": token, "overall": "4"})
        )
        assert reply.status_code == 503
        assert seconds < 3
        assert reply.headers["Retry-After"] == "30"
        # /healthz touches no table: it answers at once meanwhile
        health, seconds = _timed(lambda: client.get("/healthz"))
        assert health.status_code == 200 and seconds < 1
    # nothing half-stored, and the same app serves the tap once the lock is gone
    reply = client.post(f"/s/{counter_code}", data={"csrf_token": token, "overall": "4"})
    assert reply.status_code == 303
    with locked_app.app_context():
        assert len(db.session.scalars(select(Response)).all()) == 1
        db.session.remove()
        db.engine.dispose()


def test_readyz_answers_503_within_its_own_bound_when_the_database_is_locked(app, database_url):
    """Even with the app's own timeouts off, /readyz gives the database
    HEALTH_DATABASE_TIMEOUT and says 503 after that, instead of hanging."""
    if not _postgres(database_url):
        pytest.skip("PostgreSQL test SKIPPED: set TEST_DATABASE_URL (SQLite's readers never wait)")
    probe_app = _app(
        database_url,
        DATABASE_STATEMENT_TIMEOUT=0,
        DATABASE_LOCK_TIMEOUT=0,
        HEALTH_DATABASE_TIMEOUT=0.5,
    )
    client = probe_app.test_client()
    assert client.get("/readyz").status_code == 200
    with _locked(database_url, "alembic_version"):
        reply, seconds = _timed(lambda: client.get("/readyz"))
        assert reply.status_code == 503 and seconds < 3
        assert reply.get_json()["status"] == "unavailable"
    assert client.get("/readyz").status_code == 200  # its limits did not stay on the connection
    with probe_app.app_context():
        assert db.session.scalar(text("SHOW lock_timeout")) == "0"
        db.session.remove()
        db.engine.dispose()


# -- migrations ------------------------------------------------------------------------


@pytest.fixture
def scratch_schema(database_url):
    """A PostgreSQL schema of its own (the session's database stays as it is), dropped after."""
    if not _postgres(database_url):
        pytest.skip("PostgreSQL test SKIPPED: set TEST_DATABASE_URL")
    import psycopg

    name = f"scratch_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq(database_url), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={name}"})
    yield name, url.render_as_string(hide_password=False)
    with psycopg.connect(_libpq(database_url), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {name} CASCADE")


def _index_valid(connection, name: str) -> bool | None:
    return connection.scalar(
        text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"),
        {"name": name},
    )


def _statements(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]), named=False)
    return seen


def test_a_migration_waiting_for_a_lock_fails_instead_of_blocking_everyone(scratch_schema):
    """The newest migration alters ``responses``; while a long transaction holds it, the
    migration gives up after MIGRATION_LOCK_TIMEOUT (to be run again), and then builds
    its index CONCURRENTLY, which lets the survey write meanwhile."""
    schema, url = scratch_schema
    migrating = _app(url, MIGRATION_LOCK_TIMEOUT=0.5, DATABASE_LOCK_TIMEOUT=0)
    with migrating.app_context():
        upgrade(revision="c3d9e1f0a7b2")  # the one before the newest
        with _locked(url, "responses"):
            started = time.monotonic()
            with pytest.raises(OperationalError, match="lock timeout"):
                upgrade()
            assert time.monotonic() - started < 3
        statements = _statements(db.engine)
        upgrade()  # run again, the lock gone: it goes through
        assert any(
            "CREATE UNIQUE INDEX CONCURRENTLY uq_responses_start_nonce" in s for s in statements
        )
        assert _index_valid(db.session, "uq_responses_start_nonce") is True
        # the migration's own settings did not stay on a connection of the app's
        assert db.session.scalar(text("SHOW lock_timeout")) == "0"
        assert db.session.scalar(text("SHOW statement_timeout")) == "15s"
        db.session.remove()
        db.engine.dispose()


def _run_migration_op(engine, operation) -> None:
    """Run ``operation()`` as a migration script's upgrade() would, with ``op`` bound."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        with Operations.context(context), context.begin_transaction():
            operation()


def test_create_index_concurrently_replaces_an_invalid_leftover(scratch_schema):
    """A concurrent build that failed (here: duplicates for a unique index) leaves an invalid
    index behind; running the migration again drops it and builds a valid one. The
    session's lock_timeout is lifted for the build and put back."""
    schema, url = scratch_schema
    scratch = _app(url)
    with scratch.app_context():
        engine = db.engine
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE things (id int PRIMARY KEY, label text)"))
            conn.execute(text("INSERT INTO things VALUES (1, 'a'), (2, 'a')"))

        def build():
            create_index_concurrently("uq_things_label", "things", ["label"], unique=True)

        def set_lock_timeout_then_build():
            from alembic import op

            op.execute("SET lock_timeout = 1234")
            build()
            assert op.get_bind().scalar(text("SHOW lock_timeout")) == "1234ms"

        with pytest.raises(Exception, match="could not create unique index"):
            _run_migration_op(engine, build)
        with engine.connect() as conn:
            assert _index_valid(conn, "uq_things_label") is False
        with engine.begin() as conn:
            conn.execute(text("UPDATE things SET label = 'b' WHERE id = 2"))
        _run_migration_op(engine, set_lock_timeout_then_build)
        with engine.connect() as conn:
            assert _index_valid(conn, "uq_things_label") is True
        db.engine.dispose()


def test_create_index_concurrently_is_a_plain_index_on_sqlite(tmp_path):
    scratch = _app(f"sqlite:///{tmp_path / 'scratch.sqlite3'}")
    with scratch.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE things (id integer PRIMARY KEY, label text)"))
        _run_migration_op(
            db.engine,
            lambda: create_index_concurrently("ix_things_label", "things", ["label"]),
        )
        with db.engine.connect() as conn:
            names = conn.execute(text("PRAGMA index_list(things)")).all()
        assert [row[1] for row in names] == ["ix_things_label"]
        db.engine.dispose()
