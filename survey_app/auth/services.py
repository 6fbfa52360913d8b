"""Accounts: creation, password hashing (argon2id via argon2-cffi), the password
policy, login checks with a per-account back-off that spares the browsers the
account has logged in from (OWASP "device cookies"), and server-side sessions."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from datetime import datetime, timedelta
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, session
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from ..agencies.models import Agency
from ..core.time import now_utc
from ..extensions import db
from ..feedback import audit
from .models import LoginDevice, Role, User, UserSession


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
    """Flask-Login's user loader: the active account whose session is still known to
    the server (:class:`UserSession`: not logged out, not ended by a password change)
    and whose password has not changed since this session logged in (:meth:`User.get_id`)."""
    ident, _sep, tag = user_id.partition(":")
    token = session.get("sid")
    if not (ident.isascii() and ident.isdigit()) or not isinstance(token, str):
        return None
    user = db.session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            User.id == int(ident),
            UserSession.token_hash == _digest(token),
            UserSession.expires_at > now_utc(),
        )
    )
    if user is None or not user.active or not hmac.compare_digest(tag, user.session_tag):
        return None
    return user


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# -- server-side sessions --------------------------------------------------------------------


def start_session(user: User) -> str:
    """Record a new login session of ``user`` (and forget its sessions that have expired).

    :return: the secret the session cookie carries (only its hash is stored).
    """
    token = secrets.token_urlsafe(32)
    now = now_utc()
    db.session.execute(
        delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at <= now)
    )
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=_digest(token),
            created_at=now,
            expires_at=now + current_app.permanent_session_lifetime,
        )
    )
    db.session.flush()
    return token


def end_session(token: str | None) -> None:
    """Forget the session whose cookie carries ``token``: a copy of that cookie stops working."""
    if isinstance(token, str):
        db.session.execute(delete(UserSession).where(UserSession.token_hash == _digest(token)))
        db.session.flush()


def end_sessions(user: User) -> int:
    """End every session of ``user``, on every browser; return how many were running."""
    result = db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    db.session.flush()
    return result.rowcount


# -- accounts --------------------------------------------------------------------------------


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
        a duplicate e-mail, a handler/viewer without an agency or a report reader with one.
    """
    email = email.strip().lower()
    _check_new_account(email, password, role, agency, enforce_policy)
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise ValueError(f"an account with e-mail {email} already exists")
    return _insert_user(email, full_name, password, role, agency)


def _check_new_account(
    email: str, password: str, role: Role, agency: Agency | None, enforce_policy: bool = True
) -> None:
    problems = password_problems(password, email) if enforce_policy else []
    if problems:
        raise ValueError(" ".join(problems))
    if role in (Role.handler, Role.viewer) and agency is None:
        raise ValueError("handlers and viewers must belong to an agency")
    if role == Role.report_reader and agency is not None:
        raise ValueError("report readers read the whole province: give them no agency")


def _insert_user(
    email: str, full_name: str, password: str, role: Role, agency: Agency | None
) -> User:
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

    Ends every session of the account (the caller starts a new one for the
    browser that changed it, if it should go on), forgets the browsers it was
    recognised on, and lifts any lock.
    """
    user.password_hash = hash_password(password)
    user.password_changed_at = now_utc()
    end_sessions(user)
    db.session.execute(delete(LoginDevice).where(LoginDevice.user_id == user.id))
    unlock(user)
    return user


def unlock(user: User) -> User:
    """Lift the account's lock and its recognised browsers' locks, and forget the
    wrong passwords counted so far. The back-off level stays until a successful
    login from an unrecognised browser, so an attacker still at it meets long locks."""
    user.locked_until = None
    user.failed_logins = 0
    db.session.execute(
        update(LoginDevice)
        .where(LoginDevice.user_id == user.id)
        .values(locked_until=None, failed_logins=0)
    )
    db.session.flush()
    return user


# -- login throttling: per-account back-off, recognised browsers (device cookies) ---------------


def device_hash(device_id: str) -> str:
    """What is stored of a browser's device id (the id itself stays in its cookie)."""
    return _digest(device_id)


def recognised_device(user: User, device_id: str | None) -> LoginDevice | None:
    """The browser with ``device_id``, if it logged in to ``user`` within ``LOGIN_DEVICE_DAYS``."""
    if not device_id:
        return None
    since = now_utc() - timedelta(days=current_app.config["LOGIN_DEVICE_DAYS"])
    return db.session.scalar(
        select(LoginDevice).where(
            LoginDevice.user_id == user.id,
            LoginDevice.device_hash == device_hash(device_id),
            LoginDevice.last_login_at > since,
        )
    )


