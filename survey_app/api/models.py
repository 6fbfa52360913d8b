"""Keys for systems that call the JSON API (the one-stop software)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..agencies.models import Agency, Counter
from ..core.db import UTCDateTime
from ..core.time import now_utc
from ..extensions import db

#: Scopes a key may be given beyond what every key may do (survey links, cases, Open311).
SCOPES = {
    "feed": "read the outgoing feed of case events (GET /api/v1/feed)",
    "events": "report 'result returned' events (POST /api/v1/events/result-returned)",
    "dossiers": "send the one-stop system's dossier counts (POST /api/v1/dossier-counts)",
}


class ApiClient(db.Model):
    """An integrating system or a single counter allowed to request survey links.

    The key itself is shown once; only its SHA-256 is stored (it is a long random
    secret, so a slow password hash adds nothing).
    """

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    #: First characters of the key, to recognise it in lists and logs.
    key_prefix: Mapped[str] = mapped_column(String(12))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: If set, the key may only request links for this counter.
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    #: If set, the key may only request links for counters inside this agency's subtree.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    #: Space-separated extra scopes (:data:`SCOPES`); every key may request survey
    #: links and file cases, as before scopes existed.
    scopes: Mapped[str] = mapped_column(String(200), default="", server_default="")
    active: Mapped[bool] = mapped_column(default=True)
    #: Extra scopes (:data:`SCOPES`), space-separated; empty for a one-stop system's key.
    scopes: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    counter: Mapped[Counter | None] = relationship()
    agency: Mapped[Agency | None] = relationship()

    def has_scope(self, scope: str) -> bool:
        """True if this key was given ``scope`` (e.g. ``feed``)."""
        return scope in (self.scopes or "").split()

    def may_file_for(self, agency: Agency) -> bool:
        """True if this key may name ``agency`` as the one a new case is about: a key
        limited to a counter or an agency files cases for that agency's subtree only."""
        scope = self.counter.agency if self.counter is not None else self.agency
        return scope is None or agency.is_within(scope)

    def may_use(self, counter: Counter) -> bool:
        """True if this key may request links for ``counter``."""
        if self.counter_id is not None:
            return counter.id == self.counter_id
        if self.agency is not None:
            return counter.agency.is_within(self.agency)
        return True
