"""`flask users create`: the first admin from the shell."""

import pytest
from sqlalchemy import select

from survey_app.auth.models import Role, User
from survey_app.extensions import db
from tests import factories
from tests.helpers import login


def test_create_first_admin_and_log_in(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Admin@Tinh.gov.vn",
            "--name",
            "Quản trị",
            "--role",
            "admin",
            "--password",
            "mot mat khau dai",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User))
        assert (user.email, user.role, user.agency_id) == ("admin@tinh.gov.vn", Role.admin, None)
        assert user.password_hash.startswith("$argon2id$")
    assert login(app.test_client(), "admin@tinh.gov.vn", "mot mat khau dai").status_code == 303


def test_handler_needs_an_existing_agency(app, runner):
    base = [
        "users",
        "create",
        "--email",
        "h@x.vn",
        "--name",
        "H",
        "--role",
        "handler",
        "--password",
        "mot mat khau dai",
    ]
    result = runner.invoke(args=base)
    assert result.exit_code != 0 and "must belong to an agency" in result.output
    result = runner.invoke(args=[*base, "--agency", "NOPE"])
    assert result.exit_code != 0 and "no agency" in result.output
    with app.app_context():
        factories.agency(code="SNV")
        db.session.commit()
    assert runner.invoke(args=[*base, "--agency", "SNV"]).exit_code == 0


def test_short_password_and_duplicate_are_refused(runner):
    args = ["users", "create", "--email", "a@x.vn", "--name", "A", "--role", "admin"]
    result = runner.invoke(args=[*args, "--password", "short"])
    assert result.exit_code != 0
    assert "The password needs at least 12 characters." in result.output  # English, as the help
    assert runner.invoke(args=[*args, "--password", "long enough pw"]).exit_code == 0
    result = runner.invoke(args=[*args, "--password", "long enough pw"])
    assert result.exit_code != 0 and "already exists" in result.output


@pytest.mark.parametrize(
    ("option", "value", "problem"),
    [
        ("--email", "not-an-email", "not a valid e-mail address"),
        ("--email", "a" * 250 + "@x.vn", "too long"),
        ("--name", "   ", "must not be blank"),
        ("--name", "N" * 256, "at most 255 characters"),
        ("--name", "Nguyễn\x00Văn", "control character"),
    ],
)
def test_email_and_name_are_checked_as_the_staff_form_checks_them(
    app, runner, option, value, problem
):
    """Each was stored as given (PostgreSQL: a traceback for the long ones and NUL)."""
    args = {"--email": "a@x.vn", "--name": "A", option: value}
    result = runner.invoke(
        args=[
            "users",
            "create",
            *[part for pair in args.items() for part in pair],
            "--role",
            "admin",
            "--password",
            "long enough pw",
        ]
    )
    assert result.exit_code == 2 and problem in result.output, result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalar(select(User)) is None
