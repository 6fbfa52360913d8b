"""Zalo Notification Service (ZNS): template messages to a phone number, sent by the
province's Official Account.

``POST {ZALO_ZNS_URL}`` (business.openapi.zalo.me/message/template) with the header
``access_token`` and ``{"phone": "84…", "template_id": …, "template_data": {…},
"tracking_id": …}``; Zalo answers ``{"error": 0, "data": {"msg_id": …}}`` or a
negative error code. Each message kind needs a template approved by Zalo
(``ZALO_TEMPLATES``: ``received=123456,needs_info=…``); its parameters are the
``template_data`` built by notifications.messages.

The access token lasts about 25 hours and is obtained from a refresh token at
``ZALO_OAUTH_URL`` (oauth.zaloapp.com/v4/oa/access_token, header ``secret_key``, form
``refresh_token``, ``app_id``, ``grant_type=refresh_token``). Every refresh returns a new
refresh token and retires the old one, so both live in the ``zalo_tokens`` table,
written in a transaction of their own (a failure later in the run must not lose the
new refresh token) under a row lock (two senders must not spend the same one).
``ZALO_REFRESH_TOKEN`` is only the first one, used while the table is empty.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core import phones
from ..core.time import now_utc
from ..extensions import db
from .base import DeliveryError, Receipt
from .models import ZaloToken
from .sms import describe, message_ref, new_session, proxies_for, retry_after_seconds

if TYPE_CHECKING:
    from ..feedback.models import OutboxMessage

ZNS_URL = "https://business.openapi.zalo.me/message/template"
OAUTH_URL = "https://oauth.zaloapp.com/v4/oa/access_token"
#: Errors that mean the access token is no longer good: refresh it and try once more.
TOKEN_ERRORS = {-124, -216}
#: A token this close to its end is refreshed before use.
EARLY = timedelta(minutes=5)


def parse_templates(value: str | dict | None) -> dict[str, str]:
    """``ZALO_TEMPLATES``: ``kind=template_id`` pairs separated by commas (or a dict)."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    pairs = (item.partition("=") for item in (value or "").split(",") if "=" in item)
    return {k.strip(): v.strip() for k, _eq, v in pairs if k.strip() and v.strip()}


def _codes(value: str | None, default: set[int]) -> set[int]:
    if not value:
        return default
    return {int(v) for v in value.replace(" ", "").split(",") if v.lstrip("-").isdigit()}


