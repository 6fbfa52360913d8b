"""Who may do what: every view declares it here, in one vocabulary.

``@public`` marks a page anyone may open; ``@requires(Permission.x)`` a staff
page. The agency scope (which agencies a user sees) is checked in the view
with :func:`check_agency`, since it depends on the object asked for.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort
from flask_login import current_user

from ..agencies.models import Agency
from ..extensions import login_manager
from .models import Role

F = TypeVar("F", bound=Callable)


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
}


def has_permission(user, permission: Permission) -> bool:
    return bool(
        user and user.is_authenticated and permission in ROLE_PERMISSIONS.get(user.role, ())
    )


def public(view: F) -> F:
    """Mark a view as open to everyone (citizens, the API with its own key check)."""
    view.access = "public"  # type: ignore[attr-defined]
    return view


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

        wrapped.access = permission  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def check_agency(agency: Agency) -> None:
    """404 unless the current user's scope includes ``agency``.

    404 rather than 403, so other agencies' ids reveal nothing.
    """
    if not current_user.can_see_agency(agency):
        abort(404)
