"""SMS through an HTTP gateway: a Vietnamese brandname provider's API, Jasmin's HTTP
API, or any gateway that takes one request per message.

The request is described by settings (docs/NOTIFICATIONS.md has one example per kind
of provider): ``SMS_GATEWAY_URL``, ``SMS_GATEWAY_METHOD``, ``SMS_GATEWAY_FORMAT``
(``json``, ``form`` or ``query``), ``SMS_GATEWAY_BODY`` with the placeholders
``{phone}`` (84xxxxxxxxx), ``{phone0}`` (0xxxxxxxxx), ``{text}``, ``{sender}``,
``{unicode}`` (1/0), ``{coding}`` (8/0, Jasmin's) and ``{ref}`` (our id of the
message), escaped for the format; authentication by a header or HTTP basic auth.
The answer counts as accepted when the status is 2xx and, if
``SMS_GATEWAY_SUCCESS_REGEX`` is set, the body matches it; the provider's message id
(for delivery reports) is the first group of ``SMS_GATEWAY_ID_REGEX``.
"""

from __future__ import annotations

import json
import os
import re
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import quote_plus

import requests

from ..core import phones
from ..core.redact import redact
from ..core.time import now_utc
from .base import DeliveryError, Receipt

if TYPE_CHECKING:
    from ..feedback.models import OutboxMessage

_PLACEHOLDER = re.compile(r"\{(phone|phone0|text|sender|unicode|coding|ref)\}")
FORMATS = ("json", "form", "query")
DEFAULT_BODY = {
    "json": '{"to": "{phone}", "from": "{sender}", "text": "{text}", "unicode": {unicode}, "ref": "{ref}"}',
    "form": "to={phone}&from={sender}&text={text}&unicode={unicode}&ref={ref}",
    "query": "to={phone}&from={sender}&text={text}&unicode={unicode}&ref={ref}",
}


def new_session() -> requests.Session:
    """A kept-alive HTTP session that does not read the environment on every request
    (``requests`` otherwise scans it for proxies each time: a third of the time per
    message in bench/outbox_sms.py). Proxies come from :func:`proxies_for`, once per
    URL; a CA bundle from ``REQUESTS_CA_BUNDLE`` as usual."""
    session = requests.Session()
    session.trust_env = False
    session.verify = (
        os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    )
    return session


def proxies_for(url: str) -> dict[str, str]:
    """The environment's proxy for ``url`` (``HTTPS_PROXY``…, ``NO_PROXY`` honoured)."""
    return requests.utils.get_environ_proxies(url)


def message_ref(message: OutboxMessage) -> str:
    """Our id of the message as gateways echo it in delivery reports."""
    return f"hl-{message.id}"


def retry_after_seconds(value: str | None, default: float = 60.0) -> float:
    """``Retry-After`` in seconds: a number, or an HTTP date; capped at six hours."""
    if not value:
        return default
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - now_utc()).total_seconds()
        except (TypeError, ValueError):
            return default
    return min(max(seconds, 1.0), 6 * 3600.0)


def describe(response: requests.Response) -> str:
    """``HTTP 500: <start of the body>``, personal data masked (gateways echo numbers)."""
    body = response.text[:200].replace("\n", " ").strip()
    return redact(f"HTTP {response.status_code}: {body or '(empty)'}")


class SmsHttpBackend:
    """Sends each SMS as one HTTP request over a kept-alive session."""

    channel = "sms"

    def __init__(self, config: dict, session: requests.Session | None = None):
        self.url = config["SMS_GATEWAY_URL"]
        self.method = (config.get("SMS_GATEWAY_METHOD") or "POST").upper()
        fmt = config.get("SMS_GATEWAY_FORMAT") or ("query" if self.method == "GET" else "json")
        if fmt not in FORMATS:
            raise ValueError(f"SMS_GATEWAY_FORMAT must be one of {', '.join(FORMATS)}")
        self.format = fmt
        self.body = config.get("SMS_GATEWAY_BODY") or DEFAULT_BODY[fmt]
        self.sender = config.get("SMS_SENDER") or ""
        self.timeout = float(config.get("SMS_GATEWAY_TIMEOUT") or 10)
        success = config.get("SMS_GATEWAY_SUCCESS_REGEX")
        self.success = re.compile(success) if success else None
        ident = config.get("SMS_GATEWAY_ID_REGEX")
        self.ident = re.compile(ident) if ident else None
        permanent = config.get("SMS_GATEWAY_PERMANENT_REGEX")
        self.permanent = re.compile(permanent) if permanent else None
        self.session = session or new_session()
        self.proxies = proxies_for(self.url)
        self.headers: dict[str, str] = {}
        if header := config.get("SMS_GATEWAY_AUTH_HEADER"):
            name, _colon, value = header.partition(":")
            self.headers[name.strip()] = value.strip()
        if config.get("SMS_GATEWAY_USERNAME"):
            self.session.auth = (
                config["SMS_GATEWAY_USERNAME"],
                config.get("SMS_GATEWAY_PASSWORD") or "",
            )

    def render(self, message: OutboxMessage) -> str:
        """The request's body (or query string) for ``message``."""
        ucs2 = message.encoding == "ucs2"
        values = {
            "phone": phones.international(message.recipient),
            "phone0": phones.normalise(message.recipient) or "",
            "text": message.body,
            "sender": self.sender,
            "unicode": "1" if ucs2 else "0",
            "coding": "8" if ucs2 else "0",
            "ref": message_ref(message),
        }
        if self.format == "json":
            escape = lambda v: json.dumps(v, ensure_ascii=False)[1:-1]  # noqa: E731
        else:
            escape = quote_plus
        return _PLACEHOLDER.sub(lambda m: escape(values[m.group(1)]), self.body)

    def send(self, message: OutboxMessage) -> Receipt:
        payload = self.render(message)
        headers = dict(self.headers)
        kwargs: dict = {"timeout": self.timeout, "headers": headers, "proxies": self.proxies}
        url = self.url
        if self.format == "query":
            url = f"{url}{'&' if '?' in url else '?'}{payload}"
        elif self.format == "json":
            headers["Content-Type"] = "application/json; charset=utf-8"
            kwargs["data"] = payload.encode()
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            kwargs["data"] = payload
        try:
            response = self.session.request(self.method, url, **kwargs)
        except requests.Timeout as exc:
            raise DeliveryError(f"gateway timed out after {self.timeout:g} s") from exc
        except requests.RequestException as exc:
            raise DeliveryError(f"gateway unreachable: {type(exc).__name__}") from exc
        if response.status_code == 429:
            raise DeliveryError(
                describe(response),
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        text = response.text
        if self.permanent is not None and self.permanent.search(text):
            raise DeliveryError(describe(response), permanent=True)
        if not 200 <= response.status_code < 300:
            raise DeliveryError(describe(response))
        if self.success is not None and not self.success.search(text):
            raise DeliveryError("unexpected answer: " + describe(response))
        provider_id = None
        if self.ident is not None and (match := self.ident.search(text)):
            provider_id = (match.group(1) if match.groups() else match.group(0))[:100]
        return Receipt(provider_id=provider_id)

    def close(self) -> None:
        self.session.close()
