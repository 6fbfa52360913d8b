"""Signed, expiring, single-use survey links printed on receipts.

A token carries the counter, the procedure (optional), a keyed hash of the
dossier reference (optional) and the time it was issued, signed with
itsdangerous. Single use is enforced by the database: a response stores the
token's SHA-256 in a unique column.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..core.time import now_utc

_SALT = "hailong.receipt-link.v1"


class TokenError(Exception):
    """The token is not one we issued (tampered, truncated, for another site)."""


class TokenExpired(TokenError):
    """The token was ours but is older than ``RECEIPT_TOKEN_MAX_AGE``."""


@dataclass(frozen=True)
class ReceiptToken:
    counter_code: str
    procedure_code: str | None
    dossier_ref_hash: str | None
    issued_at: datetime


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def hash_dossier_ref(reference: str) -> str:
    """Keyed hash of a dossier reference: links a response to a dossier for audits
    without storing the reference itself (references are guessable, so a plain
    hash would not hide them)."""
    key = hashlib.sha256(("dossier:" + current_app.config["SECRET_KEY"]).encode()).digest()
    return hmac.new(key, reference.strip().encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def issue_receipt_token(
    counter_code: str, procedure_code: str | None = None, dossier_ref: str | None = None
) -> str:
    """Sign a receipt token. The issue time is part of the signature (itsdangerous)."""
    payload = {
        "c": counter_code,
        "p": procedure_code,
        "d": hash_dossier_ref(dossier_ref) if dossier_ref else None,
        # a nonce, so two receipts for the same counter and dossier differ
        "n": secrets.token_urlsafe(6),
    }
    return _serializer().dumps({k: v for k, v in payload.items() if v is not None})


def read_receipt_token(token: str) -> ReceiptToken:
    """Verify and decode a token.

    :raises TokenExpired: if it is older than ``RECEIPT_TOKEN_MAX_AGE``.
    :raises TokenError: if it was tampered with or is malformed.
    """
    max_age = current_app.config["RECEIPT_TOKEN_MAX_AGE"]
    try:
        payload, issued = _serializer().loads(token, max_age=max_age, return_timestamp=True)
    except SignatureExpired as exc:
        raise TokenExpired(str(exc)) from exc
    except (BadSignature, ValueError, TypeError) as exc:
        raise TokenError(str(exc)) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("c"), str):
        raise TokenError("malformed payload")
    if issued.tzinfo is None:
        issued = issued.replace(tzinfo=UTC)
    if issued - now_utc() > timedelta(minutes=5):  # allow for clock skew between servers
        raise TokenError("issued in the future")
    return ReceiptToken(
        counter_code=payload["c"],
        procedure_code=payload.get("p"),
        dossier_ref_hash=payload.get("d"),
        issued_at=issued,
    )


def token_digest(token: str) -> str:
    """SHA-256 of the token as stored on the response it was used for."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_expires_at(issued_at: datetime) -> datetime:
    return issued_at + timedelta(seconds=current_app.config["RECEIPT_TOKEN_MAX_AGE"])
