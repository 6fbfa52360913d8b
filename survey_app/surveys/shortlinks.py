"""Short survey links: a random id looked up in the database, for receipts and SMS.

A signed receipt token (:mod:`.tokens`) is about 140 characters: too long to
type from paper or to send in one SMS. A short link is the site's address, a
slash and :data:`ID_LENGTH` characters::

    https://hailong.haiduong.gov.vn/7kq2mx9d
    \\______/\\_____________________/|\\______/
       8      23 (the host)         1   8      = 40 characters

so a host of up to 23 characters (``hailong.haiduong.gov.vn``) keeps the link
within 40 characters with ``https://``; each character more in the host is
one more in the link (``SHORT_LINK_BASE_URL`` may name a shorter host). The id
sits at the root of the site, not under a prefix such as ``/s/`` (taken by
counter posters), because every character counts: a prefix would cost three.
Static routes of the site win over the id (werkzeug matches them first), and
no route of the site is an id: an id has exactly ``ID_LENGTH`` characters.

**The id.** :data:`ID_LENGTH` characters from Crockford's base32 alphabet in
lower case (digits and letters without i, l, o and u), drawn with
:mod:`secrets`: 5 bits a character, 40 bits an id, about 1.1 × 10¹²
possible ids. Guessing is bounded by the rate limits of the short-link page
(``SHORT_LINK_RATE_LIMIT`` per address for every request, and
``SHORT_LINK_MISS_RATE_LIMIT`` for ids that match no link): with a million
live links a guess hits one with a chance of 10⁶ / 2⁴⁰, about one in 1.1
million, so at 50 misses a day an address needs some 60 years on average.
And a link found gives no more than the counter's poster does: one rating.

**One id, one identity.** What is typed from a receipt may differ from what
was printed in case or in lookalikes (``7KQ20X9D`` or ``7kq2Ox9d`` for
``7kq20x9d``). :func:`canonical_id` folds case and Crockford's
lookalikes (``i`` and ``l`` are ``1``, ``o`` is ``0``) before anything is
looked up, counted or stored, so every spelling of an id is that one id:
answered once and counted once. Anything else outside the alphabet (``u``,
punctuation, other scripts) is not an id at all.

**Single use.** Opening the link (GET) uses nothing, so that a phone's link
preview or a messaging app's scanner cannot spend it; the rating does:
:func:`claim` marks the link used with ``UPDATE … WHERE used_at IS NULL``,
in the transaction that stores the response, and only the one request whose
update changed the row stores one (tested with threads on SQLite and
PostgreSQL).
"""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Enum, ForeignKey, Index, String, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ..agencies.models import Procedure
from ..core.db import UTCDateTime
from ..core.time import now_utc
from ..extensions import db
from .tokens import hash_dossier_ref

#: Crockford's base32, lower case: no i, l, o (lookalikes of 1 and 0) and no u.
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
#: Characters of an id: 8 × 5 bits = 40 bits.
ID_LENGTH = 8
#: What the URL converter lets through to :func:`canonical_id` (which decides).
ID_PATTERN = re.compile(rf"[0-9A-Za-z]{{{ID_LENGTH}}}")
#: Case and lookalikes folded to the one spelling (Crockford's decoding rules).
_FOLD = str.maketrans({"i": "1", "l": "1", "o": "0"})
#: At most this many characters with a host of 23 (``https://`` + host + ``/`` + id).
MAX_URL_LENGTH = 40

assert len(ALPHABET) == 32 and len(set(ALPHABET)) == 32


class Purpose(enum.StrEnum):
    """What a short link was issued for."""

    receipt = "receipt"  #: printed on the receipt at the counter (or by the one-stop software)
    invite = "invite"  #: sent by SMS when the dossier's result was returned


class ShortLink(db.Model):
    """One short survey link: its counter, what it is about, when it expires and when
    it was answered. Holds nothing about the citizen (the dossier reference only as
    a keyed hash, as receipt tokens carry it)."""

    __tablename__ = "short_links"
    __table_args__ = (Index("ix_short_links_purpose_created", "purpose", "created_at"),)

    #: The id in its one spelling (:func:`canonical_id`).
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    purpose: Mapped[Purpose] = mapped_column(Enum(Purpose, native_enum=False, length=16))
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id", ondelete="CASCADE"))
    procedure_id: Mapped[int | None] = mapped_column(
        ForeignKey("procedures.id", ondelete="SET NULL")
    )
    #: Keyed hash of the dossier reference (``tokens.hash_dossier_ref``).
    dossier_ref_hash: Mapped[str | None] = mapped_column(String(64))
    #: How the dossier's result went back (invitations): counter, online or post.
    return_channel: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the rating was given through it; NULL while it may still be answered.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class LinkState:
    """What the survey page needs of a short link, read in one query."""

    id: str
    purpose: Purpose
    counter_id: int
    procedure_id: int | None
    dossier_ref_hash: str | None
    return_channel: str | None
    expires_at: datetime
    used_at: datetime | None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= now_utc()


