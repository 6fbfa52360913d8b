"""Login protection without a lockout weapon (OWASP "device cookies").

A browser that logged in to an account is recognised for it and keeps its own
budget of wrong passwords; wrong passwords from anywhere else lock only the
unrecognised browsers out, with a back-off that doubles; the change-password
form is rate-limited and its wrong guesses count the same way.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from survey_app import create_app
from survey_app.auth.models import LoginDevice, Role, User
from survey_app.auth.views import DEVICE_COOKIE
from survey_app.config import TestConfig
from survey_app.extensions import db
from survey_app.feedback.models import AuditLog
from tests import factories
from tests.helpers import csrf_from, logged_in, login

WRONG = "wrong password 123"
NEW_PASSWORD = "sông Hồng chảy về biển"
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def world(app):
    with app.app_context():
        agency = factories.agency()
        users = SimpleNamespace(
            owner=factories.user(Role.handler, agency).email,
            admin=factories.user(Role.admin).email,
            attacker=factories.user(Role.handler, agency).email,
        )
        db.session.commit()
        return users


def _user(app, email) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge(user)
        return user


def _from(app, address: str):
    """A new browser (no cookies) at ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _recognised_browser(app, email, address="192.0.2.10"):
    """The owner's browser: it logged in once (so it holds a device cookie), then logged out."""
    client = _from(app, address)
    assert login(client, email).status_code == 303
    assert client.get_cookie(DEVICE_COOKIE) is not None
    _logout(client)
    return client


def _logout(client):
    token = csrf_from(client.get("/account/password").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303


def _moved_to(app, browser):
    """The same browser (its address and device cookie) talking to ``app``."""
    moved = _from(app, browser.environ_base["REMOTE_ADDR"])
    moved.set_cookie(DEVICE_COOKIE, browser.get_cookie(DEVICE_COOKIE).value)
    return moved


def _limited_app(database_url, **settings):
    """The app with rate limits on (in memory, a fresh key space)."""

    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        RATELIMIT_ENABLED = True
        RATELIMIT_STORAGE_URI = "memory://"
        RATELIMIT_KEY_PREFIX = f"t{uuid.uuid4().hex}"

    for name, value in settings.items():
        setattr(Limited, name, value)
    return create_app(Limited)


# -- no lockout weapon --------------------------------------------------------------------------


def test_an_attacker_with_many_addresses_cannot_lock_the_owner_out(app, database_url, world):
    """The attacker tries the owner's account from a new address each time: the account
    gets locked for unrecognised browsers and its account-name limit runs out, yet the
    owner's recognised browser logs in. (Over hours, see the back-off tests below.)"""
    laptop = _recognised_browser(app, world.owner)  # the owner logged in here last week
    limited = _limited_app(database_url)  # the default limits
    owner = _moved_to(limited, laptop)
    statuses = [
        login(_from(limited, f"198.51.100.{i}"), world.owner, WRONG).status_code
        for i in range(1, 61)
    ]
    assert statuses[:5] == [400] * 5 and statuses[5:] == [429] * 55
    assert _user(app, world.owner).locked_until is not None
    # an unrecognised browser is refused even with the right password
    assert login(_from(limited, "203.0.113.7"), world.owner).status_code == 429
    reply = login(owner, world.owner)
    assert reply.status_code == 303
    assert owner.get("/staff/").status_code == 200


def test_an_attacker_behind_the_owners_address_cannot_lock_the_owner_out(app, database_url, world):
    """One office, one public address: the attacker exhausts the address's limit too."""
    laptop = _recognised_browser(app, world.owner, "192.0.2.99")
    limited = _limited_app(database_url, LOGIN_RATE_LIMIT="10/minute;50/hour")
    owner = _moved_to(limited, laptop)
    for _ in range(12):
        login(_from(limited, "192.0.2.99"), world.owner, WRONG)
    assert login(_from(limited, "192.0.2.99"), world.owner).status_code == 429
    assert login(owner, world.owner).status_code == 303


def test_without_a_device_cookie_the_right_password_is_refused_during_the_lock(app, world):
    for i in range(5):
        assert login(_from(app, f"198.51.100.{i}"), world.owner, WRONG).status_code == 400
    assert login(_from(app, "203.0.113.1"), world.owner).status_code == 400
    locked = _user(app, world.owner)
    assert locked.locked_until is not None and locked.login_lockouts == 1


def test_the_owner_is_told_about_the_lock_when_logging_in(app, world):
    owner = _recognised_browser(app, world.owner)
    for _ in range(5):
        login(_from(app, "198.51.100.1"), world.owner, WRONG)
    reply = login(owner, world.owner)
    assert reply.status_code == 303
    page = owner.get("/staff/").get_data(as_text=True)
    assert "Có người đã nhập sai mật khẩu tài khoản của bạn nhiều lần" in page


def test_a_device_cookie_of_another_account_does_not_help(app, world):
    """The attacker's own account recognises their browser; the owner's account does not."""
    attacker = _recognised_browser(app, world.attacker)
    for _ in range(5):
        assert login(attacker, world.owner, WRONG).status_code == 400
    assert _user(app, world.owner).locked_until is not None  # counted as unrecognised
    assert login(attacker, world.owner).status_code == 400
    assert login(attacker, world.attacker).status_code == 303  # their own account still works


def test_a_forged_or_tampered_device_cookie_is_not_recognised(app, world):
    owner = _recognised_browser(app, world.owner)
    value = owner.get_cookie(DEVICE_COOKIE).value
    for forged in (value[:-2] + ("AA" if not value.endswith("AA") else "BB"), "x" * 40, ""):
        client = app.test_client()
        client.set_cookie(DEVICE_COOKIE, forged)
        login(client, world.owner, WRONG)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == world.owner))
        assert user.failed_logins == 3  # each counted against the account, none against a device


