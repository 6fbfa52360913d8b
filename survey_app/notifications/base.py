"""The interface every channel's backend has, and the backend that only logs.

A backend sends one outbox row and returns a :class:`Receipt`, or raises
:class:`DeliveryError`: temporary (the outbox retries it with back-off, or after the
``Retry-After`` the provider asked for) or permanent (the outbox gives up at once and
shows the reason to administrators). Anything else a backend raises that the outbox
knows as a network error (``OSError``, ``requests.RequestException``,
``smtplib.SMTPException``) is temporary too: no message is lost to a provider's bad day.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..core.phones import mask as mask_phone
from ..feedback.audit import mask_email

if TYPE_CHECKING:
    from ..feedback.models import OutboxMessage

log = logging.getLogger("survey_app.notifications")

CHANNELS = ("email", "sms", "zalo")
#: Channels whose recipient is a phone number (quiet hours, daily cap, opt-out).
PHONE_CHANNELS = ("sms", "zalo")

#: A tracking number as messages print it (tracking.format_secret: groups of four).
_SECRET = re.compile(r"\b\d{4} \d{4} \d{4}\b")


@dataclass
class Receipt:
    """What the provider answered to a message it accepted."""

    #: The provider's id of the message (matches its delivery reports), if it gave one.
    provider_id: str | None = None


class DeliveryError(Exception):
    """The provider did not take the message.

    :param reason: shown to administrators (never holds the recipient or the text).
    :param permanent: True when sending again cannot help (a number without Zalo, a
        template the provider refuses); False when it may (timeouts, 5xx, 429, garbage).
    :param retry_after: seconds the provider asked us to wait (HTTP 429 ``Retry-After``).
    """

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason[:500]
        self.permanent = permanent
        self.retry_after = retry_after


class Backend(Protocol):
    """Sends outbox rows of one channel; one instance serves a whole ``send_pending``
    run, so it may keep a connection (an HTTP session) open between messages."""

    channel: str

    def send(self, message: OutboxMessage) -> Receipt:
        """Hand ``message`` to the provider.

        :raises DeliveryError: if the provider did not accept it.
        """
        ...

    def close(self) -> None:
        """Release connections at the end of the run."""
        ...


def mask_recipient(channel: str, recipient: str) -> str:
    """The recipient as logs and the admin outbox page show it."""
    return mask_email(recipient) if channel == "email" else mask_phone(recipient)


def without_secrets(text: str) -> str:
    """``text`` with tracking numbers replaced by ``•••• •••• ••••``: they open a case
    and its personal data, and a log is read by more people than the citizen."""
    return _SECRET.sub("•••• •••• ••••", text)


class LogBackend:
    """No provider configured: the message is written to the log and counted as sent.

    Development shows the recipient and the text (tracking numbers masked) so a
    developer can read what would go out; production, where an unconfigured channel
    is a mistake, logs a warning with the recipient masked and no text.
    """

    def __init__(self, channel: str, production: bool):
        self.channel = channel
        self.production = production

    def send(self, message: OutboxMessage) -> Receipt:
        if self.production:
            log.warning(
                "%s not sent (no provider configured) to=%s kind=%s",
                self.channel,
                mask_recipient(self.channel, message.recipient),
                message.kind or message.subject,
            )
            return Receipt()
        log.info(
            "%s (not sent, no provider configured) to=%s subject=%s segments=%s attachment=%s\n%s",
            self.channel,
            message.recipient,
            message.subject,
            message.segments or "-",
            message.attachment_name or "-",
            without_secrets(message.body),
        )
        return Receipt()

    def close(self) -> None:
        pass
