"""Sending webhooks: which URLs may receive them, the signed POST, retries, back-off.

``flask feed send`` (a timer, every minute) calls :func:`send_pending`. Deliveries
are *claimed* in one statement (``WITH due AS (SELECT … FOR UPDATE SKIP LOCKED)
UPDATE … FROM due … RETURNING id`` on PostgreSQL; SQLite runs one writer at a time), which
moves their next attempt past the request's timeout: several senders never take
the same delivery, and no transaction stays open while a receiver answers. A
sender that dies mid-way leaves its deliveries to be taken again once the lease
ends (so a receiver may, rarely, see an event twice: it deduplicates by the
event id).

A receiver's 2xx is a delivery; anything else (another status, a redirect, a
refused connection, a timeout, an address not allowed) is a failure, retried after
1, 2, 4 … minutes (at most six hours) until ``FEED_WEBHOOK_MAX_ATTEMPTS``, then
the delivery is *failed* with its reason, which admins see and can retry.

**SSRF.** An admin types the URL, and the server POSTs to it from inside the
province's network. Outside development and tests only ``https`` URLs are taken,
and addresses that are not public (loopback, private, link-local such as the
cloud metadata address, reserved) are refused unless they are in
``FEED_WEBHOOK_ALLOW_NETWORKS`` (the data-sharing platform on the government's
internal network); the check is made on the address the name resolves to when
sending, and the connection goes to that very address (a DNS answer that changes
in between cannot redirect it). Redirects are never followed.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..core.time import now_utc
from ..extensions import db
from . import signing
from .models import DeliveryStatus, FeedDelivery, FeedEvent, WebhookSubscription

log = logging.getLogger(__name__)

USER_AGENT = "HaiLong-Webhooks/1"
#: Bytes of the receiver's answer read (and kept, shortened, as the reason of a failure).
MAX_ANSWER = 2048
#: Characters of a failure's reason kept.
MAX_REASON = 500

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


# -- which URLs may receive -------------------------------------------------------------------


@dataclass(frozen=True)
class UrlRules:
    """What the settings allow (:func:`rules`)."""

    https_only: bool
    allow_private: bool
    networks: tuple[Network, ...] = ()

    def address_allowed(self, address: Address) -> bool:
        """True if a webhook may be sent to ``address``."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self.networks):
            return True
        if self.allow_private:
            return not address.is_multicast and not address.is_unspecified
        return address.is_global and not address.is_multicast


