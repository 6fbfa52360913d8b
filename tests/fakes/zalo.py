"""A fake Zalo: the OA token endpoint and ZNS's template message endpoint.

``POST /v4/oa/access_token`` (header ``secret_key``, form ``refresh_token``,
``app_id``, ``grant_type``) hands out ``access-<n>`` and a new single-use
``refresh-<n>``; an unknown or spent refresh token gets an error. ``POST
/message/template`` checks the ``access_token`` header: an unknown or expired one
gets ``{"error": -124}``. ``expire()`` expires the current access token;
``mode`` = ``fail`` (500), ``timeout``, ``ratelimit`` (429), ``garbage``,
``no_zalo`` (error -118: the number has no Zalo account).
"""

from __future__ import annotations

import itertools
import threading

from .server import Answer, FakeServer, Request

APP_ID = "1234567890"
SECRET = "app-secret"
FIRST_REFRESH = "refresh-0"


class FakeZalo(FakeServer):
    def __init__(self, mode: str = "ok", delay: float = 2.0):
        super().__init__()
        self.mode = mode
        self.delay = delay
        self.valid_refresh = {FIRST_REFRESH}
        self.valid_access: set[str] = set()
        self.sent: list[dict] = []
        self.refreshes = 0
        self._n = itertools.count(1)
        self._lock2 = threading.Lock()

    def settings(
        self,
        templates: str = "received=1001,needs_info=1002,transferred=1003,"
        "answered=1004,rate_invite=1005,state_changed=1006,new_case=2001,"
        "assigned=2002,reminder=2003,escalation=2004",
    ) -> dict:
        return {
            "ZALO_APP_ID": APP_ID,
            "ZALO_SECRET_KEY": SECRET,
            "ZALO_REFRESH_TOKEN": FIRST_REFRESH,
            "ZALO_TEMPLATES": templates,
            "ZALO_ZNS_URL": self.url + "/message/template",
            "ZALO_OAUTH_URL": self.url + "/v4/oa/access_token",
            "ZALO_TIMEOUT": 1,
        }

    def expire(self) -> None:
        with self._lock2:
            self.valid_access.clear()

    def handle(self, request: Request) -> Answer:
        if request.path == "/v4/oa/access_token":
            return self._token(request)
        if request.path == "/message/template":
            return self._template(request)
        return Answer(404, "not found")

    def _token(self, request: Request) -> Answer:
        form = request.form()
        if request.headers.get("secret_key") != SECRET or form.get("app_id") != APP_ID:
            return Answer(
                200, {"error": -14002, "error_name": "Invalid app", "error_description": "x"}
            )
        with self._lock2:
            if (
                form.get("grant_type") != "refresh_token"
                or form.get("refresh_token") not in self.valid_refresh
            ):
                return Answer(200, {"error": -14014, "error_name": "Invalid refresh token"})
            self.valid_refresh.discard(form["refresh_token"])  # single use
            n = next(self._n)
            self.refreshes += 1
            access, refresh = f"access-{n}", f"refresh-{n}"
            self.valid_access.add(access)
            self.valid_refresh.add(refresh)
        return Answer(
            200, {"access_token": access, "refresh_token": refresh, "expires_in": "90000"}
        )

    def _template(self, request: Request) -> Answer:
        if self.mode == "fail":
            return Answer(500, "Internal Server Error")
        if self.mode == "timeout":
            return Answer(200, {"error": 0}, delay=self.delay)
        if self.mode == "ratelimit":
            return Answer(429, {"error": -32, "message": "rate limit"}, {"Retry-After": "30"})
        if self.mode == "garbage":
            return Answer(200, "<html>maintenance</html>")
        with self._lock2:
            if request.headers.get("access_token") not in self.valid_access:
                return Answer(200, {"error": -124, "message": "Access token is invalid"})
        if self.mode == "no_zalo":
            return Answer(200, {"error": -118, "message": "Zalo account not existed"})
        body = request.json()
        with self._lock2:
            n = next(self._n)
            self.sent.append(body)
        return Answer(200, {"error": 0, "message": "Success", "data": {"msg_id": f"zmsg-{n}"}})
