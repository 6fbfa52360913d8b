"""The baseline for the survey benchmark: bare Flask + Flask-SQLAlchemy, one INSERT per POST.

It answers the same requests the survey gets (``POST /s/<code>`` with
``overall=1..5``, a CSRF token, a signed ``started`` field and a session
cookie) but does nothing with them except store one row and answer 303, so the
difference to the real app is what the app does per submission: CSRF and
session handling, rate limiting, locale selection, the counter lookup, the
duplicate check and the questionnaire row.

The database settings are the app's: ``pool_pre_ping`` and, on SQLite, the same
pragmas (foreign keys, busy timeout, WAL, synchronous=NORMAL) set by a connect
event; PostgreSQL goes through psycopg 3.

Served by gunicorn exactly like the app (``gunicorn bare_app:app`` with
``--chdir bench``). ``python bench/bare_app.py`` creates its table; the
benchmark does that before it starts gunicorn, so two workers never race to
create it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, abort, redirect, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Engine, SmallInteger, String, event, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class BareRow(db.Model):
    __tablename__ = "bench_bare_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16))
    overall: Mapped[int] = mapped_column(SmallInteger)
    user_agent: Mapped[str] = mapped_column(String(255))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def database_url(url: str) -> str:
    """``postgresql://`` → ``postgresql+psycopg://`` (psycopg 3), as the app does."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _sqlite_pragmas(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _set_pragmas(dbapi_connection, connection_record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def posted_rating() -> int:
    """The form's ``overall``, 1–5, or 400."""
    try:
        overall = int(request.form.get("overall", ""))
    except ValueError:
        abort(400)
    if not 1 <= overall <= 5:
        abort(400)
    return overall


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(os.environ["DATABASE_URL"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    db.init_app(app)
    with app.app_context():
        _sqlite_pragmas(db.engine)

    @app.post("/s/<code>")
    def submit(code: str):
        overall = posted_rating()
        db.session.add(
            BareRow(
                code=code[:16],
                overall=overall,
                user_agent=(request.headers.get("User-Agent") or "")[:255],
                submitted_at=datetime.now(UTC),
            )
        )
        db.session.commit()
        return redirect(f"/s/{code}/more", code=303)

    return app


def count_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(BareRow)) or 0


app = create_app() if "DATABASE_URL" in os.environ else None


if __name__ == "__main__":
    with app.app_context():  # type: ignore[union-attr]
        db.create_all()
