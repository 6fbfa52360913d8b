"""Invitations after the result: decide, remember the phone as a hash, queue the SMS.

The one-stop software reports each dossier whose result was returned
(``POST /api/v1/events/result-returned``, :mod:`survey_app.api.events`). For
each new event the service decides, in this order:

1. **stale**: the result was returned more than ``INVITE_EVENT_MAX_AGE_HOURS``
   ago (a late re-send, a backlog): nobody remembers a visit weeks later;
2. **not sampled**: only a share ``INVITE_SHARE`` of events is invited, chosen by
   a keyed hash of the sending system and the event id (:func:`sample_value`),
   so a re-sent event is decided the same way and nobody outside can predict it;
3. **opted out**: the number asked for no more messages (:func:`is_opted_out`);
4. **recently invited**: the number was invited within ``INVITE_PHONE_PERIOD_DAYS``
   (:func:`claim_phone`, atomic);
5. **invited**: a single-use short link (purpose ``invite``, valid
   ``INVITE_LINK_DAYS``) and an SMS with it in the outbox (channel ``sms``).

Quiet hours, daily caps per number and delivery are the SMS channel's business
(the outbox). Services flush; the view commits.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..agencies.models import Agency, Counter, Procedure
from ..agencies.services import create_counter, subtree_filter
from ..api.models import ApiClient
from ..core.time import local_today, now_utc
from ..extensions import db
from ..feedback.outbox import enqueue
from ..surveys import shortlinks
from ..surveys.models import Channel, Response
from .models import InviteCounter, InviteEvent, InvitePhone, Outcome, ReturnChannel

#: A Vietnamese mobile number once spaces, dots, dashes and brackets are gone:
#: 0, +84 or 84, then 9 digits starting 3, 5, 7, 8 or 9 (the mobile ranges since 2018).
MOBILE = re.compile(r"^(?:\+84|84|0)([35789]\d{8})$")

#: Names of the counters online and postal returns are rated at (data, in Vietnamese,
#: like every counter's name).
VIRTUAL_COUNTER_NAMES = {
    ReturnChannel.online: "Trả kết quả trực tuyến",
    ReturnChannel.post: "Trả kết quả qua bưu chính",
}

#: One UCS-2 SMS segment holds 70 characters; a message of several, 67 each.
UCS2_SINGLE, UCS2_PART = 70, 67
#: GSM 03.38 basic characters (a message of only these is sent as GSM-7).
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


class InvalidPhone(ValueError):
    """Not a Vietnamese mobile number."""


def normalise_mobile(value: str) -> str:
    """A Vietnamese mobile number in national form (``0912345678``), the form the outbox's
    phone channels take (their gateways get the international one).

    :raises InvalidPhone: for anything else (landlines cannot receive an SMS).
    """
    match = MOBILE.match(re.sub(r"[\s.\-()/]", "", value or ""))
    if match is None:
        raise InvalidPhone(value)
    return "0" + match.group(1)


def _key(purpose: str) -> bytes:
    return hashlib.sha256(f"invites:{purpose}:{current_app.config['SECRET_KEY']}".encode()).digest()


def phone_hash(national: str) -> str:
    """Keyed hash of a number in national form: what is kept once the SMS is queued.

    Keyed (numbers are few enough to hash them all), so only this service can
    tell whether a number was invited; a new ``SECRET_KEY`` starts the periods afresh.
    """
    return hmac.new(_key("phone"), national.encode(), hashlib.sha256).hexdigest()


def sample_value(client_id: int, event_id: str) -> float:
    """A number in [0, 1) fixed by the sending system and the event id, keyed: the event
    is invited when it is below ``INVITE_SHARE``, whenever it is sent."""
    digest = hmac.new(_key("sample"), f"{client_id}:{event_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def sms_segments(text: str) -> tuple[str, int]:
    """The encoding an SMS of ``text`` goes in and how many segments it takes.

    GSM-7 if every character is in its basic set (160 a segment, 153 when split),
    otherwise UCS-2, counted in UTF-16 units (70, 67 when split): Vietnamese with
    its diacritics is always UCS-2.
    """
    if all(c in _GSM7 for c in text):
        return "GSM-7", 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    units = len(text.encode("utf-16-le")) // 2
    return "UCS-2", 1 if units <= UCS2_SINGLE else math.ceil(units / UCS2_PART)


def invitation_text(url: str, days: int) -> str:
    """The invitation SMS, in Vietnamese: two UCS-2 segments at most with a 40-character link."""
    with force_locale("vi"):
        return ngettext(
            "Please rate how your dossier was handled (1 minute, anonymous): %(url)s The link works for %(num)d day.",
            "Please rate how your dossier was handled (1 minute, anonymous): %(url)s The link works for %(num)d days.",
            days,
            url=url,
        )


def invitation_subject() -> str:
    """What the outbox's lists show for an invitation (an SMS has no subject)."""
    with force_locale("vi"):
        return _("Invitation to rate a dossier")