def test_a_device_cookie_expires(app, world):
    with freeze_time(START) as clock:
        owner = _recognised_browser(app, world.owner)
        clock.tick(timedelta(days=91))  # LOGIN_DEVICE_DAYS = 90
        for _ in range(5):
            login(_from(app, "198.51.100.1"), world.owner, WRONG)
        assert login(owner, world.owner).status_code == 400


# -- the recognised browser's own budget ------------------------------------------------------


def test_a_stolen_device_cookie_has_its_own_small_budget(app, world):
    owner = _recognised_browser(app, world.owner, "192.0.2.10")
    phone = _recognised_browser(app, world.owner, "192.0.2.11")
    thief = _from(app, "198.51.100.66")
    thief.set_cookie(DEVICE_COOKIE, owner.get_cookie(DEVICE_COOKIE).value)
    for _ in range(5):
        assert login(thief, world.owner, WRONG).status_code == 400
    assert login(thief, world.owner).status_code == 400  # that browser is locked now…
    assert login(owner, world.owner).status_code == 400  # …the laptop it was copied from too
    assert login(phone, world.owner).status_code == 303  # the owner's other browser is not
    assert login(_from(app, "203.0.113.2"), world.owner).status_code == 303  # nor new ones
    with app.app_context():
        devices = db.session.scalars(select(LoginDevice).order_by(LoginDevice.id)).all()
        assert [d.locked_until is not None for d in devices] == [True, False, False]
        assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 1  # the lock


# -- back-off ---------------------------------------------------------------------------------


def _lock_minutes_after_five_wrong(app, email) -> float:
    for _ in range(5):
        login(_from(app, "198.51.100.1"), email, WRONG)
    user = _user(app, email)
    return (user.locked_until - datetime.now(UTC)).total_seconds() / 60


def test_the_back_off_doubles_with_each_lock_up_to_a_day(app, world):
    with freeze_time(START) as clock:
        lengths = []
        for _ in range(9):
            lengths.append(round(_lock_minutes_after_five_wrong(app, world.owner)))
            clock.tick(timedelta(minutes=lengths[-1] + 1))  # wait the lock out, try again
        assert lengths == [15, 30, 60, 120, 240, 480, 960, 1440, 1440]
        # attempts during a lock are not checked and do not prolong it
        _lock_minutes_after_five_wrong(app, world.owner)
        until = _user(app, world.owner).locked_until
        for _ in range(10):
            login(_from(app, "198.51.100.2"), world.owner, WRONG)
        assert _user(app, world.owner).locked_until == until


def test_the_back_off_starts_over_after_a_success_or_a_quiet_day(app, world):
    with freeze_time(START) as clock:
        assert round(_lock_minutes_after_five_wrong(app, world.owner)) == 15
        clock.tick(timedelta(minutes=16))
        assert round(_lock_minutes_after_five_wrong(app, world.owner)) == 30
        clock.tick(timedelta(minutes=31))
        # the owner logs in from a new browser: the account's back-off ends
        assert login(_from(app, "192.0.2.50"), world.owner).status_code == 303
        assert round(_lock_minutes_after_five_wrong(app, world.owner)) == 15
        clock.tick(timedelta(minutes=16))
        assert round(_lock_minutes_after_five_wrong(app, world.owner)) == 30
        clock.tick(timedelta(days=1, minutes=31))  # a whole day without a lock
        assert round(_lock_minutes_after_five_wrong(app, world.owner)) == 15


def test_a_recognised_login_does_not_end_the_back_off_of_unrecognised_browsers(app, world):
    owner = _recognised_browser(app, world.owner)
    for _ in range(5):
        login(_from(app, "198.51.100.1"), world.owner, WRONG)
    assert login(owner, world.owner).status_code == 303
    assert login(_from(app, "203.0.113.9"), world.owner).status_code == 400


def test_a_lock_is_audited(app, world):
    for _ in range(5):
        login(_from(app, "198.51.100.1"), world.owner, WRONG)
    with app.app_context():
        (row,) = db.session.scalars(select(AuditLog).where(AuditLog.action == "login_locked"))
        assert row.user_id is None and row.target_user.email == world.owner
        assert "unrecognised browsers" in row.detail and WRONG not in row.detail