def canonical_id(text: str) -> str | None:
    """The one spelling of a short link's id, or None if ``text`` cannot be one.

    Lower case, with Crockford's lookalikes folded (``I``, ``L`` → ``1``,
    ``O`` → ``0``): every spelling someone may type from a receipt is the same id.
    """
    if not ID_PATTERN.fullmatch(text or ""):
        return None
    folded = text.lower().translate(_FOLD)
    return folded if all(c in ALPHABET for c in folded) else None


def new_id() -> str:
    """A random id: :data:`ID_LENGTH` characters of :data:`ALPHABET` (40 bits) from :mod:`secrets`."""
    return "".join(secrets.choice(ALPHABET) for _ in range(ID_LENGTH))


def short_url(link_id: str) -> str:
    """The link as printed and sent: ``SHORT_LINK_BASE_URL`` (default the public address)
    + ``/`` + id; 40 characters with a 23-character host (see the module)."""
    base = current_app.config.get("SHORT_LINK_BASE_URL") or current_app.config["PUBLIC_BASE_URL"]
    return f"{base.rstrip('/')}/{link_id}"


def create(
    purpose: Purpose,
    counter_id: int,
    expires_in: timedelta,
    procedure_id: int | None = None,
    dossier_ref_hash: str | None = None,
    return_channel: str | None = None,
) -> ShortLink:
    """Issue a short link for ``counter_id``, valid for ``expires_in``; flushes.

    A new id that happens to be taken (one chance in 10¹² per live link) is drawn again.
    """
    now = now_utc()
    for _attempt in range(5):
        link = ShortLink(
            id=new_id(),
            purpose=purpose,
            counter_id=counter_id,
            procedure_id=procedure_id,
            dossier_ref_hash=dossier_ref_hash,
            return_channel=return_channel,
            created_at=now,
            expires_at=now + expires_in,
        )
        try:
            with db.session.begin_nested():
                db.session.add(link)
        except IntegrityError:
            continue
        return link
    raise RuntimeError("could not draw an unused short link id")  # pragma: no cover


_STATE = select(
    ShortLink.id,
    ShortLink.purpose,
    ShortLink.counter_id,
    ShortLink.procedure_id,
    ShortLink.dossier_ref_hash,
    ShortLink.return_channel,
    ShortLink.expires_at,
    ShortLink.used_at,
)


def lookup(text: str) -> LinkState | None:
    """The short link whose id ``text`` spells (in any case or lookalike), or None."""
    link_id = canonical_id(text)
    if link_id is None:
        return None  # not an id: no need to ask the database
    row = db.session.execute(_STATE.where(ShortLink.id == link_id)).first()
    return None if row is None else LinkState(*row)


def claim(link_id: str) -> bool:
    """Mark the link used, if it is still unused and unexpired; True if this call did.

    One conditional UPDATE in the caller's transaction: of two requests at once,
    the database lets one change the row (PostgreSQL makes the second wait and
    re-check ``used_at``; SQLite takes one writer at a time), so only one gets
    True. Store the response in the same transaction: if that fails, the
    rollback gives the link back.
    """
    now = now_utc()
    result = db.session.execute(
        update(ShortLink)
        .where(
            ShortLink.id == link_id,
            ShortLink.used_at.is_(None),
            ShortLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def issue_receipt_link(
    counter_id: int, procedure: Procedure | None = None, dossier_ref: str | None = None
) -> ShortLink:
    """A short link for a receipt, valid ``RECEIPT_TOKEN_MAX_AGE`` seconds like the signed
    tokens it replaces; the dossier reference is kept only as a keyed hash. Flushes."""
    return create(
        Purpose.receipt,
        counter_id,
        timedelta(seconds=current_app.config["RECEIPT_TOKEN_MAX_AGE"]),
        procedure_id=procedure.id if procedure is not None else None,
        dossier_ref_hash=hash_dossier_ref(dossier_ref) if dossier_ref else None,
    )
