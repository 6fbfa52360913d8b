"""Accounts: creation, password hashing (argon2id via argon2-cffi), the password
policy, login checks with lockout after repeated wrong passwords."""

from __future__ import annotations

import hmac
import re
import string
from datetime import timedelta
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..agencies.models import Agency
from ..core.time import now_utc
from ..extensions import db
from .models import Role, User


@cache
def _hasher_for(params: tuple[tuple[str, int], ...]) -> PasswordHasher:
    return PasswordHasher(**dict(params))


def _hasher() -> PasswordHasher:
    """argon2id with the library's defaults, or ``ARGON2_PARAMS`` (the tests use cheap ones)."""
    return _hasher_for(tuple(sorted(current_app.config.get("ARGON2_PARAMS", {}).items())))


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    # Verifying against this keeps the time of a login with an unknown e-mail equal
    # to one with a wrong password, so timing does not reveal which accounts exist.
    return hasher.hash("not a real password")


MIN_PASSWORD_LENGTH = 12

#: The demo accounts' password: printed by ``flask demo load`` and in the README,
#: so anyone knows it. The policy refuses it; only the demo loader uses it.
DEMO_PASSWORD = "hailong-demo-2022"
#: Passwords anyone can read or guess from the service itself (its name, the demo's),
#: compared without case, spaces or punctuation, also with digits added at either end.
PUBLIC_PASSWORDS = frozenset({"hailongdemo2022", "hailongdemo", "hailong", "hàilòng"})


def _squash(text: str) -> str:
    """Lower-case letters and digits only: "Hailong-Demo 2022!" → "hailongdemo2022"."""
    return re.sub(r"[\W_]+", "", text.lower())


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of passwords too common to allow (lower-case)."""
    text = resources.files(__package__).joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def password_problems(password: str, email: str = "") -> list[str]:
    """Why ``password`` is not good enough for the account ``email`` (empty if it is).

    At least :data:`MIN_PASSWORD_LENGTH` characters; not a common password, even
    with digits or punctuation added at either end; not one character repeated;
    not the e-mail or its name part; not a password the service publishes
    (:data:`DEMO_PASSWORD`) or its own name (:data:`PUBLIC_PASSWORDS`).
    """
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(_("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    lowered = password.strip().lower()
    core = lowered.strip(string.digits + string.punctuation + " ")
    if (
        not core  # digits and punctuation only
        or lowered in common_passwords()
        or core in common_passwords()
        or len(set(lowered)) <= 2
    ):
        problems.append(_("This password is too common or too easy to guess. Choose another."))
    elif _squash(lowered) in PUBLIC_PASSWORDS or _squash(core) in PUBLIC_PASSWORDS:
        problems.append(
            _(
                "This password is published (the demo accounts' or the service's name). Choose another."
            )
        )
    email = email.strip().lower()
    local = email.split("@")[0]
    if email and (lowered == email or (len(local) >= 4 and local in lowered)):
        problems.append(_("The password must not contain the e-mail address."))
    return problems


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the active account whose password has not changed
    since this session logged in (see :meth:`User.get_id`)."""
    ident, _sep, tag = user_id.partition(":")
    try:
        user = db.session.get(User, int(ident))
    except ValueError:
        return None
    if user is None or not user.active or not hmac.compare_digest(tag, user.session_tag):
        return None
    return user


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def create_user(
    email: str,
    full_name: str,
    password: str,
    role: Role,
    agency: Agency | None = None,
    *,
    enforce_policy: bool = True,
) -> User:
    """Create a staff account.

    :param enforce_policy: False only for the demo loader, whose published password
        (:data:`DEMO_PASSWORD`) the policy refuses for real accounts.
    :raises ValueError: for a password the policy refuses (:func:`password_problems`),
        a duplicate e-mail, or a handler/viewer without an agency.
    """
    email = email.strip().lower()
    problems = password_problems(password, email) if enforce_policy else []
    if problems:
        raise ValueError(" ".join(problems))
    if role in (Role.handler, Role.viewer) and agency is None:
        raise ValueError("handlers and viewers must belong to an agency")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise ValueError(f"an account with e-mail {email} already exists")
    user = User(
        email=email,
        full_name=full_name.strip(),
        password_hash=hash_password(password),
        password_changed_at=now_utc(),
        role=role,
        agency=agency,
    )
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: User, password: str) -> User:
    """Give ``user`` a new password (the caller checked :func:`password_problems`).

    Ends the account's other sessions (their id no longer matches) and any lock.
    """
    user.password_hash = hash_password(password)
    user.password_changed_at = now_utc()
    unlock(user)
    return user


def unlock(user: User) -> User:
    """Lift a lockout and forget the failed attempts."""
    user.locked_until = None
    user.failed_logins = 0
    db.session.flush()
    return user


def _record_failure(user: User) -> None:
    now = now_utc()
    if user.is_locked(now):
        return  # attempts during the lock do not prolong it
    user.failed_logins += 1
    if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
        user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
        user.failed_logins = 0


def authenticate(email: str, password: str) -> User | None:
    """The active, unlocked user with these credentials, or None.

    A wrong password counts against the account; ``LOGIN_MAX_FAILURES`` in a row
    lock it for ``LOGIN_LOCKOUT_MINUTES``, during which even the right password
    is refused. The caller commits (failures too). Rehashes outdated hashes.
    """
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    hasher = _hasher()
    if user is None:
        try:
            hasher.verify(_dummy_hash(hasher), password)
        except VerificationError:
            pass
        return None
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        _record_failure(user)
        db.session.flush()
        return None
    if not user.active or user.is_locked(now_utc()):
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now_utc()
    db.session.flush()
    return user


def verify_password(user: User, password: str) -> bool:
    """True if ``password`` is the user's current password (no side effects)."""
    try:
        return _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
