"""Health checks for the process supervisor and the load balancer.

``/healthz`` (liveness) answers as long as the process serves requests and
touches nothing else. ``/readyz`` (readiness) also checks that the database
answers and that its Alembic revision is the newest migration script's, so a
server whose database has not been upgraded yet is kept out of the pool.
Both are exempt from rate limits, set no cookie and must not be cached.
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
            conn.execute(text("SELECT 1"))
            current = frozenset(MigrationContext.configure(conn).get_current_heads())
    except SQLAlchemyError as exc:
        log.warning("readiness check: database unreachable: %s", type(exc).__name__)
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