def user_by_email(email: str) -> User | None:
    """The account with this login e-mail (any case, surrounding spaces ignored)."""
    return db.session.scalar(select(User).where(User.email == email.strip().lower()[:255]))


def login_budget(user: User, device_id: str | None) -> User | LoginDevice:
    """Whose count of wrong passwords an attempt on ``user`` from this browser uses:
    the browser's own if it is recognised for the account, else the account's,
    shared by every unrecognised browser."""
    return recognised_device(user, device_id) or user


def _lock_minutes(level: int) -> int:
    """How long the ``level``-th lock in a row lasts: ``LOGIN_LOCKOUT_MINUTES``,
    doubled each time, at most ``LOGIN_LOCKOUT_MAX_MINUTES``."""
    config = current_app.config
    first, longest = config["LOGIN_LOCKOUT_MINUTES"], config["LOGIN_LOCKOUT_MAX_MINUTES"]
    return min(first * 2 ** min(level - 1, 30), longest)


def record_wrong_password(user: User, device_id: str | None) -> None:
    """Count a wrong password for ``user`` from this browser (at login or when changing
    the password), locking the budget it comes from once it reaches its limit.

    An unrecognised browser counts against the account: ``LOGIN_MAX_FAILURES`` lock
    every unrecognised browser out of it, for :func:`_lock_minutes` (the first lock
    ``LOGIN_LOCKOUT_MINUTES``, each further one twice as long). A recognised browser
    counts against itself only (``LOGIN_DEVICE_MAX_FAILURES``, the same back-off), so
    nobody else's guessing keeps the owner out. Attempts during a lock are not checked
    and do not prolong it; after a whole ``LOGIN_LOCKOUT_MAX_MINUTES`` without a lock
    the back-off starts again from the first length. The lock is audited.
    """
    _count_wrong_password(user, login_budget(user, device_id))


def _count_wrong_password(user: User, budget: User | LoginDevice) -> None:
    now = now_utc()
    if budget.is_locked(now):
        return
    config = current_app.config
    if budget.locked_until is not None and now - budget.locked_until > timedelta(
        minutes=config["LOGIN_LOCKOUT_MAX_MINUTES"]
    ):
        budget.login_lockouts = 0
    budget.failed_logins += 1
    limit = config["LOGIN_DEVICE_MAX_FAILURES" if budget is not user else "LOGIN_MAX_FAILURES"]
    if budget.failed_logins >= limit:
        budget.login_lockouts = min(budget.login_lockouts + 1, 31)
        budget.locked_until = now + timedelta(minutes=_lock_minutes(budget.login_lockouts))
        budget.failed_logins = 0
        audit.record(
            None,
            "login_locked",
            target=user,
            detail=(
                f"{'a recognised browser' if budget is not user else 'unrecognised browsers'}"
                f" refused until {budget.locked_until.isoformat(timespec='seconds')}"
                f" after {limit} wrong passwords (lock {budget.login_lockouts} in a row)"
            ),
        )
    db.session.flush()


def _dummy_verify(hasher: PasswordHasher, password: str) -> None:
    try:
        hasher.verify(_dummy_hash(hasher), password)
    except VerificationError:
        pass


def authenticate(email: str, password: str, device_id: str | None = None) -> User | None:
    """The active user with these credentials whose login from this browser is not
    locked, or None. The caller commits (failures too).

    ``device_id`` is the id in the browser's device cookie, if any. A wrong password
    counts against the browser's budget (:func:`record_wrong_password`). While that
    budget is locked the password is not checked at all; an unrecognised browser
    still spends the time a check takes, so the time of an answer does not tell
    which accounts exist. A success from an unrecognised browser ends the account's
    back-off, one from a recognised browser only that browser's. Rehashes outdated
    hashes.
    """
    user = user_by_email(email)
    hasher = _hasher()
    if user is None:
        _dummy_verify(hasher, password)
        return None
    budget = login_budget(user, device_id)
    now = now_utc()
    if budget.is_locked(now):
        if budget is user:
            _dummy_verify(hasher, password)
        return None
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        _count_wrong_password(user, budget)
        return None
    if not user.active:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    budget.failed_logins = 0
    budget.locked_until = None
    budget.login_lockouts = 0
    user.last_login_at = now
    db.session.flush()
    return user


