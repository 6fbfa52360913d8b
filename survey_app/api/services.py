"""API keys: issue, check, revoke. Services flush; the caller commits."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from ..agencies.models import Agency, Counter
from ..core.time import now_utc
from ..extensions import db
from .models import ApiClient

KEY_PREFIX = "hl_"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_client(
    name: str, counter: Counter | None = None, agency: Agency | None = None
) -> tuple[ApiClient, str]:
    """Create a key for an integrating system (optionally limited to a counter or an agency).

    :return: the client row and the key in clear, which is shown only this once.
    """
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(
        name=name.strip(),
        key_prefix=key[:10],
        key_hash=_digest(key),
        counter=counter,
        agency=agency,
    )
    db.session.add(client)
    db.session.flush()
    return client, key


def client_for_key(key: str | None) -> ApiClient | None:
    """The active client owning ``key``, or None; records when it was last used."""
    if not key or not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    client = db.session.scalar(
        select(ApiClient).where(ApiClient.key_hash == _digest(key), ApiClient.active.is_(True))
    )
    if client is not None:
        client.last_used_at = now_utc()
    return client
