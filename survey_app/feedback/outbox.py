"""Notifications through an outbox table, sent by ``flask outbox send`` over SMTP.

Enqueueing happens in the same transaction as the change it reports, so a
notification exists exactly when the change was committed. Sending is
separate, retried with exponential back-off, and safe with several senders
(rows are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL). Without
``MAIL_SERVER`` (development) messages are written to the log instead.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..core.redact import redact
from ..core.time import now_utc
from ..extensions import db
from .audit import mask_email
from .models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def enqueue(
    recipient: str,
    subject: str,
    body: str,
    dedupe_key: str | None = None,
    attachment: tuple[str, str, bytes] | None = None,
    *,
    channel: str = "email",
) -> bool:
    """Queue a message; with ``dedupe_key`` a second call for the same key does nothing.

    :param attachment: ``(file name, MIME type, content)`` of a file to send with it
        (kept in the row, so any server sends it; emptied once delivered).
    :param channel: ``email``, ``sms`` or ``zalo``; for the last two ``recipient`` is a
        phone number and ``subject`` is not sent.
    :return: True if queued, False if a message with this key already exists.
    """
    if dedupe_key is not None and is_queued(dedupe_key):
        return False
    name, mimetype, content = attachment if attachment is not None else (None, None, None)
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


def _deliver(message: OutboxMessage) -> None:
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        if config.get("APP_ENV") == "production":  # a log is no place for addresses and secrets
            log.warning(
                "mail not sent (MAIL_SERVER unset) to=%s subject=%s",
                mask_email(message.recipient),
                message.subject,
            )
            return
        log.info(
            "mail (not sent, MAIL_SERVER unset) to=%s subject=%s attachment=%s\n%s",
            message.recipient,
            message.subject,
            message.attachment_name or "-",
            message.body,
        )
        return
    email = EmailMessage()
    email["From"] = config["MAIL_FROM"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email.set_content(message.body)
    if message.attachment is not None:
        maintype, _slash, subtype = (
            message.attachment_type or "application/octet-stream"
        ).partition("/")
        email.add_attachment(
            message.attachment,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=message.attachment_name or "attachment",
        )
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(email)


def _loggable(exc: Exception) -> str:
    """The error for the log: SMTP servers repeat the address they refuse, the log must not."""
    return redact(f"{type(exc).__name__}: {exc}")


def send_pending(limit: int = 100) -> tuple[int, int]:
    """Send due messages, one transaction each; return (sent, failed).

    A failure is recorded and the message retried later (:func:`backoff`);
    after ``MAX_ATTEMPTS`` it stays in the table with its last error.
    """
    sent = failed = 0
    now = now_utc()
    ids = db.session.scalars(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.send_after <= now,
            OutboxMessage.attempts < MAX_ATTEMPTS,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.commit()
    for message_id in ids:
        message = db.session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
            .with_for_update(skip_locked=True)
        )
        if message is None:  # another sender has it
            db.session.rollback()
            continue
        try:
            _deliver(message)
        except ValueError as exc:  # the address or subject cannot make a mail: never retried
            message.attempts = MAX_ATTEMPTS
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            failed += 1
            log.warning(
                "mail to %r cannot be sent: %s", mask_email(message.recipient), _loggable(exc)
            )
        except (OSError, smtplib.SMTPException) as exc:
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            message.send_after = now_utc() + backoff(message.attempts)
            failed += 1
            log.warning(
                "mail to %r failed (attempt %d): %s",
                mask_email(message.recipient),
                message.attempts,
                _loggable(exc),
            )
        else:
            message.attempts += 1
            message.sent_at = now_utc()
            message.body = ""  # it may hold a tracking number: not kept once delivered
            message.attachment = None  # (a report's PDF: large, and delivered)
            sent += 1
        db.session.commit()
    return sent, failed
