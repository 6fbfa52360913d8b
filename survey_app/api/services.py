"""API keys: issue, check, revoke. Services flush; the caller commits."""

from __future__ import annotations

import hashlib
import secrets

from flask import Response, request
from flask_babel import gettext as _
from sqlalchemy import select

from ..agencies.models import Agency, Counter
from ..core.errors import error_response
from ..core.time import now_utc
from ..extensions import db
from .models import ApiClient

KEY_PREFIX = "hl_"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_client(
    name: str,
    counter: Counter | None = None,
    agency: Agency | None = None,
    scopes: tuple[str, ...] = (),
) -> tuple[ApiClient, str]:
    """Create a key for an integrating system (optionally limited to a counter or an agency).

    :param scopes: extra scopes (:data:`~.models.SCOPES`), e.g. ``("feed",)``.

    :return: the client row and the key in clear, which is shown only this once.
    """
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(
        name=name.strip(),
        key_prefix=key[:10],
        key_hash=_digest(key),
        counter=counter,
        agency=agency,
        scopes=" ".join(sorted(set(scopes))),
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


def key_from_request(key_in_params: bool = False) -> str | None:
    """The API key the request carries: ``Authorization: Bearer …`` or ``X-API-Key``.

    :param key_in_params: also an ``api_key`` form or query parameter (Open311).
    """
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    key = request.headers.get("X-API-Key")
    if key is None and key_in_params:
        key = request.values.get("api_key")
    return key


def missing_scope_response(scope: str) -> Response:
    """The JSON 403 for a valid key that was not given ``scope``."""
    return error_response(
        403,
        _(
            "This API key may not use this endpoint: it needs the scope “%(scope)s” "
            "(flask api-keys create --scope %(scope)s).",
            scope=scope,
        ),
    )


def unauthorised_response() -> Response:
    """The JSON 401 for a missing or wrong key."""
    response = error_response(401, _("A valid API key is required (Authorization: Bearer …)."))
    response.headers["WWW-Authenticate"] = 'Bearer realm="hailong"'
    return response
