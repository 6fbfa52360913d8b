"""/healthz and /readyz: liveness, and readiness = database reachable and migrations current."""

from __future__ import annotations

import logging

import pytest
from flask_migrate import upgrade

from survey_app import create_app
from survey_app.config import TestConfig
from survey_app.core.health import script_heads
from survey_app.extensions import db, limiter

#: The first migration: a database stamped here is behind the scripts.
OLD_REVISION = "af927ad50b18"


def _app(url: str):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url

    return create_app(Config)


def _assert_probe_headers(reply) -> None:
    assert reply.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in reply.headers
    assert reply.mimetype == "application/json"


def test_healthz_answers_without_the_database():
    app = _app("sqlite:////nonexistent-folder/hailong.sqlite3")
    reply = app.test_client().get("/healthz")
    assert reply.status_code == 200
    assert reply.get_json() == {"status": "ok"}
    _assert_probe_headers(reply)


def test_readyz_is_ready_on_the_migrated_test_database(client):
    reply = client.get("/readyz")
    assert reply.status_code == 200
    assert reply.get_json() == {"status": "ok", "database": "ok", "migrations": "current"}
    _assert_probe_headers(reply)


def test_heads_are_read_from_the_migration_scripts(app):
    assert app.extensions["hailong.migration_heads"] == script_heads()
    assert len(script_heads()) == 1 and OLD_REVISION not in script_heads()


def test_readyz_says_migrations_pending_until_the_database_is_upgraded(tmp_path, caplog):
    app = _app(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    client = app.test_client()
    with app.app_context():
        upgrade(revision=OLD_REVISION)
    # migrations/env.py reads alembic.ini's logging setup, which drops the root's handlers
    logging.getLogger().addHandler(caplog.handler)
    reply = client.get("/readyz", headers={"X-Request-ID": "probe-0001"})
    assert reply.status_code == 503
    assert reply.get_json() == {"status": "unavailable", "reason": "migrations pending"}
    _assert_probe_headers(reply)
    warning = [r for r in caplog.records if r.name == "survey_app.core.health"]
    assert warning and OLD_REVISION in warning[0].getMessage()
    assert warning[0].request_id == "probe-0001"  # a record logged inside the request

    with app.app_context():
        upgrade()
    assert client.get("/readyz").status_code == 200
    with app.app_context():
        db.engine.dispose()


def test_readyz_on_an_empty_database_says_migrations_pending(tmp_path):
    app = _app(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    reply = app.test_client().get("/readyz")
    assert reply.status_code == 503
    assert reply.get_json()["reason"] == "migrations pending"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-folder/hailong.sqlite3",
        "postgresql://nobody@127.0.0.1:1/nothing",  # nothing listens on port 1
    ],
)
def test_readyz_is_503_when_the_database_is_unreachable(url):
    reply = _app(url).test_client().get("/readyz")
    assert reply.status_code == 503
    assert reply.get_json() == {"status": "unavailable", "reason": "database unreachable"}
    _assert_probe_headers(reply)


@pytest.fixture
def default_limits_restored():
    """The limiter is one object per process: give back its default limits after the test."""
    manager = limiter.limit_manager
    saved = list(manager._default_limits)
    yield
    manager.set_default_limits(saved)


def test_probes_are_not_rate_limited(tmp_path, default_limits_restored):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'x.sqlite3'}"
        RATELIMIT_ENABLED = True
        RATELIMIT_DEFAULT = "2/minute"

    app = create_app(Config)
    client = app.test_client()
    assert {client.get("/healthz").status_code for _ in range(5)} == {200}
    assert {client.get("/readyz").status_code for _ in range(5)} == {503}  # never 429
    # the default limit is really on: an ordinary page gets 429 on the third try
    assert [client.get("/").status_code for _ in range(3)] == [200, 200, 429]
