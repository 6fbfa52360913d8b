"""Kiosk mode: a tablet at a counter, locked to it by a signed link, resetting after each citizen."""

from __future__ import annotations

import json
import re
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from survey_app import create_app
from survey_app.auth.models import Role
from survey_app.config import TestConfig
from survey_app.extensions import db
from survey_app.surveys.models import Channel, Kiosk, Response
from survey_app.surveys.tokens import issue_kiosk_token
from tests import factories
from tests.helpers import csrf_from, logged_in


@pytest.fixture
def kiosk(app):
    """A kiosk at an active counter, as plain data (path of its link)."""
    with app.app_context():
        agency = factories.agency("Sở Tư pháp")
        counter = factories.counter(agency, name="Quầy Hộ tịch")
        other = factories.counter(agency, name="Quầy Chứng thực")
        admin = factories.user(Role.admin, agency, email="admin@example.vn")
        kiosk = Kiosk(counter=counter, label="Máy tính bảng cửa 1")
        db.session.add(kiosk)
        db.session.commit()
        token = issue_kiosk_token(kiosk.id, counter.code)
        return SimpleNamespace(
            id=kiosk.id,
            path=f"/k/{token}",
            token=token,
            counter_id=counter.id,
            counter_code=counter.code,
            other_code=other.code,
            admin=admin.email,
            agency_id=agency.id,
        )


def _responses(app):
    with app.app_context():
        return [
            (r.counter_id, r.channel, r.overall, r.wants_feedback, r.comment)
            for r in db.session.scalars(select(Response).order_by(Response.id))
        ]


def _tap(client, path, value=4):
    html = client.get(path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_from(html), "overall": str(value)})


def test_kiosk_page_is_full_screen_survey_of_its_counter_with_reset_script(client, kiosk):
    page = client.get(kiosk.path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'class="kiosk"' in html and f'data-reset-url="{kiosk.path}"' in html
    assert "Quầy Hộ tịch" in html
    assert "/static/kiosk.js" in html
    assert f'href="{kiosk.path}/manifest.webmanifest"' in html
    # the first screen waits for as long as it takes: no idle reset there
    assert 'data-idle-seconds=""' in html and "http-equiv" not in html
    # the form posts back to the kiosk, not to the poster's address
    assert f'action="{kiosk.path}"' in html and 'name="channel"' not in html
    # nothing leads away from the survey on a shared tablet, not even the name in the header
    assert 'class="brand" href' not in html


def test_each_citizen_on_the_same_tablet_is_counted_as_kiosk(app, client, kiosk):
    first = _tap(client, kiosk.path, 5)
    assert first.status_code == 303 and first.headers["Location"].endswith(f"{kiosk.path}/more")
    # the same browser, seconds later: the next citizen, not a duplicate
    second = _tap(client, kiosk.path, 2)
    assert second.status_code == 303
    assert _responses(app) == [
        (kiosk.counter_id, Channel.kiosk, 5, False, None),
        (kiosk.counter_id, Channel.kiosk, 2, False, None),
    ]


def test_a_double_tap_on_the_tablet_is_one_citizen(app, client, kiosk):
    html = client.get(kiosk.path).get_data(as_text=True)
    started = re.search(r'name="started" type="hidden" value="([^"]+)"', html).group(1)
    data = {"csrf_token": csrf_from(html), "started": started, "overall": "2"}
    replies = [client.post(kiosk.path, data=data) for _ in range(2)]
    assert [r.status_code for r in replies] == [303, 303]
    assert len(_responses(app)) == 1
    _tap(client, kiosk.path, 5)  # the next citizen's page
    assert len(_responses(app)) == 2


def test_going_back_to_the_first_screen_forgets_the_previous_citizen(client, kiosk):
    assert _tap(client, kiosk.path).status_code == 303
    assert client.get(f"{kiosk.path}/more").status_code == 200
    client.get(kiosk.path)  # what the idle reset does
    assert client.get(f"{kiosk.path}/more").status_code == 404


def test_steps_two_and_three_reset_when_idle_even_without_javascript(app, client, kiosk):
    _tap(client, kiosk.path)
    idle = app.config["KIOSK_IDLE_SECONDS"]
    for step in ("more", "more/3", "comment"):
        html = client.get(f"{kiosk.path}/{step}").get_data(as_text=True)
        assert f'data-idle-seconds="{idle}"' in html
        assert re.search(
            rf'<noscript><meta http-equiv="refresh" content="{idle};url={re.escape(kiosk.path)}">',
            html,
        ), step


def test_kiosk_offers_no_formal_feedback_on_the_shared_device(app, client, kiosk):
    _tap(client, kiosk.path)
    html = client.get(f"{kiosk.path}/comment").get_data(as_text=True)
    assert 'name="wants_feedback"' not in html
    assert "/feedback/new" in html  # where to file it from one's own phone
    reply = client.post(
        f"{kiosk.path}/comment",
        data={"csrf_token": csrf_from(html), "comment": "Nên thêm ghế chờ", "wants_feedback": "y"},
    )
    assert reply.status_code == 303 and reply.headers["Location"].endswith(f"{kiosk.path}/thanks")
    assert _responses(app)[0][3:] == (False, "Nên thêm ghế chờ")


def test_thank_you_screen_returns_to_the_start_and_ends_the_citizens_session(app, client, kiosk):
    _tap(client, kiosk.path)
    html = client.get(f"{kiosk.path}/thanks").get_data(as_text=True)
    seconds = app.config["KIOSK_THANKS_SECONDS"]
    assert f'<meta http-equiv="refresh" content="{seconds};url={kiosk.path}">' in html
    assert f'href="{kiosk.path}"' in html  # "Next person"
    assert client.get(f"{kiosk.path}/more").status_code == 404


def test_manifest_opens_the_kiosk_full_screen(client, kiosk):
    reply = client.get(f"{kiosk.path}/manifest.webmanifest")
    assert reply.status_code == 200 and reply.mimetype == "application/manifest+json"
    manifest = json.loads(reply.get_data(as_text=True))
    assert manifest["start_url"] == kiosk.path and manifest["display"] == "fullscreen"


def test_tampered_or_foreign_kiosk_links_are_refused(app, client, kiosk):
    assert client.get(kiosk.path[:-3] + "abc").status_code == 404
    with app.app_context():
        # a correctly signed link naming another counter than the kiosk's
        wrong_counter = issue_kiosk_token(kiosk.id, kiosk.other_code)
        unknown = issue_kiosk_token(kiosk.id + 999, kiosk.counter_code)
    assert client.get(f"/k/{wrong_counter}").status_code == 404
    assert client.get(f"/k/{unknown}").status_code == 410
    # nothing was stored by any of it
    assert _responses(app) == []


def test_kiosk_of_a_disabled_counter_shows_not_found_in_vietnamese(app, client, kiosk):
    with app.app_context():
        from survey_app.agencies.models import Counter

        db.session.get(Counter, kiosk.counter_id).is_active = False
        db.session.commit()
    reply = client.get(kiosk.path)
    assert reply.status_code == 404
    assert "không còn tham gia khảo sát" in reply.get_data(as_text=True)


def test_admin_adds_a_kiosk_sees_its_link_and_qr_and_withdraws_it(app, kiosk):
    admin = logged_in(app, kiosk.admin)
    page = admin.get(f"/staff/counters/{kiosk.counter_id}/kiosks")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    reply = admin.post(
        f"/staff/counters/{kiosk.counter_id}/kiosks",
        data={"csrf_token": csrf_from(html), "label": "Máy ở sảnh"},
    )
    assert reply.status_code == 303
    html = admin.get(f"/staff/counters/{kiosk.counter_id}/kiosks").get_data(as_text=True)
    assert "Máy ở sảnh" in html and "<svg" in html
    links = re.findall(r'value="https?://[^"]*(/k/[^"]+)"', html)
    assert kiosk.path in links and len(links) == 2
    new_path = next(p for p in links if p != kiosk.path)
    # the new link works on a tablet (anonymous browser)
    tablet = app.test_client()
    assert _tap(tablet, new_path).status_code == 303
    # withdrawn: the link dies at once
    with app.app_context():
        new_id = db.session.scalar(select(Kiosk.id).where(Kiosk.label == "Máy ở sảnh"))
    reply = admin.post(
        f"/staff/counters/{kiosk.counter_id}/kiosks/{new_id}/revoke",
        data={"csrf_token": csrf_from(html)},
    )
    assert reply.status_code == 303
    gone = tablet.get(new_path)
    assert gone.status_code == 410 and "đã bị thu hồi" in gone.get_data(as_text=True)
    assert app.test_client().get(kiosk.path).status_code == 200  # the other one still works


def test_empty_label_is_a_clear_400_and_nothing_is_added(app, kiosk):
    admin = logged_in(app, kiosk.admin)
    html = admin.get(f"/staff/counters/{kiosk.counter_id}/kiosks").get_data(as_text=True)
    reply = admin.post(
        f"/staff/counters/{kiosk.counter_id}/kiosks",
        data={"csrf_token": csrf_from(html), "label": ""},
    )
    assert reply.status_code == 400
    assert "Trường này là bắt buộc" in reply.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Kiosk)) == 1


