"""Flask's signed-cookie session, with its signing serializer built once per key.

Flask builds a new ``URLSafeTimedSerializer`` twice per request (to read the
cookie and to write it), and itsdangerous tests each new serializer by
serializing an empty dict. On the survey's one-tap path that is a measurable
share of the request (``bench/survey_throughput.py --profile``). The cookie,
its signature and its format are exactly Flask's; only the object is reused
while ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS`` stay the same.
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class CachedSerializerSessionInterface(SecureCookieSessionInterface):
    """:class:`SecureCookieSessionInterface` reusing its serializer while the keys stay the same."""

    def __init__(self) -> None:
        self._serializer: tuple[tuple, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = self._serializer
        if cached is None or cached[0] != keys:
            cached = self._serializer = (keys, super().get_signing_serializer(app))
        return cached[1]
