"""A live copy of the app for browser tests and the screenshot script.

Each live app has its own database: a temporary SQLite file, or, when a
PostgreSQL URL is given, a throwaway database ``<name>_e2e`` next to it,
created and dropped through an AUTOCOMMIT connection. The schema is built by
the Alembic migrations, and the app is served by Werkzeug in a thread.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool
from werkzeug.serving import make_server

from survey_app import create_app
from survey_app.config import TestConfig
from survey_app.extensions import db

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

#: A mid-range Android phone, as most respondents hold: 360 CSS pixels wide.
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "screen": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "vi-VN",
    "timezone_id": "Asia/Ho_Chi_Minh",
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
    ),
}


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here, or None if they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright not installed"
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM}"
    return None


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def _postgres_url(url: str) -> URL:
    parsed = make_url(url)
    # psycopg 3 is the driver the app ships (see Config.finalise)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


@contextlib.contextmanager
def _postgres_database(base_url: str) -> Iterator[str]:
    """Create ``<name>_e2e`` beside the database of ``base_url``, drop it at the end."""
    base = _postgres_url(base_url)
    name = f"{base.database}_e2e"
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    quoted = admin.dialect.identifier_preparer.quote(name)
    try:
        with admin.connect() as conn:
            # a clean slate even if an earlier run was interrupted
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
            conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    finally:
        admin.dispose()


@dataclass
class LiveApp:
    app: Flask
    url: str

    def counter(self, agency_name: str | None = None, counter_name: str | None = None):
        """A new agency and counter, committed; returned as plain data."""
        from tests import factories

        with self.app.app_context():
            counter = factories.counter(factories.agency(agency_name), name=counter_name)
            db.session.commit()
            return SimpleNamespace(id=counter.id, code=counter.code, name=counter.name)

    def receipt_token(self, counter_code: str) -> str:
        from survey_app.surveys.tokens import issue_receipt_token

        with self.app.app_context():
            return issue_receipt_token(counter_code)


@contextlib.contextmanager
def live_app(postgres_url: str | None = None) -> Iterator[LiveApp]:
    """Run a separate app instance, with its own database, on a free local port."""
    workdir = Path(tempfile.mkdtemp(prefix="hailong-e2e-"))
    try:
        with contextlib.ExitStack() as stack:
            if postgres_url:
                database_url = stack.enter_context(_postgres_database(postgres_url))
            else:
                database_url = f"sqlite:///{workdir / 'e2e.sqlite3'}"

            class LiveConfig(TestConfig):
                SQLALCHEMY_DATABASE_URI = database_url
                RATELIMIT_ENABLED = False

            app = create_app(LiveConfig)
            app.instance_path = str(workdir / "instance")
            with app.app_context():
                upgrade()
                db.session.remove()

            server = make_server("127.0.0.1", 0, app, threaded=True)
            thread = threading.Thread(
                target=server.serve_forever, name="e2e-live-server", daemon=True
            )
            thread.start()
            try:
                yield LiveApp(app=app, url=f"http://127.0.0.1:{server.server_port}")
            finally:
                server.shutdown()
                server.server_close()
                thread.join(timeout=10)
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()  # the PostgreSQL database can only be dropped unused
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
