"""Accounts: creation, password hashing (argon2id via argon2-cffi), login checks."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
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


MIN_PASSWORD_LENGTH = 10


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader."""
    try:
        return db.session.get(User, int(user_id))
    except ValueError:
        return None


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def create_user(
    email: str, full_name: str, password: str, role: Role, agency: Agency | None = None
) -> User:
    """Create a staff account.

    :raises ValueError: for a too-short password, a duplicate e-mail, or a
        handler/viewer without an agency.
    """
    email = email.strip().lower()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if role in (Role.handler, Role.viewer) and agency is None:
        raise ValueError("handlers and viewers must belong to an agency")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise ValueError(f"an account with e-mail {email} already exists")
    user = User(
        email=email,
        full_name=full_name.strip(),
        password_hash=hash_password(password),
        role=role,
        agency=agency,
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None. Rehashes outdated hashes."""
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
        return None
    if not user.active:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now_utc()
    db.session.flush()
    return user
