"""The backends against their fake servers, through the outbox: success, failure,
timeout, rate limit, garbage, token expiry; quiet hours, daily cap, opt-out,
delivery reports; nothing is ever lost."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.feedback import outbox
from survey_app.feedback.models import OutboxMessage
from survey_app.notifications.models import PhoneOptOut, ZaloToken
from tests.conftest import POSTGRES_URL
from tests.notifications.conftest import MORNING

QUEUED = MORNING - timedelta(minutes=5)


def _queue_sms(n=1, phone="0912345678", text="Hồ sơ PA-2026-ABCDEF đã được tiếp nhận."):
    with freeze_time(QUEUED):
        for i in range(n):
            assert outbox.enqueue(
                phone, "s", text, f"t:{i}:{phone}", channel="sms", kind="received"
            )
        db.session.commit()


def _rows(channel=None):
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    db.session.expire_all()
    return db.session.scalars(query).all()


# -- SMS gateway ----------------------------------------------------------------------------
def test_sms_success_stores_provider_id_segments_and_drops_the_text(app_ctx, sms_gateway):
    _queue_sms()
    (message,) = _rows()
    assert message.encoding == "ucs2" and message.segments == 1
    with freeze_time(MORNING):
        assert outbox.send_pending() == (1, 0)
    (sent,) = sms_gateway.sent
    assert sent["to"] == "84912345678" and sent["from"] == "HAILONG"
    assert sent["text"] == "Hồ sơ PA-2026-ABCDEF đã được tiếp nhận." and sent["unicode"] == 1
    assert sent["ref"] == f"hl-{message.id}"
    (message,) = _rows()
    assert message.status == "sent" and message.provider_id == sent["id"] and message.body == ""


def test_sms_gateway_failing_loses_nothing_and_retries_with_backoff(app_ctx, sms_gateway):
    _queue_sms(3, text="Tin thử")
    sms_gateway.mode = "fail"
    with freeze_time(MORNING):
        assert outbox.send_pending() == (0, 3)
    rows = _rows()
    assert all(m.sent_at is None and m.attempts == 1 and "HTTP 500" in m.last_error for m in rows)
    assert all(m.send_after == MORNING + timedelta(minutes=1) for m in rows)
    sms_gateway.mode = "ok"
    with freeze_time(MORNING + timedelta(minutes=2)):
        assert outbox.send_pending() == (3, 0)
    assert len(sms_gateway.sent) == 3 and all(m.status == "sent" for m in _rows())


def test_sms_gateway_timeout_keeps_the_message_queued(app_ctx, sms_gateway):
    _queue_sms()
    sms_gateway.mode = "timeout"
    with freeze_time(MORNING):
        assert outbox.send_pending() == (0, 1)
    (message,) = _rows()
    assert message.sent_at is None and "timed out" in message.last_error


def test_sms_rate_limit_waits_as_long_as_the_gateway_asks(app_ctx, sms_gateway):
    _queue_sms()
    sms_gateway.mode = "ratelimit"  # Retry-After: 120
    with freeze_time(MORNING):
        assert outbox.send_pending() == (0, 1)
    (message,) = _rows()
    assert (
        message.send_after == MORNING + timedelta(seconds=120) and "HTTP 429" in message.last_error
    )


def test_sms_garbage_answer_is_not_taken_for_success(app_ctx, sms_gateway):
    _queue_sms()
    sms_gateway.mode = "garbage"
    with freeze_time(MORNING):
        assert outbox.send_pending() == (0, 1)
    (message,) = _rows()
    assert message.sent_at is None and message.last_error.startswith("unexpected answer")


def test_a_gateway_that_never_recovers_ends_failed_with_the_reason(app_ctx, sms_gateway):
    _queue_sms()
    sms_gateway.mode = "fail"
    when = MORNING
    for _ in range(outbox.MAX_ATTEMPTS):
        with freeze_time(when):
            assert outbox.send_pending() == (0, 1)
        when += timedelta(days=1)  # (outside the quiet hours, after any back-off)
    with freeze_time(when):
        assert outbox.send_pending() == (0, 0)  # given up on
    (message,) = _rows()
    assert message.status == "failed" and message.attempts == outbox.MAX_ATTEMPTS
    assert "HTTP 500" in message.last_error and message.body  # kept for a retry


def test_a_refused_number_is_failed_at_once(app_ctx, sms_gateway):
    _queue_sms()
    sms_gateway.mode = "refuse"
    with freeze_time(MORNING):
        assert outbox.send_pending() == (0, 1)
    (message,) = _rows()
    assert message.status == "failed" and message.attempts == outbox.MAX_ATTEMPTS


# -- Zalo ------------------------------------------------------------------------------------
def _queue_zalo(phone="0912345678", kind="received"):
    data = {
        "case_code": "PA-2026-ABCDEF",
        "tracking_number": "2345 6789 2345",
        "link": "https://x/y",
    }
    with freeze_time(QUEUED):
        assert outbox.enqueue(
            phone,
            "s",
            "Tin nhắn",
            f"z:{phone}:{kind}",
            channel="zalo",
            kind=kind,
            payload=json.dumps(data),
        )
        db.session.commit()


def test_zalo_refreshes_the_token_stores_the_new_refresh_token_and_sends(app_ctx, zalo):
    _queue_zalo()
    with freeze_time(MORNING):
        assert outbox.send_pending() == (1, 0)
    (sent,) = zalo.sent
    assert sent["phone"] == "84912345678" and sent["template_id"] == "1001"
    assert sent["template_data"]["case_code"] == "PA-2026-ABCDEF"
    token = db.session.get(ZaloToken, "1234567890")
    assert token.refresh_token == "refresh-1" and token.access_token == "access-1"
    (message,) = _rows()
    assert message.status == "sent" and message.provider_id.startswith("zmsg-")
    assert message.payload is None  # the tracking number is not kept


def test_zalo_expired_token_is_refreshed_and_the_message_sent(app_ctx, zalo):
    _queue_zalo()
    with freeze_time(MORNING):
        assert outbox.send_pending() == (1, 0)
    zalo.expire()  # Zalo now answers -124 to access-1
    _queue_zalo(phone="0987654321")
    with freeze_time(MORNING + timedelta(minutes=1)):
        assert outbox.send_pending() == (1, 0)
    assert zalo.refreshes == 2 and len(zalo.sent) == 2
    assert db.session.get(ZaloToken, "1234567890").refresh_token == "refresh-3"


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("fail", "HTTP 500"),
        ("timeout", "timed out"),
        ("ratelimit", "HTTP 429"),
        ("garbage", "unexpected answer"),
    ],
)
def test_zalo_failures_keep_messages_queued(app_ctx, zalo, mode, reason):
    zalo.mode = mode
    _queue_zalo()
    with freeze_time(MORNING):
        assert outbox.send_pending() == (0, 1)
    (message,) = _rows()
    assert message.sent_at is None and message.attempts == 1 and message.status == "queued"
    assert reason in message.last_error
    if mode == "ratelimit":  # Retry-After: 30
        assert message.send_after == MORNING + timedelta(seconds=30)


def test_a_number_without_zalo_falls_back_to_sms(app_ctx, zalo, sms_gateway, monkeypatch, app):
    monkeypatch.setitem(app.config, "NOTIFY_CHANNEL_ORDER", "zalo,sms,email")
    zalo.mode = "no_zalo"
    _queue_zalo()
    with freeze_time(MORNING):
        assert outbox.send_pending() == (1, 1)  # Zalo refused, then the SMS went
    zalo_row, sms_row = _rows()
    assert zalo_row.status == "failed" and "-118" in zalo_row.last_error
    assert sms_row.channel == "sms" and sms_row.status == "sent"
    assert sms_gateway.sent[0]["text"] == "Tin nhắn"


# -- quiet hours, daily cap, opt-out, delivery reports ------------------------------------
def test_quiet_hours_hold_phone_messages_but_not_mail(app_ctx, sms_gateway):
    _queue_sms()
    with freeze_time(QUEUED):
        outbox.enqueue("an@example.vn", "Hồ sơ", "Nội dung", "mail:1")
        db.session.commit()
    night = MORNING.replace(hour=15)  # 22:00 in Hà Nội
    with freeze_time(night):
        assert outbox.send_pending() == (1, 0)  # the mail only
    assert sms_gateway.sent == []
    with freeze_time(MORNING + timedelta(days=1) - timedelta(hours=2, minutes=30)):  # 06:30
        assert outbox.send_pending() == (0, 0)
    with freeze_time(MORNING + timedelta(days=1)):  # 09:00 next day
        assert outbox.send_pending() == (1, 0)
    assert len(sms_gateway.sent) == 1


def test_daily_cap_per_number_delays_the_rest_to_the_next_morning(
    app_ctx, sms_gateway, app, monkeypatch
):
    monkeypatch.setitem(app.config, "NOTIFY_DAILY_CAP", 2)
    _queue_sms(3)
    _queue_sms(1, phone="0987654321")
    with freeze_time(MORNING):
        assert outbox.send_pending() == (3, 0)
    held = [m for m in _rows() if m.sent_at is None]
    assert len(held) == 1 and held[0].recipient == "0912345678"
    # 07:00 local the next day = 00:00 UTC
    assert held[0].send_after == MORNING.replace(hour=0) + timedelta(days=1)
    with freeze_time(MORNING + timedelta(days=1)):
        assert outbox.send_pending() == (1, 0)
    assert len(sms_gateway.sent) == 4


def test_tu_choi_opts_the_number_out_storing_only_a_hash(
    app_ctx, app, client, sms_gateway, monkeypatch
):
    monkeypatch.setitem(app.config, "SMS_CALLBACK_SECRET", "s3cret")
    url = "/notifications/sms/inbound"
    assert client.post(url, data={"from": "84912345678", "content": "TU CHOI"}).status_code == 403
    response = client.post(
        url + "?secret=s3cret", data={"from": "84912345678", "content": "  từ   chối "}
    )
    assert response.status_code == 200 and response.get_data(as_text=True).startswith("ACK")
    (opt_out,) = db.session.scalars(select(PhoneOptOut)).all()
    assert "912345678" not in opt_out.phone_hash and len(opt_out.phone_hash) == 64
    # another text is acknowledged and changes nothing
    client.post(
        url,
        data={"from": "0987654321", "content": "Cảm ơn"},
        headers={"X-Callback-Secret": "s3cret"},
    )
    assert len(db.session.scalars(select(PhoneOptOut)).all()) == 1
    _queue_sms()
    _queue_sms(phone="0987654321")
    with freeze_time(MORNING):
        assert outbox.send_pending() == (1, 0)
    assert [s["to"] for s in sms_gateway.sent] == ["84987654321"]
    refused = next(m for m in _rows() if m.recipient == "0912345678")
    assert refused.status == "opted_out" and refused.sent_at is None


def test_callbacks_are_off_without_a_secret(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_CALLBACK_SECRET", None)
    assert client.post("/notifications/sms/inbound", data={"from": "0912345678"}).status_code == 404
    assert client.post("/notifications/sms/status", data={"id": "x"}).status_code == 404


def test_delivery_reports_update_the_row(app_ctx, app, client, sms_gateway, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_CALLBACK_SECRET", "s3cret")
    _queue_sms(2)
    with freeze_time(MORNING):
        assert outbox.send_pending() == (2, 0)
    first, second = _rows()
    headers = {"X-Callback-Secret": "s3cret"}
    url = "/notifications/sms/status"
    # Jasmin's form fields, by the gateway's id
    response = client.post(
        url, data={"id": first.provider_id, "message_status": "DELIVRD"}, headers=headers
    )
    assert response.status_code == 200
    # JSON with our reference
    response = client.post(
        url,
        json={"ref": f"hl-{second.id}", "status": "UNDELIV", "err": "absent subscriber"},
        headers=headers,
    )
    assert response.status_code == 200
    first, second = _rows()
    assert first.status == "delivered" and first.status_at is not None
    assert second.status == "failed" and "UNDELIV absent subscriber" in second.last_error
    assert (
        client.post(url, data={"id": "nope", "status": "DELIVRD"}, headers=headers).status_code
        == 404
    )


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="row locks: PostgreSQL only")
def test_two_senders_at_once_send_each_sms_once(app, sms_gateway):
    """Two `flask outbox send` on two servers share the queue: SKIP LOCKED, no duplicates."""
    import threading

    with app.app_context():
        with freeze_time(QUEUED):
            for i in range(60):
                outbox.enqueue(f"09{i:08d}", "s", "Tin thử", f"two:{i}", channel="sms")
            db.session.commit()
    results = []

    def sender():
        with app.app_context():
            results.append(outbox.send_pending(1000))
            db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    with freeze_time(MORNING):  # (once, for both threads: freezegun is not thread-safe)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert len(results) == 2
    assert sum(sent for sent, _failed in results) == 60
    refs = [m["ref"] for m in sms_gateway.sent]
    assert len(refs) == 60 and len(set(refs)) == 60