@pytest.mark.parametrize("role", [Role.viewer, Role.handler, Role.coordinator])
def test_only_counter_managers_see_kiosk_links(app, kiosk, role):
    with app.app_context():
        email = factories.user(role, db.session.get(factories.Agency, kiosk.agency_id)).email
        db.session.commit()
    client = logged_in(app, email)
    assert client.get(f"/staff/counters/{kiosk.counter_id}/kiosks").status_code == 403


def test_admin_of_another_agency_cannot_see_or_withdraw_the_kiosk(app, kiosk):
    with app.app_context():
        stranger = factories.user(Role.admin, factories.agency("UBND huyện Thanh Hà")).email
        db.session.commit()
    client = logged_in(app, stranger)
    assert client.get(f"/staff/counters/{kiosk.counter_id}/kiosks").status_code == 404
    html = client.get("/staff/").get_data(as_text=True)
    reply = client.post(
        f"/staff/counters/{kiosk.counter_id}/kiosks/{kiosk.id}/revoke",
        data={"csrf_token": csrf_from(html)},
    )
    assert reply.status_code == 404
    assert app.test_client().get(kiosk.path).status_code == 200


def test_taps_are_limited_per_tablet_and_the_error_screen_returns_to_the_start(
    app, database_url, kiosk
):
    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        RATELIMIT_ENABLED = True
        RATELIMIT_STORAGE_URI = "memory://"
        RATELIMIT_KEY_PREFIX = f"k{uuid.uuid4().hex}"
        KIOSK_RATE_LIMIT = "2/minute"

    limited = create_app(Limited)
    tablet = limited.test_client()
    replies = [_tap(tablet, kiosk.path) for _ in range(3)]
    assert [r.status_code for r in replies] == [303, 303, 429]
    html = replies[-1].get_data(as_text=True)
    assert f'<meta http-equiv="refresh" content="10;url={kiosk.path}">' in html
    assert len(_responses(app)) == 2
