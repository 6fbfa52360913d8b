"""Database helpers shared by every domain package."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click
from sqlalchemy import DateTime, event, text
from sqlalchemy.engine import Engine, make_url
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


#: SQLite's busy timeout for DATABASE_LOCK_TIMEOUT=0 ("wait as long as it takes"): its largest.
_SQLITE_WAIT_FOREVER_MS = 2**31 - 1


def milliseconds(seconds: float | None) -> int:
    """A timeout setting in seconds (``0.5``, ``15``) as the whole milliseconds databases take."""
    return max(0, round(float(seconds or 0) * 1000))


def running_a_cli_job() -> bool:
    """Whether this application is being made by the ``flask`` command for a job.

    The command line loads the application inside its click context (the group's,
    or ``run``'s for the development server); gunicorn and the tests make it
    outside any. A job (``flask report monthly``, an export, the purge) gets
    ``DATABASE_JOB_STATEMENT_TIMEOUT`` instead of a request's statement timeout.
    """
    context = click.get_current_context(silent=True)
    return context is not None and context.info_name != "run"


def engine_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """``SQLALCHEMY_ENGINE_OPTIONS`` with the timeouts for the configured database.

    On PostgreSQL every connection starts with ``statement_timeout`` and
    ``lock_timeout`` set (``DATABASE_STATEMENT_TIMEOUT``, ``DATABASE_LOCK_TIMEOUT``;
    0 leaves the server's own setting) and gives up connecting after
    ``DATABASE_CONNECT_TIMEOUT``. A table locked by a migration, or a runaway
    query, then costs the requests that need it a 503 after a few seconds instead of
    holding every worker (and so ``/healthz``) until it ends. Options already in the
    URL (``?options=-c…``) are kept and, coming last, win. SQLite's equivalent, the
    busy timeout, is set by :func:`install_sqlite_pragmas`.

    :param config: the application's settings, with the final database URI.
    :return: a new dict; the settings' own is not modified.
    """
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        return options
    connect_args = dict(options.get("connect_args") or {})
    flags = [
        f"-c {name}={milliseconds(config.get(key))}"
        for name, key in (
            ("statement_timeout", "DATABASE_STATEMENT_TIMEOUT"),
            ("lock_timeout", "DATABASE_LOCK_TIMEOUT"),
        )
        if milliseconds(config.get(key))
    ]
    given = connect_args.get("options", url.query.get("options", ""))
    given = " ".join(given) if isinstance(given, tuple) else given
    if flags:
        connect_args["options"] = " ".join([*flags, given]).strip()
    if config.get("DATABASE_CONNECT_TIMEOUT") and "connect_timeout" not in url.query:
        connect_args.setdefault("connect_timeout", int(config["DATABASE_CONNECT_TIMEOUT"]))
    options["connect_args"] = connect_args
    return options


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


def install_sqlite_pragmas(engine: Engine, lock_timeout: float = 5) -> None:
    """Turn on foreign keys, WAL and a busy timeout for every connection of a SQLite engine.

    :param lock_timeout: seconds a write waits for another connection's lock before
        "database is locked" (a 503); 0 waits as long as SQLite can.
    """
    if engine.dialect.name != "sqlite":
        return
    busy_ms = milliseconds(lock_timeout) or _SQLITE_WAIT_FOREVER_MS

    @event.listens_for(engine, "connect")
    def _set_sqlite_pragmas(dbapi_connection, connection_record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


#: Execution option for reads whose rows are consumed raw, numbers only (the reports'
#: arrays): on PostgreSQL (psycopg) the rows then come in the binary format, machine
#: numbers instead of text to parse: a third faster on a million rows.
ROWS_IN_BINARY = "rows_in_binary"


@event.listens_for(Engine, "before_cursor_execute")
def _rows_in_binary(conn, cursor, statement, parameters, context, executemany) -> None:
    if context is None or not context.execution_options.get(ROWS_IN_BINARY):
        return
    if conn.dialect.driver == "psycopg":
        from psycopg.pq import Format

        cursor.format = Format.BINARY


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


def create_index_concurrently(
    name: str, table: str, columns: list[str], *, unique: bool = False, **kw: Any
) -> None:
    """In a migration: ``op.create_index`` without blocking writes on PostgreSQL.

    A plain ``CREATE INDEX`` holds a SHARE lock on the table while it builds: every
    insert and update of the table waits (minutes, on a big ``responses``), and with
    the connections' lock timeout they fail. On PostgreSQL the index is built
    ``CONCURRENTLY`` instead, which lets writes go on. That cannot run inside a
    transaction, so it runs in Alembic's ``autocommit_block()`` (what the migration
    run did before it is committed first, so it must be safe to run again if the
    build fails: put the index in a migration of its own, or make the steps before
    it idempotent). The build waits for the transactions already open to end, which
    blocks nobody, so the migration's lock timeout is lifted for it. A build that
    failed earlier leaves an invalid index of that name behind: it is dropped first,
    so running the migration again works. On SQLite (one writer at a time anyway)
    this is a plain ``CREATE INDEX``.

    :param name: the index name (naming convention: ``ix_<table>_<column>``, ``uq_…``).
    :param table: the table.
    :param columns: its columns, in order.
    :param unique: a unique index.
    :param kw: passed on to ``op.create_index`` (``postgresql_where=…``, …).
    """
    from alembic import op

    context = op.get_context()
    if context.dialect.name != "postgresql":
        op.create_index(name, table, columns, unique=unique, **kw)
        return
    with context.autocommit_block():
        if not context.as_sql:
            invalid = op.get_bind().scalar(
                text("SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"),
                {"name": name},
            )
            if invalid:
                log.warning("dropping the invalid index %s left by a failed build", name)
                with _without_lock_timeout():
                    op.drop_index(name, table_name=table, postgresql_concurrently=True)
        with _without_lock_timeout():
            op.create_index(name, table, columns, unique=unique, postgresql_concurrently=True, **kw)


def drop_index_concurrently(name: str, table: str) -> None:
    """In a migration: ``op.drop_index`` without blocking the table on PostgreSQL (see above).

    :param name: the index name.
    :param table: its table.
    """
    from alembic import op

    context = op.get_context()
    if context.dialect.name != "postgresql":
        op.drop_index(name, table_name=table)
        return
    with context.autocommit_block(), _without_lock_timeout():
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)


@contextmanager
def _without_lock_timeout() -> Iterator[None]:
    """Lift the session's lock_timeout for a concurrent index build, then put it back.

    (After a failure it is not put back: the migration stops and its connection is discarded.)
    """
    from alembic import op

    online = not op.get_context().as_sql
    saved = op.get_bind().scalar(text("SELECT current_setting('lock_timeout')")) if online else None
    op.execute("SET lock_timeout = 0")
    yield
    if online:
        op.get_bind().execute(
            text("SELECT set_config('lock_timeout', :value, false)"), {"value": saved}
        )
