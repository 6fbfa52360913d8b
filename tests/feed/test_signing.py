"""The receiver's checks (survey_app.feed.signing, docs/FEED.md): unsigned, wrongly
signed, tampered, stale and replayed deliveries are refused; a fake receiver refuses
a captured delivery replayed later."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlsplit

import pytest

from survey_app.extensions import db
from survey_app.feed import delivery, services, signing

from .conftest import SECRET, file_case

BODY = json.dumps({"id": "evt-1", "type": "case.received"}).encode()
NOW = 1_800_000_000


def headers(body=BODY, secret=SECRET, t=NOW, event_id="evt-1"):
    return {
        signing.SIGNATURE_HEADER: signing.sign(secret, body, t),
        signing.EVENT_ID_HEADER: event_id,
    }


def test_a_good_signature_is_accepted_within_the_window():
    assert (
        signing.verify_signature(SECRET, headers()[signing.SIGNATURE_HEADER], BODY, 300, NOW + 299)
        == NOW
    )
    event = signing.verify_webhook(SECRET, headers(), BODY, now=NOW + 10)
    assert event["id"] == "evt-1"
    # header names are matched whatever their case (as HTTP servers hand them over)
    lower = {k.lower(): v for k, v in headers().items()}
    assert signing.verify_webhook(SECRET, lower, BODY, now=NOW)["type"] == "case.received"


@pytest.mark.parametrize(
    "header",
    [None, "", "v1=abc", "t=123", "t=abc,v1=00", "sha256=deadbeef", "t=1," + "v1=0" * 500],
)
def test_an_unsigned_or_unreadable_signature_is_refused(header):
    with pytest.raises(signing.Unsigned):
        signing.verify_signature(SECRET, header, BODY, now=NOW)


def test_a_wrong_secret_or_a_changed_body_is_refused():
    with pytest.raises(signing.WrongSignature):
        signing.verify_signature(SECRET, signing.sign("another secret", BODY, NOW), BODY, now=NOW)
    tampered = BODY.replace(b"received", b"published")
    with pytest.raises(signing.WrongSignature):
        signing.verify_signature(SECRET, signing.sign(SECRET, BODY, NOW), tampered, now=NOW)
    # the timestamp is signed too: moving it forward breaks the signature
    good = signing.sign(SECRET, BODY, NOW)
    moved = good.replace(f"t={NOW}", f"t={NOW + 600}")
    with pytest.raises(signing.WrongSignature):
        signing.verify_signature(SECRET, moved, BODY, now=NOW + 600)


def test_a_signature_outside_the_replay_window_is_refused():
    header = signing.sign(SECRET, BODY, NOW)
    with pytest.raises(signing.StaleSignature, match="at most 300 s"):
        signing.verify_signature(SECRET, header, BODY, 300, NOW + 301)
    with pytest.raises(signing.StaleSignature):  # a clock far ahead is no better
        signing.verify_signature(SECRET, header, BODY, 300, NOW - 301)
    assert signing.verify_signature(SECRET, header, BODY, 600, NOW + 301) == NOW


def test_an_event_id_already_processed_is_refused_and_a_failed_one_may_come_again():
    guard = signing.ReplayGuard()
    signing.verify_webhook(SECRET, headers(), BODY, guard, now=NOW)
    with pytest.raises(signing.ReplayedEvent):
        signing.verify_webhook(SECRET, headers(t=NOW + 5), BODY, guard, now=NOW + 5)
    guard.forget("evt-1")  # the receiver could not process it: the retry is welcome
    signing.verify_webhook(SECRET, headers(t=NOW + 60), BODY, guard, now=NOW + 60)


def test_the_event_id_header_must_be_the_signed_events():
    with pytest.raises(signing.WrongSignature, match="Event-Id"):
        signing.verify_webhook(SECRET, headers(event_id="evt-2"), BODY, now=NOW)
    with pytest.raises(signing.WrongSignature, match="Event-Id"):
        signing.verify_webhook(
            SECRET, {signing.SIGNATURE_HEADER: headers()[signing.SIGNATURE_HEADER]}, BODY, now=NOW
        )


def test_during_a_secret_rotation_either_signature_is_accepted():
    header = signing.sign("old secret", BODY, NOW) + ",v1=" + signing.compute(SECRET, NOW, BODY)
    assert signing.verify_signature(SECRET, header, BODY, now=NOW) == NOW


def _post(url: str, headers: dict, body: bytes) -> int:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    connection.request("POST", parts.path, body=body, headers=headers)
    status = connection.getresponse().status
    connection.close()
    return status


def test_the_receiver_refuses_a_captured_delivery_replayed_and_an_unsigned_one(
    app, province, receiver
):
    with app.app_context():
        services.create_subscription(None, "LGSP", receiver.url, [], secret=SECRET)
        file_case()
        db.session.commit()
        assert delivery.send_pending().delivered == 1
    captured = receiver.received[0]
    # the same request again, at once: its event id was processed (answered 2xx, not processed)
    assert _post(receiver.url, captured.headers, captured.body) == 200
    assert receiver.received[-1].verdict == "duplicate"
    # unsigned, or signed with another secret: refused
    unsigned = {k: v for k, v in captured.headers.items() if k != signing.SIGNATURE_HEADER}
    assert _post(receiver.url, unsigned, captured.body) == 400
    assert receiver.received[-1].verdict == "Unsigned"
    forged = dict(captured.headers)
    forged[signing.SIGNATURE_HEADER] = signing.sign("guessed", captured.body)
    assert _post(receiver.url, forged, captured.body) == 400
    assert receiver.received[-1].verdict == "WrongSignature"
    # replayed later than the window (a receiver that forgot the id): stale
    receiver.guard = signing.ReplayGuard()
    t, _ = signing.parse(captured.headers[signing.SIGNATURE_HEADER])
    old = dict(captured.headers)
    old[signing.SIGNATURE_HEADER] = signing.sign(SECRET, captured.body, t - 301)
    assert _post(receiver.url, old, captured.body) == 400
    assert receiver.received[-1].verdict == "StaleSignature"
    assert len(receiver.accepted()) == 1


def test_each_attempt_is_signed_when_it_is_made(app, province, receiver):
    with app.app_context():
        services.create_subscription(None, "LGSP", receiver.url, [], secret=SECRET)
        file_case()
        db.session.commit()
        before = int(time.time())
        delivery.send_pending()
    t, _ = signing.parse(receiver.received[0].headers[signing.SIGNATURE_HEADER])
    assert before - 1 <= t <= int(time.time()) + 1


def _documented_verify():
    """The receiver's snippet of docs/FEED.md, run as a receiver would copy it."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "FEED.md").read_text(encoding="utf-8")
    code = next(block for block in text.split("```python\n")[1:]).split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, "docs/FEED.md", "exec"), namespace)
    return namespace["verify"], namespace["Refused"]


def test_the_documented_snippet_verifies_a_real_delivery_and_refuses_the_rest(
    app, province, receiver
):
    verify, refused = _documented_verify()
    with app.app_context():
        services.create_subscription(None, "LGSP", receiver.url, [], secret=SECRET)
        file_case()
        db.session.commit()
        delivery.send_pending()
    got = receiver.received[0]
    # (http.server hands the headers over as they were sent)
    assert verify(SECRET, got.headers, got.body)["type"] == "case.received"
    cases = {
        "unsigned": ({k: v for k, v in got.headers.items() if "Signature" not in k}, got.body),
        "wrong signature": (got.headers, got.body.replace(b"received", b"rejected")),
        "stale": (
            {
                **got.headers,
                signing.SIGNATURE_HEADER: signing.sign(SECRET, got.body, int(time.time()) - 301),
            },
            got.body,
        ),
        "event id": ({**got.headers, signing.EVENT_ID_HEADER: "other"}, got.body),
    }
    for reason, (headers_, body) in cases.items():
        with pytest.raises(refused, match=reason):
            verify(SECRET, headers_, body)
