"""Signing webhooks, and checking them as a receiver does (standard library only).

Every delivery carries::

    X-HaiLong-Event-Id: 6f1c…            (the payload's "id")
    X-HaiLong-Signature: t=1767225600,v1=5257a869…

``v1`` is the hex HMAC-SHA256, keyed with the subscription's secret, of the
timestamp, a dot and the raw body (``b"1767225600." + body``), as Stripe signs.
Each attempt is signed afresh, so a retry is never stale.

A receiver (docs/FEED.md shows the same code) checks:

1. the header is there and well formed, else the event is *unsigned*;
2. one ``v1`` equals its own HMAC (compared in constant time), else *wrongly signed*;
3. ``t`` is within ``tolerance`` seconds of its clock, else *stale*: a captured
   request replayed later is refused even though its signature is right;
4. the event id was not processed before (:class:`ReplayGuard`), else a *replay*
   inside the window: answer 2xx without processing it again.

This module imports nothing from the application so a receiver can copy it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Mapping

SIGNATURE_HEADER = "X-HaiLong-Signature"
EVENT_ID_HEADER = "X-HaiLong-Event-Id"
EVENT_TYPE_HEADER = "X-HaiLong-Event-Type"
#: The replay window receivers are advised to use, in seconds.
DEFAULT_TOLERANCE = 300
#: Longest header accepted (several v1 values while a secret is rotated fit easily).
MAX_HEADER = 1000


class SignatureError(ValueError):
    """The delivery must be refused (answer 400); the message says why."""


class Unsigned(SignatureError):
    """No signature, or one that cannot be read."""


class WrongSignature(SignatureError):
    """Signed, but not with the shared secret (or the body was changed)."""


class StaleSignature(SignatureError):
    """Signed too long ago (or too far in the future): outside the replay window."""


class ReplayedEvent(SignatureError):
    """This event id was already accepted: a replay or a retry of a processed event."""


def compute(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>." + body`` keyed with ``secret``."""
    message = str(int(timestamp)).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``X-HaiLong-Signature`` value for ``body``: ``t=<unix>,v1=<hex>``."""
    t = int(time.time() if timestamp is None else timestamp)
    return f"t={t},v1={compute(secret, t, body)}"


def parse(header: str | None) -> tuple[int, list[str]]:
    """The timestamp and the ``v1`` signatures of a header.

    :raises Unsigned: no header, or not ``t=<digits>,v1=<hex>[,v1=…]``.
    """
    if not header or len(header) > MAX_HEADER:
        raise Unsigned("the request is not signed (no X-HaiLong-Signature header)")
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value.strip().lower())
    if timestamp is None or not signatures:
        raise Unsigned("the X-HaiLong-Signature header needs t=<unix time> and v1=<hex>")
    return timestamp, signatures


def verify_signature(
    secret: str,
    header: str | None,
    body: bytes,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> int:
    """Check a delivery's signature as a receiver must.

    :param header: the ``X-HaiLong-Signature`` header as received.
    :param body: the raw body as received (before any JSON parsing).
    :param tolerance: the replay window in seconds: older (or later) timestamps are refused.
    :param now: the receiver's clock (default ``time.time()``).
    :return: the signed timestamp.
    :raises Unsigned, WrongSignature, StaleSignature: the delivery must be refused.
    """
    timestamp, signatures = parse(header)
    expected = compute(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise WrongSignature("the signature does not match the body and the shared secret")
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise StaleSignature(
            f"the signature is {int(now - timestamp)} s old; at most {tolerance} s are accepted"
        )
    return timestamp


class ReplayGuard:
    """Event ids a receiver has accepted, remembered for longer than the replay window
    (an older replay is already refused as stale). Thread-safe; a receiver with several
    processes keeps the ids in its database instead (a unique column)."""

    def __init__(self, tolerance: int = DEFAULT_TOLERANCE):
        self.tolerance = tolerance
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def check(self, event_id: str, now: float | None = None) -> None:
        """Remember ``event_id``.

        :raises ReplayedEvent: it was accepted before.
        """
        now = time.time() if now is None else now
        with self._lock:
            horizon = now - 2 * self.tolerance
            for old in [k for k, at in self._seen.items() if at < horizon]:
                del self._seen[old]
            if event_id in self._seen:
                raise ReplayedEvent(f"event {event_id} was already received")
            self._seen[event_id] = now

    def forget(self, event_id: str) -> None:
        """Forget an id whose processing failed, so that the retry is accepted."""
        with self._lock:
            self._seen.pop(event_id, None)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header whatever the case of its name (a plain dict is case-sensitive)."""
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return value


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    guard: ReplayGuard | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> dict:
    """Everything a receiver checks: the signature and its age, that the event id
    header is the body's, and (with ``guard``) that the event is new.

    :return: the event (the parsed body).
    :raises SignatureError: refuse the delivery (:class:`ReplayedEvent`: answer 2xx,
        it was processed already).
    """
    verify_signature(secret, _header(headers, SIGNATURE_HEADER), body, tolerance, now)
    try:
        event = json.loads(body)
    except ValueError as exc:
        raise WrongSignature("the signed body is not JSON") from exc
    event_id = _header(headers, EVENT_ID_HEADER)
    if not isinstance(event, dict) or not event_id or event.get("id") != event_id:
        raise WrongSignature("the X-HaiLong-Event-Id header is not the signed event's id")
    if guard is not None:
        guard.check(event_id, now)
    return event
