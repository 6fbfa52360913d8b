"""A fake HTTP SMS gateway (JSON API in the style of Vietnamese brandname providers).

``POST /send`` with a JSON body ``{"to", "from", "text", "unicode", "ref"}`` answers
``{"code": "100", "id": "<n>"}``. ``mode`` (changeable at any time) makes it
misbehave: ``fail`` (500), ``timeout`` (answers after ``delay`` s), ``ratelimit``
(429 with ``Retry-After``), ``garbage`` (200 with a body that is no answer),
``refuse`` (200 with ``{"code": "789"}``: an invalid number). ``fail_first`` makes
the first n requests fail, then succeed. ``sent`` lists the accepted messages.
"""

from __future__ import annotations

import itertools
import threading

from .server import Answer, FakeServer, Request

#: Settings that point SmsHttpBackend at this fake (add SMS_GATEWAY_URL=fake.url + "/send").
SETTINGS = {
    "SMS_GATEWAY_METHOD": "POST",
    "SMS_GATEWAY_FORMAT": "json",
    "SMS_GATEWAY_BODY": '{"to": "{phone}", "from": "{sender}", "text": "{text}", "unicode": {unicode}, "ref": "{ref}"}',
    "SMS_GATEWAY_AUTH_HEADER": "X-Api-Key: test-key",
    "SMS_GATEWAY_SUCCESS_REGEX": r'"code"\s*:\s*"100"',
    "SMS_GATEWAY_ID_REGEX": r'"id"\s*:\s*"([^"]+)"',
    "SMS_GATEWAY_PERMANENT_REGEX": r'"code"\s*:\s*"789"',
    "SMS_SENDER": "HAILONG",
}


class FakeSmsGateway(FakeServer):
    def __init__(self, mode: str = "ok", delay: float = 2.0, retry_after: int = 120):
        super().__init__()
        self.mode = mode
        self.delay = delay
        self.retry_after = retry_after
        self.fail_first = 0
        self.sent: list[dict] = []
        self._ids = itertools.count(1)
        self._count_lock = threading.Lock()

    def settings(self) -> dict:
        return {**SETTINGS, "SMS_GATEWAY_URL": self.url + "/send"}

    def handle(self, request: Request) -> Answer:
        if request.path == "/_sent":  # for a fake in another process (bench/outbox_sms.py)
            with self._count_lock:
                return Answer(200, {"refs": [m.get("ref") for m in self.sent]})
        if request.headers.get("x-api-key") != "test-key":
            return Answer(401, {"code": "101", "message": "bad key"})
        with self._count_lock:
            if self.fail_first > 0:
                self.fail_first -= 1
                return Answer(500, "Internal Server Error")
        if self.mode == "fail":
            return Answer(500, "Internal Server Error")
        if self.mode == "timeout":
            return Answer(200, {"code": "100", "id": "late"}, delay=self.delay)
        if self.mode == "ratelimit":
            return Answer(429, {"code": "429"}, {"Retry-After": str(self.retry_after)})
        if self.mode == "garbage":
            return Answer(200, "<html><body>Service Unavailable</body></html>")
        if self.mode == "refuse":
            return Answer(200, {"code": "789", "message": "invalid number"})
        message = request.json()
        with self._count_lock:
            ident = f"gw-{next(self._ids)}"
            self.sent.append({**message, "id": ident})
        return Answer(200, {"code": "100", "id": ident})


if __name__ == "__main__":  # a fake in its own process: prints its URL, serves until killed
    import sys
    import time

    fake = FakeSmsGateway().start()
    print(fake.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()
        sys.exit(0)
