"""The administrators' webhook pages: add (secret shown once), refuse bad addresses,
change, pause, new secret, remove; only province-wide administrators."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from survey_app.agencies.models import Agency
from survey_app.auth.models import Role
from survey_app.extensions import db
from survey_app.feed.models import FeedDelivery, WebhookSubscription
from survey_app.feedback.models import AuditLog
from tests import factories
from tests.helpers import csrf_from, logged_in

from .conftest import file_case

BASE = "/staff/feed/webhooks/"


def _token(client, path=BASE + "new"):
    return csrf_from(
        client.get(path + ("&" if "?" in path else "?") + "lang=en").get_data(as_text=True)
    )


def _subscriptions() -> list[WebhookSubscription]:
    db.session.expire_all()
    return db.session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)).all()


def test_an_admin_adds_a_webhook_and_sees_its_secret_once(app, province):
    client = logged_in(app, province.admin_email)
    assert "Webhooks" in client.get("/staff/?lang=en", follow_redirects=True).get_data(as_text=True)
    reply = client.post(
        BASE + "new?lang=en",
        data={
            "csrf_token": _token(client),
            "name": "LGSP tỉnh Hải Dương",
            "url": "https://lgsp.haiduong.gov.vn/pakn/hooks",
            "event_types": ["case.published", "case.received"],
            "active": "y",
        },
    )
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200 and reply.headers["Cache-Control"] == "no-store"
    shown = re.search(r'id="secret" readonly value="([^"]+)"', html).group(1)
    assert shown.startswith("whsec_") and len(shown) > 40
    with app.app_context():
        (subscription,) = _subscriptions()
        assert subscription.secret == shown and subscription.active
        assert subscription.types == ["case.published", "case.received"]
        assert db.session.scalar(
            select(AuditLog.action).where(AuditLog.action == "webhook_created")
        )
        subscription_id = subscription.id
    # never again
    for path in (BASE, f"{BASE}{subscription_id}"):
        assert shown not in client.get(path).get_data(as_text=True)


def test_a_secret_the_receiver_made_is_taken_and_a_short_one_refused(app, province):
    client = logged_in(app, province.admin_email)
    data = {"csrf_token": _token(client), "name": "LGSP", "url": "http://127.0.0.1:9/in"}
    short = client.post(BASE + "new?lang=en", data={**data, "secret": "abc"})
    assert short.status_code == 400 and "24 to 128" in short.get_data(as_text=True)
    ok = client.post(BASE + "new?lang=en", data={**data, "secret": "s" * 32})
    assert ok.status_code == 200
    with app.app_context():
        assert [s.secret for s in _subscriptions()] == ["s" * 32]


@pytest.mark.parametrize(
    "url, production, message",
    [
        ("ftp://lgsp.example.vn/", False, "https://"),
        ("", False, "This field is required."),
        ("http://lgsp.haiduong.gov.vn/hooks", True, "only sent over HTTPS"),
        ("https://169.254.169.254/latest", True, "private, loopback or reserved"),
        ("https://10.1.2.3/hooks", True, "FEED_WEBHOOK_ALLOW_NETWORKS"),
    ],
)
def test_a_bad_address_is_refused_with_a_clear_message_and_nothing_is_saved(
    app, province, monkeypatch, url, production, message
):
    client = logged_in(app, province.admin_email)
    token = _token(client)
    if production:
        monkeypatch.setitem(app.config, "APP_ENV", "production")
    reply = client.post(
        BASE + "new?lang=en", data={"csrf_token": token, "name": "LGSP", "url": url}
    )
    html = reply.get_data(as_text=True)
    assert reply.status_code == 400 and message in html
    assert 'value="LGSP"' in html  # what was typed stays in the form
    with app.app_context():
        assert _subscriptions() == []


def test_an_admin_changes_pauses_renews_the_secret_and_removes_a_webhook(app, province):
    client = logged_in(app, province.admin_email)
    client.post(
        BASE + "new",
        data={"csrf_token": _token(client), "name": "LGSP", "url": "http://127.0.0.1:9/in"},
    )
    with app.app_context():
        (subscription,) = _subscriptions()
        subscription_id, old_secret = subscription.id, subscription.secret
    page = f"{BASE}{subscription_id}"
    token = _token(client, page)
    reply = client.post(
        page,
        data={
            "csrf_token": token,
            "name": "LGSP mới",
            "url": "http://127.0.0.1:9/v2",
            "event_types": ["case.published"],
        },
    )  # "active" unticked: paused
    assert reply.status_code == 303
    with app.app_context():
        (subscription,) = _subscriptions()
        assert (subscription.name, subscription.url, subscription.active) == (
            "LGSP mới",
            "http://127.0.0.1:9/v2",
            False,
        )
        assert subscription.types == ["case.published"]
        # paused: events are not queued for it
        file_case()
        db.session.commit()
        assert db.session.scalars(select(FeedDelivery.subscription_id)).all() == []
    html = client.get(page + "?lang=en").get_data(as_text=True)
    assert re.search(
        r'<input[^>]*checked[^>]*value="case.published"|value="case.published"[^>]*checked', html
    )
    assert not re.search(r'<input[^>]*id="active"[^>]*checked', html)
    assert "Paused" in client.get(BASE + "?lang=en").get_data(as_text=True)
    renewed = client.post(page + "/secret", data={"csrf_token": token})
    assert renewed.status_code == 200
    new_secret = re.search(
        r'id="secret" readonly value="([^"]+)"', renewed.get_data(as_text=True)
    ).group(1)
    with app.app_context():
        (subscription,) = _subscriptions()
        assert subscription.secret == new_secret != old_secret
    removed = client.post(page + "/delete", data={"csrf_token": token})
    assert removed.status_code == 303
    with app.app_context():
        assert _subscriptions() == []
        actions = set(db.session.scalars(select(AuditLog.action)))
        assert {
            "webhook_created",
            "webhook_changed",
            "webhook_secret_rotated",
            "webhook_deleted",
        } <= actions


def test_only_province_wide_administrators_manage_webhooks(app, province):
    with app.app_context():
        agency = db.session.get(Agency, province.justice_id)
        coordinator = factories.user(Role.coordinator)
        handler = factories.user(Role.handler, agency)
        local_admin = factories.user(Role.admin, agency)
        db.session.commit()
        emails = [coordinator.email, handler.email, local_admin.email]
    for email in emails:
        client = logged_in(app, email)
        assert client.get(BASE).status_code == 403
        assert client.get(BASE + "new").status_code == 403
        assert "/staff/feed/webhooks" not in client.get("/staff/", follow_redirects=True).get_data(
            as_text=True
        )
    anonymous = app.test_client().get(BASE)
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]


def test_unknown_webhooks_and_deliveries_are_404_and_400(app, province):
    client = logged_in(app, province.admin_email)
    assert client.get(f"{BASE}999").status_code == 404
    client.post(
        BASE + "new",
        data={"csrf_token": _token(client), "name": "LGSP", "url": "http://127.0.0.1:9/in"},
    )
    with app.app_context():
        (subscription,) = _subscriptions()
    token = _token(client)
    bad = client.post(f"{BASE}{subscription.id}/retry", data={"csrf_token": token, "delivery": "x"})
    assert bad.status_code == 400
    none = client.post(
        f"{BASE}{subscription.id}/retry", data={"csrf_token": token, "delivery": "5"}
    )
    assert none.status_code == 303  # nothing failed: said so, nothing changed
