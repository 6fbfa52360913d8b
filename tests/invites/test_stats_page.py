"""The coordinator's page of invitation counts: access, scope, period, bad dates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from survey_app.auth.models import Role
from survey_app.core.time import local_today
from survey_app.extensions import db
from tests import factories
from tests.helpers import csrf_from, logged_in
from tests.invites.world import event, make_world, post

URL = "/staff/invites/"


@pytest.fixture
def world(app, monkeypatch):
    monkeypatch.setitem(app.config, "INVITE_SHARE", 1.0)
    world = make_world(app)
    with app.app_context():
        from survey_app.agencies.models import Agency

        commune = db.session.get(Agency, world.commune_id)
        other = db.session.scalar(db.select(Agency).where(Agency.code == "SXD"))
        world.coordinator = factories.user(Role.coordinator).email
        world.commune_viewer = factories.user(Role.viewer, commune).email
        world.other_viewer = factories.user(Role.viewer, other).email
        world.handler = factories.user(Role.handler, commune).email
        db.session.commit()
    return world


def _cell(html: str, row_id: str) -> str:
    start = html.index(f'id="{row_id}"')
    cell = html.index('class="num">', start) + len('class="num">')
    return html[cell : html.index("</td>", cell)]


def _answer_first_invitation(app):
    import re

    from sqlalchemy import select

    from survey_app.feedback.models import OutboxMessage

    with app.app_context():
        body = db.session.scalars(select(OutboxMessage.body).order_by(OutboxMessage.id)).first()
    path = re.search(r"gov\.vn(/[0-9a-z]{8})", body).group(1)
    phone = app.test_client()
    page = phone.get(path)
    assert (
        phone.post(path, data={"csrf_token": csrf_from(page.text), "overall": "5"}).status_code
        == 303
    )


def test_the_coordinator_sees_the_counts(app, client, world):
    post(client, world.key, event(1, return_channel="post"))
    post(client, world.key, event(2))  # the same number: recently invited
    post(client, world.key, event(3, agency="SXD", phone="0987654321"))
    _answer_first_invitation(app)
    page = logged_in(app, world.coordinator).get(URL)
    assert page.status_code == 200
    html = page.text
    assert _cell(html, "received") == "3"
    assert _cell(html, "outcome-invited") == "2"
    assert _cell(html, "outcome-recently_invited") == "1"
    assert _cell(html, "responded").startswith("1 (50")
    assert _cell(html, "return-post") == "1"
    # no phone number anywhere on the page
    assert "0912345678" not in html and "987654321" not in html


def test_agency_staff_see_their_scope_only(app, client, world):
    post(client, world.key, event(1))
    post(client, world.key, event(3, agency="SXD", phone="0987654321"))
    assert _cell(logged_in(app, world.commune_viewer).get(URL).text, "received") == "1"
    assert _cell(logged_in(app, world.other_viewer).get(URL).text, "received") == "1"


def test_the_page_needs_the_reports_permission(app, world):
    assert app.test_client().get(URL).status_code == 302  # to the login page
    assert logged_in(app, world.handler).get(URL).status_code == 200  # handlers read reports


def test_the_reports_page_links_to_it(app, world):
    page = logged_in(app, world.coordinator).get("/staff/reports/")
    assert 'id="invites-link"' in page.text and URL in page.text


def test_a_period_outside_the_events_counts_nothing(app, client, world):
    post(client, world.key, event(1))
    with app.app_context():
        last = local_today() - timedelta(days=40)
    page = logged_in(app, world.coordinator).get(
        URL,
        query_string={"first": (last - timedelta(days=10)).isoformat(), "last": last.isoformat()},
    )
    assert page.status_code == 200 and _cell(page.text, "received") == "0"


@pytest.mark.parametrize(
    "query",
    [
        {"first": "2026-13-01"},
        {"first": "2026-03-10", "last": "2026-03-01"},
        {"first": "2024-01-01", "last": "2026-01-01"},
    ],
)
def test_bad_dates_are_a_400_with_a_message(app, world, query):
    page = logged_in(app, world.coordinator).get(URL, query_string=query)
    assert page.status_code == 400
    assert 'role="alert"' in page.text and 'id="received"' not in page.text
