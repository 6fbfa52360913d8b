"""Kiosk tablets: their links, how long a link works, replacing it. Services flush; views commit.

A kiosk's link (``/k/<token>``) carries the kiosk's id, its counter and the
number of the kiosk's current link (:attr:`Kiosk.link_generation`). An admin
controls it from the counter's kiosk page:

- *replace the link*: the number moves on, every copy of the old link (on the
  tablet, in a photo of its screen, in a browser's history) stops at once, and
  the page shows the new link and its QR code to open on the tablet;
- *valid until*: the last day the link works (the local day, inclusive), set
  when the kiosk is added (``KIOSK_LINK_DAYS`` ahead by default) and changed
  at any time, so a link that leaked dies by itself and a tablet's link can be
  renewed without walking to it;
- *withdraw*: the kiosk itself is gone.

None of it costs a query on the survey's path: the kiosk's row is read there
anyway to see that it is still active.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

from flask import current_app

from ..agencies.models import Counter
from ..core.time import local_day_bounds_utc, local_today, local_tz, now_utc
from ..extensions import db
from .models import Kiosk
from .tokens import KioskLink, issue_kiosk_token

#: The last day a link can be made valid until (the date fields refuse later ones).
LAST_DAY = date(2100, 12, 31)


class LinkProblem(enum.StrEnum):
    """Why a correctly signed kiosk link does not open its kiosk."""

    withdrawn = "withdrawn"  #: the kiosk was withdrawn (or never existed)
    replaced = "replaced"  #: an admin replaced the link since this one was issued
    expired = "expired"  #: the link's last valid day has passed


def kiosk_token(kiosk: Kiosk) -> str:
    """The token of the kiosk's current link."""
    return issue_kiosk_token(kiosk.id, kiosk.counter.code, kiosk.link_generation)


def default_valid_until() -> date | None:
    """The last valid day offered for a new kiosk's link (``KIOSK_LINK_DAYS`` from today;
    ``None``, no end date, when the setting is 0)."""
    days = current_app.config["KIOSK_LINK_DAYS"]
    return local_today() + timedelta(days=days) if days > 0 else None


def expiry_of(valid_until: date | None) -> datetime | None:
    """The instant (UTC) a link valid until the local day ``valid_until`` stops working."""
    return None if valid_until is None else local_day_bounds_utc(valid_until)[1]


def valid_until(kiosk: Kiosk) -> date | None:
    """The last local day the kiosk's link works; ``None`` if it has no end date."""
    if kiosk.link_expires_at is None:
        return None
    return (kiosk.link_expires_at - timedelta(microseconds=1)).astimezone(local_tz()).date()


def is_expired(kiosk: Kiosk, now: datetime | None = None) -> bool:
    """The kiosk's link has passed its last valid day."""
    return kiosk.link_expires_at is not None and kiosk.link_expires_at <= (now or now_utc())


def create_kiosk(
    counter: Counter, label: str, valid_until: date | None, created_by_id: int | None
) -> Kiosk:
    """Add a kiosk tablet at ``counter`` whose link works until the local day ``valid_until``.

    :param valid_until: the link's last valid day, inclusive; ``None`` for no end date.
    :return: the new kiosk, flushed (its id is known).
    """
    kiosk = Kiosk(
        counter=counter,
        label=label.strip(),
        created_by_id=created_by_id,
        link_generation=1,
        link_expires_at=expiry_of(valid_until),
    )
    db.session.add(kiosk)
    db.session.flush()
    return kiosk


def replace_link(kiosk: Kiosk) -> Kiosk:
    """Give the kiosk a new link; every copy of the old one stops working at once.

    The number is moved on in SQL, so two admins replacing the link at the same
    moment both kill the old link (and end up with the same new one).

    :return: the kiosk, flushed and with its new link number loaded.
    """
    kiosk.link_generation = Kiosk.link_generation + 1
    db.session.flush()
    db.session.refresh(kiosk, ["link_generation"])
    return kiosk


def set_valid_until(kiosk: Kiosk, valid_until: date | None) -> Kiosk:
    """Change the last day the kiosk's link works (``None``: no end date).

    A later date brings an expired link back to life; an earlier one (today at
    the earliest, which the form checks) ends it sooner.

    :return: the kiosk, flushed.
    """
    kiosk.link_expires_at = expiry_of(valid_until)
    db.session.flush()
    return kiosk


def link_problem(kiosk: Kiosk | None, link: KioskLink) -> LinkProblem | None:
    """Why the signed ``link`` does not open ``kiosk`` (the row its id names), or ``None``."""
    if kiosk is None or not kiosk.is_active:
        return LinkProblem.withdrawn
    if link.generation != kiosk.link_generation:
        return LinkProblem.replaced
    if is_expired(kiosk):
        return LinkProblem.expired
    return None