def is_opted_out(national: str) -> bool:
    """Whether the number asked for no more messages (its "TU CHOI" reply to an SMS,
    kept as a keyed hash by the SMS channel): the event is then recorded as
    ``opted_out`` instead of using up the number's period."""
    from ..feedback.outbox import opted_out

    return bool(opted_out({national}))


def claim_phone(hashed: str, today: date, period_days: int) -> bool:
    """Record an invitation to the number with hash ``hashed`` today, unless it had one
    within ``period_days``; True if this call recorded it.

    Atomic under concurrency: a conditional UPDATE of an old row, else an INSERT
    that the primary key refuses when another request claimed the number first.
    """
    cutoff = today - timedelta(days=period_days)
    renewed = db.session.execute(
        update(InvitePhone)
        .where(InvitePhone.phone_hash == hashed, InvitePhone.invited_on <= cutoff)
        .values(invited_on=today)
        .execution_options(synchronize_session=False)
    )
    if renewed.rowcount == 1:
        return True
    try:
        with db.session.begin_nested():
            db.session.add(InvitePhone(phone_hash=hashed, invited_on=today))
    except IntegrityError:
        return False
    return True


def virtual_counter(agency: Agency, channel: ReturnChannel) -> Counter:
    """The agency's counter for online or postal returns, created on first use; flushes."""
    row = db.session.get(InviteCounter, (agency.id, channel.value))
    if row is not None:
        return row.counter
    try:
        with db.session.begin_nested():
            counter = create_counter(agency, VIRTUAL_COUNTER_NAMES[channel])
            db.session.add(
                InviteCounter(agency_id=agency.id, return_channel=channel.value, counter=counter)
            )
    except IntegrityError:  # another request created it at the same moment
        row = db.session.get(InviteCounter, (agency.id, channel.value), populate_existing=True)
        if row is None:
            raise
        return row.counter
    return counter


@dataclass(frozen=True)
class ResultEvent:
    """A checked "result returned" event (the API validates the body into this)."""

    event_id: str
    agency: Agency
    procedure: Procedure
    return_channel: ReturnChannel
    #: The counter that handed the result over (``return_channel`` counter only).
    counter: Counter | None
    #: The citizen's mobile number, national form (:func:`normalise_mobile`).
    phone: str
    returned_at: datetime

    def fingerprint(self) -> str:
        """Keyed hash of the content, to tell a faithful re-send from a changed one."""
        content = json.dumps(
            [
                self.agency.code,
                self.procedure.code,
                self.return_channel.value,
                self.counter.code if self.counter is not None else None,
                self.phone,
                # the same instant however it was written (+07:00 or Z)
                self.returned_at.astimezone(UTC).isoformat(),
            ]
        )
        return hmac.new(_key("event"), content.encode(), hashlib.sha256).hexdigest()


def find_event(client: ApiClient, event_id: str) -> InviteEvent | None:
    return db.session.scalar(
        select(InviteEvent).where(
            InviteEvent.api_client_id == client.id, InviteEvent.event_id == event_id
        )
    )


