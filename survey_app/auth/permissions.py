"""Who may do what: every view declares it here, in one vocabulary.

``@public`` marks a page anyone may open; ``@signed_in`` a page for any
logged-in staff member (their own password, logging out);
``@requires(Permission.x)`` a staff page; ``@api_key()`` a JSON endpoint
authenticated by an API key. The agency scope (which agencies a user sees) is
checked in the view with :func:`check_agency`, since it depends on the object
asked for.

Each decorator records its declaration on the view (``view.access``) and in
:data:`DECLARATIONS`; :func:`check_declarations` refuses to start an app with
an endpoint that declares nothing, so a new route cannot be open by accident.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import Flask, abort, g
from flask_login import current_user

from ..agencies.models import Agency
from ..extensions import login_manager
from .models import Role

F = TypeVar("F", bound=Callable)

#: Access kinds besides a :class:`Permission`.
PUBLIC = "public"  #: anyone, no account
SIGNED_IN = "signed_in"  #: any logged-in staff member, whatever the role
API_KEY = "api_key"  #: a system calling the JSON API with a valid key

#: Every declared view, "module.qualname" → its access; filled by the decorators.
DECLARATIONS: dict[str, str | Permission] = {}
#: Endpoints Flask itself adds (the static files).
UNDECLARED_OK = frozenset({"static"})


class Permission(enum.StrEnum):
    view_counters = "view_counters"  #: see counters and today's counts in one's scope
    print_posters = "print_posters"  #: download QR codes and posters in one's scope
    manage_agencies = "manage_agencies"
    manage_counters = "manage_counters"
    manage_users = "manage_users"
    manage_api_keys = "manage_api_keys"
    handle_feedback = "handle_feedback"  #: work on feedback cases of one's agencies
    coordinate_feedback = "coordinate_feedback"  #: every case; routing, templates, calendar
    unmasked_exports = "unmasked_exports"  #: personal data unmasked in lists and exports
    view_audit = "view_audit"
    view_reports = "view_reports"  #: satisfaction reports of one's scope
    publish_reports = "publish_reports"  #: freeze a period's report as published
    #: who receives the periodic reports by e-mail (province-wide administrators)
    manage_report_subscriptions = "manage_report_subscriptions"
    #: see the responses quarantined as ballot stuffing; restore or confirm them
    #: (that needs a province-wide account: an agency's staff would judge their own ratings)
    review_quarantine = "review_quarantine"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset(Permission),
    Role.coordinator: frozenset(
        {
            Permission.view_counters,
            Permission.print_posters,
            Permission.handle_feedback,
            Permission.coordinate_feedback,
            Permission.unmasked_exports,
            Permission.view_reports,
            Permission.publish_reports,
            Permission.review_quarantine,
        }
    ),
    Role.handler: frozenset(
        {
            Permission.view_counters,
            Permission.print_posters,
            Permission.handle_feedback,
            Permission.view_reports,
        }
    ),
    Role.viewer: frozenset({Permission.view_counters, Permission.view_reports}),
    # a viewer's permissions over the whole province: never a feedback case (no
    # handle_feedback, coordinate_feedback, unmasked_exports or view_audit)
    Role.report_reader: frozenset({Permission.view_counters, Permission.view_reports}),
}


def has_permission(user, permission: Permission) -> bool:
    return bool(
        user and user.is_authenticated and permission in ROLE_PERMISSIONS.get(user.role, ())
    )


def _declare(view: F, access: str | Permission) -> F:
    view.access = access  # type: ignore[attr-defined]
    DECLARATIONS[f"{view.__module__}.{view.__qualname__}"] = access
    return view


def access_of(view: Callable) -> str | Permission | None:
    """The declared access of a view function, or None if it declares none."""
    return getattr(view, "access", None)


def public(view: F) -> F:
    """Mark a view as open to everyone (citizens, logging in)."""
    return _declare(view, PUBLIC)


def signed_in(view: F) -> F:
    """Any logged-in staff member, whatever the role: anonymous → login page."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return _declare(wrapped, SIGNED_IN)  # type: ignore[return-value]


def requires(permission: Permission) -> Callable[[F], F]:
    """Staff only, with ``permission``: anonymous → login page, lacking it → 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not has_permission(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        return _declare(wrapped, permission)  # type: ignore[return-value]

    return decorator


def api_key(
    unauthorised: Callable | None = None, key_in_params: bool = False, scope: str | None = None
) -> Callable[[F], F]:
    """A JSON endpoint for systems: a valid, active API key or ``unauthorised()``.

    The key comes from ``Authorization: Bearer …`` or ``X-API-Key``; the
    client is put in ``g.api_client``.

    :param unauthorised: builds the refusal; default a JSON 401.
    :param key_in_params: also accept an ``api_key`` parameter (Open311 asks for it).
    :param scope: the key must also have been given this scope, else a JSON 403.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args, **kwargs):
            from ..api.services import client_for_key, key_from_request

            client = client_for_key(key_from_request(key_in_params))
            if client is None:
                if unauthorised is not None:
                    return unauthorised()
                from ..api.services import unauthorised_response

                return unauthorised_response()
            if scope is not None and not client.has_scope(scope):
                from ..api.services import forbidden_scope_response
                from ..extensions import db

                db.session.commit()  # keep last_used_at
                return forbidden_scope_response(scope)
            g.api_client = client
            return view(*args, **kwargs)

        return _declare(wrapped, API_KEY)  # type: ignore[return-value]

    return decorator


def undeclared_endpoints(app: Flask) -> list[str]:
    """Endpoints of ``app`` whose view declares no access (should be empty)."""
    return sorted(
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint not in UNDECLARED_OK and access_of(view) is None
    )


def check_declarations(app: Flask) -> None:
    """Refuse to build an app with a view that declares no access.

    :raises RuntimeError: naming the undeclared endpoints.
    """
    missing = undeclared_endpoints(app)
    if missing:
        raise RuntimeError(
            "views without an access declaration (@public, @signed_in, @requires, "
            "@api_key): " + ", ".join(missing)
        )


def check_agency(agency: Agency) -> None:
    """404 unless the current user's scope includes ``agency``.

    404 rather than 403, so other agencies' ids reveal nothing.
    """
    if not current_user.can_see_agency(agency):
        abort(404)