def remember_device(user: User, device_id: str | None) -> str:
    """Recognise this browser for ``user`` after a successful login (OWASP device cookie).

    Browsers not seen for ``LOGIN_DEVICE_DAYS`` are forgotten on the way.

    :param device_id: the id in the browser's device cookie, or None for a new one.
    :return: the device id the browser's cookie should carry.
    """
    device_id = device_id or secrets.token_urlsafe(32)
    now = now_utc()
    since = now - timedelta(days=current_app.config["LOGIN_DEVICE_DAYS"])
    db.session.execute(
        delete(LoginDevice).where(
            LoginDevice.user_id == user.id, LoginDevice.last_login_at <= since
        )
    )
    device = db.session.scalar(
        select(LoginDevice).where(
            LoginDevice.user_id == user.id, LoginDevice.device_hash == device_hash(device_id)
        )
    )
    if device is None:
        device = LoginDevice(user_id=user.id, device_hash=device_hash(device_id), created_at=now)
        db.session.add(device)
    device.last_login_at = now
    db.session.flush()
    return device_id


def verify_password(user: User, password: str) -> bool:
    """True if ``password`` is the user's current password (no side effects)."""
    try:
        return _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def paused_until(user: User, now: datetime | None = None) -> datetime | None:
    """Until when unrecognised browsers are refused for ``user`` (None if they are not)."""
    return user.locked_until if user.is_locked(now or now_utc()) else None


# -- administration of accounts (each change audited, never a password) ------------------------


def _scope(agency: Agency | None) -> str:
    return agency.code if agency is not None else "whole province"


def create_account(
    actor: User | None,
    email: str,
    full_name: str,
    password: str,
    role: Role,
    agency: Agency | None = None,
    *,
    active: bool = True,
    via: str = "",
) -> User:
    """Create a staff account for an administrator and audit it (``user_created``).

    The caller has made sure the e-mail is free (the form checks it, as
    :func:`create_user` does); two requests racing for one e-mail meet the unique key.

    :param actor: the administrator, or None for a shell command (``via`` says which).
    :raises ValueError: for a password the policy refuses, a handler/viewer
        without an agency or a report reader with one.
    """
    email = email.strip().lower()
    _check_new_account(email, password, role, agency)
    user = _insert_user(email, full_name, password, role, agency)
    user.active = active
    detail = f"{user.email}: {role.value}, {_scope(agency)}{'' if active else ', disabled'}"
    audit.record(actor, "user_created", target=user, detail=detail + (f" ({via})" if via else ""))
    db.session.flush()
    return user


def update_account(
    actor: User,
    user: User,
    *,
    email: str,
    full_name: str,
    role: Role,
    agency: Agency | None,
    active: bool,
    password: str | None = None,
) -> list[str]:
    """Apply an administrator's changes to ``user``, auditing each kind of change.

    A new password (checked by the caller against :func:`password_problems`) ends
    every session of the account (:func:`set_password`); disabling it ends them too.
    A role or agency change applies from the account's next request.

    :return: the audit actions recorded (``user_email_changed``, ``user_renamed``,
        ``user_role_changed``, ``user_agency_changed``, ``user_disabled``,
        ``user_enabled``, ``user_password_reset``), empty if nothing changed.
    """
    changes: list[tuple[str, str]] = []
    email = email.strip().lower()
    full_name = full_name.strip()
    if email != user.email:
        changes.append(("user_email_changed", f"{user.email} → {email}"))
        user.email = email
    if full_name != user.full_name:
        changes.append(("user_renamed", f"{user.full_name} → {full_name}"))
        user.full_name = full_name
    if role != user.role:
        changes.append(("user_role_changed", f"{user.role.value} → {role.value}"))
        user.role = role
    if (agency.id if agency else None) != user.agency_id:
        changes.append(("user_agency_changed", f"{_scope(user.agency)} → {_scope(agency)}"))
        user.agency = agency
    if active != user.active:
        changes.append(("user_enabled" if active else "user_disabled", ""))
        user.active = active
        if not active:
            end_sessions(user)
    if password:
        set_password(user, password)
        changes.append(("user_password_reset", "every session ended"))
    for action, detail in changes:
        audit.record(actor, action, target=user, detail=detail)
    db.session.flush()
    return [action for action, _detail in changes]


def unlock_account(actor: User, user: User) -> User:
    """An administrator lifts the locks on ``user`` (:func:`unlock`); audited as ``user_unlocked``."""
    until = paused_until(user)
    unlock(user)
    detail = f"was locked until {until.isoformat(timespec='seconds')}" if until else ""
    audit.record(actor, "user_unlocked", target=user, detail=detail)
    db.session.flush()
    return user
