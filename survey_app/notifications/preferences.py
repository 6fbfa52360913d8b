"""Which events reach a staff member, and by which channel (the settings page)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..auth.models import User

#: Events staff are told about, with their labels on the settings page.
STAFF_EVENTS = {
    "new_case": _l("A new case in my agency's queue"),
    "assigned": _l("A case assigned to me"),
    "reminder": _l("Reminders of cases due soon"),
    "escalation": _l("Overdue cases (coordinators)"),
}
#: Channels staff may choose.
STAFF_CHANNELS = ("email", "zalo")
DEFAULT = ("email",)


def prefs_of(user: User) -> dict[str, tuple[str, ...]]:
    """Each event's channels for ``user``; e-mail for every event unless they chose."""
    stored = user.notification_prefs if isinstance(user.notification_prefs, dict) else {}
    prefs = {}
    for event in STAFF_EVENTS:
        chosen = stored.get(event, list(DEFAULT))
        prefs[event] = tuple(c for c in STAFF_CHANNELS if isinstance(chosen, list) and c in chosen)
    return prefs


def channels_for(user: User, event: str) -> tuple[str, ...]:
    """The channels ``user`` wants ``event`` on."""
    return prefs_of(user).get(event, DEFAULT)


def set_prefs(user: User, prefs: dict[str, list[str]], zalo_phone: str | None) -> None:
    """Store ``user``'s choices (unknown events and channels are dropped).

    :param zalo_phone: a mobile number already normalised, or None.
    """
    user.notification_prefs = {
        event: [c for c in STAFF_CHANNELS if c in prefs.get(event, [])] for event in STAFF_EVENTS
    }
    user.zalo_phone = zalo_phone
