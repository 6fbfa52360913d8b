"""Tracking numbers: how long they are, and how many wrong ones a case takes.

A citizen follows a case with its code and a tracking number, without an account.
Whoever has both reads the case's state and answer and can rate the answer (which
reopens it), so the number must not be found by guessing, even by someone who
knows the code and sends each guess from another address.

**Why 12 digits, and why 5 wrong numbers then a 30-minute pause** (the arithmetic
the settings rest on; README, "Tracking a case"):

* Per address, ``TRACK_RATE_LIMIT`` (10 a minute, 50 a day) bounds one client. An
  attacker rotating addresses (an IPv6 /64 holds 2^64 of them, a botnet or a pool of
  proxies thousands) is not bounded by it at all.
* Per case, :func:`try_number` allows ``TRACK_CASE_MAX_FAILURES`` (5) wrong numbers,
  then refuses every number for that case for ``TRACK_CASE_LOCK_MINUTES`` (30),
  whatever the address: at most 5 guesses per 30 minutes = **10 an hour, 240 a day,
  87,600 a year** per case, however many addresses send them.
* A number is 12 digits from ``23456789`` (no 0 or 1 to mistake for O, I or l; digits
  only, for the phone's number pad and for reading out on the phone): 8^12 =
  68,719,476,736 ≈ 6.9·10^10 numbers. Guessing one case's at the maximum rate takes on
  average 6.9·10^10 / 2 / 10 ≈ 3.4·10^9 hours (≈ 390,000 years); the chance of finding
  it within a year of trying is 87,600 / 6.9·10^10 ≈ 1.3·10^-6.
* Attacking many cases at once (each has its own limit): with the codes of 10,000
  cases (which public lists do not show), one year of the maximum rate on all of
  them finds 10,000 × 1.3·10^-6 ≈ 0.013 numbers, one chance in 78.
* Numbers given before this change have 8 digits (8^8 = 16,777,216) and still work:
  with the limit, one of them takes ≈ 840,000 hours (≈ 96 years) of guessing on
  average, 0.5 % a year of trying. Without a per-case limit (before this change),
  1,000 addresses at 50 guesses a day found one in 168 days on average, and 10,000
  addresses in 17 days.

**Not a weapon against the citizen.** Anyone who knows a code can pause its tracking
by sending 5 wrong numbers. So: only wrong numbers count, and the right one resets
the count; the pause is short (30 minutes, then 5 more tries); a browser that has
already shown the case's number (the phone it was sent from, or that tracked it
before) follows it and rates the answer through the pause; the citizen is still told
of every step by e-mail; and every pause is logged (with the case code, nothing
personal) and counted on the case's staff page, so a case kept paused is seen and
staff, who can read the case, answer the citizen.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..core.time import now_utc
from ..extensions import db
from .models import FeedbackCase, TrackingGuard

log = logging.getLogger(__name__)

#: Digits only, without 0 and 1 (mistaken for O, I, l when copied by hand).
SECRET_ALPHABET = "23456789"
#: 8^12 ≈ 6.9·10^10 numbers; see the module's docstring for why that is enough.
SECRET_LENGTH = 12
#: What people type between the groups of a number (spaces, dashes, dots).
_SEPARATORS = re.compile(r"[\s\-.·_/]+")


def new_secret() -> str:
    """A random tracking number (:data:`SECRET_LENGTH` characters of :data:`SECRET_ALPHABET`)."""
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


def secret_from_key(key: str) -> str:
    """The tracking number of a case filed from the public form with submission key ``key``.

    Derived (keyed with ``SECRET_KEY``) rather than random, so that the same form sent
    twice shows the same number again: the citizen's browser keeps the second answer
    of a double click, and that answer must carry the number. Whoever holds ``key``
    (128 random bits in the form's page) could see the number anyway.
    """
    mac_key = hashlib.sha256(("case-secret-of-form:" + current_app.config["SECRET_KEY"]).encode())
    number = int.from_bytes(hmac.new(mac_key.digest(), key.encode(), hashlib.sha256).digest())
    digits = []
    for _ in range(SECRET_LENGTH):  # 8 is a power of two: every digit is uniform
        number, index = divmod(number, len(SECRET_ALPHABET))
        digits.append(SECRET_ALPHABET[index])
    return "".join(digits)


def normalise_secret(text: str | None) -> str:
    """``text`` as typed, without the spaces and dashes between its groups, upper case."""
    return _SEPARATORS.sub("", text or "").upper()


def format_secret(secret: str) -> str:
    """``secret`` in groups of four for reading and copying: ``2345 6789 2345``."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def hash_secret(code: str, secret: str) -> str:
    """The keyed hash stored for ``secret`` (as typed: groups and spaces do not matter)."""
    key = hashlib.sha256(("case-secret:" + current_app.config["SECRET_KEY"]).encode()).digest()
    return hmac.new(key, f"{code}:{normalise_secret(secret)}".encode(), hashlib.sha256).hexdigest()


def check_secret(case: FeedbackCase, secret: str) -> bool:
    """Whether ``secret`` is ``case``'s tracking number (no attempt counted: see :func:`try_number`)."""
    return hmac.compare_digest(case.secret_hash, hash_secret(case.code, secret))


@dataclass(frozen=True)
class Attempt:
    """The outcome of :func:`try_number`."""

    #: The number is the case's.
    ok: bool
    #: Tracking with the number is paused until then (the number was not checked).
    locked_until: datetime | None = None


def _lock_guard(case: FeedbackCase) -> TrackingGuard:
    """The case's guard row, created if missing, locked until the transaction ends.

    An UPDATE (that changes nothing) takes the lock on both databases: PostgreSQL's row
    lock, SQLite's writer lock. Attempts on one case are therefore counted one after the
    other; a burst of simultaneous guesses cannot all see "4 failures so far".
    """
    touch = (
        update(TrackingGuard)
        .where(TrackingGuard.case_id == case.id)
        .values(failures=TrackingGuard.failures)
        .execution_options(synchronize_session=False)
    )
    if db.session.execute(touch).rowcount == 0:
        try:
            with db.session.begin_nested():
                db.session.add(TrackingGuard(case_id=case.id, failures=0, total_failures=0))
        except IntegrityError:  # another attempt created it meanwhile
            pass
        db.session.execute(touch)
    return db.session.scalars(
        select(TrackingGuard)
        .where(TrackingGuard.case_id == case.id)
        .execution_options(populate_existing=True)
    ).one()


def try_number(case: FeedbackCase, secret: str, now: datetime | None = None) -> Attempt:
    """Check ``secret`` against ``case``'s tracking number, counting wrong numbers.

    After ``TRACK_CASE_MAX_FAILURES`` wrong numbers, tracking the case with its number
    is paused for ``TRACK_CASE_LOCK_MINUTES``: during the pause no number is checked,
    not even the right one (otherwise the pause would not slow guessing). The right
    number resets the count. The guard row stays locked until the caller commits.

    :return: whether the number is right, or until when tracking is paused.
    """
    now = now or now_utc()
    config = current_app.config
    guard = _lock_guard(case)
    if guard.locked_until is not None and guard.locked_until > now:
        return Attempt(ok=False, locked_until=guard.locked_until)
    if check_secret(case, secret):
        guard.failures = 0
        db.session.flush()
        return Attempt(ok=True)
    guard.failures += 1
    guard.total_failures += 1
    guard.last_failure_at = now
    locked_until = None
    if guard.failures >= max(1, config["TRACK_CASE_MAX_FAILURES"]):
        locked_until = now + timedelta(minutes=config["TRACK_CASE_LOCK_MINUTES"])
        guard.locked_until = locked_until
        guard.failures = 0
        guard.locks += 1
        log.warning(
            "tracking of case %s paused until %s after %d wrong numbers (%d pauses so far)",
            case.code,
            locked_until.isoformat(timespec="minutes"),
            config["TRACK_CASE_MAX_FAILURES"],
            guard.locks,
        )
    db.session.flush()
    return Attempt(ok=False, locked_until=locked_until)


def guard_of(case: FeedbackCase) -> TrackingGuard | None:
    """The case's wrong-number record, if any wrong number was ever entered."""
    return db.session.get(TrackingGuard, case.id)
