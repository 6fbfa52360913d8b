"""POST /api/v1/events/result-returned: keys and scope, 422s naming the field,
idempotency, and what the answers look like (validated against docs/openapi.json)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from survey_app.core.time import now_utc
from survey_app.extensions import db
from survey_app.feedback.models import OutboxMessage
from survey_app.invites.models import InviteEvent
from survey_app.surveys.shortlinks import ShortLink
from tests.api.openapi import check
from tests.invites.world import PHONE, URL, event, make_world, post


@pytest.fixture
def world(app, monkeypatch):
    monkeypatch.setitem(app.config, "INVITE_SHARE", 1.0)  # every event invited, unless a test says
    return make_world(app)


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_new_event_is_202_and_queues_one_sms(app, client, world):
    reply = post(client, world.key, event())
    assert reply.status_code == 202, reply.json
    check(reply, URL, "POST")
    assert reply.json == {
        "event_id": "MC-2026-1",
        "outcome": "invited",
        "received_at": reply.json["received_at"],
        "duplicate": False,
    }
    with app.app_context():
        [message] = db.session.scalars(select(OutboxMessage)).all()
        assert message.channel == "sms" and message.recipient == PHONE


@pytest.mark.parametrize("key", [None, "hl_wrong", "garbage"])
def test_no_or_a_wrong_key_is_401(client, world, key):
    reply = post(client, key, event())
    assert reply.status_code == 401
    check(reply, URL, "POST")


def test_a_key_without_the_events_scope_is_403(app, client, world):
    reply = post(client, world.key_no_scope, event())
    assert reply.status_code == 403
    check(reply, URL, "POST")
    assert "events" in reply.json["error"]["message"]
    assert _count(app, InviteEvent) == 0


def test_a_key_limited_to_another_agency_is_403(app, client, world):
    assert post(client, world.key_other, event()).status_code == 403
    ok = post(client, world.key_other, event(2, agency="SXD"))
    assert ok.status_code == 202
    counter = post(
        client,
        world.key_other,
        event(3, agency="SXD", return_channel="counter", counter=world.other_counter_code),
    )
    assert counter.status_code == 202


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"event_id": None}, "event_id"),
        ({"event_id": "có dấu"}, "event_id"),
        ({"event_id": "x" * 101}, "event_id"),
        ({"event_id": 42}, "event_id"),
        ({"procedure": None}, "procedure"),
        ({"procedure": "  "}, "procedure"),
        ({"procedure": "9.999999"}, "procedure"),
        ({"agency": None}, "agency"),
        ({"agency": "KHONG-CO"}, "agency"),
        ({"agency": 7}, "agency"),
        ({"return_channel": None}, "return_channel"),
        ({"return_channel": "zalo"}, "return_channel"),
        ({"return_channel": "counter"}, "counter"),
        ({"return_channel": "counter", "counter": "NOPE42"}, "counter"),
        ({"return_channel": "post", "counter": "ABC234"}, "counter"),
        ({"phone": None}, "phone"),
        ({"phone": "02203 123 456"}, "phone"),  # a landline cannot receive an SMS
        ({"phone": "0912 345 67"}, "phone"),
        ({"phone": "+1 202 555 0100"}, "phone"),
        ({"phone": "số điện thoại"}, "phone"),
        ({"phone": 912345678}, "phone"),
        ({"returned_at": None}, "returned_at"),
        ({"returned_at": "hôm qua"}, "returned_at"),
        ({"returned_at": "2026-12-07T09:30:00"}, "returned_at"),  # no offset
        ({"returned_at": "2999-01-01T00:00:00+07:00"}, "returned_at"),
    ],
)
def test_invalid_events_are_422_naming_the_field(app, client, world, changes, field):
    reply = post(client, world.key, event(**{"event_id": "MC-1"} | changes))
    assert reply.status_code == 422, reply.json
    check(reply, URL, "POST")
    assert field in reply.json["error"]["fields"], reply.json
    assert _count(app, InviteEvent) == 0 and _count(app, OutboxMessage) == 0


def test_unknown_agency_and_procedure_are_both_named(client, world):
    reply = post(client, world.key, event(agency="KHONG-CO", procedure="9.999999"))
    assert reply.status_code == 422
    assert set(reply.json["error"]["fields"]) == {"agency", "procedure"}


def test_a_counter_outside_the_agency_is_422(client, world):
    reply = post(
        client,
        world.key,
        event(return_channel="counter", counter=world.other_counter_code),
    )
    assert reply.status_code == 422 and "counter" in reply.json["error"]["fields"]


def test_a_counter_of_a_sub_agency_is_accepted_in_any_case(client, world):
    reply = post(
        client,
        world.key,
        event(agency="STP", return_channel="counter", counter=world.counter_code.lower()),
    )
    assert reply.status_code == 202


def test_phone_numbers_in_the_usual_forms_are_accepted(app, client, world):
    for n, phone in enumerate(["0912 345 678", "+84 912.345.678", "84912345678", "(091) 234-5678"]):
        assert post(client, world.key, event(n, phone=phone)).status_code == 202
    with app.app_context():
        recipients = db.session.scalars(select(OutboxMessage.recipient)).all()
    # one invitation: the same number, however written, is invited once a period
    assert recipients == [PHONE]


def test_a_body_that_is_not_json_is_400(client, world):
    reply = client.post(
        URL,
        data="event_id=1",
        headers={"Authorization": f"Bearer {world.key}", "Content-Type": "text/plain"},
    )
    assert reply.status_code == 400 and reply.is_json
    check(reply, URL, "POST")


def test_a_replayed_event_is_200_and_invites_nobody_again(app, client, world):
    body = event()
    first = post(client, world.key, body)
    again = post(client, world.key, body)
    assert (first.status_code, again.status_code) == (202, 200)
    check(again, URL, "POST")
    assert again.json["duplicate"] is True
    assert again.json["outcome"] == first.json["outcome"] == "invited"
    assert again.json["received_at"] == first.json["received_at"]
    assert _count(app, InviteEvent) == 1
    assert _count(app, OutboxMessage) == 1 and _count(app, ShortLink) == 1


def test_a_replay_after_the_period_still_invites_nobody(app, client, world):
    """The event id decides, not the phone's period: a re-send months later is the same event."""
    from freezegun import freeze_time

    body = event()
    assert post(client, world.key, body).status_code == 202
    with freeze_time(now_utc() + timedelta(days=200)):
        assert post(client, world.key, body).status_code == 200
    assert _count(app, OutboxMessage) == 1