def test_an_admin_unlock_lifts_the_locks_of_browsers_too(app, world):
    owner = _recognised_browser(app, world.owner)
    for _ in range(5):
        login(owner, world.owner, WRONG)
        login(_from(app, "198.51.100.1"), world.owner, WRONG)
    assert login(owner, world.owner).status_code == 400
    admin = logged_in(app, world.admin)
    user_id = _user(app, world.owner).id
    page = admin.get(f"/staff/users/{user_id}/edit").get_data(as_text=True)
    assert "trình duyệt chưa từng đăng nhập" in page
    reply = admin.post(f"/staff/users/{user_id}/unlock", data={"csrf_token": csrf_from(page)})
    assert reply.status_code == 303
    assert login(owner, world.owner).status_code == 303
    assert login(_from(app, "203.0.113.3"), world.owner).status_code == 303


# -- the change-password form -------------------------------------------------------------------


def _change(client, current, new=NEW_PASSWORD):
    page = client.get("/account/password")
    assert page.status_code == 200
    return client.post(
        "/account/password",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "current_password": current,
            "new_password": new,
            "confirm": new,
        },
    )


def _thief_with_session_of(app, owner_client):
    """Another browser holding a copy of the owner's session cookie (not the device cookie)."""
    thief = _from(app, "198.51.100.77")
    thief.set_cookie("session", owner_client.get_cookie("session").value)
    assert thief.get("/staff/").status_code == 200
    return thief


def test_guessing_the_current_password_counts_toward_the_lock(app, world):
    owner = _from(app, "192.0.2.10")
    assert login(owner, world.owner).status_code == 303
    thief = _thief_with_session_of(app, owner)
    for _ in range(5):
        assert _change(thief, WRONG).status_code == 400
    # locked: even the right current password is not checked any more from there
    reply = _change(thief, factories.PASSWORD)
    assert reply.status_code == 429 and "Nhập sai mật khẩu quá nhiều lần" in reply.text
    assert login(_from(app, "203.0.113.4"), world.owner).status_code == 400  # the same budget
    # the owner's recognised browser has its own budget: it can still change the password
    assert _change(owner, factories.PASSWORD).status_code == 303


def test_wrong_passwords_at_login_and_on_the_form_add_up(app, world):
    owner = _from(app, "192.0.2.10")
    assert login(owner, world.owner).status_code == 303
    thief = _thief_with_session_of(app, owner)
    for _ in range(3):
        _change(thief, WRONG)
    assert _user(app, world.owner).locked_until is None
    for _ in range(2):
        login(_from(app, "198.51.100.5"), world.owner, WRONG)
    assert _user(app, world.owner).locked_until is not None


def test_a_recognised_browser_guessing_on_the_form_uses_its_own_budget(app, world):
    owner = _from(app, "192.0.2.10")
    assert login(owner, world.owner).status_code == 303
    for _ in range(5):
        _change(owner, WRONG)
    assert _change(owner, factories.PASSWORD).status_code == 429
    assert _user(app, world.owner).locked_until is None  # the account's budget untouched
    assert login(_from(app, "203.0.113.5"), world.owner).status_code == 303


def test_the_change_password_form_is_rate_limited(app, database_url, world):
    limited = _limited_app(database_url, PASSWORD_CHANGE_RATE_LIMIT="3/minute")
    owner = _from(limited, "192.0.2.10")
    assert login(owner, world.owner).status_code == 303
    statuses = [_change(owner, "short").status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    # per account: another account's form is not affected
    other = _from(limited, "192.0.2.10")
    assert login(other, world.admin).status_code == 303
    assert _change(other, "short").status_code == 400


# -- the device cookie --------------------------------------------------------------------------


def test_the_device_cookie_is_signed_http_only_and_strict(app, database_url, world):
    reply = login(_from(app, "192.0.2.10"), world.owner)
    (cookie,) = [c for c in reply.headers.getlist("Set-Cookie") if c.startswith(DEVICE_COOKIE)]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=7776000" in cookie
    with app.app_context():
        (device,) = db.session.scalars(select(LoginDevice))
        value = cookie.split(";")[0].split("=", 1)[1]
        assert device.device_hash not in value and len(device.device_hash) == 64
    prod = create_app(
        {
            "APP_ENV": "production",
            "SECRET_KEY": "k" * 48,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "ARGON2_PARAMS": TestConfig.ARGON2_PARAMS,
            "RATELIMIT_ENABLED": False,
        }
    )
    reply = login(prod.test_client(), world.owner)
    (cookie,) = [c for c in reply.headers.getlist("Set-Cookie") if c.startswith(DEVICE_COOKIE)]
    assert "Secure" in cookie


def test_changing_the_password_forgets_the_other_browsers(app, world):
    laptop = _recognised_browser(app, world.owner, "192.0.2.10")
    phone = _recognised_browser(app, world.owner, "192.0.2.11")
    assert login(laptop, world.owner).status_code == 303
    assert _change(laptop, factories.PASSWORD).status_code == 303
    for _ in range(5):
        login(_from(app, "198.51.100.1"), world.owner, WRONG)
    # the phone was recognised under the old password only; the laptop is again
    assert login(phone, world.owner, NEW_PASSWORD).status_code == 400
    _logout(laptop)
    assert login(laptop, world.owner, NEW_PASSWORD).status_code == 303
