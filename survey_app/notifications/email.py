"""E-mail over SMTP (``MAIL_*`` settings)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import TYPE_CHECKING

from .base import Receipt

if TYPE_CHECKING:
    from ..feedback.models import OutboxMessage


class EmailBackend:
    """One SMTP connection per message, as mail servers expect from a small sender.

    A recipient or subject that cannot make a mail (a line break) raises ValueError,
    which the outbox treats as permanent; SMTP and network errors are retried.
    """

    channel = "email"

    def __init__(self, config: dict):
        self.config = config

    def send(self, message: OutboxMessage) -> Receipt:
        config = self.config
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
        return Receipt()

    def close(self) -> None:
        pass
