"""Webhooks against a fake receiver on 127.0.0.1: signed delivery, retries after a 500
and a timeout, failure after the last attempt with its reason, redirects and addresses
that are refused, subscriptions' event filters and pauses."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from survey_app.core.time import now_utc
from survey_app.extensions import db
from survey_app.feed import delivery, services, signing
from survey_app.feed.models import DeliveryStatus, FeedDelivery, FeedEvent
from survey_app.feedback.models import CaseState
from survey_app.feedback.workflow import transition

from .conftest import SECRET, file_case


def subscribe(receiver, event_types=(), active=True, url=None):
    subscription, _secret = services.create_subscription(
        None, "LGSP tỉnh", url or receiver.url, list(event_types), secret=SECRET, active=active
    )
    db.session.commit()
    return subscription.id


def make_due() -> None:
    """Skip the back-off: every waiting delivery is due now."""
    db.session.execute(
        update(FeedDelivery)
        .where(FeedDelivery.status == DeliveryStatus.pending)
        .values(next_attempt_at=now_utc() - timedelta(seconds=1))
    )
    db.session.commit()


def deliveries() -> list[FeedDelivery]:
    db.session.expire_all()
    return db.session.scalars(select(FeedDelivery).order_by(FeedDelivery.id)).all()


def test_a_new_case_is_delivered_signed_and_the_receiver_verifies_it(
    app, province, receiver, runner
):
    with app.app_context():
        subscribe(receiver)
        case, secret = file_case()
        db.session.commit()
        public_id, code = case.public_id, case.code

    result = runner.invoke(args=["feed", "send"])
    assert result.exit_code == 0, result.output
    assert "delivered: 1, to retry: 0, failed: 0" in result.output

    assert [r.verdict for r in receiver.received] == ["ok"]
    got = receiver.received[0]
    event = got.event
    assert event["type"] == "case.received" and event["case"]["public_id"] == public_id
    assert event["case"]["agency"] == {"code": "STP", "name": "Sở Tư pháp"}
    assert (
        event["case"]["procedure"]["code"] == "1.001193" and event["case"]["state"] == "submitted"
    )
    assert event["case"]["due_on"] and event["published_answer"] is None
    assert got.headers["X-HaiLong-Event-Id"] == event["id"]
    assert got.headers["X-HaiLong-Event-Type"] == "case.received"
    assert got.headers["Content-Type"].startswith("application/json")
    # the signature is t=<unix>,v1=<hex HMAC-SHA256 of "t." + body>
    t, signatures = signing.parse(got.headers["X-HaiLong-Signature"])
    assert signatures == [signing.compute(SECRET, t, got.body)]
    assert code not in got.body.decode() and secret not in got.body.decode()
    with app.app_context():
        (done,) = deliveries()
        assert done.status == DeliveryStatus.delivered and done.attempts == 1
        assert done.last_status == 204 and done.delivered_at is not None
        # the body sent is the event's payload, byte for byte
        assert got.body == db.session.get(FeedEvent, done.event_id).payload.encode()

    # nothing is sent twice
    assert "delivered: 0" in runner.invoke(args=["feed", "send"]).output
    assert len(receiver.received) == 1


def test_a_500_is_retried_after_the_back_off_then_delivered(app, province, receiver):
    receiver.script = ["500"]
    with app.app_context():
        subscribe(receiver)
        file_case()
        db.session.commit()
        before = now_utc()
        result = delivery.send_pending()
        assert (result.delivered, result.retried, result.failed) == (0, 1, 0)
        (waiting,) = deliveries()
        assert waiting.status == DeliveryStatus.pending and waiting.attempts == 1
        assert waiting.last_status == 500
        assert waiting.last_error.startswith("HTTP 500") and "maintenance" in waiting.last_error
        # the next attempt waits a minute (then 2, 4 … at most 6 hours)
        assert timedelta(seconds=55) < waiting.next_attempt_at - before < timedelta(seconds=70)
        assert delivery.backoff(2) == timedelta(minutes=2)
        assert delivery.backoff(20) == timedelta(hours=6)
        assert delivery.send_pending().delivered == 0  # not due yet

        make_due()
        assert delivery.send_pending().delivered == 1
        (done,) = deliveries()
        assert done.status == DeliveryStatus.delivered and done.attempts == 2
        assert done.last_error is None
    assert [r.verdict for r in receiver.received] == ["scripted 500", "ok"]
    # the retry is signed afresh: the same event id, a valid signature
    assert receiver.received[0].body == receiver.received[1].body


def test_a_receiver_that_does_not_answer_in_time_is_retried(app, province, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "FEED_WEBHOOK_TIMEOUT", 0.5)
    receiver.script = ["sleep"]
    receiver.sleep = 2
    with app.app_context():
        subscribe(receiver)
        file_case()
        db.session.commit()
        assert delivery.send_pending().retried == 1
        (waiting,) = deliveries()
        assert waiting.last_status is None and "timed out" in waiting.last_error
        assert "0.5 s" in waiting.last_error
        make_due()
        assert delivery.send_pending().delivered == 1
    assert len(receiver.accepted()) == 1


def test_after_the_last_attempt_the_delivery_fails_with_its_reason_and_an_admin_retries_it(
    app, province, receiver, monkeypatch
):
    from tests.helpers import csrf_from, logged_in

    monkeypatch.setitem(app.config, "FEED_WEBHOOK_MAX_ATTEMPTS", 3)
    receiver.script = ["500", "500", "500"]
    with app.app_context():
        subscription_id = subscribe(receiver)
        file_case()
        db.session.commit()
        outcomes = []
        for _ in range(3):
            result = delivery.send_pending()
            outcomes.append((result.retried, result.failed))
            make_due()
        assert outcomes == [(1, 0), (1, 0), (0, 1)]
        (failed,) = deliveries()
        assert failed.status == DeliveryStatus.failed and failed.attempts == 3
        failed_id = failed.id
        assert delivery.send_pending().delivered == 0  # given up: not tried again by itself

    # the admin sees the reason and sends it again
    client = logged_in(app, province.admin_email)
    page = client.get(f"/staff/feed/webhooks/{subscription_id}?status=failed&lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "HTTP 500" in html and "maintenance" in html
    listing = client.get("/staff/feed/webhooks/?lang=en").get_data(as_text=True)
    assert "LGSP tỉnh" in listing and "status=failed" in listing
    reply = client.post(
        f"/staff/feed/webhooks/{subscription_id}/retry",
        data={"csrf_token": csrf_from(html), "delivery": str(failed_id)},
    )
    assert reply.status_code == 303
    with app.app_context():
        (again,) = deliveries()
        assert again.status == DeliveryStatus.pending and again.attempts == 0
        assert delivery.send_pending().delivered == 1
    assert len(receiver.accepted()) == 1


def test_a_redirect_is_not_followed(app, province, receiver):
    receiver.script = ["redirect"]
    with app.app_context():
        subscribe(receiver)
        file_case()
        db.session.commit()
        assert delivery.send_pending().retried == 1
        (waiting,) = deliveries()
        assert waiting.last_status == 302 and "not followed" in waiting.last_error
    assert receiver.received == []  # (the fake records only what it processed)


def test_private_addresses_are_refused_unless_the_settings_allow_them(
    app, province, receiver, monkeypatch
):
    # http allowed (not production), private addresses not: the fake on 127.0.0.1 is refused
    monkeypatch.setitem(app.config, "FEED_WEBHOOK_ALLOW_PRIVATE", False)
    with app.app_context():
        subscribe(receiver, url=receiver.url.replace("127.0.0.1", "localhost"))
        file_case()
        db.session.commit()
        assert delivery.send_pending().retried == 1
        (waiting,) = deliveries()
        assert "address not allowed" in waiting.last_error or "loopback" in waiting.last_error
        assert receiver.received == []
        # listed in FEED_WEBHOOK_ALLOW_NETWORKS, it is allowed again
        monkeypatch.setitem(app.config, "FEED_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8, ::1")
        make_due()
        assert delivery.send_pending().delivered == 1


@pytest.mark.parametrize(
    "url, production, networks, refused",
    [
        ("https://lgsp.haiduong.gov.vn/hooks", True, "", False),
        ("http://lgsp.haiduong.gov.vn/hooks", True, "", True),  # https only in production
        ("https://127.0.0.1/hooks", True, "", True),
        ("https://localhost:8443/hooks", True, "", True),
        ("https://10.20.1.5/hooks", True, "", True),
        ("https://10.20.1.5/hooks", True, "10.20.0.0/16", False),
        ("https://169.254.169.254/latest/meta-data", True, "", True),  # cloud metadata
        ("https://[::1]/hooks", True, "", True),
        ("https://[::ffff:127.0.0.1]/hooks", True, "", True),
        ("https://0.0.0.0/hooks", True, "", True),
        ("https://user:pw@lgsp.example.vn/hooks", True, "", True),
        ("ftp://lgsp.example.vn/hooks", False, "", True),
        ("javascript:alert(1)", False, "", True),
        ("http://127.0.0.1:9/hooks", False, "", False),  # development and tests: allowed
        ("https://lgsp.example.vn:99999/", False, "", True),
        ("not a url", False, "", True),
    ],
)
def test_which_urls_may_receive_webhooks(url, production, networks, refused):
    rules = delivery.UrlRules(
        https_only=production,
        allow_private=not production,
        networks=delivery.parse_networks(networks),
    )
    assert (delivery.url_problem(url, rules) is not None) is refused


def test_production_rules_come_from_the_app_environment(app, monkeypatch):
    with app.app_context():
        assert delivery.rules() == delivery.UrlRules(https_only=False, allow_private=True)
        monkeypatch.setitem(app.config, "APP_ENV", "production")
        assert delivery.rules() == delivery.UrlRules(https_only=True, allow_private=False)
        monkeypatch.setitem(app.config, "FEED_WEBHOOK_ALLOW_NETWORKS", "10.20.0.0/16")
        assert delivery.url_problem("https://10.20.3.4/in") is None
        assert delivery.url_problem("http://10.20.3.4/in") is not None


def test_subscriptions_get_the_event_types_they_asked_for_and_paused_ones_wait(
    app, province, receiver
):
    with app.app_context():
        published_only = subscribe(receiver, ["case.published", "case.transferred"])
        everything = subscribe(receiver)
        paused = subscribe(receiver, active=False)
        case, _ = file_case()
        db.session.commit()
        transition(case, CaseState.screening, None)
        transition(case, CaseState.transferred, None, reason="Không thuộc thẩm quyền.")
        db.session.commit()
        rows = deliveries()
        by_subscription = {}
        for row in rows:
            by_subscription.setdefault(row.subscription_id, []).append(row.event.type)
        assert by_subscription[everything] == [
            "case.received",
            "case.screening",
            "case.transferred",
        ]
        assert by_subscription[published_only] == ["case.transferred"]
        assert paused not in by_subscription  # a paused subscription is not queued anything
        # an event is queued in the transaction of its change: a rolled-back step leaves none
        count = db.session.scalar(select(db.func.count()).select_from(FeedEvent))
        file_case()
        db.session.rollback()
        assert db.session.scalar(select(db.func.count()).select_from(FeedEvent)) == count


def test_a_delivery_whose_subscription_is_paused_waits_until_it_is_resumed(app, province, receiver):
    with app.app_context():
        subscription_id = subscribe(receiver)
        file_case()
        db.session.commit()
        from survey_app.feed.models import WebhookSubscription

        subscription = db.session.get(WebhookSubscription, subscription_id)
        subscription.active = False
        db.session.commit()
        assert delivery.send_pending().delivered == 0
        subscription = db.session.get(WebhookSubscription, subscription_id)
        subscription.active = True
        db.session.commit()
        assert delivery.send_pending().delivered == 1
    assert len(receiver.accepted()) == 1
    assert json.loads(receiver.received[0].body)["type"] == "case.received"


def test_a_receiver_that_answers_garbage_or_is_not_there_is_retried(app, province):
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def garbage():
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.sendall(b"\x00\x01 this is not HTTP\r\n\r\n")
        connection.close()

    thread = threading.Thread(target=garbage, daemon=True)
    thread.start()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens there any more
    with app.app_context():
        services.create_subscription(None, "garbage", f"http://127.0.0.1:{port}/", [])
        services.create_subscription(None, "gone", f"http://127.0.0.1:{closed_port}/", [])
        file_case()
        db.session.commit()
        result = delivery.send_pending()
        assert (result.delivered, result.retried) == (0, 2)
        reasons = {d.subscription.name: d.last_error for d in deliveries()}
    thread.join(5)
    listener.close()
    assert "bad HTTP answer" in reasons["garbage"] and "\x00" not in reasons["garbage"]
    assert "connection failed" in reasons["gone"] and "Refused" in reasons["gone"]


def test_events_of_intake_redirects_and_returns_to_the_coordinators(app, province):
    with app.app_context():
        complaint, _ = file_case(
            content="Tôi làm đơn khiếu nại quyết định xử phạt của phường.", is_complaint=True
        )
        db.session.commit()
        case, _ = file_case()
        db.session.commit()
        transition(case, CaseState.screening, None)
        transition(case, CaseState.transferred, None, reason="Không đúng cơ quan.", agency=None)
        db.session.commit()
        rows = db.session.scalars(select(FeedEvent).order_by(FeedEvent.id)).all()
        bodies = [json.loads(r.payload) for r in rows]
        assert [(b["case"]["public_id"], b["type"]) for b in bodies] == [
            (complaint.public_id, "case.received"),
            (complaint.public_id, "case.redirected_complaint"),
            (case.public_id, "case.received"),
            (case.public_id, "case.screening"),
            (case.public_id, "case.transferred"),
        ]
        # the received event shows the case as received, not as the redirect left it
        assert bodies[0]["case"]["state"] == "submitted" and bodies[0]["case"]["due_on"]
        assert bodies[1]["case"]["state"] == "redirected_complaint"
        assert bodies[1]["case"]["previous_state"] == "submitted"
        back = bodies[4]["case"]
        assert back["agency"] is None and back["previous_agency"]["code"] == "STP"
        assert rows[4].agency_id is None and rows[0].agency_id is not None


def test_old_events_are_pruned_unless_still_being_delivered(app, province, runner):
    with app.app_context():
        services.create_subscription(None, "LGSP", "http://127.0.0.1:9/", ["case.screening"])
        case, _ = file_case()
        db.session.commit()
        transition(case, CaseState.screening, None)
        db.session.commit()
        old = now_utc() - timedelta(days=200)
        db.session.execute(update(FeedEvent).values(occurred_at=old))
        db.session.commit()
    result = runner.invoke(args=["feed", "prune"])
    assert result.exit_code == 0 and "deleted 1 event(s) and 0 delivery" in result.output
    with app.app_context():
        (kept,) = db.session.scalars(select(FeedEvent)).all()
        assert kept.type == "case.screening"  # its delivery is still pending
        db.session.execute(update(FeedDelivery).values(status=DeliveryStatus.failed))
        db.session.commit()
    result = runner.invoke(args=["feed", "prune", "--days", "30"])
    assert "deleted 1 event(s) and 1 delivery" in result.output


def test_deliveries_are_claimed_in_batches_and_a_claimed_one_is_nobody_elses(
    app, province, receiver
):
    with app.app_context():
        subscribe(receiver)
        for _ in range(25):
            file_case()
        db.session.commit()
        first = delivery.claim(5)
        second = delivery.claim(100)
        assert len(first) == 5 and len(second) == 20 and not set(first) & set(second)
        assert delivery.claim(100) == []  # every one is leased to a sender
        # the lease covers every attempt of the batch timing out, then ends
        leased = db.session.get(FeedDelivery, first[0]).next_attempt_at
        timeout = app.config["FEED_WEBHOOK_TIMEOUT"]
        assert leased - now_utc() > timedelta(seconds=5 * 2 * timeout)
        make_due()  # (as if the lease had ended: a sender died)
        assert delivery.send_pending(limit=100).delivered == 25
    assert len(receiver.accepted()) == 25


def test_a_reclassification_is_its_own_event_whatever_state_it_leads_to(app, province):
    from survey_app.feed.events import event_type
    from survey_app.feedback.models import CaseEvent, CaseKind

    S = CaseState
    # (the complaints module records a reclassification as a step named "reclassified":
    # to a redirected complaint, back to screening, or between report and proposal)
    assert event_type("reclassified", S.screening, S.redirected_complaint) == "case.reclassified"
    assert event_type("reclassified", S.redirected_complaint, S.screening) == "case.reclassified"
    assert event_type("citizen_disagreed", S.published, S.in_progress) == "case.reopened"
    assert event_type("some_new_step", S.assigned, S.assigned) == "case.some_new_step"
    assert event_type("Bad Name!", S.assigned, S.assigned) == "case.updated"
    with app.app_context():
        case, _ = file_case()
        db.session.commit()
        case.kind = CaseKind.proposal
        case.events.append(
            CaseEvent(
                action="reclassified",
                from_state=case.state,
                to_state=case.state,
                reason="Đây là kiến nghị sửa quy định.",
            )
        )
        db.session.commit()
        last = db.session.scalars(select(FeedEvent).order_by(FeedEvent.id.desc())).first()
        body = json.loads(last.payload)
        assert body["type"] == "case.reclassified" and body["case"]["kind"] == "proposal"
        assert "kiến nghị sửa" not in last.payload  # the reason is staff's text: not sent
