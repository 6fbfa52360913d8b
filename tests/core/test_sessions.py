"""The session cookie: Flask's format and keys, the signing serializer reused, plain JSON."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import get_flashed_messages
from flask.sessions import session_json_serializer
from itsdangerous import BadSignature

from survey_app.core.sessions import CachedSerializerSessionInterface, PlainJSONSessionSerializer


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
        assert [tuple(f) for f in s["_flashes"]] == [("info", "Xin chào")]


def test_flashed_messages_come_back_with_their_category(app):
    """Flask stores flashes as tuples; written as JSON lists they still unpack the same."""
    serializer = PlainJSONSessionSerializer()
    stored = serializer.loads(serializer.dumps({"_flashes": [("info", "Đã lưu")]}))
    with app.test_request_context("/"):
        from flask import session

        session.update(stored)
        assert [(c, m) for c, m in get_flashed_messages(with_categories=True)] == [
            ("info", "Đã lưu")
        ]


def test_plain_values_are_written_as_plain_json():
    text = PlainJSONSessionSerializer.dumps({"answered": {"ABC123": 1}, "lang": "vi"})
    assert text == '{"answered":{"ABC123":1},"lang":"vi"}'


def test_values_json_cannot_carry_fall_back_to_flasks_tagged_form():
    value = {"at": datetime(2026, 11, 25, 8, 30, tzinfo=UTC), "raw": b"\x00\x01"}
    text = PlainJSONSessionSerializer.dumps(value)
    assert text == session_json_serializer.dumps(value)
    assert PlainJSONSessionSerializer.loads(text) == value


def test_cookies_written_by_flasks_own_serializer_are_still_read():
    """Sessions from before the change (tagged JSON) keep working."""
    value = {"_flashes": [("info", "Xin chào")], "survey": {"r": 1, "c": "ABC123", "at": 5}}
    assert PlainJSONSessionSerializer.loads(session_json_serializer.dumps(value)) == value
