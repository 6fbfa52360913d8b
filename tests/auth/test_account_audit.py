"""Administrators' actions on staff accounts are in the audit log: who, what, which
account, when, never a password."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from survey_app.agencies.models import Agency
from survey_app.auth.models import Role, User
from survey_app.extensions import db
from survey_app.feedback.models import AuditLog
from tests import factories
from tests.helpers import csrf_from, logged_in, login

NEW_PASSWORD = "sông Hồng chảy về biển"
RESET_PASSWORD = "núi Yên Tử mây mù"


@pytest.fixture
def world(app):
    with app.app_context():
        a = factories.agency(code="SOA")
        b = factories.agency(code="SOB")
        users = SimpleNamespace(
            admin=factories.user(Role.admin).email,
            admin_b=factories.user(Role.admin, b).email,
            handler=factories.user(Role.handler, a).email,
        )
        ids = SimpleNamespace(
            a=a.id,
            b=b.id,
            **{
                name: db.session.scalar(select(User.id).where(User.email == email))
                for name, email in vars(users).items()
            },
        )
        db.session.commit()
        return SimpleNamespace(users=users, ids=ids)


def _rows(app, action=None):
    with app.app_context():
        stmt = select(AuditLog).order_by(AuditLog.id)
        if action:
            stmt = stmt.where(AuditLog.action == action)
        return [
            (r.action, r.user_id, r.target_user_id, r.detail, r.at is not None)
            for r in db.session.scalars(stmt)
        ]


def _no_password_in_the_log(app, *passwords):
    with app.app_context():
        for row in db.session.scalars(select(AuditLog)):
            for password in passwords:
                assert password not in row.detail


def _form(admin, url, **data):
    page = admin.get(url).get_data(as_text=True)
    return admin.post(url, data={"csrf_token": csrf_from(page), **data})


def test_creating_an_account_is_audited(app, world):
    admin = logged_in(app, world.users.admin)
    reply = _form(
        admin,
        "/staff/users/new",
        email="Moi@Example.gov.vn",
        full_name="Tài khoản mới",
        role="viewer",
        agency_id=str(world.ids.a),
        active="y",
        password=NEW_PASSWORD,
    )
    assert reply.status_code == 303
    with app.app_context():
        new_id = db.session.scalar(select(User.id).where(User.email == "moi@example.gov.vn"))
    assert _rows(app) == [
        ("user_created", world.ids.admin, new_id, "moi@example.gov.vn: viewer, SOA", True)
    ]
    _no_password_in_the_log(app, NEW_PASSWORD)


def test_each_change_to_an_account_is_audited(app, world):
    admin = logged_in(app, world.users.admin)
    url = f"/staff/users/{world.ids.handler}/edit"
    base = {
        "email": world.users.handler,
        "full_name": "Nguyễn Văn A",
        "role": "handler",
        "agency_id": str(world.ids.a),
        "active": "y",
    }
    assert _form(admin, url, **base).status_code == 303
    assert _rows(app) == []  # nothing changed, nothing to record
    assert _form(admin, url, **{**base, "role": "admin"}).status_code == 303
    assert _form(admin, url, **{**base, "role": "admin", "agency_id": ""}).status_code == 303
    changed = {**base, "role": "admin", "agency_id": "", "full_name": "Nguyễn Văn Bình"}
    assert _form(admin, url, **changed).status_code == 303
    assert _form(admin, url, **{**changed, "email": "binh@example.gov.vn"}).status_code == 303
    off = {**changed, "email": "binh@example.gov.vn"}
    off.pop("active")
    assert _form(admin, url, **off).status_code == 303
    assert _form(admin, url, **{**off, "active": "y"}).status_code == 303
    assert (
        _form(admin, url, **{**off, "active": "y", "password": RESET_PASSWORD}).status_code == 303
    )
    me, them = world.ids.admin, world.ids.handler
    assert [row[:4] for row in _rows(app)] == [
        ("user_role_changed", me, them, "handler → admin"),
        ("user_agency_changed", me, them, "SOA → whole province"),
        ("user_renamed", me, them, "Nguyễn Văn A → Nguyễn Văn Bình"),
        ("user_email_changed", me, them, f"{world.users.handler} → binh@example.gov.vn"),
        ("user_disabled", me, them, ""),
        ("user_enabled", me, them, ""),
        ("user_password_reset", me, them, "every session ended"),
    ]
    _no_password_in_the_log(app, RESET_PASSWORD, factories.PASSWORD)


def test_unlocking_is_audited(app, world):
    for _ in range(5):
        login(app.test_client(), world.users.handler, "wrong password 123")
    admin = logged_in(app, world.users.admin)
    reply = _form(admin, f"/staff/users/{world.ids.handler}/unlock")
    assert reply.status_code == 303
    ((action, actor, target, detail, _at),) = _rows(app, "user_unlocked")
    assert (action, actor, target) == ("user_unlocked", world.ids.admin, world.ids.handler)
    assert detail.startswith("was locked until ")


def test_a_password_change_by_its_owner_is_audited(app, world):
    owner = logged_in(app, world.users.handler)
    reply = _form(
        owner,
        "/account/password",
        current_password=factories.PASSWORD,
        new_password=NEW_PASSWORD,
        confirm=NEW_PASSWORD,
    )
    assert reply.status_code == 303
    assert [row[:3] for row in _rows(app)] == [
        ("password_changed", world.ids.handler, world.ids.handler)
    ]
    _no_password_in_the_log(app, NEW_PASSWORD, factories.PASSWORD)


def test_an_account_created_from_the_shell_is_audited(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "first@tinh.gov.vn",
            "--name",
            "Quản trị",
            "--role",
            "admin",
            "--password",
            NEW_PASSWORD,
        ]
    )
    assert result.exit_code == 0, result.output
    ((action, actor, target, detail, _at),) = _rows(app)
    assert action == "user_created" and actor is None and target is not None
    assert detail == "first@tinh.gov.vn: admin, whole province (flask users create)"
    _no_password_in_the_log(app, NEW_PASSWORD)


def test_the_audit_page_shows_account_actions_to_the_right_admins(app, world):
    admin = logged_in(app, world.users.admin)
    url = f"/staff/users/{world.ids.handler}/edit"
    reply = _form(
        admin,
        url,
        email=world.users.handler,
        full_name="Nguyễn Văn A",
        role="viewer",
        agency_id=str(world.ids.a),
        active="y",
    )
    assert reply.status_code == 303
    page = admin.get("/staff/feedback/admin/audit").get_data(as_text=True)
    assert "user_role_changed" in page and world.users.handler in page
    assert "handler → viewer" in page
    # an admin of another agency does not see what was done to agency A's staff
    other = logged_in(app, world.users.admin_b).get("/staff/feedback/admin/audit")
    assert "user_role_changed" not in other.get_data(as_text=True)
    # an admin of agency A does (the action was on their staff, by a province admin)
    with app.app_context():
        admin_a = factories.user(Role.admin, db.session.get(Agency, world.ids.a)).email
        db.session.commit()
    mine = logged_in(app, admin_a).get("/staff/feedback/admin/audit")
    assert "user_role_changed" in mine.get_data(as_text=True)
