"""Notifications through an outbox table, sent by ``flask outbox send`` by e-mail, SMS
or Zalo (survey_app.notifications has the backends).

Enqueueing happens in the same transaction as the change it reports, so a
notification exists exactly when the change was committed. Sending is
separate, retried with exponential back-off, and safe with several senders
(rows are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL). A channel without
a provider (``MAIL_SERVER``, ``SMS_GATEWAY_URL``, ``ZALO_APP_ID`` unset) writes its
messages to the log instead (recipients masked and no text in production).

Phone messages (SMS, Zalo) also obey the quiet hours (they wait), the daily cap per
number (the rest wait for the next morning) and opt-outs (never sent; the row says
so). A provider that fails, times out, asks to slow down (429) or answers garbage
never loses a message: it stays queued and is retried, and after ``MAX_ATTEMPTS``
it is marked failed with the reason, on the admin outbox page, where it can be
retried.
"""

from __future__ import annotations

import logging
import smtplib
from collections import Counter
from datetime import datetime, timedelta

import requests
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..core import phones
from ..core.redact import redact
from ..core.time import local_day_bounds_utc, local_today, now_utc
from ..extensions import db
from ..notifications import make_backend, phone_channel, segments
from ..notifications.base import PHONE_CHANNELS, Backend, DeliveryError, mask_recipient
from ..notifications.models import PhoneOptOut
from ..notifications.settings import is_quiet, next_morning
from .models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
#: Rows claimed per query: each is still sent and committed on its own.
BATCH = 200


def enqueue(
    recipient: str,
    subject: str,
    body: str,
    dedupe_key: str | None = None,
    attachment: tuple[str, str, bytes] | None = None,
    *,
    channel: str = "email",
    kind: str | None = None,
    payload: str | None = None,
    send_after: datetime | None = None,
) -> bool:
    """Queue a message; with ``dedupe_key`` a second call for the same key does nothing.

    :param attachment: ``(file name, MIME type, content)`` of a file to send with it
        (kept in the row, so any server sends it; emptied once delivered).
    :param channel: ``email``, ``sms`` or ``zalo``; for the last two ``recipient`` is a
        phone number and ``subject`` is not sent. An SMS's text is prepared for
        ``SMS_ENCODING`` (diacritics removed only if that is ``gsm7``) and cut to
        ``SMS_MAX_SEGMENTS``; its encoding and segment count are stored.
    :param kind: what it says (notifications.messages); Zalo picks its template by it.
    :param payload: Zalo: the template's parameters, as JSON.
    :param send_after: not before then (a rating invitation a day after the answer).
    :return: True if queued, False if a message with this key already exists.
    :raises ValueError: for a phone channel with a recipient that is not a mobile number.
    """
    if dedupe_key is not None and is_queued(dedupe_key):
        return False
    name, mimetype, content = attachment if attachment is not None else (None, None, None)
    encoding = count = None
    if channel in PHONE_CHANNELS:
        national = phones.normalise(recipient)
        if national is None:
            raise ValueError("a phone message needs a Vietnamese mobile number")
        recipient = national
    if channel == "sms":
        config = current_app.config
        prepared = segments.fit(body, config["SMS_ENCODING"], config["SMS_MAX_SEGMENTS"])
        if prepared.text != body and config["SMS_ENCODING"] != "gsm7":
            log.warning("SMS %s cut to %d parts", kind or subject, prepared.segments)
        body, encoding, count = prepared.text, prepared.encoding, prepared.segments
    try:
        with db.session.begin_nested():
            db.session.add(
                OutboxMessage(
                    channel=channel,
                    recipient=recipient,
                    subject=subject[:255],
                    body=body,
                    dedupe_key=dedupe_key,
                    attachment=content,
                    attachment_name=name,
                    attachment_type=mimetype,
                    kind=kind,
                    payload=payload,
                    encoding=encoding,
                    segments=count,
                    status="queued",
                    send_after=send_after or now_utc(),
                )
            )
    except IntegrityError:  # another server queued it at the same moment
        return False
    return True


def is_queued(dedupe_key: str) -> bool:
    """Whether a message with this key is in the outbox (queued, sent or given up on)."""
    return (
        db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
        is not None
    )


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after each failure, at most six hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def _loggable(exc: Exception) -> str:
    """The error for the log: SMTP servers repeat the address they refuse, the log must not."""
    return redact(f"{type(exc).__name__}: {exc}")


class _Backends:
    """One backend per channel for a run, made when first needed (an HTTP session is
    opened once and reused for the whole batch)."""

    def __init__(self, config: dict, given: dict[str, Backend] | None = None):
        self.config = config
        self.made: dict[str, Backend] = dict(given or {})
        self._own = set()

    def __getitem__(self, channel: str) -> Backend:
        if channel not in self.made:
            self.made[channel] = make_backend(channel, self.config)
            self._own.add(channel)
        return self.made[channel]

    def close(self) -> None:
        for channel in self._own:
            self.made[channel].close()


def opted_out(recipients: set[str]) -> set[str]:
    """Those of ``recipients`` (national form) whose keyed hash is in the opt-outs."""
    if not recipients:
        return set()
    hashes = {phones.keyed_hash(r): r for r in recipients}
    found = db.session.scalars(
        select(PhoneOptOut.phone_hash).where(PhoneOptOut.phone_hash.in_(hashes))
    ).all()
    return {hashes[h] for h in found}


def _sent_today(recipients: set[str], now: datetime) -> Counter:
    """Phone messages sent to each of ``recipients`` since local midnight."""
    if not recipients:
        return Counter()
    start, _end = local_day_bounds_utc(local_today())
    rows = db.session.execute(
        select(OutboxMessage.recipient, func.count())
        .where(
            OutboxMessage.channel.in_(PHONE_CHANNELS),
            OutboxMessage.recipient.in_(recipients),
            OutboxMessage.sent_at >= start,
        )
        .group_by(OutboxMessage.recipient)
    ).all()
    return Counter(dict(rows))


