"""Error pages in the visitor's language, and JSON errors for the API.

Every failure the visitor can cause ends in a 4xx with a plain explanation;
a database outage ends in a 503, never in a traceback.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, make_response, render_template, request, url_for
from flask.globals import request_ctx
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from ..extensions import db
from .db import is_concurrent_change

log = logging.getLogger(__name__)


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (
            _("Bad request"),
            _("The request could not be understood. Please go back and try again."),
        ),
        401: (_("Please log in"), _("You need to log in to use this.")),
        403: (_("Not allowed"), _("Your account does not have access to this page.")),
        404: (
            _("Page not found"),
            _("There is no page at this address. Check the link or the QR code."),
        ),
        405: (_("Not allowed"), _("This address does not accept that kind of request.")),
        409: (_("Already done"), _("This has already been done.")),
        410: (_("Link expired"), _("This link is no longer valid.")),
        413: (
            _("Too much data"),
            _("What you sent is too large. Please shorten it and try again."),
        ),
        429: (
            _("Too many attempts"),
            _("Too many attempts from your connection. Please wait a minute and try again."),
        ),
        500: (
            _("Something went wrong"),
            _("An unexpected error occurred. It has been logged; please try again later."),
        ),
        503: (
            _("Service temporarily unavailable"),
            _(
                "The service is briefly unavailable. Nothing you already sent is lost; please try again in a few minutes."
            ),
        ),
    }


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/open311/"))


def error_response(status: int, message: str | None = None, title: str | None = None) -> Response:
    """The error page (or JSON for the API) for ``status``."""
    default_title, default_message = _messages().get(status, _messages()[400])
    title = title or default_title
    message = message or default_message
    if request_ctx.url_adapter is None:
        # the request could not be matched to this site at all (a Host header werkzeug
        # refuses): the page's links cannot be built, so the answer is plain text
        return make_response(
            f"{title}\n\n{message}\n", status, {"Content-Type": "text/plain; charset=utf-8"}
        )
    if request.path.startswith("/open311/"):
        # GeoReport v2 clients expect its own error shape
        body = jsonify([{"code": status, "description": message}])
    elif wants_json():
        body = jsonify(error={"status": status, "title": title, "message": message})
    else:
        body = render_template(
            "errors/error.html",
            status=status,
            title=title,
            message=message,
            kiosk_reset_url=_kiosk_reset_url(status),
            staff_page=_in_staff_layout(status),
        )
    return make_response(body, status)


def _in_staff_layout(status: int) -> bool:
    """A staff page's mistake (4xx) keeps the staff header and its way back.

    Server errors use the public layout: the staff header reads the logged-in
    user, which may be what just failed (a database outage).
    """
    return status < 500 and request.path.startswith("/staff/")


def _kiosk_reset_url(status: int) -> str | None:
    """On a kiosk, an error page goes back to the first screen by itself (not for a dead link)."""
    endpoint, args = request.endpoint or "", request.view_args or {}
    if endpoint.startswith("surveys.kiosk_") and "token" in args and status not in (404, 410):
        return url_for("surveys.kiosk_start", token=args["token"])
    return None


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return error_response(
            400,
            _(
                "The form had expired or was not sent from this site. Please open the page again and resubmit."
            ),
            _("Form expired"),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        if status < 400:
            return error
        # abort(404, description=…) carries our own translated message; werkzeug's
        # default descriptions are English and are replaced by ours, and so is
        # Flask-Limiter's, which is the limit itself ("10 per 1 minute").
        custom = error.description if error.description != type(error).description else None
        if isinstance(error, RateLimitExceeded):
            custom = None
        response = error_response(status, custom)
        # headers the status needs (Allow on 405, WWW-Authenticate on 401…), but
        # not werkzeug's Content-Type: the body is ours
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        if status == 429 and getattr(error, "retry_after", None):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError):
        _rollback_quietly()
        if isinstance(error, DataError):
            # a value the database refuses (out of range, bad encoding): the
            # request's fault, not the server's; inputs are cleaned and checked
            # before they get here, so this is the safety net
            log.warning(
                "database refused a value on %s %s: %s", request.method, request.path, error.orig
            )
            return error_response(
                400,
                _(
                    "The request contains a value that cannot be stored. Please check what you entered."
                ),
            )
        if isinstance(error, IntegrityError) or is_concurrent_change(error):
            # the checks before saving passed, then a unique key or a reference did not,
            # or PostgreSQL found another transaction writing the same rows (a
            # serialization failure, a deadlock): another request saved the same thing
            # meanwhile (a double click, two tabs, a colleague)
            return _saved_meanwhile(str(error.orig))
        if isinstance(error, (OperationalError, InterfaceError)) or error.connection_invalidated:
            log.error("database unavailable: %s", error.orig, exc_info=error)
            response = error_response(503)
            response.headers["Retry-After"] = "30"
            return response
        log.exception("database error on %s %s", request.method, request.path)
        return error_response(500)

    @app.errorhandler(StaleDataError)
    def stale_data(error: StaleDataError):
        # a versioned row (a case) changed between this request's read and its write;
        # views that change cases show the current state themselves, this is the net
        _rollback_quietly()
        return _saved_meanwhile(str(error))

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        _rollback_quietly()
        return error_response(500)


def _saved_meanwhile(detail: str) -> Response:
    """409: another request changed the same thing at the same moment."""
    log.warning("conflict on %s %s: %s", request.method, request.path, detail[:300])
    return error_response(
        409,
        _(
            "This was saved at the same moment by another request (a second click, "
            "or another window). Please open the page again to see what is saved."
        ),
    )


def _rollback_quietly() -> None:
    """Roll back the request's session; during an outage the rollback itself may fail."""
    try:
        db.session.rollback()
    except Exception:  # the connection may already be gone; logged with its traceback
        log.debug("rollback failed after a database error", exc_info=True)