class ZaloZnsBackend:
    """Sends ZNS template messages over a kept-alive HTTP session."""

    channel = "zalo"

    def __init__(self, config: dict, session: requests.Session | None = None):
        self.app_id = str(config["ZALO_APP_ID"])
        self.secret_key = config.get("ZALO_SECRET_KEY") or ""
        self.first_refresh_token = config.get("ZALO_REFRESH_TOKEN") or ""
        self.zns_url = config.get("ZALO_ZNS_URL") or ZNS_URL
        self.oauth_url = config.get("ZALO_OAUTH_URL") or OAUTH_URL
        self.timeout = float(config.get("ZALO_TIMEOUT") or 10)
        self.templates = parse_templates(config.get("ZALO_TEMPLATES"))
        #: Codes after which sending again cannot help (the number has no Zalo account,
        #: is invalid, or does not accept messages from businesses): the outbox gives up
        #: and, if SMS comes next in NOTIFY_CHANNEL_ORDER, sends the text by SMS.
        self.permanent = _codes(config.get("ZALO_PERMANENT_ERRORS"), {-108, -118, -119, -139})
        self.session = session or new_session()
        self.proxies = {url: proxies_for(url) for url in (self.zns_url, self.oauth_url)}
        self._token: str | None = None

    # -- tokens ------------------------------------------------------------------------
    def access_token(self, *, force: bool = False) -> str:
        """A valid access token: the one in memory or the table, or a refreshed one.

        :param force: refresh even if the stored one looks valid (Zalo refused it).
        :raises DeliveryError: (temporary) if the refresh fails.
        """
        if self._token and not force:
            return self._token
        refused = self._token if force else None
        with Session(db.engine) as session, session.begin():
            row = session.scalar(
                select(ZaloToken).where(ZaloToken.app_id == self.app_id).with_for_update()
            )
            now = now_utc()
            if (
                row is not None
                and row.access_token
                and row.access_token != refused  # another sender refreshed it meanwhile
                and (row.expires_at is None or row.expires_at > now + EARLY)
            ):
                self._token = row.access_token
                return self._token
            refresh_token = row.refresh_token if row is not None else self.first_refresh_token
            if not refresh_token:
                raise DeliveryError("Zalo: no refresh token (set ZALO_REFRESH_TOKEN)")
            access, new_refresh, expires_in = self._refresh(refresh_token)
            if row is None:
                row = ZaloToken(app_id=self.app_id, refresh_token=new_refresh)
                session.add(row)
            row.access_token = access
            row.refresh_token = new_refresh
            row.expires_at = now + timedelta(seconds=expires_in)
        self._token = access
        return access

    def _refresh(self, refresh_token: str) -> tuple[str, str, int]:
        try:
            response = self.session.post(
                self.oauth_url,
                headers={"secret_key": self.secret_key},
                data={
                    "refresh_token": refresh_token,
                    "app_id": self.app_id,
                    "grant_type": "refresh_token",
                },
                timeout=self.timeout,
                proxies=self.proxies[self.oauth_url],
            )
        except requests.RequestException as exc:
            raise DeliveryError(f"Zalo token refresh failed: {type(exc).__name__}") from exc
        try:
            data = response.json()
            access = data["access_token"]
            new_refresh = data.get("refresh_token") or refresh_token
            expires_in = int(data.get("expires_in") or 90000)
        except (ValueError, KeyError, TypeError) as exc:
            raise DeliveryError("Zalo token refresh failed: " + describe(response)) from exc
        if not isinstance(access, str) or not access:
            raise DeliveryError("Zalo token refresh failed: " + describe(response))
        return access, new_refresh, expires_in

    # -- messages ----------------------------------------------------------------------
    def send(self, message: OutboxMessage) -> Receipt:
        template_id = self.templates.get(message.kind or "")
        if not template_id:
            raise DeliveryError(
                f"Zalo: no ZNS template for {message.kind!r} (ZALO_TEMPLATES)", permanent=True
            )
        try:
            data = json.loads(message.payload or "{}")
        except ValueError:
            data = {}
        body = {
            "phone": phones.international(message.recipient),
            "template_id": template_id,
            "template_data": data,
            "tracking_id": message_ref(message),
        }
        response, answer = self._post(body, self.access_token())
        if response.status_code == 401 or answer.get("error") in TOKEN_ERRORS:
            response, answer = self._post(body, self.access_token(force=True))
        if response.status_code == 429:
            raise DeliveryError(
                describe(response),
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        if not 200 <= response.status_code < 300:
            raise DeliveryError(describe(response))
        error = answer.get("error")
        if not isinstance(error, int):
            raise DeliveryError("unexpected answer: " + describe(response))
        if error != 0:
            reason = f"Zalo error {error}: {str(answer.get('message') or '')[:200]}"
            raise DeliveryError(reason, permanent=error in self.permanent)
        msg_id = (
            (answer.get("data") or {}).get("msg_id")
            if isinstance(answer.get("data"), dict)
            else None
        )
        return Receipt(provider_id=str(msg_id)[:100] if msg_id else None)

    def _post(self, body: dict, token: str) -> tuple[requests.Response, dict]:
        try:
            response = self.session.post(
                self.zns_url,
                headers={"access_token": token, "Content-Type": "application/json"},
                data=json.dumps(body, ensure_ascii=False).encode(),
                timeout=self.timeout,
                proxies=self.proxies[self.zns_url],
            )
        except requests.Timeout as exc:
            raise DeliveryError(f"Zalo timed out after {self.timeout:g} s") from exc
        except requests.RequestException as exc:
            raise DeliveryError(f"Zalo unreachable: {type(exc).__name__}") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        return response, answer if isinstance(answer, dict) else {}

    def close(self) -> None:
        self.session.close()