def parse_networks(value: str) -> tuple[Network, ...]:
    """``"10.20.0.0/16, 192.168.5.7"`` → networks (a bare address is a /32 or /128)."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False)
        for part in value.split(",")
        if part.strip()
    )


def rules() -> UrlRules:
    """The URL rules of the running app: production takes https only, and private
    addresses only if ``FEED_WEBHOOK_ALLOW_PRIVATE`` or ``FEED_WEBHOOK_ALLOW_NETWORKS`` say so."""
    config = current_app.config
    production = config.get("APP_ENV") not in ("development", "testing")
    allow_private = config.get("FEED_WEBHOOK_ALLOW_PRIVATE")
    if allow_private is None:
        allow_private = not production
    return UrlRules(
        https_only=production,
        allow_private=bool(allow_private),
        networks=parse_networks(config.get("FEED_WEBHOOK_ALLOW_NETWORKS") or ""),
    )


def url_problem(url: str, url_rules: UrlRules | None = None) -> str | None:
    """Why ``url`` cannot receive webhooks (None if it can, as far as can be told
    without resolving its name: that is checked again on every delivery)."""
    url_rules = url_rules or rules()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return str(_l("This is not a valid URL."))
    allowed = ("https",) if url_rules.https_only else ("https", "http")
    if parts.scheme not in allowed or not parts.hostname:
        if url_rules.https_only:
            return str(_l("Give an https:// address: webhooks are only sent over HTTPS."))
        return str(_l("Give an address that starts with https:// (or http:// for tests)."))
    if parts.username or parts.password:
        return str(_l("Do not put a user name or password in the address."))
    if parts.fragment:
        return str(_l("The address cannot have a fragment (#…)."))
    if port == 0:
        return str(_l("This is not a valid URL."))
    host = parts.hostname
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = ipaddress.ip_address("127.0.0.1") if host == "localhost" else None
    if address is not None and not url_rules.address_allowed(address):
        return str(
            _l(
                "Webhooks are not sent to private, loopback or reserved addresses (%(address)s) "
                "unless the address is listed in FEED_WEBHOOK_ALLOW_NETWORKS.",
                address=str(address),
            )
        )
    return None


class DeliveryError(Exception):
    """One attempt failed; the message is the reason admins see."""

    def __init__(self, reason: str, status: int | None = None):
        super().__init__(reason)
        self.status = status


def _resolve(host: str, port: int, url_rules: UrlRules) -> str:
    """The first address ``host`` resolves to that may receive webhooks.

    :raises DeliveryError: the name does not resolve, or only to addresses not allowed.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DeliveryError(f"the name {host} does not resolve: {exc}") from exc
    refused = []
    for *_rest, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if url_rules.address_allowed(address):
            return str(address)
        refused.append(str(address))
    raise DeliveryError(
        f"address not allowed: {host} resolves to {', '.join(refused)} (private, loopback or "
        "reserved; see FEED_WEBHOOK_ALLOW_NETWORKS)"
    )


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address already checked, not to whatever the name resolves to now."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # the certificate is checked against the name in the URL
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST ``body`` to ``url`` under the URL rules; return the 2xx status.

    :param timeout: seconds for connecting, and for each read of the answer.
    :raises DeliveryError: not delivered (the reason says why).
    """
    url_rules = rules()
    problem = url_problem(url, url_rules)
    if problem:
        raise DeliveryError(problem)
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    address = _resolve(parts.hostname or "", port, url_rules)
    connection_class = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    connection = connection_class(parts.hostname or "", port, address, timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read(MAX_ANSWER)
    except TimeoutError as exc:
        raise DeliveryError(f"no answer within {timeout:g} s (timed out)") from exc
    except ssl.SSLError as exc:
        raise DeliveryError(f"TLS error: {exc}") from exc
    except OSError as exc:
        raise DeliveryError(f"connection failed: {type(exc).__name__}: {exc}") from exc
    except http.client.HTTPException as exc:
        raise DeliveryError(f"bad HTTP answer: {type(exc).__name__}: {exc}") from exc
    finally:
        connection.close()
    status = response.status
    if 200 <= status < 300:
        return status
    text = answer.decode("utf-8", errors="replace").strip()
    if 300 <= status < 400:
        where = response.getheader("Location") or "?"
        raise DeliveryError(f"HTTP {status}: redirect to {where[:200]} not followed", status)
    raise DeliveryError(f"HTTP {status} {response.reason}: {text[:300]}".strip(), status)


# -- sending ----------------------------------------------------------------------------------


def printable(text: str) -> str:
    """``text`` fit to store and show: a receiver's answer may hold NUL bytes (which
    PostgreSQL refuses in text) and control characters."""
    return "".join(ch if ch.isprintable() or ch == " " else "\ufffd" for ch in text)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after each failed attempt, at most six hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def headers_for(event: FeedEvent, body: bytes, secret: str) -> dict[str, str]:
    """The headers of one attempt (signed now)."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        signing.EVENT_ID_HEADER: event.uid,
        signing.EVENT_TYPE_HEADER: event.type,
        signing.SIGNATURE_HEADER: signing.sign(secret, body, int(now_utc().timestamp())),
    }


def _due():
    return (
        FeedDelivery.status == DeliveryStatus.pending,
        FeedDelivery.next_attempt_at <= now_utc(),
    )


#: Deliveries claimed at a time: each claim's lease covers this many attempts that all
#: time out, so a slow batch is never taken over by another sender while it is sent.
CLAIM_BATCH = 10


