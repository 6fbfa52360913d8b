"""Signed survey links: single-use ones printed on receipts, and kiosk links.

A token carries the counter, the procedure (optional), a keyed hash of the
dossier reference (optional) and the time it was issued, signed with
itsdangerous. Single use is enforced by the database: a response stores the
SHA-256 of the token's canonical spelling in a unique column.

A kiosk link carries a kiosk's id, its counter and the number of the kiosk's
current link. It dies when the kiosk row is revoked, when an admin replaces the
link (the kiosk's number moves on) and when the date the admin set passes.

**One token, one identity.** itsdangerous decodes the base64 of a signature
leniently: ``=`` padding, characters outside the alphabet (even non-ASCII ones,
which it drops), ``+`` for ``-`` and the unused low bits of the last character
all give other spellings that verify. Only the signature can be spelt several
ways (the signed part must match byte for byte), so a verified token is known
by its *canonical* spelling: the signed part followed by the signature encoded
again (:func:`canonical_token`), which for a token we issued is the very text
we issued. Everything that must count a token once (single use, the kiosk's
rate limit, the addresses the pages link to) uses that spelling or what the
token carries, never the text that was sent.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from itsdangerous import (
    BadData,
    BadSignature,
    SignatureExpired,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)
from itsdangerous.encoding import base64_decode, base64_encode

from ..core.time import now_utc

_SALT = "hailong.receipt-link.v1"
_KIOSK_SALT = "hailong.kiosk-link.v1"


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
    #: The token's canonical spelling (:func:`canonical_token`), as it was issued.
    token: str

    @property
    def digest(self) -> str:
        """What single use is keyed on: the same for every spelling of this token."""
        return token_digest(self.token)


@dataclass(frozen=True)
class KioskLink:
    """What a kiosk link's token carries."""

    kiosk_id: int
    counter_code: str
    #: The kiosk's link number when the link was issued (links from before numbers
    #: were added carry none and count as the first).
    generation: int
    #: The token's canonical spelling (:func:`canonical_token`).
    token: str


def canonical_token(token: str) -> str:
    """The one spelling of a signed token: its signature's bytes encoded again.

    itsdangerous checks the signed part byte for byte but decodes the signature
    leniently, so ``abc.def.SIG``, ``abc.def.SIG=`` and ``abc.def.S!IG=`` (and
    many more) are one token. This re-encodes the signature and keeps the rest,
    which gives back the exact text itsdangerous issued. Call it on a token that
    verified: on anything else the result means nothing.

    :raises TokenError: if the signature part is not base64 at all.
    """
    value, sep, signature = token.rpartition(".")
    if not sep:
        raise TokenError("no signature")
    try:
        return value + "." + base64_encode(base64_decode(signature)).decode("ascii")
    except (BadData, ValueError) as exc:
        raise TokenError(str(exc)) from exc


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
        token=canonical_token(token),
    )


def token_digest(token: str) -> str:
    """SHA-256 of the token's canonical spelling, as stored on the response it was used for.

    Every spelling of one verified token has the same digest. It is also the
    digest stored before spellings were told apart (the SHA-256 of the text sent),
    for every token that was then answered through the link as issued.

    :raises TokenError: as :func:`canonical_token`.
    """
    return hashlib.sha256(canonical_token(token).encode("utf-8")).hexdigest()


def token_expires_at(issued_at: datetime) -> datetime:
    return issued_at + timedelta(seconds=current_app.config["RECEIPT_TOKEN_MAX_AGE"])


def _kiosk_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_KIOSK_SALT)


def issue_kiosk_token(kiosk_id: int, counter_code: str, generation: int = 1) -> str:
    """The token of a kiosk link (``/k/<token>``): the kiosk, its counter and the
    number of its current link (``Kiosk.link_generation``), signed."""
    return _kiosk_serializer().dumps({"k": kiosk_id, "c": counter_code, "g": generation})


def read_kiosk_token(token: str) -> KioskLink:
    """What a kiosk link's token carries, and its canonical spelling.

    :raises TokenError: if it was tampered with or is malformed.
    """
    try:
        payload = _kiosk_serializer().loads(token)
    except (BadSignature, ValueError, TypeError) as exc:
        raise TokenError(str(exc)) from exc
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("k"), int)
        or not isinstance(payload.get("c"), str)
        or not isinstance(payload.get("g", 1), int)
    ):
        raise TokenError("malformed payload")
    return KioskLink(
        kiosk_id=payload["k"],
        counter_code=payload["c"],
        generation=payload.get("g", 1),
        token=canonical_token(token),
    )