def _give_up(message: OutboxMessage, reason: str, status: str = "failed") -> None:
    message.attempts = max(message.attempts, MAX_ATTEMPTS)
    message.last_error = reason[:2000]
    message.status = status
    message.status_at = now_utc()


def _fall_back(message: OutboxMessage) -> None:
    """A Zalo message that cannot reach the number (no Zalo account…) goes by the next
    phone channel in NOTIFY_CHANNEL_ORDER (SMS), with the same text."""
    channel = phone_channel(message.kind or "", current_app.config, after=message.channel)
    if channel is None:
        return
    key = f"{message.dedupe_key}:{channel}" if message.dedupe_key else None
    enqueue(
        message.recipient,
        message.subject,
        message.body,
        key,
        channel=channel,
        kind=message.kind,
    )


def send_pending(
    limit: int = 100, *, backends: dict[str, Backend] | None = None
) -> tuple[int, int]:
    """Send due messages, one transaction each; return (sent, failed).

    A failure is recorded and the message retried later (:func:`backoff`, or the
    provider's ``Retry-After``); after ``MAX_ATTEMPTS``, or at once for a permanent
    refusal, it stays in the table as failed with its last error.

    :param limit: at most this many messages (claimed ``BATCH`` at a time).
    :param backends: backends to use instead of the configured ones (tests, benchmarks).
    """
    config = current_app.config
    run = _Backends(config, backends)
    sent = failed = 0
    last_id = 0
    try:
        while sent + failed < limit:
            now = now_utc()
            query = (
                select(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.recipient)
                .where(
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.send_after <= now,
                    OutboxMessage.attempts < MAX_ATTEMPTS,
                    OutboxMessage.id > last_id,
                )
                .order_by(OutboxMessage.id)
                .limit(min(BATCH, limit - sent - failed))
            )
            if is_quiet(now, config):  # phone messages wait for the morning
                query = query.where(OutboxMessage.channel.not_in(PHONE_CHANNELS))
            rows = db.session.execute(query).all()
            if not rows:
                break
            last_id = rows[-1].id
            phone_numbers = {r.recipient for r in rows if r.channel in PHONE_CHANNELS}
            refused = opted_out(phone_numbers)
            counts = _sent_today(phone_numbers, now)
            db.session.commit()
            for row in rows:
                outcome = _send_one(row.id, run, refused, counts)
                if outcome is True:
                    sent += 1
                elif outcome is False:
                    failed += 1
    finally:
        run.close()
    return sent, failed


def _send_one(message_id: int, run: _Backends, refused: set[str], counts: Counter) -> bool | None:
    """Send one message in its own transaction: True sent, False failed, None skipped."""
    config = current_app.config
    message = db.session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
        .with_for_update(skip_locked=True)
    )
    if message is None or message.attempts >= MAX_ATTEMPTS:  # another sender has it
        db.session.rollback()
        return None
    who = mask_recipient(message.channel, message.recipient)
    if message.channel in PHONE_CHANNELS:
        if message.recipient in refused:
            _give_up(message, "opted out: the number answered TU CHOI", "opted_out")
            db.session.commit()
            return None
        cap = int(config.get("NOTIFY_DAILY_CAP") or 0)
        if cap and counts[message.recipient] >= cap:
            message.send_after = next_morning(now_utc(), config)  # waits, not lost
            db.session.commit()
            return None
    outcome: bool
    try:
        receipt = run[message.channel].send(message)
    except ValueError as exc:  # the address or subject cannot make a message: never retried
        _give_up(message, f"{type(exc).__name__}: {exc}")
        log.warning("%s to %r cannot be sent: %s", message.channel, who, _loggable(exc))
        outcome = False
    except DeliveryError as exc:
        if exc.permanent:
            _give_up(message, exc.reason)
            if message.channel == "zalo":
                _fall_back(message)
        else:
            message.attempts += 1
            message.last_error = exc.reason
            delay = (
                timedelta(seconds=exc.retry_after)
                if exc.retry_after is not None
                else backoff(message.attempts)
            )
            message.send_after = now_utc() + delay
            if message.attempts >= MAX_ATTEMPTS:
                message.status, message.status_at = "failed", now_utc()
        log.warning(
            "%s to %r failed (attempt %d): %s", message.channel, who, message.attempts, exc.reason
        )
        outcome = False
    except (OSError, smtplib.SMTPException, requests.RequestException) as exc:
        message.attempts += 1
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        message.send_after = now_utc() + backoff(message.attempts)
        if message.attempts >= MAX_ATTEMPTS:
            message.status, message.status_at = "failed", now_utc()
        log.warning(
            "%s to %r failed (attempt %d): %s",
            message.channel,
            who,
            message.attempts,
            _loggable(exc),
        )
        outcome = False
    else:
        message.attempts += 1
        message.sent_at = message.status_at = now_utc()
        message.status = "sent"
        message.provider_id = receipt.provider_id
        message.last_error = None
        message.body = ""  # it may hold a tracking number: not kept once delivered
        message.payload = None
        message.attachment = None  # (a report's PDF: large, and delivered)
        if message.channel in PHONE_CHANNELS:
            counts[message.recipient] += 1
        outcome = True
    db.session.commit()
    return outcome


def retry(message: OutboxMessage) -> None:
    """Queue a failed message again (the admin outbox page's button): attempts start
    over, the last error stays visible until it is sent."""
    message.attempts = 0
    message.status = "queued"
    message.send_after = now_utc()
    db.session.flush()
