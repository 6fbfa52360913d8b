"""The bare endpoint plus the survey's protections, one at a time: where the throughput goes.

``LADDER`` (environment) lists the layers to add to ``bare_app``'s endpoint,
each the same library and settings the app uses:

``csrf``
    Flask-WTF's CSRFProtect: the session cookie is read and the form's token
    checked against it (the app refuses a tap without one, as the issue asks).
    With ``csrf`` or ``session`` the app's session interface is used
    (``survey_app.core.sessions``: Flask's cookie, written as plain JSON).
``session``
    the new row's id is kept in the signed session cookie, as step 1 does so
    that steps 2 and 3 can add to the same response.
``limit``
    a per-address rate limit counted with ``limits`` in memory, as
    ``survey_app.core.ratelimit`` does.
``log``
    the app's JSON access line with a request id (``survey_app.core.logs``).
``headers``
    the app's security headers (``survey_app.core.security``).
``row``
    the row goes into the app's ``responses`` table (its indexes, foreign keys
    and check constraint) at the counter named in the URL, with the columns a
    tap sets, instead of ``bare_app``'s one-index table. The counters and the
    questionnaire version are read once at start-up, so no query is added: only
    the cost of the real table. Needs the app's migrated database with counters
    and a questionnaire version (the benchmark measures the app first).

``bench/survey_throughput.py --ladder`` serves it under gunicorn with the same
settings as the app and the bare endpoint and with the same ``SECRET_KEY``, so
the app's session cookies and CSRF tokens (harvested from its pages) are valid
here too.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid

import bare_app  # bench/ is the working directory under gunicorn; survey_app is on PYTHONPATH
from flask import Flask, abort, g, request, session

LAYERS = ("csrf", "session", "limit", "log", "headers", "row")


def create_app(layers: set[str]) -> Flask:
    unknown = layers - set(LAYERS)
    if unknown:
        raise SystemExit(f"LADDER: unknown layers {sorted(unknown)}; known: {', '.join(LAYERS)}")
    app = bare_app.create_app()
    app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # as the app
    # as in the app, the access log's hooks run first (a refused request is logged too)
    if "log" in layers:
        from survey_app.core import logs

        # the app's record factory puts g.request_id on every record, as in the app
        logging.setLogRecordFactory(logs._record_factory)

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logs.make_formatter("json"))
        access = logging.getLogger("ladder.access")
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False

        @app.before_request
        def start():
            g.started = time.perf_counter()
            g.request_id = uuid.uuid4().hex

        @app.after_request
        def finish(response):
            duration_ms = round((time.perf_counter() - g.started) * 1000, 2)
            response.headers["X-Request-ID"] = g.request_id
            access.info(
                "%s %s %s %sms",
                request.method,
                request.path,
                response.status_code,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "endpoint": request.endpoint,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
            return response

    if layers & {"csrf", "session"}:
        from survey_app.core.sessions import CachedSerializerSessionInterface

        app.session_interface = CachedSerializerSessionInterface()  # the app's cookie session
    if "csrf" in layers:
        from flask_wtf import CSRFProtect

        CSRFProtect(app)
    if "session" in layers:

        @app.after_request
        def remember(response):
            if request.method == "POST" and response.status_code == 303:
                now = int(time.time())
                # a row id of the size the app stores (bare_app does not read its
                # id back: that would cost the baseline a SELECT after the commit)
                session["survey"] = {
                    "r": 1_000_000 + now % 1_000_000,
                    "c": request.path[3:],
                    "at": now,
                }
                session["answered"] = {request.path[3:]: now}
            return response

    if "limit" in layers:
        from limits import parse_many
        from limits.storage import MemoryStorage
        from limits.strategies import FixedWindowRateLimiter

        strategy = FixedWindowRateLimiter(MemoryStorage())
        items = sorted(parse_many(os.environ.get("SURVEY_RATE_LIMIT", "1000000/minute")))

        @app.before_request
        def limit():
            if request.method == "POST":
                for item in items:
                    if not strategy.hit(item, request.remote_addr or "", "submit"):
                        abort(429)

    if "row" in layers:
        _store_in_responses(app)

    if "headers" in layers:
        from survey_app.core.security import STATIC_HEADERS

        @app.after_request
        def security_headers(response):
            response.headers.extend(STATIC_HEADERS)
            return response

    return app


def _store_in_responses(app: Flask) -> None:
    """``row``: the endpoint stores a response in the app's ``responses`` table instead."""
    import hashlib
    from datetime import UTC, datetime

    from flask import redirect
    from sqlalchemy import func, insert, select
    from sqlalchemy.exc import SQLAlchemyError

    from survey_app.agencies.models import Counter
    from survey_app.surveys.models import Channel, QuestionnaireVersion, Response

    db = bare_app.db
    with app.app_context():
        try:
            counters = {
                code: (counter_id, agency_id)
                for code, counter_id, agency_id in db.session.execute(
                    select(Counter.code, Counter.id, Counter.agency_id).where(Counter.is_active)
                )
            }
            version_id = db.session.scalar(select(func.max(QuestionnaireVersion.id)))
        except SQLAlchemyError:  # not the app's database
            counters, version_id = {}, None
    if not counters or version_id is None:
        raise SystemExit(
            "LADDER=row needs the app's database with counters and a questionnaire version"
        )
    statement = insert(Response.__table__)

    def submit(code: str):
        overall = bare_app.posted_rating()
        counter = counters.get(code.upper())
        if counter is None:
            abort(404)
        user_agent = request.headers.get("User-Agent") or ""
        db.session.connection().execute(
            statement,
            {
                "counter_id": counter[0],
                "agency_id": counter[1],
                "questionnaire_version_id": version_id,
                "channel": Channel.poster,
                "language": "vi",
                "overall": overall,
                "submitted_at": datetime.now(UTC),
                "client_hash": hashlib.sha256(user_agent.encode()).hexdigest()[:32],
                "staff_flag": False,
                "wants_feedback": False,
            },
        )
        db.session.commit()
        return redirect(f"/s/{code}/more", code=303)

    app.view_functions["submit"] = submit


app = (
    create_app({layer for layer in os.environ.get("LADDER", "").split(",") if layer})
    if "DATABASE_URL" in os.environ
    else None
)