def receive(client: ApiClient, event: ResultEvent) -> tuple[InviteEvent, bool]:
    """Record an event and invite the citizen if it is drawn; flushes.

    :return: the event's row and True, or, for an event id this system already
        sent (even at the same moment), the earlier row and False: nothing more
        is done, so a re-send never invites twice. The caller compares
        fingerprints to refuse a re-send with other content.
    """
    existing = find_event(client, event.event_id)
    if existing is not None:
        return existing, False
    config = current_app.config
    counter = event.counter or virtual_counter(event.agency, event.return_channel)
    row = InviteEvent(
        api_client_id=client.id,
        event_id=event.event_id,
        fingerprint=event.fingerprint(),
        agency_id=event.agency.id,
        procedure_id=event.procedure.id,
        counter_id=counter.id,
        return_channel=event.return_channel.value,
        returned_at=event.returned_at,
        outcome=Outcome.not_sampled,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # the same event sent twice at once: the other one decides
        existing = find_event(client, event.event_id)
        if existing is None:
            raise
        return existing, False
    row.outcome = _decide(client, event)
    if row.outcome is Outcome.invited:
        link = shortlinks.create(
            shortlinks.Purpose.invite,
            counter.id,
            timedelta(days=config["INVITE_LINK_DAYS"]),
            procedure_id=event.procedure.id,
            return_channel=event.return_channel.value,
        )
        # the number stays in the outbox row until the gateway has it (the SMS
        # channel's purge removes sent rows); nothing else here keeps it
        enqueue(
            event.phone,
            invitation_subject(),  # not sent by SMS; shown in the outbox's lists
            invitation_text(shortlinks.short_url(link.id), config["INVITE_LINK_DAYS"]),
            dedupe_key=f"invite:{row.id}",
            channel="sms",
        )
    db.session.flush()
    return row, True


def _decide(client: ApiClient, event: ResultEvent) -> Outcome:
    config = current_app.config
    if now_utc() - event.returned_at > timedelta(hours=config["INVITE_EVENT_MAX_AGE_HOURS"]):
        return Outcome.stale
    if sample_value(client.id, event.event_id) >= config["INVITE_SHARE"]:
        return Outcome.not_sampled
    if is_opted_out(event.phone):
        return Outcome.opted_out
    if not claim_phone(phone_hash(event.phone), local_today(), config["INVITE_PHONE_PERIOD_DAYS"]):
        return Outcome.recently_invited
    return Outcome.invited


@dataclass(frozen=True)
class Counts:
    """Invitations in a period, for the coordinator."""

    received: int
    invited: int
    #: Invitations of the period answered (their link was used), whenever answered.
    responded: int
    by_outcome: dict[str, int]
    #: Responses through invitations submitted in the period, per return channel.
    responses_by_return_channel: dict[str, int]

    @property
    def response_rate(self) -> float | None:
        return self.responded / self.invited if self.invited else None


def counts(start: datetime, end: datetime, scope: Agency | None = None) -> Counts:
    """Events received, invitations sent and answered, between ``start`` and ``end`` (UTC).

    :param scope: count only this agency's subtree (None: the whole province).
    """
    events = select(InviteEvent.outcome, func.count()).where(
        InviteEvent.received_at >= start, InviteEvent.received_at < end
    )
    links = shortlinks.ShortLink
    answered = (
        select(func.count())
        .select_from(links)
        .where(
            links.purpose == shortlinks.Purpose.invite,
            links.created_at >= start,
            links.created_at < end,
            links.used_at.is_not(None),
        )
    )
    responses = select(Response.return_channel, func.count()).where(
        Response.channel == Channel.invite,
        Response.submitted_at >= start,
        Response.submitted_at < end,
    )
    if scope is not None:
        inside = select(Agency.id).where(subtree_filter(scope))
        events = events.where(InviteEvent.agency_id.in_(inside))
        answered = answered.join(Counter, Counter.id == links.counter_id).where(
            Counter.agency_id.in_(inside)
        )
        responses = responses.where(Response.agency_id.in_(inside))
    by_outcome = dict(db.session.execute(events.group_by(InviteEvent.outcome)).all())
    by_channel = dict(db.session.execute(responses.group_by(Response.return_channel)).all())
    return Counts(
        received=sum(by_outcome.values()),
        invited=by_outcome.get(Outcome.invited, 0),
        responded=db.session.scalar(answered) or 0,
        by_outcome={o.value: by_outcome.get(o, 0) for o in Outcome},
        responses_by_return_channel={str(k): v for k, v in by_channel.items()},
    )


def purge(today: date | None = None) -> int:
    """Forget the phones whose period has passed (they may be invited again anyway).

    :return: how many phone hashes were deleted.
    """
    today = today or local_today()
    cutoff = today - timedelta(days=current_app.config["INVITE_PHONE_PERIOD_DAYS"])
    return db.session.execute(
        InvitePhone.__table__.delete().where(InvitePhone.invited_on <= cutoff)
    ).rowcount
