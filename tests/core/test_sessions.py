"""The session cookie: Flask's format and keys, with the signing serializer reused."""

from __future__ import annotations

import pytest
from itsdangerous import BadSignature

from survey_app.core.sessions import CachedSerializerSessionInterface


def test_the_app_uses_the_caching_interface(app):
    assert isinstance(app.session_interface, CachedSerializerSessionInterface)


def test_the_serializer_is_reused_while_the_keys_stay_the_same(app):
    interface = app.session_interface
    assert interface.get_signing_serializer(app) is interface.get_signing_serializer(app)


def test_a_new_secret_key_rejects_old_cookies_unless_it_is_a_fallback(app, monkeypatch):
    interface = app.session_interface
    old_key = app.config["SECRET_KEY"]
    with app.test_request_context("/"):
        old = interface.get_signing_serializer(app).dumps({"answered": {"ABC123": 1}})
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-new-secret-key-of-at-least-32-characters")
    new_serializer = interface.get_signing_serializer(app)
    assert new_serializer.loads(new_serializer.dumps({"x": 1})) == {"x": 1}
    with pytest.raises(BadSignature):
        new_serializer.loads(old)
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [old_key])
    assert interface.get_signing_serializer(app).loads(old) == {"answered": {"ABC123": 1}}


def test_a_session_survives_a_round_trip_through_the_client(app, client):
    """Login state, flashes and the survey's keys go through the cookie unchanged."""
    with client.session_transaction() as s:
        s["survey"] = {"r": 12, "c": "ABC123", "at": 1700000000}
        s["_flashes"] = [("info", "Xin chào")]
    with client.session_transaction() as s:
        assert s["survey"] == {"r": 12, "c": "ABC123", "at": 1700000000}
        assert s["_flashes"] == [("info", "Xin chào")]
