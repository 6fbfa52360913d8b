"""Database helpers shared by every domain package."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on PostgreSQL (timestamptz) and SQLite (naive UTC text).

    Refuses naive datetimes on the way in, so local times cannot slip in unconverted.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: PostgreSQL's answers when another transaction changed, or is changing, the rows a
#: request writes: the request lost a race (SQLSTATE 40001 serialization_failure under
#: REPEATABLE READ or SERIALIZABLE, 40P01 deadlock_detected). Nothing is wrong with the
#: database; the request must be made again on what is saved now.
CONCURRENT_CHANGE_SQLSTATES = frozenset({"40001", "40P01"})


def is_concurrent_change(error: BaseException) -> bool:
    """True when ``error`` means another request changed the same rows at the same time.

    That is SQLAlchemy's :class:`StaleDataError` (a versioned row, e.g. a feedback
    case, was updated by someone else between this request's read and its write:
    the UPDATE matched no row) and PostgreSQL's serialization failures and deadlocks.
    """
    if isinstance(error, StaleDataError):
        return True
    if isinstance(error, DBAPIError):
        return getattr(error.orig, "sqlstate", None) in CONCURRENT_CHANGE_SQLSTATES
    return False


def install_sqlite_pragmas(engine: Engine) -> None:
    """Turn on foreign keys, WAL and a busy timeout for every connection of a SQLite engine."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _set_sqlite_pragmas(dbapi_connection, connection_record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def close_session_safely(exc: BaseException | None = None) -> None:
    """End the request's session (a ``teardown_appcontext`` running before Flask-SQLAlchemy's).

    Closing rolls back what the request read. When the database went away after the
    request's last query (a restart, a failover), that rollback fails on the dead
    connection, and raised from the teardown it would turn the finished page into a
    bare 500. The dead connection is dropped instead; the pool replaces it.
    """
    from ..extensions import db

    try:
        db.session.remove()
    except DBAPIError as error:
        # SQLAlchemy has invalidated the dead connection; the session is closed
        # but still registered for this context: forget it
        log.warning("database connection lost at the end of a request: %s", str(error.orig))
        db.session.registry.clear()
