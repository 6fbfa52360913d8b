"""Logging in safely: lockout, throttling, the password policy, sessions that end,
cookie flags and the secret key."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from survey_app import create_app
from survey_app.auth.models import Role, User
from survey_app.auth.services import create_user, password_problems
from survey_app.config import Config, TestConfig
from survey_app.demo.users import DEMO_PASSWORD, ensure_demo_users
from survey_app.extensions import db
from tests import factories
from tests.helpers import csrf_from, logged_in, login

GENERIC = "Sai thư điện tử hoặc mật khẩu, hoặc tài khoản đã bị vô hiệu hóa hay bị khóa"
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def world(app):
    with app.app_context():
        agency = factories.agency()
        users = SimpleNamespace(
            admin=factories.user(Role.admin).email,
            handler=factories.user(Role.handler, agency).email,
        )
        db.session.commit()
        return users


def _user(app, email) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge(user)
        return user


def _set_cookie(reply, name: str) -> str:
    """The Set-Cookie header of the cookie ``name`` (a login sets two: the session, the device)."""
    (header,) = [h for h in reply.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    return header


def _flash(reply) -> str:
    html = reply.get_data(as_text=True)
    return html[html.index('class="flash') : html.index("</p>", html.index('class="flash'))]


# -- lockout -----------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(app, world):
    client = app.test_client()
    for _ in range(5):
        assert login(client, world.handler, "wrong password 123").status_code == 400
    locked = _user(app, world.handler)
    assert locked.locked_until is not None and locked.failed_logins == 0
    reply = login(client, world.handler)  # the right password, during the lock
    assert reply.status_code == 400 and GENERIC in reply.get_data(as_text=True)
    assert app.test_client().get("/staff/").status_code == 302


def test_the_message_does_not_tell_whether_the_account_exists(app, world):
    for _ in range(5):
        login(app.test_client(), world.handler, "wrong password 123")
    locked = login(app.test_client(), world.handler)
    wrong = login(app.test_client(), world.admin, "wrong password 123")
    unknown = login(app.test_client(), "nobody@example.gov.vn", "wrong password 123")
    assert _flash(locked) == _flash(wrong) == _flash(unknown)
    assert locked.status_code == wrong.status_code == unknown.status_code == 400


def test_the_lock_ends_after_its_time_and_a_success_resets_the_count(app, world):
    with freeze_time(START):
        for _ in range(5):
            login(app.test_client(), world.handler, "wrong password 123")
        assert login(app.test_client(), world.handler).status_code == 400
    with freeze_time(START + timedelta(minutes=16)):
        assert login(app.test_client(), world.handler).status_code == 303
        for _ in range(4):  # four more mistakes do not lock: the count started again
            login(app.test_client(), world.handler, "wrong password 123")
        assert login(app.test_client(), world.handler).status_code == 303


def test_an_admin_unlocks_an_account(app, world):
    for _ in range(5):
        login(app.test_client(), world.handler, "wrong password 123")
    user_id = _user(app, world.handler).id
    admin = logged_in(app, world.admin)
    listing = admin.get("/staff/users").get_data(as_text=True)
    assert "Đang bị khóa" in listing
    page = admin.get(f"/staff/users/{user_id}/edit").get_data(as_text=True)
    assert "Mở khóa tài khoản" in page
    reply = admin.post(f"/staff/users/{user_id}/unlock", data={"csrf_token": csrf_from(page)})
    assert reply.status_code == 303
    assert _user(app, world.handler).locked_until is None
    assert login(app.test_client(), world.handler).status_code == 303


def test_only_account_managers_unlock(app, world):
    user_id = _user(app, world.admin).id
    handler = logged_in(app, world.handler)
    token = csrf_from(handler.get("/account/password").get_data(as_text=True))
    assert (
        handler.post(f"/staff/users/{user_id}/unlock", data={"csrf_token": token}).status_code
        == 403
    )


# -- throttling -------------------------------------------------------------------------


def _limited_app(database_url, **limits):
    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        RATELIMIT_ENABLED = True
        RATELIMIT_STORAGE_URI = "memory://"
        RATELIMIT_KEY_PREFIX = f"t{uuid.uuid4().hex}"
        LOGIN_MAX_FAILURES = 1000  # only the rate limits act here

    for name, value in limits.items():
        setattr(Limited, name, value)
    return create_app(Limited)


def _attempt(app, email, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return login(client, email, "wrong password 123").status_code


def test_one_account_is_throttled_whatever_the_address(app, database_url, world):
    limited = _limited_app(
        database_url, LOGIN_ACCOUNT_RATE_LIMIT="3/minute", LOGIN_RATE_LIMIT="100/minute"
    )
    statuses = [_attempt(limited, world.handler, f"10.0.0.{i}") for i in range(1, 5)]
    assert statuses == [400, 400, 400, 429]
    # the same address may still try another account
    assert _attempt(limited, world.admin, "10.0.0.4") == 400
    # upper case or spaces do not make a new account name
    assert _attempt(limited, f"  {world.handler.upper()} ", "10.0.0.9") == 429


def test_one_address_is_throttled_whatever_the_account(app, database_url, world):
    limited = _limited_app(
        database_url, LOGIN_ACCOUNT_RATE_LIMIT="100/minute", LOGIN_RATE_LIMIT="3/minute"
    )
    statuses = [_attempt(limited, f"user{i}@example.gov.vn", "10.0.1.1") for i in range(4)]
    assert statuses == [400, 400, 400, 429]
    assert _attempt(limited, "other@example.gov.vn", "10.0.1.2") == 400


# -- password policy -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "password, problem",
    [
        ("ngan qua", "ít nhất 12 ký tự"),
        ("password", "ít nhất 12 ký tự"),
        ("Password2024!", "quá phổ biến"),
        ("matkhau123456", "quá phổ biến"),
        ("123456789012345", "quá phổ biến"),
        ("aaaaaaaaaaaaaa", "quá phổ biến"),
        ("nguyen.van.an-2026", "chứa địa chỉ thư điện tử"),
    ],
)
def test_weak_passwords_are_refused(app_ctx, password, problem):
    problems = password_problems(password, "nguyen.van.an@example.gov.vn")
    assert any(problem in p for p in problems), problems


def test_a_good_password_passes(app_ctx):
    assert password_problems("sông Hồng chảy về biển", "an@example.gov.vn") == []


@pytest.mark.parametrize(
    "password",
    [
        DEMO_PASSWORD,
        "HAILONG-DEMO-2022",
        "hailong demo 2022",
        "hailong-demo-2023!",
        "Hài Lòng 2026 !!",
    ],
)
def test_the_published_demo_password_and_its_variants_are_refused(app_ctx, password):
    problems = password_problems(password, "an@example.gov.vn")
    assert any("đã được công bố" in p for p in problems), problems


def test_no_real_account_gets_the_demo_password(app, runner, world):
    """Not from the shell, the admin form or the change-password form."""
    args = ["users", "create", "--email", "a@b.vn", "--name", "A", "--role", "admin"]
    result = runner.invoke(args=[*args, "--password", DEMO_PASSWORD])
    assert result.exit_code != 0 and "published" in result.output
    with app.app_context():
        with pytest.raises(ValueError):
            create_user("c@b.vn", "C", DEMO_PASSWORD, Role.admin)
    admin = logged_in(app, world.admin)
    page = admin.get("/staff/users/new").get_data(as_text=True)
    form = {
        "csrf_token": csrf_from(page),
        "email": "moi@example.gov.vn",
        "full_name": "Tài khoản mới",
        "role": "admin",
        "password": DEMO_PASSWORD,
    }
    reply = admin.post("/staff/users/new", data=form)
    assert reply.status_code == 400 and "đã được công bố" in reply.text
    handler_id = _user(app, world.handler).id
    page = admin.get(f"/staff/users/{handler_id}/edit").get_data(as_text=True)
    reply = admin.post(
        f"/staff/users/{handler_id}/edit",
        data={**form, "csrf_token": csrf_from(page), "email": world.handler},
    )
    assert reply.status_code == 400 and "đã được công bố" in reply.text
    change = _change(logged_in(app, world.handler), factories.PASSWORD, DEMO_PASSWORD)
    assert change.status_code == 400 and "đã được công bố" in change.text
    with app.app_context():
        assert (
            db.session.scalar(select(User).where(User.email.in_(["a@b.vn", "moi@example.gov.vn"])))
            is None
        )
    assert login(app.test_client(), world.handler, DEMO_PASSWORD).status_code == 400


def test_the_demo_loader_still_creates_the_demo_accounts(app):
    with app.app_context():
        created = ensure_demo_users()
        db.session.commit()
    assert "admin@demo.hailong.vn" in created
    assert login(app.test_client(), "admin@demo.hailong.vn", DEMO_PASSWORD).status_code == 303


def test_cli_refuses_a_common_password(app, runner):
    args = ["users", "create", "--email", "a@b.vn", "--name", "A", "--role", "admin"]
    result = runner.invoke(args=[*args, "--password", "Password2024!"])
    assert result.exit_code != 0 and "too common" in result.output
    with app.app_context():
        assert db.session.scalar(select(User)) is None
        with pytest.raises(ValueError):
            create_user("b@b.vn", "B", "qwertyuiop12", Role.admin)


def test_admin_form_refuses_a_password_containing_the_email(app, world):
    admin = logged_in(app, world.admin)
    page = admin.get("/staff/users/new").get_data(as_text=True)
    reply = admin.post(
        "/staff/users/new",
        data={
            "csrf_token": csrf_from(page),
            "email": "tran.thi.binh@example.gov.vn",
            "full_name": "Trần Thị Bình",
            "role": "admin",
            "password": "tran.thi.binh2026",
        },
    )
    assert reply.status_code == 400
    assert "không được chứa địa chỉ thư điện tử" in reply.get_data(as_text=True)


def test_an_agency_admin_cannot_create_a_province_wide_account(app):
    with app.app_context():
        a = factories.agency()
        factories.agency(code="OTHER")
        admin_email = factories.user(Role.admin, a).email
        db.session.commit()
    admin = logged_in(app, admin_email)
    page = admin.get("/staff/users/new").get_data(as_text=True)
    assert "OTHER" not in page and "toàn tỉnh" not in page.lower()
    reply = admin.post(
        "/staff/users/new",
        data={
            "csrf_token": csrf_from(page),
            "email": "moi@example.gov.vn",
            "full_name": "Tài khoản mới",
            "role": "admin",
            "agency_id": "",
            "password": "sông Hồng chảy về biển",
        },
    )
    assert reply.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "moi@example.gov.vn")) is None


# -- changing one's password ------------------------------------------------------------


def _change(client, current, new, confirm=None):
    page = client.get("/account/password")
    assert page.status_code == 200
    return client.post(
        "/account/password",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "current_password": current,
            "new_password": new,
            "confirm": new if confirm is None else confirm,
        },
    )


def test_change_password_needs_a_login(client):
    reply = client.get("/account/password")
    assert reply.status_code == 302 and "/login" in reply.headers["Location"]


def test_change_password_checks_current_policy_and_confirmation(app, world):
    client = logged_in(app, world.handler)
    wrong = _change(client, "not my password", "sông Hồng chảy về biển")
    assert wrong.status_code == 400 and "không phải mật khẩu hiện tại" in wrong.text
    weak = _change(client, factories.PASSWORD, "matkhau2024!!")
    assert weak.status_code == 400 and "quá phổ biến" in weak.text
    differ = _change(client, factories.PASSWORD, "sông Hồng chảy về biển", "khác hẳn rồi nhé")
    assert differ.status_code == 400 and "không khớp" in differ.text
    same = _change(client, factories.PASSWORD, factories.PASSWORD)
    assert same.status_code == 400 and "phải khác mật khẩu hiện tại" in same.text


def test_changing_the_password_ends_the_other_sessions(app, world):
    laptop = logged_in(app, world.handler)
    phone = logged_in(app, world.handler)
    reply = _change(laptop, factories.PASSWORD, "sông Hồng chảy về biển")
    assert reply.status_code == 303
    assert laptop.get("/staff/").status_code == 200  # this session goes on
    assert phone.get("/staff/").status_code == 302  # the other one ended
    assert login(app.test_client(), world.handler).status_code == 400
    assert login(app.test_client(), world.handler, "sông Hồng chảy về biển").status_code == 303


def test_disabling_an_account_ends_its_running_sessions(app, world):
    handler = logged_in(app, world.handler)
    assert handler.get("/staff/").status_code == 200
    with app.app_context():
        db.session.scalar(select(User).where(User.email == world.handler)).active = False
        db.session.commit()
    assert handler.get("/staff/").status_code == 302


# -- sessions that end --------------------------------------------------------------------


def test_an_idle_session_ends_after_30_minutes(app, world):
    with freeze_time(START) as clock:
        client = logged_in(app, world.handler)
        clock.tick(timedelta(minutes=29))
        assert client.get("/staff/").status_code == 200
        clock.tick(timedelta(minutes=29))  # 29 minutes after the last request: still fine
        assert client.get("/staff/").status_code == 200
        clock.tick(timedelta(minutes=31))
        reply = client.get("/staff/")
        assert reply.status_code == 302 and "/login" in reply.headers["Location"]
        assert "Phiên làm việc đã hết hạn" in client.get("/login").get_data(as_text=True)


def test_a_busy_session_still_ends_8_hours_after_login(app, world):
    with freeze_time(START) as clock:
        client = logged_in(app, world.handler)
        for _ in range(23):  # a request every 20 minutes for 7 h 40 min
            clock.tick(timedelta(minutes=20))
            assert client.get("/staff/").status_code == 200
        clock.tick(timedelta(minutes=21))
        assert client.get("/staff/").status_code == 302


def test_session_cookie_is_permanent_with_the_absolute_lifetime(app, world):
    client = app.test_client()
    reply = login(client, world.handler)
    cookie = _set_cookie(reply, "session")
    assert "Expires=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in development and tests


# -- production settings --------------------------------------------------------------------


def _production(database_url, **extra):
    return create_app(
        {
            "APP_ENV": "production",
            "SECRET_KEY": "k" * 48,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "ARGON2_PARAMS": TestConfig.ARGON2_PARAMS,
            "RATELIMIT_ENABLED": False,
            **extra,
        }
    )


def test_production_cookies_are_secure(app, database_url, world):
    prod = _production(database_url)
    assert prod.config["SESSION_COOKIE_SECURE"] and prod.config["REMEMBER_COOKIE_SECURE"]
    client = prod.test_client()
    reply = login(client, world.handler)
    assert reply.status_code == 303
    cookie = _set_cookie(reply, "session")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookies_can_be_forced_in_development(monkeypatch):
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    from survey_app.config import _env_bool_or_none

    assert _env_bool_or_none("SESSION_COOKIE_SECURE") is True
    config = {
        "APP_ENV": "development",
        "SECRET_KEY": "x",
        "PUBLIC_BASE_URL": "x",
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "SESSION_COOKIE_SECURE": True,
        "REMEMBER_COOKIE_SECURE": None,
    }
    Config.finalise(config, Path("/nonexistent"))
    assert config["SESSION_COOKIE_SECURE"] is True and config["REMEMBER_COOKIE_SECURE"] is False


@pytest.mark.parametrize("env", ["production", "staging"])
def test_a_secret_key_is_required_outside_development(env):
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        create_app({"APP_ENV": env, "SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_a_short_secret_key_is_refused_in_production():
    with pytest.raises(RuntimeError, match="at least 32 characters"):
        create_app(
            {
                "APP_ENV": "production",
                "SECRET_KEY": "secret",
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
            }
        )
