"""PostgreSQL: several `flask feed send` at once deliver each event once; the pull feed's
order follows commits, so a reader never skips an event whose transaction ended late."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey_app.api.services import create_api_client
from survey_app.core.time import now_utc
from survey_app.extensions import db
from survey_app.feed import delivery, services
from survey_app.feed.models import DeliveryStatus, FeedDelivery, FeedEvent
from tests.conftest import POSTGRES_URL

from .conftest import SECRET, file_case

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="row locks: PostgreSQL only")


def test_several_senders_deliver_each_event_exactly_once(app, province, receiver):
    receiver.sleep = 0
    with app.app_context():
        services.create_subscription(None, "LGSP", receiver.url, [], secret=SECRET)
        for _ in range(40):
            file_case()
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(FeedDelivery)) == 40

    original = receiver.handle

    def slow(headers, body):  # a receiver that takes its time: the senders overlap
        time.sleep(0.02)
        return original(headers, body)

    receiver.handle = slow
    errors = []

    def sender():
        try:
            with app.app_context():
                while delivery.send_pending(limit=3).delivered:
                    pass
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    counts = receiver.counts()
    assert len(counts) == 40 and set(counts.values()) == {1}
    assert [r.verdict for r in receiver.received].count("duplicate") == 0
    with app.app_context():
        statuses = db.session.scalars(select(FeedDelivery.status)).all()
        assert statuses == [DeliveryStatus.delivered] * 40


def test_an_event_committed_late_comes_after_what_a_reader_has_seen(app, province, client):
    with app.app_context():
        _, key = create_api_client("LGSP", scopes=("feed",))
        db.session.commit()
        # a transaction takes an id first and commits last
        slow = Session(db.engine)
        late = FeedEvent(
            uid=str(uuid.uuid4()),
            type="case.received",
            occurred_at=now_utc(),
            payload=json.dumps({"id": "late"}),
        )
        slow.add(late)
        slow.flush()
        late_id = late.id
        case, _ = file_case()
        db.session.commit()
        assert case.id and late_id < db.session.scalar(select(func.max(FeedEvent.id)))
    auth = {"X-API-Key": key}
    first = client.get("/api/v1/feed", headers=auth).json
    assert [i["event"]["type"] for i in first["items"]] == ["case.received"]
    assert first["items"][0]["event"]["id"] != "late"
    slow.commit()
    slow.close()
    second = client.get(f"/api/v1/feed?after={first['next_cursor']}", headers=auth).json
    assert [i["event"]["id"] for i in second["items"]] == ["late"]


def test_readers_sequencing_at_once_give_each_event_one_place(app, province, client):
    with app.app_context():
        _, key = create_api_client("LGSP", scopes=("feed",))
        for _ in range(30):
            file_case()
        db.session.commit()
    errors, seen = [], []

    def reader():
        try:
            local = app.test_client()
            reply = local.get("/api/v1/feed?limit=500", headers={"X-API-Key": key})
            assert reply.status_code == 200, reply.get_data(as_text=True)
            seen.append([i["event"]["id"] for i in reply.json["items"]])
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with app.app_context():
        positions = db.session.scalars(
            select(FeedEvent.position).order_by(FeedEvent.position)
        ).all()
    assert positions == list(range(1, 31))
    assert all(ids == seen[0] for ids in seen) and len(seen[0]) == 30