def claim(limit: int) -> list[int]:
    """Take up to ``limit`` due deliveries of active subscriptions for this sender
    (their next attempt moves past the time it may take to try them all) and commit;
    return their ids."""
    config = current_app.config
    per_attempt = 2 * float(config["FEED_WEBHOOK_TIMEOUT"]) + 5  # connect, then the answer
    lease = now_utc() + timedelta(seconds=per_attempt * limit + 60)
    due = (
        select(FeedDelivery.id)
        .join(WebhookSubscription, FeedDelivery.subscription_id == WebhookSubscription.id)
        .where(*_due(), WebhookSubscription.active.is_(True))
        .order_by(FeedDelivery.next_attempt_at, FeedDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=FeedDelivery)
        # a CTE, run once: as an IN (subquery) PostgreSQL may run it again for each row
        # it updates, each run skipping the rows the update just changed, so that the
        # LIMIT bounds nothing (a CTE that locks rows is never inlined)
        .cte("due")
    )
    ids = db.session.scalars(
        update(FeedDelivery)
        .where(FeedDelivery.id == due.c.id, *_due())
        .values(next_attempt_at=lease)
        .returning(FeedDelivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(ids)


@dataclass
class SendResult:
    delivered: int = 0
    retried: int = 0
    failed: int = 0


def attempt(delivery_id: int) -> DeliveryStatus | None:
    """Make one attempt of a claimed delivery, record it and commit; return its status
    (None: it was removed or settled meanwhile, nothing sent)."""
    delivery = db.session.get(FeedDelivery, delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.pending:
        db.session.rollback()
        return None
    url, secret = delivery.subscription.url, delivery.subscription.secret
    body = delivery.event.payload.encode("utf-8")
    headers = headers_for(delivery.event, body, secret)
    db.session.rollback()  # no transaction open while the receiver answers
    config = current_app.config
    status: int | None
    try:
        status = post(url, body, headers, float(config["FEED_WEBHOOK_TIMEOUT"]))
        error = None
    except DeliveryError as exc:
        status, error = exc.status, printable(str(exc))[:MAX_REASON]
    delivery = db.session.get(FeedDelivery, delivery_id, with_for_update=True)
    if delivery is None:  # its subscription was deleted while it was being sent
        db.session.rollback()
        return None
    delivery.attempts += 1
    delivery.last_attempt_at = now_utc()
    delivery.last_status = status
    if error is None:
        delivery.status = DeliveryStatus.delivered
        delivery.delivered_at = delivery.last_attempt_at
        delivery.last_error = None
    elif delivery.attempts >= int(config["FEED_WEBHOOK_MAX_ATTEMPTS"]):
        delivery.status = DeliveryStatus.failed
        delivery.last_error = error
        log.warning(
            "webhook %s to subscription %d failed for good after %d attempts: %s",
            delivery.event_id,
            delivery.subscription_id,
            delivery.attempts,
            error,
        )
    else:
        delivery.last_error = error
        delivery.next_attempt_at = now_utc() + backoff(delivery.attempts)
        log.info(
            "webhook %s to subscription %d failed (attempt %d): %s",
            delivery.event_id,
            delivery.subscription_id,
            delivery.attempts,
            error,
        )
    result = delivery.status
    db.session.commit()
    return result


def send_pending(limit: int = 100) -> SendResult:
    """Send the due deliveries, up to ``limit``, claimed :data:`CLAIM_BATCH` at a time
    (each attempt committed on its own)."""
    result = SendResult()
    remaining = limit
    while remaining > 0:
        ids = claim(min(CLAIM_BATCH, remaining))
        if not ids:
            break
        remaining -= len(ids)
        for delivery_id in ids:
            _count(result, attempt(delivery_id))
    return result


def _count(result: SendResult, status: DeliveryStatus | None) -> None:
    if status == DeliveryStatus.delivered:
        result.delivered += 1
    elif status == DeliveryStatus.failed:
        result.failed += 1
    elif status == DeliveryStatus.pending:
        result.retried += 1
