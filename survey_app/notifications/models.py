"""Opt-outs from phone messages and the Zalo OA's tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import UTCDateTime
from ..core.time import now_utc
from ..extensions import db


class PhoneOptOut(db.Model):
    """A number that answered "TU CHOI": no SMS or Zalo message goes to it any more.

    Only a keyed hash of the number is kept (core.phones.keyed_hash), so the list of
    people who opted out is not a list of phone numbers.
    """

    __tablename__ = "phone_opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: HMAC-SHA256 (hex) of the national form of the number.
    phone_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: How it was asked for: ``sms`` (the keyword to the gateway) or ``staff``.
    source: Mapped[str] = mapped_column(String(20), default="sms")


class ZaloToken(db.Model):
    """The Official Account's current tokens. Zalo's refresh token is single-use: each
    refresh returns a new one, which must be stored before the old one is forgotten,
    so it lives in the database (shared by every server), not in a setting."""

    __tablename__ = "zalo_tokens"

    #: The Zalo app id (ZALO_APP_ID).
    app_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    access_token: Mapped[str | None] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    #: When the access token stops working (Zalo gives 25 hours).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)
