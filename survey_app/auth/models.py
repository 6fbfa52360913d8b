"""Staff accounts and their roles."""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..agencies.models import Agency
from ..core.db import UTCDateTime
from ..core.time import now_utc
from ..extensions import db


class Role(enum.StrEnum):
    """What a staff member may do; the agency on the account limits where."""

    admin = "admin"  #: manages agencies, counters, users, keys; sees everything
    coordinator = "coordinator"  #: Văn phòng UBND: triages feedback across agencies
    handler = "handler"  #: an agency's handler: works on that agency's cases and counters
    viewer = "viewer"  #: reads reports and counts for the agency
    #: reads every agency's reports and counts, province-wide (Sở Nội vụ analysts, the
    #: People's Committee's leaders); no agency, and no feedback case or its personal data
    report_reader = "report_reader"


class User(UserMixin, db.Model):
    """A staff member who logs in. Citizens never have accounts."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Login name, stored lower-case.
    email: Mapped[str] = mapped_column(String(255), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    #: Argon2id hash (argon2-cffi).
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    #: The agency whose subtree the account may see; NULL = the whole province
    #: (only for admins, coordinators and report readers; a report reader has none).
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Wrong passwords from browsers not recognised for this account (see
    #: :class:`LoginDevice`) since the last lock or successful login from such a browser.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Logins from unrecognised browsers are refused until then (too many wrong
    #: passwords); recognised ones keep their own budget. An admin may unlock.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Locks in a row: each one lasts twice as long as the one before (back-off).
    login_lockouts: Mapped[int] = mapped_column(default=0, server_default="0")
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The mobile number Zalo messages go to (national form), if the user gave one.
    zalo_phone: Mapped[str | None] = mapped_column(String(20))
    #: Which events reach the user by which channel: ``{"new_case": ["email"], …}``;
    #: NULL = e-mail for every event (notifications.preferences).
    notification_prefs: Mapped[dict | None] = mapped_column(JSON)

    agency: Mapped[Agency | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def get_id(self) -> str:
        """The id kept in the session: the account id and a tag of its password hash,
        so changing the password ends every other session of the account."""
        return f"{self.id}:{self.session_tag}"

    @property
    def session_tag(self) -> str:
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    def is_locked(self, now: datetime) -> bool:
        """True while logins from unrecognised browsers are refused."""
        return self.locked_until is not None and self.locked_until > now

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    @property
    def sees_whole_province(self) -> bool:
        if self.role == Role.report_reader:  # province-wide by definition
            return True
        return self.agency_id is None and self.role in (Role.admin, Role.coordinator)

    def can_see_agency(self, agency: Agency) -> bool:
        """True if ``agency`` is inside this account's scope."""
        if self.sees_whole_province:
            return True
        return self.agency is not None and agency.is_within(self.agency)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class LoginDevice(db.Model):
    """A browser that has logged in to an account: it keeps its own budget of wrong
    passwords, so a lock on the account (which only unrecognised browsers see)
    does not keep the owner out (OWASP "device cookies").

    The browser holds a signed random id in a cookie; only its SHA-256 is stored.
    One browser may be recognised for several accounts (a shared counter PC).
    """

    __tablename__ = "login_devices"
    __table_args__ = (UniqueConstraint("user_id", "device_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: SHA-256 (hex) of the random id in the browser's device cookie.
    device_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: The last successful login from this browser; it is forgotten ``LOGIN_DEVICE_DAYS`` later.
    last_login_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: Wrong passwords from this browser since its last lock or successful login.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    #: This browser's logins to the account are refused until then.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Locks in a row (each twice as long as the one before).
    login_lockouts: Mapped[int] = mapped_column(default=0, server_default="0")

    def is_locked(self, now: datetime) -> bool:
        """True while this browser's logins to the account are refused."""
        return self.locked_until is not None and self.locked_until > now


class UserSession(db.Model):
    """A staff login session, known to the server: the session cookie carries a
    random secret whose SHA-256 is the row's key. Logging out or changing the
    password deletes the row, so a copy of the cookie stops working at once."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: SHA-256 (hex) of the secret in the session cookie.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: The session ends then whatever the cookie says (``PERMANENT_SESSION_LIFETIME``).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
