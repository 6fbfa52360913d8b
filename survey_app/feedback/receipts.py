"""The receipt a citizen gets after filing a case: its code and tracking number, kept
for the browser's session so that a reload (or coming back later in the same session)
shows them again, and a small text file to save.

**Where the number is kept.** The session is Flask's signed cookie
(:mod:`survey_app.core.sessions`): signed, so the browser cannot change it, but *not*
encrypted, so anything in it can be read by whoever holds the cookie (a shared
computer's profile, a backup of the browser). The tracking number therefore goes in
sealed: encrypted and authenticated with a key derived from ``SECRET_KEY``
(:func:`seal`, Fernet from ``cryptography``), and only the server can read it back. The number is never in a URL
(the receipt's addresses carry the case code, which opens nothing by itself), never in
a log line, and the pages other than the receipt never show it.

The session cookie has no expiry date: the browser drops it when it is closed (the
end of the "browser session"). Flask also refuses a session cookie signed longer ago
than ``PERMANENT_SESSION_LIFETIME`` (8 hours by default), counted from the last request
that changed the session: the receipt lasts until the browser is closed or for that
long, whichever comes first. Hence the page's warning to write the number down.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, session
from flask_babel import gettext as _
from sqlalchemy import or_, select

from ..core.i18n import local_date, local_datetime
from ..core.time import now_utc
from ..extensions import db
from .audit import mask_email, mask_phone
from .models import CaseState, FeedbackCase, OutboxMessage
from .outbox import MAX_ATTEMPTS
from .tracking import format_secret, normalise_secret

#: Session key: the receipts this browser was given, oldest first.
RECEIPTS_KEY = "receipts"
#: Session key shared with the views: case ids this browser proved it may see.
TRACKED_KEY = "tracked_cases"
#: A browser keeps the receipts of its last few cases (a cookie holds ~4 KB).
MAX_RECEIPTS = 5


def _fernet(secret_key: str) -> Fernet:
    """A Fernet key derived from ``secret_key`` (HKDF-SHA256, its own purpose label)."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"hailong receipt seal"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str) -> str:
    """``secret`` encrypted and authenticated for the session cookie (URL-safe text).

    Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under a key derived
    from ``SECRET_KEY``.
    """
    return _fernet(current_app.config["SECRET_KEY"]).encrypt(secret.encode()).decode()


def unseal(token: str) -> str | None:
    """The secret :func:`seal` sealed, or None if ``token`` was not sealed with
    ``SECRET_KEY`` or one of ``SECRET_KEY_FALLBACKS`` (or was altered)."""
    config = current_app.config
    return open_sealed(token, [config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or ())])


def open_sealed(token: str, secret_keys: list[str]) -> str | None:
    """:func:`unseal` with the given keys, outside the application (``bench/`` reads the
    numbers its simulated citizens were given)."""
    keys = MultiFernet([_fernet(k) for k in secret_keys])
    try:
        return keys.decrypt(token.encode()).decode()
    except (InvalidToken, UnicodeError, ValueError, TypeError):
        return None


def remember(case_id: int, code: str, secret: str) -> None:
    """Keep ``code`` and its tracking number (sealed) in the browser's session, newest
    last, and mark the case as one this browser may follow."""
    kept = [r for r in session.get(RECEIPTS_KEY, []) if r.get("c") != code]
    session[RECEIPTS_KEY] = [*kept, {"c": code, "i": case_id, "s": seal(secret)}][-MAX_RECEIPTS:]
    tracked = [i for i in session.get(TRACKED_KEY, []) if i != case_id][-9:]
    session[TRACKED_KEY] = [*tracked, case_id]


@dataclass(frozen=True)
class Kept:
    """A receipt found in the session."""

    case_id: int
    code: str
    #: The tracking number, as the citizen types it (no spaces).
    secret: str


def _kept(entry: dict) -> Kept | None:
    secret = unseal(str(entry.get("s") or ""))
    if secret is None or not isinstance(entry.get("i"), int):
        return None
    return Kept(case_id=entry["i"], code=str(entry.get("c") or ""), secret=secret)


def latest() -> Kept | None:
    """The receipt of the case this browser filed last in this session, if any."""
    for entry in reversed(session.get(RECEIPTS_KEY, [])):
        if (kept := _kept(entry)) is not None:
            return kept
    return None


