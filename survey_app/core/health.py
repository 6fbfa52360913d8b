"""Health checks for the process supervisor and the load balancer.

``/healthz`` (liveness) answers as long as the process serves requests and
touches nothing else. ``/readyz`` (readiness) also checks that the database
answers and that its Alembic revision is the newest migration script's, so a
server whose database has not been upgraded yet is kept out of the pool.
Both are exempt from rate limits, set no cookie and must not be cached.

Both answer within a bound: ``/readyz`` gives the database
``HEALTH_DATABASE_TIMEOUT`` seconds (statement and lock timeouts of its own, on
PostgreSQL) and says 503 after that, so a table locked by a migration or a stuck
server makes it fail fast rather than hang with the requests it should warn about.
The statement and lock timeouts of every connection (core/db.py) keep the workers
free to answer ``/healthz``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..auth.permissions import public
from ..extensions import db, limiter
from .db import milliseconds

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
_HEADS_KEY = "hailong.migration_heads"


def script_heads(directory: Path = MIGRATIONS_DIR) -> frozenset[str]:
    """The head revision(s) of the migration scripts."""
    return frozenset(ScriptDirectory(str(directory)).get_heads())


def register(app: Flask) -> None:
    """Read the migration heads once, at start-up, and add the two endpoints."""
    app.extensions[_HEADS_KEY] = script_heads()
    app.register_blueprint(bp)


def _answer(body: dict, status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
@limiter.exempt
@public
def healthz():
    """Liveness: the process answers."""
    return _answer({"status": "ok"}, 200)


@bp.get("/readyz")
@limiter.exempt
@public
def readyz():
    """Readiness: the database answers and its schema is at the newest migration."""
    try:
        with db.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                # for this transaction only (the connection goes back to the pool as it was)
                limit = f"{milliseconds(current_app.config['HEALTH_DATABASE_TIMEOUT'])}ms"
                conn.execute(
                    text(
                        "SELECT set_config('statement_timeout', :limit, true),"
                        " set_config('lock_timeout', :limit, true)"
                    ),
                    {"limit": limit},
                )
            conn.execute(text("SELECT 1"))
            current = frozenset(MigrationContext.configure(conn).get_current_heads())
    except SQLAlchemyError as exc:
        log.warning("readiness check: database unreachable: %s", _reason(exc))
        return _answer({"status": "unavailable", "reason": "database unreachable"}, 503)
    expected = current_app.extensions[_HEADS_KEY]
    if current != expected:
        log.warning(
            "readiness check: migrations pending (database at %s, scripts at %s)",
            ",".join(sorted(current)) or "nothing",
            ",".join(sorted(expected)),
        )
        return _answer({"status": "unavailable", "reason": "migrations pending"}, 503)
    return _answer({"status": "ok", "database": "ok", "migrations": "current"}, 200)


def _reason(exc: SQLAlchemyError) -> str:
    """The kind of failure, for the log: the exception's class and the driver's (no message:
    it may quote the connection string)."""
    orig = getattr(exc, "orig", None)
    return (
        f"{type(exc).__name__} ({type(orig).__name__})" if orig is not None else type(exc).__name__
    )