def test_the_same_instant_in_another_offset_is_the_same_event(app, client, world):
    body = event()
    assert post(client, world.key, body).status_code == 202
    instant = datetime.fromisoformat(body["returned_at"])
    local = instant.astimezone(timezone(timedelta(hours=7))).isoformat()
    assert local != body["returned_at"]
    assert post(client, world.key, body | {"returned_at": local}).status_code == 200


def test_an_event_id_reused_with_other_content_is_409(app, client, world):
    assert post(client, world.key, event()).status_code == 202
    reply = post(client, world.key, event(phone="0987654321"))
    assert reply.status_code == 409
    check(reply, URL, "POST")
    assert _count(app, OutboxMessage) == 1


def test_event_ids_are_per_sending_system(app, client, world):
    """Two one-stop systems may number their events alike."""
    assert post(client, world.key, event(1)).status_code == 202
    assert (
        post(client, world.key_other, event(1, agency="SXD", phone="0987654321")).status_code == 202
    )
    assert _count(app, InviteEvent) == 2


def test_the_same_event_sent_at_once_is_recorded_once(app, world):
    n = 5
    barrier, replies = threading.Barrier(n), []
    body = event()

    def send() -> None:
        client = app.test_client()
        barrier.wait()
        replies.append(post(client, world.key, body))

    threads = [threading.Thread(target=send) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in replies) == [200] * (n - 1) + [202]
    assert _count(app, InviteEvent) == 1 and _count(app, OutboxMessage) == 1


def test_keys_with_the_events_scope_from_the_cli(app, client, runner, world):
    result = runner.invoke(args=["api-keys", "create", "--name", "Một cửa", "--scope", "events"])
    assert result.exit_code == 0, result.output
    key = result.output.split(": ", 1)[1].split()[0]
    assert post(client, key, event()).status_code == 202
    plain = runner.invoke(args=["api-keys", "create", "--name", "Quầy"])
    plain_key = plain.output.split(": ", 1)[1].split()[0]
    assert post(client, plain_key, event(2)).status_code == 403
    listing = runner.invoke(args=["api-keys", "list"]).output
    assert "scopes: events" in listing and "scopes: -" in listing
    bad = runner.invoke(args=["api-keys", "create", "--name", "X", "--scope", "everything"])
    assert bad.exit_code == 2
