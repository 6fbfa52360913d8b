"""Sessions known to the server: logging out and changing the password end them
there, so a copy of the session cookie stops working; what happens to the
account's other browsers is what its owner expects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from survey_app.auth.models import Role, User, UserSession
from survey_app.extensions import db
from tests import factories
from tests.helpers import csrf_from, logged_in

NEW_PASSWORD = "sông Hồng chảy về biển"


@pytest.fixture
def world(app):
    with app.app_context():
        agency = factories.agency(code="SOA")
        users = SimpleNamespace(
            owner=factories.user(Role.handler, agency).email,
            admin=factories.user(Role.admin).email,
        )
        db.session.commit()
        return users


def _copy_of(app, browser):
    """Another browser holding a copy of ``browser``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", browser.get_cookie("session").value)
    return thief


def _signed_in(client) -> bool:
    reply = client.get("/staff/")
    assert reply.status_code in (200, 302)
    return reply.status_code == 200


def _logout(client):
    token = csrf_from(client.get("/account/password").get_data(as_text=True))
    return client.post("/logout", data={"csrf_token": token})


def _change(client, current, new):
    page = client.get("/account/password").get_data(as_text=True)
    return client.post(
        "/account/password",
        data={
            "csrf_token": csrf_from(page),
            "current_password": current,
            "new_password": new,
            "confirm": new,
        },
    )


def _sessions(app, email) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(UserSession).join(User).where(User.email == email)
        )


def test_a_copied_cookie_stops_working_after_logout(app, world):
    owner = logged_in(app, world.owner)
    thief = _copy_of(app, owner)
    assert _signed_in(thief)
    assert _logout(owner).status_code == 303
    assert not _signed_in(owner)
    assert not _signed_in(thief)  # the server forgot the session, not just the browser
    assert _sessions(app, world.owner) == 0


def test_a_copied_cookie_stops_working_after_a_password_change(app, world):
    owner = logged_in(app, world.owner)
    before = _copy_of(app, owner)  # copied before the change
    assert _change(owner, factories.PASSWORD, NEW_PASSWORD).status_code == 303
    after = _copy_of(app, owner)  # the cookie of the session that goes on
    assert _signed_in(owner)
    assert not _signed_in(before)
    assert _signed_in(after)
    assert _logout(owner).status_code == 303
    assert not _signed_in(after)


def test_logging_out_ends_only_this_browser(app, world):
    laptop = logged_in(app, world.owner)
    phone = logged_in(app, world.owner)
    assert _logout(laptop).status_code == 303
    assert not _signed_in(laptop)
    assert _signed_in(phone)
    assert _sessions(app, world.owner) == 1


def test_changing_the_password_ends_every_other_browser(app, world):
    laptop = logged_in(app, world.owner)
    phone = logged_in(app, world.owner)
    tablet = logged_in(app, world.owner)
    assert _change(laptop, factories.PASSWORD, NEW_PASSWORD).status_code == 303
    assert _signed_in(laptop)
    assert not _signed_in(phone) and not _signed_in(tablet)
    assert _sessions(app, world.owner) == 1


def test_an_admin_resetting_the_password_or_disabling_ends_every_session(app, world):
    owner = logged_in(app, world.owner)
    copy = _copy_of(app, owner)
    admin = logged_in(app, world.admin)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == world.owner))
        user_id, agency_id = user.id, user.agency_id
    form = {
        "email": world.owner,
        "full_name": "Nguyễn Văn A",
        "role": "handler",
        "agency_id": str(agency_id),
        "active": "y",
    }

    def save(**changes):
        page = admin.get(f"/staff/users/{user_id}/edit").get_data(as_text=True)
        data = {**form, "csrf_token": csrf_from(page), **changes}
        return admin.post(f"/staff/users/{user_id}/edit", data=data)

    assert save(role="viewer").status_code == 303  # a role change keeps the session…
    assert _signed_in(owner)
    assert save(password=NEW_PASSWORD).status_code == 303  # …a password reset ends it
    assert not _signed_in(owner) and not _signed_in(copy)
    assert _sessions(app, world.owner) == 0
    owner = logged_in(app, world.owner, NEW_PASSWORD)
    form.pop("active")
    assert save().status_code == 303  # disabled
    assert not _signed_in(owner) and _sessions(app, world.owner) == 0


def test_an_admin_resetting_their_own_password_stays_logged_in(app, world):
    admin = logged_in(app, world.admin)
    other = logged_in(app, world.admin)
    with app.app_context():
        admin_id = db.session.scalar(select(User.id).where(User.email == world.admin))
    page = admin.get(f"/staff/users/{admin_id}/edit").get_data(as_text=True)
    reply = admin.post(
        f"/staff/users/{admin_id}/edit",
        data={
            "csrf_token": csrf_from(page),
            "email": world.admin,
            "full_name": "Nguyễn Văn A",
            "role": "admin",
            "agency_id": "",
            "active": "y",
            "password": NEW_PASSWORD,
        },
    )
    assert reply.status_code == 303
    assert _signed_in(admin) and not _signed_in(other)


def test_a_session_the_server_does_not_know_is_refused(app, world):
    """Sessions recorded before this change, or removed from the table by an operator."""
    owner = logged_in(app, world.owner)
    with app.app_context():
        db.session.execute(UserSession.__table__.delete())
        db.session.commit()
    assert not _signed_in(owner)


def test_a_session_ends_on_the_server_at_its_absolute_lifetime(app, world):
    start = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    with freeze_time(start) as clock:
        owner = logged_in(app, world.owner)
        with app.app_context():
            (row,) = db.session.scalars(select(UserSession))
            assert row.expires_at == start + timedelta(hours=8)
            # the server's record ends the session whatever the (signed) cookie says
            row.expires_at = start + timedelta(minutes=5)
            db.session.commit()
        clock.tick(timedelta(minutes=6))
        assert not _signed_in(owner)
        logged_in(app, world.owner)  # a new login forgets the expired row
        assert _sessions(app, world.owner) == 1


def test_the_session_secret_is_not_stored(app, world):
    owner = logged_in(app, world.owner)
    with owner.session_transaction() as session:
        secret = session["sid"]
    with app.app_context():
        (row,) = db.session.scalars(select(UserSession))
        assert secret not in row.token_hash and len(row.token_hash) == 64
