"""Invitations after the result: the whole flow (event → SMS with a short link → one tap
saved with channel invite and the return channel), sampling, one invitation per phone
per period, the phone kept only as a keyed hash, and the coordinator's counts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import delete, func, inspect, select, text

from survey_app.agencies.models import Counter
from survey_app.api.models import ApiClient
from survey_app.core.time import now_utc
from survey_app.extensions import db
from survey_app.feedback.models import OutboxMessage
from survey_app.invites import services
from survey_app.invites.models import InviteCounter, InviteEvent, InvitePhone, Outcome
from survey_app.surveys.models import Channel, Response
from survey_app.surveys.shortlinks import ShortLink
from tests.helpers import csrf_from
from tests.invites.test_shortlinks import catalogued
from tests.invites.world import PHONE, event, make_world, post

SMS_MSGID = (
    "Please rate how your dossier was handled (1 minute, anonymous): %(url)s "
    "The link works for %(num)d day."
)


@pytest.fixture
def world(app, monkeypatch):
    monkeypatch.setitem(app.config, "INVITE_SHARE", 1.0)
    return make_world(app)


def _sms(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def _link_path(body: str) -> str:
    match = re.search(r"https://hailong\.example\.gov\.vn(/[0-9a-z]{8})\b", body)
    assert match, body
    return match.group(1)


# -- end to end -------------------------------------------------------------------------


@pytest.mark.parametrize("returned", ["post", "online", "counter"])
def test_event_to_sms_to_link_to_one_tap_response(app, client, world, returned):
    extra = {"counter": world.counter_code} if returned == "counter" else {}
    reply = post(client, world.key, event(return_channel=returned, **extra))
    assert reply.status_code == 202 and reply.json["outcome"] == "invited"

    [sms] = _sms(app)
    assert sms.channel == "sms" and sms.recipient == PHONE and sms.sent_at is None
    path = _link_path(sms.body)

    phone = app.test_client()  # the citizen's phone, not the one-stop system
    page = phone.get(path)
    assert page.status_code == 200
    tap = phone.post(path, data={"csrf_token": csrf_from(page.text), "overall": "5"})
    assert tap.status_code == 303

    with app.app_context():
        [response] = db.session.scalars(select(Response)).all()
        assert response.channel == Channel.invite
        assert response.return_channel == returned
        assert response.procedure.code == "1.001193"
        if returned == "counter":
            assert response.counter_id == world.counter_id
        else:
            mapping = db.session.get(InviteCounter, (world.commune_id, returned))
            assert response.counter_id == mapping.counter_id
            assert response.counter.name == services.VIRTUAL_COUNTER_NAMES[returned]
        assert response.agency_id == world.commune_id
    # single use: the same SMS link again, from any phone
    assert app.test_client().get(path).status_code == 409
    assert phone.get(path.upper()).status_code == 409


def test_the_invitation_link_expires_after_the_setting(app, client, world):
    post(client, world.key, event())
    path = _link_path(_sms(app)[0].body)
    with app.app_context():
        link = db.session.get(ShortLink, path[1:])
        assert link.purpose == "invite"
        assert link.expires_at - link.created_at == timedelta(days=app.config["INVITE_LINK_DAYS"])
        expires = link.expires_at
    with freeze_time(expires + timedelta(minutes=1)):
        assert app.test_client().get(path).status_code == 410


def test_online_and_postal_counters_are_made_once_per_agency(app, client, world):
    for n, returned in enumerate(["online", "post", "online", "post"]):
        reply = post(client, world.key, event(n, return_channel=returned, phone=f"091234567{n}"))
        assert reply.status_code == 202
    with app.app_context():
        mappings = db.session.scalars(select(InviteCounter)).all()
        assert sorted(m.return_channel for m in mappings) == ["online", "post"]
        names = {m.counter.name for m in mappings}
        assert names == {"Trả kết quả trực tuyến", "Trả kết quả qua bưu chính"}
        assert all(m.counter.agency_id == world.commune_id for m in mappings)
        events = db.session.scalars(select(InviteEvent).order_by(InviteEvent.id)).all()
        assert events[0].counter_id == events[2].counter_id != events[1].counter_id
        assert db.session.scalar(select(func.count()).select_from(Counter)) == 2 + 2


# -- the SMS ----------------------------------------------------------------------------


def test_the_sms_fits_two_ucs2_segments_with_a_40_character_link(app, world, monkeypatch):
    """Vietnamese with diacritics goes as UCS-2: 70 characters in one segment, 67 a part
    when split; the invitation with its link must stay within two (134)."""
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://hailong.haiduong.gov.vn")
    url = "https://hailong.haiduong.gov.vn/7kq20x9d"
    assert len(url) == 40
    [vietnamese] = catalogued(SMS_MSGID)
    for days in (7, 30):
        text_vi = vietnamese % {"url": url, "num": days}
        assert services.sms_segments(text_vi) == ("UCS-2", 2)
        assert len(text_vi.encode("utf-16-le")) // 2 <= 134
        with app.test_request_context("/?lang=en"):  # the SMS is Vietnamese whatever the request
            sent = services.invitation_text(url, days)
        assert url in sent and services.sms_segments(sent)[1] <= 2
    assert "ẩn danh" in vietnamese and "%(url)s" in vietnamese


def test_segment_counting():
    assert services.sms_segments("a" * 160) == ("GSM-7", 1)
    assert services.sms_segments("a" * 161) == ("GSM-7", 2)
    assert services.sms_segments("ạ" * 70) == ("UCS-2", 1)
    assert services.sms_segments("ạ" * 71) == ("UCS-2", 2)
    assert services.sms_segments("ạ" * 134) == ("UCS-2", 2)
    assert services.sms_segments("ạ" * 135) == ("UCS-2", 3)


def test_the_sms_in_the_outbox_fits_and_carries_the_link(app, client, world):
    post(client, world.key, event())
    [sms] = _sms(app)
    assert services.sms_segments(sms.body)[1] <= 2
    assert len(sms.body.encode("utf-16-le")) // 2 <= 134


# -- sampling ---------------------------------------------------------------------------


def test_the_share_invited_is_the_setting_within_tolerance(app, world, monkeypatch):
    """3000 events at INVITE_SHARE 0.3: binomial sd is 25, so ±100 is four sd."""
    monkeypatch.setitem(app.config, "INVITE_SHARE", 0.3)
    with app.app_context():
        client_id = db.session.scalar(select(ApiClient.id).where(ApiClient.scopes == "events"))
        drawn = [services.sample_value(client_id, f"MC-{n}") < 0.3 for n in range(3000)]
    assert 800 <= sum(drawn) <= 1000


def test_a_resent_event_is_decided_the_same_and_the_draw_is_keyed(app, world):
    with app.app_context():
        first = services.sample_value(1, "MC-2026-77")
        assert services.sample_value(1, "MC-2026-77") == first
        assert services.sample_value(2, "MC-2026-77") != first
        key = app.config["SECRET_KEY"]
        app.config["SECRET_KEY"] = key + "-other"
        try:
            assert services.sample_value(1, "MC-2026-77") != first
        finally:
            app.config["SECRET_KEY"] = key


def test_sampling_through_the_api(app, client, world, monkeypatch):
    """400 events with different phones at share 0.3 (sd 9.2; ±40 is over four sd)."""
    monkeypatch.setitem(app.config, "INVITE_SHARE", 0.3)
    outcomes = [
        post(client, world.key, event(n, phone=f"09{n:08d}")).json["outcome"] for n in range(400)
    ]
    invited = outcomes.count("invited")
    assert 80 <= invited <= 160
    assert set(outcomes) == {"invited", "not_sampled"}
    assert len(_sms(app)) == invited


def test_share_zero_invites_nobody(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "INVITE_SHARE", 0.0)
    replies = [post(client, world.key, event(n)) for n in range(20)]
    assert {r.json["outcome"] for r in replies} == {"not_sampled"}
    assert _sms(app) == []


def test_a_share_outside_0_to_1_refuses_to_start(app):
    from survey_app.config import Config

    config = {"INVITE_SHARE": 1.5, "SECRET_KEY": "k" * 40, "PUBLIC_BASE_URL": "https://x"}
    with pytest.raises(RuntimeError, match="INVITE_SHARE"):
        Config.finalise(
            config | {"SQLALCHEMY_DATABASE_URI": "sqlite://", "APP_ENV": "testing"}, None
        )


# -- one invitation per phone per period ------------------------------------------------


def test_one_invitation_per_phone_per_period(app, client, world):
    period = app.config["INVITE_PHONE_PERIOD_DAYS"]
    start = now_utc()
    with freeze_time(start):
        assert post(client, world.key, event(1)).json["outcome"] == "invited"
        assert post(client, world.key, event(2, phone="+84 912 345 678")).json["outcome"] == (
            "recently_invited"
        )
        assert post(client, world.key, event(3, phone="0987654321")).json["outcome"] == "invited"
    with freeze_time(start + timedelta(days=period - 1)):
        assert post(client, world.key, event(4)).json["outcome"] == "recently_invited"
    with freeze_time(start + timedelta(days=period + 1)):
        assert post(client, world.key, event(5)).json["outcome"] == "invited"
    assert [m.recipient for m in _sms(app)] == [PHONE, "0987654321", PHONE]


def test_claiming_a_phone_is_atomic(app):
    """Two claims of one number at once: the primary key lets one through."""
    import threading

    hashed = "a" * 64
    barrier, results = threading.Barrier(4), []

    def claim() -> None:
        with app.app_context():
            barrier.wait()
            results.append(services.claim_phone(hashed, now_utc().date(), 90))
            db.session.commit()

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]


def test_purge_forgets_phones_whose_period_passed(app, client, world, runner):
    start = now_utc()
    with freeze_time(start):
        post(client, world.key, event(1))
    with freeze_time(start + timedelta(days=10)):
        assert runner.invoke(args=["invites", "purge"]).output.strip().endswith(": 0")
    with freeze_time(start + timedelta(days=app.config["INVITE_PHONE_PERIOD_DAYS"] + 1)):
        result = runner.invoke(args=["invites", "purge"])
        assert result.exit_code == 0 and result.output.strip().endswith(": 1")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(InvitePhone)) == 0


# -- the phone only as a hash -----------------------------------------------------------


def _every_stored_value(app, skip: set[str]) -> str:
    """Every value in every table but ``skip``, as one text to search."""
    with app.app_context():
        names = [n for n in inspect(db.engine).get_table_names() if n not in skip]
        values = []
        with db.engine.connect() as connection:
            for name in names:
                for row in connection.execute(text(f'SELECT * FROM "{name}"')):
                    values.extend(str(v) for v in row)
        return "\n".join(values)


def test_the_phone_is_kept_only_as_a_keyed_hash_once_queued(app, client, world):
    post(client, world.key, event(1, phone="+84 912.345.678"))
    post(client, world.key, event(2))  # recently invited: its number goes nowhere at all
    elsewhere = _every_stored_value(app, skip={"outbox"})
    for form in ("912345678", "912.345.678", "912 345 678"):
        assert form not in elsewhere
    with app.app_context():
        [phone] = db.session.scalars(select(InvitePhone)).all()
        assert phone.phone_hash == services.phone_hash(PHONE) and len(phone.phone_hash) == 64
        assert PHONE not in phone.phone_hash
    # the outbox row needs the number until the gateway has it: that is the one place
    [sms] = _sms(app)
    assert sms.recipient == PHONE


def test_the_phone_hash_is_keyed(app):
    with app.app_context():
        plain = __import__("hashlib").sha256(PHONE.encode()).hexdigest()
        assert services.phone_hash(PHONE) != plain


# -- other outcomes ---------------------------------------------------------------------


def test_a_result_returned_long_ago_is_not_asked_about(app, client, world):
    old = (now_utc() - timedelta(hours=app.config["INVITE_EVENT_MAX_AGE_HOURS"] + 1)).isoformat()
    reply = post(client, world.key, event(returned_at=old))
    assert reply.status_code == 202 and reply.json["outcome"] == "stale"
    assert _sms(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(InvitePhone)) == 0


def test_a_number_that_answered_tu_choi_is_not_invited(app, client, world):
    from survey_app.core import phones
    from survey_app.notifications.models import PhoneOptOut

    with app.app_context():  # what the SMS gateway's "TU CHOI" callback records
        db.session.add(PhoneOptOut(phone_hash=phones.keyed_hash(PHONE), source="sms"))
        db.session.commit()
    assert post(client, world.key, event(1)).json["outcome"] == "opted_out"
    assert post(client, world.key, event(2, phone="0987654321")).json["outcome"] == "invited"
    assert [m.recipient for m in _sms(app)] == ["0987654321"]
    with app.app_context():  # the refused number did not use up a period: it was not invited
        db.session.execute(delete(PhoneOptOut))
        db.session.commit()
    assert post(client, world.key, event(3)).json["outcome"] == "invited"


# -- the coordinator's counts -----------------------------------------------------------


def test_stats_count_events_invitations_and_responses(app, client, world, runner, monkeypatch):
    for n in range(3):
        post(client, world.key, event(n, phone=f"091234567{n}", return_channel="post"))
    post(client, world.key, event(9))  # a fourth number (PHONE)
    monkeypatch.setitem(app.config, "INVITE_SHARE", 0.0)
    post(client, world.key, event(10, phone="0987000000"))
    path = _link_path(_sms(app)[0].body)
    phone = app.test_client()
    page = phone.get(path)
    phone.post(path, data={"csrf_token": csrf_from(page.text), "overall": "4"})

    with app.app_context():
        counts = services.counts(now_utc() - timedelta(days=1), now_utc() + timedelta(days=1))
    assert (counts.received, counts.invited, counts.responded) == (5, 4, 1)
    assert counts.by_outcome[Outcome.not_sampled] == 1
    assert counts.responses_by_return_channel == {"post": 1}
    assert counts.response_rate == 0.25

    result = runner.invoke(args=["invites", "stats"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split("\t", 1) for line in result.output.splitlines() if "\t" in line)
    assert lines["events received"] == "5" and lines["invited"] == "4"
    assert lines["responded"] == "1 (25%)"
    assert lines["responses returned by post"] == "1"
    bad = runner.invoke(args=["invites", "stats", "--from", "2026-12-31", "--to", "2026-01-01"])
    assert bad.exit_code == 2
