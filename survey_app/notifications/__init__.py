"""Notifications on several channels: e-mail, SMS and Zalo, behind one interface.

- :mod:`.base`: the :class:`~.base.Backend` protocol every channel implements, and the
  backend that only logs (development, or a channel without a provider).
- :mod:`.email`, :mod:`.sms`, :mod:`.zalo`: SMTP, an HTTP SMS gateway, Zalo ZNS.
- :mod:`.messages`: what each kind of notification says on each channel.
- :mod:`.segments`: the SMS encoding and segment count.
- :mod:`.settings`: the settings and the rules they set (channel order, quiet hours).
- :mod:`.preferences`: which events reach a staff member by which channel.

Messages are queued in the outbox (survey_app.feedback.outbox) in the transaction of the
change they report, and sent by ``flask outbox send``. :func:`queue` picks the
channels for a message from the contacts given and ``NOTIFY_CHANNEL_ORDER``.
"""

from __future__ import annotations

import json
from datetime import datetime

from flask import current_app

from ..core import phones
from .base import CHANNELS, PHONE_CHANNELS, Backend, DeliveryError, LogBackend, Receipt
from .messages import Message
from .settings import configured, parse_order, usable
from .zalo import parse_templates

__all__ = [
    "CHANNELS",
    "PHONE_CHANNELS",
    "Backend",
    "DeliveryError",
    "Message",
    "Receipt",
    "choose_channels",
    "make_backend",
    "queue",
]


def zalo_can_send(kind: str, config: dict) -> bool:
    """Zalo sends only kinds with an approved template (or logs, without a provider)."""
    return not configured("zalo", config) or kind in parse_templates(config.get("ZALO_TEMPLATES"))


def phone_channel(
    kind: str,
    config: dict,
    *,
    after: str | None = None,
    allowed: tuple[str, ...] | None = None,
) -> str | None:
    """The first phone channel in NOTIFY_CHANNEL_ORDER that can carry ``kind``: usable,
    accepted by the recipient (``allowed``) and, for Zalo, with a template for it.

    :param after: only channels after this one (a fallback from Zalo to SMS).
    """
    order = parse_order(config.get("NOTIFY_CHANNEL_ORDER"))
    if after is not None:
        order = order[order.index(after) + 1 :] if after in order else ()
    for channel in order:
        if channel not in PHONE_CHANNELS or (allowed is not None and channel not in allowed):
            continue
        if not usable(channel, config):
            continue
        if channel == "zalo" and not zalo_can_send(kind, config):
            continue
        return channel
    return None


def choose_channels(
    kind: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    allowed: tuple[str, ...] | None = None,
) -> list[tuple[str, str]]:
    """The (channel, recipient) pairs a message goes to: for each contact given, the
    first channel in NOTIFY_CHANNEL_ORDER that reaches it.

    :param email: an e-mail address, reached by ``email``.
    :param phone: a mobile number, reached by ``zalo`` or ``sms`` (whichever comes first
        in the order, is usable and, for Zalo, has a template for ``kind``); anything
        else (a landline stored before intake checked numbers) is left out.
    :param allowed: channels the recipient accepts (a staff member's preference).
    """
    config = current_app.config
    pairs: list[tuple[str, str]] = []
    if email and usable("email", config) and (allowed is None or "email" in allowed):
        pairs.append(("email", email))
    if phone and phones.is_mobile(phone):  # (a case from before intake checked numbers)
        channel = phone_channel(kind, config, allowed=allowed)
        if channel is not None:
            pairs.append((channel, phone))
    return pairs


def queue(
    message: Message,
    *,
    email: str | None = None,
    phone: str | None = None,
    dedupe_key: str | None = None,
    send_after: datetime | None = None,
    allowed: tuple[str, ...] | None = None,
) -> list[str]:
    """Queue ``message`` on every channel :func:`choose_channels` picks.

    :param dedupe_key: the e-mail's key; phone messages get ``:sms`` / ``:zalo`` after it.
    :return: the channels it was queued on (an already queued key is not counted).
    """
    from ..feedback.outbox import enqueue

    done = []
    for channel, recipient in choose_channels(
        message.kind, email=email, phone=phone, allowed=allowed
    ):
        key = dedupe_key if channel == "email" or dedupe_key is None else f"{dedupe_key}:{channel}"
        if channel == "email":
            queued = enqueue(
                recipient,
                message.subject,
                message.email_body,
                key,
                kind=message.kind,
                send_after=send_after,
            )
        else:
            queued = enqueue(
                recipient,
                message.subject,
                message.phone_text,
                key,
                channel=channel,
                kind=message.kind,
                payload=json.dumps(message.data, ensure_ascii=False) if channel == "zalo" else None,
                send_after=send_after,
            )
        if queued:
            done.append(channel)
    return done


def make_backend(channel: str, config: dict) -> Backend:
    """The backend for ``channel``: the configured provider, or the log."""
    if not configured(channel, config):
        return LogBackend(channel, production=config.get("APP_ENV") == "production")
    if channel == "email":
        from .email import EmailBackend

        return EmailBackend(config)
    if channel == "sms":
        from .sms import SmsHttpBackend

        return SmsHttpBackend(config)
    from .zalo import ZaloZnsBackend

    return ZaloZnsBackend(config)
