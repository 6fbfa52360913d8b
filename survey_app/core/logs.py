"""Structured logs: a request id on every record and one access line per request.

``LOG_FORMAT=json`` (the default when ``APP_ENV=production``) writes one JSON
object a line through python-json-logger; ``text`` is for a developer's
terminal. The request id comes from a sane incoming ``X-Request-ID`` (nginx
sets one) or is generated, is kept in ``g.request_id``, returned in the
response's ``X-Request-ID`` header and added to every log record written while
the request runs, whichever logger writes it.

Nothing personal is logged: the access line has the method, the path without
its query string (receipt tokens in the path are masked), the endpoint, the
status and the duration, never a form body.

(The module is not called ``logging.py`` so that it cannot shadow the
standard library's module for code run from this folder.)
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, current_app, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

ACCESS_LOGGER = "survey_app.access"
_access_log = logging.getLogger(ACCESS_LOGGER)
#: A request id we accept from the proxy: short, and only characters safe in a log line.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
#: URL arguments that are credentials: the access log shows them masked.
_SECRET_ARGS = frozenset({"token"})
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

_base_factory = logging.getLogRecordFactory()


def pseudonym(value: str) -> str:
    """A short keyed digest of ``value`` (an address, an API key, a rate-limit key)
    for a log line: lines about the same client can be matched, but the log does
    not hold the address or the key itself."""
    key = hashlib.sha256(("log-pseudonym:" + current_app.config["SECRET_KEY"]).encode()).digest()
    return "#" + hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:12]


def _record_factory(*args, **kwargs) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    record.request_id = g.get("request_id") if has_request_context() else None
    return record


class _StderrHandler(logging.StreamHandler):
    """Writes to the current ``sys.stderr`` (which test runners and gunicorn may swap)."""

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def make_formatter(fmt: str) -> logging.Formatter:
    """The formatter for ``LOG_FORMAT`` ``json`` or ``text``."""
    if fmt == "json":
        return JsonFormatter(
            "{levelname}{name}{message}{request_id}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
        )
    if fmt == "text":
        return logging.Formatter(TEXT_FORMAT)
    raise ValueError(f"LOG_FORMAT must be json or text, not {fmt!r}")


def log_format(app: Flask) -> str:
    return app.config.get("LOG_FORMAT") or (
        "json" if app.config.get("APP_ENV") == "production" else "text"
    )


#: Libraries that tell at INFO what is routine here: alembic the revision
#: /readyz reads on every probe (``flask db upgrade`` configures its own logging
#: from alembic.ini), fontTools some forty lines for each PDF it subsets a font into.
QUIET_LIBRARIES = ("alembic", "fontTools")


def configure_logging(app: Flask) -> None:
    """Install the record factory, one stderr handler on the root logger, and the hooks."""
    if logging.getLogRecordFactory() is not _record_factory:
        logging.setLogRecordFactory(_record_factory)
    formatter = make_formatter(log_format(app))  # refuses an unknown LOG_FORMAT at start-up
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)  # a second app in the same process replaces the first's
    if not app.testing:
        # (under test, pytest captures the records; a handler would also write them
        # into the output of the CLI commands the tests read)
        handler = _StderrHandler()
        handler.setFormatter(formatter)
        root.addHandler(handler)
        root.setLevel(app.config.get("LOG_LEVEL") or "INFO")
    for name in QUIET_LIBRARIES:
        library = logging.getLogger(name)
        if library.level == logging.NOTSET:  # unless the deployment set a level of its own
            library.setLevel(logging.WARNING)
    # Flask's own handler would write every app.logger record a second time.
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)
    app.before_request(_start_request)
    app.after_request(_finish_request)


def request_id_from(header: str | None) -> str:
    """The incoming id if it looks sane, else a fresh uuid4 hex."""
    if header and _VALID_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def _start_request() -> None:
    g.request_started = time.perf_counter()
    g.request_id = request_id_from(request.headers.get("X-Request-ID"))


def logged_path() -> str:
    """The request path without query string, with credential arguments masked."""
    args = request.view_args or {}
    if not _SECRET_ARGS.intersection(args) or request.url_rule is None:
        return request.path
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", _mask_argument(args), request.url_rule.rule)


def _mask_argument(args: dict):
    def replace(match: re.Match) -> str:
        name = match.group(1)
        return "***" if name in _SECRET_ARGS else str(args.get(name, ""))

    return replace


def _finish_request(response: Response) -> Response:
    request_id = g.get("request_id") or request_id_from(None)
    response.headers["X-Request-ID"] = request_id
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
    path = logged_path()
    method = request.method
    _access_log.info(
        "%s %s %s %sms",
        method,
        path,
        response.status_code,
        duration_ms,
        extra={
            "method": method,
            "path": path,
            "endpoint": request.endpoint,
            "status": response.status_code,
            "duration_ms": duration_ms,
        },
    )
    return response
