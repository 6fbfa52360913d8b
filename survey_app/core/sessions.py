"""Flask's signed-cookie session, made cheaper to write on every survey tap.

Two things Flask does per request cost a measurable share of the one-tap path
(``bench/instructions.py``), and neither is needed here:

* it builds a new ``URLSafeTimedSerializer`` twice per request (to read the
  cookie and to write it), and itsdangerous tests each new serializer by
  serializing an empty dict: the serializer is reused while ``SECRET_KEY`` and
  ``SECRET_KEY_FALLBACKS`` stay the same;
* it writes the session with its tagged JSON, which walks every value to see
  whether it is a tuple, bytes, a datetime or Markup. What this application
  keeps in the session is plain JSON (strings, numbers, lists, dicts), so it is
  written with :func:`json.dumps`, and the tagged form is used only when that
  fails. It is read with Flask's own serializer, which reads both.

The cookie, its signature and its format are otherwise exactly Flask's.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface, session_json_serializer
from itsdangerous import URLSafeTimedSerializer


class PlainJSONSessionSerializer:
    """Writes plain JSON when the session holds only JSON values, tagged JSON otherwise."""

    @staticmethod
    def dumps(value: Any) -> str:
        try:
            return json.dumps(value, separators=(",", ":"))
        except TypeError:  # something only the tagged form can carry (bytes, a datetime…)
            return session_json_serializer.dumps(value)

    loads = staticmethod(session_json_serializer.loads)


class CachedSerializerSessionInterface(SecureCookieSessionInterface):
    """:class:`SecureCookieSessionInterface` reusing its serializer while the keys stay the same."""

    serializer = PlainJSONSessionSerializer()

    def __init__(self) -> None:
        self._serializer: tuple[tuple, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = self._serializer
        if cached is None or cached[0] != keys:
            cached = self._serializer = (keys, super().get_signing_serializer(app))
        return cached[1]