def kept_for(code: str) -> Kept | None:
    """The receipt of case ``code`` if this browser was given it in this session."""
    code = code.strip().upper()
    for entry in reversed(session.get(RECEIPTS_KEY, [])):
        if entry.get("c") == code and (kept := _kept(entry)) is not None:
            return kept
    return None


@dataclass(frozen=True)
class Delivery:
    """A contact the citizen gave, masked, and one way the number went (or did not go) to it."""

    #: ``email`` or ``phone``.
    kind: str
    #: The contact as shown: ``n***@example.vn``, ``091****678``.
    masked: str
    #: The channel the receipt went or goes by (``email``, ``sms``, ``zalo``); None: none.
    channel: str | None
    #: ``sent``, ``pending`` (waits in the outbox), ``failed`` (given up on) or ``none``.
    status: str


#: The channels that reach each kind of contact.
_CHANNELS = {"email": ("email",), "phone": ("sms", "zalo")}


def deliveries(case: FeedbackCase) -> list[Delivery]:
    """Where the code and tracking number were sent: each contact the citizen gave,
    masked, with the messages the outbox holds for this case's receipt.

    The receipt's messages are those whose dedupe key is ``received:<case id>`` (the
    e-mail of :func:`~survey_app.feedback.notify.citizen_received`) or starts with
    ``received:<case id>:`` (one per further channel, e.g. ``received:12:sms``); an
    e-mail goes to the e-mail address, an SMS or Zalo message to the phone number.
    """
    prefix = f"received:{case.id}"
    messages = db.session.execute(
        select(OutboxMessage.channel, OutboxMessage.sent_at, OutboxMessage.attempts).where(
            or_(OutboxMessage.dedupe_key == prefix, OutboxMessage.dedupe_key.like(prefix + ":%"))
        )
    ).all()
    out = []
    for kind, value, masked in (
        ("email", case.contact_email, mask_email(case.contact_email)),
        ("phone", case.contact_phone, mask_phone(case.contact_phone)),
    ):
        if not value:
            continue
        by_channel: dict[str, str] = {}
        for channel, sent_at, attempts in messages:
            channel = channel or "email"
            if channel not in _CHANNELS[kind]:
                continue
            if sent_at is not None:
                status = "sent"
            elif (attempts or 0) >= MAX_ATTEMPTS:
                status = "failed"
            else:
                status = "pending"
            if by_channel.get(channel) != "sent":  # one delivered message is enough
                by_channel[channel] = status
        if not by_channel:
            out.append(Delivery(kind=kind, masked=masked, channel=None, status="none"))
        for channel, status in sorted(by_channel.items()):
            out.append(Delivery(kind=kind, masked=masked, channel=channel, status=status))
    return out


def answer_window(case: FeedbackCase) -> tuple[int, int]:
    """The working days of screening and of the answer (settings)."""
    config = current_app.config
    return config["FEEDBACK_SCREENING_DAYS"], config["FEEDBACK_ANSWER_DAYS"]


def receipt_text(case: FeedbackCase, secret: str, *, province: str, office: str) -> str:
    """The receipt as a small plain-text file (UTF-8, CRLF line ends: any phone or
    computer opens it, and it prints on one page)."""
    screening, answer = answer_window(case)
    track_url = current_app.config["PUBLIC_BASE_URL"] + "/feedback/track"
    lines = [
        province.upper(),
        office,
        "",
        _("RECEIPT OF A REPORT OR PROPOSAL"),
        "",
        _("Case code: %(code)s", code=case.code),
        _("Tracking number: %(secret)s", secret=format_secret(normalise_secret(secret))),
        _("Received: %(when)s", when=local_datetime(case.received_at)),
        "",
        _("Keep this receipt. The tracking number cannot be shown again, not even by staff."),
        "",
        _(
            "To follow your case: open %(url)s and enter the case code and the tracking number.",
            url=track_url,
        ),
        "",
        _(
            "Deadlines, in working days (Saturdays, Sundays and public holidays not counted): "
            "the case is screened within %(screening)d days; once accepted, it is answered "
            "within %(answer)d days. The clock stops while you are asked for more information.",
            screening=screening,
            answer=answer,
        ),
    ]
    if case.due_on is not None and case.state in (CaseState.submitted, CaseState.screening):
        lines.append(_("Screening due by %(date)s.", date=local_date(case.due_on)))
    lines += ["", _("Printed or saved on %(when)s", when=local_datetime(now_utc()))]
    return "\r\n".join(lines) + "\r\n"
