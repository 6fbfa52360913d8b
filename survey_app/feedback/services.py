"""Taking in feedback cases from every channel: validation, routing, codes and secrets.

Services flush; the view or command commits.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..agencies.models import Agency, Procedure, ProcedureField
from ..auth.models import User
from ..core import phones
from ..core.params import clean_text
from ..core.time import local_today, local_tz, now_utc
from ..extensions import db
from ..surveys.models import Response
from .complaints import COMPLAINT_EXPLANATION, looks_like_complaint  # noqa: F401
from .models import CaseChannel, CaseKind, CaseState, FeedbackCase, RoutingRule
from .tracking import (  # noqa: F401 (the tracking number's helpers, used from here too)
    SECRET_ALPHABET,
    SECRET_LENGTH,
    check_secret,
    hash_secret,
    new_secret,
    secret_from_key,
)
from .workflow import Durations, start_clock

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class IntakeError(Exception):
    """The submission lacks what Art. 7 of NĐ 20/2008 requires; nothing was stored.

    ``errors`` maps a field name to the lawful reason, shown to the submitter.
    """

    def __init__(self, errors: dict[str, str]):
        super().__init__(", ".join(errors))
        self.errors = errors


#: Fewer characters than this cannot say what is wrong or what should change.
CONTENT_MIN = 10
#: More than this is a document, not feedback: attach it instead.
CONTENT_MAX = 5000
#: A Vietnamese phone number once spaces, dots, dashes and brackets are gone.
PHONE = re.compile(r"^(\+84|0)\d{9,10}$")
#: Phones are mobile numbers (core.phones): SMS and Zalo reach no landline.
PHONE_MESSAGE = _l("Enter a Vietnamese phone number, e.g. 0912 345 678.")
LANDLINE_MESSAGE = _l(
    "This is a landline number: messages about your case cannot reach it. Enter a "
    "mobile phone number, e.g. 0912 345 678."
)


def phone_problem(value: str) -> str:
    """Why ``value`` is refused as the citizen's phone (a landline gets its own reason)."""
    return str(LANDLINE_MESSAGE if phones.is_landline(value) else PHONE_MESSAGE)


#: Stored lengths of the contact fields (the columns of ``feedback_cases``).
MAX_LENGTHS = {"submitter_name": 255, "contact_email": 255, "address": 500}


def normalise_phone(value: str | None) -> str | None:
    """``value`` without the spaces, dots, dashes and brackets people write numbers with."""
    if not value:
        return None
    return re.sub(r"[\s.\-()]", "", value)


def visible(text: str | None) -> str:
    """``text`` without format characters (zero-width spaces, joiners, direction marks),
    stripped: what a reader sees, for checks that it says something."""
    return "".join(ch for ch in text or "" if unicodedata.category(ch) != "Cf").strip()


@dataclass
class Submission:
    """What a citizen (or staff on their behalf) submits, from any channel."""

    kind: CaseKind
    content: str
    submitter_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    address: str | None = None
    procedure: Procedure | None = None
    field: ProcedureField | None = None
    agency: Agency | None = None
    #: Consent recorded for it (staff intake, an integrating portal). Handling the case
    #: does not rest on consent (NĐ 20/2008; NĐ 13/2023 Art. 17): none is required.
    consent: bool = False
    #: It is a complaint or denunciation (chosen or confirmed, never guessed from words):
    #: recorded as redirected, without the submitter's name or contact.
    is_complaint: bool = False
    #: The local day it was received, for paper, phone and e-mail entered later by
    #: staff (None: now); the legal deadlines count from it.
    received_on: date | None = None


def cleaned(sub: Submission) -> Submission:
    """The submission's text fit to store, whatever channel it came by (see ``clean_text``)."""
    texts = ("content", "submitter_name", "contact_phone", "contact_email", "address")
    changes = {k: clean_text(getattr(sub, k)) for k in texts if isinstance(getattr(sub, k), str)}
    return dataclasses.replace(sub, **changes)


def validate_submission(sub: Submission) -> None:
    """Check the Art. 7 requirements before anything is stored.

    :raises IntakeError: naming each missing part and the lawful reason.
    """
    errors: dict[str, str] = {}
    content = visible(sub.content)
    if len(content) > CONTENT_MAX:
        errors["content"] = str(_l("At most %(n)d characters.", n=CONTENT_MAX))
    elif len(content) < CONTENT_MIN:
        errors["content"] = str(
            _l(
                "Describe the problem or proposal clearly (Decree 20/2008, Art. 7: the content must be clear)."
            )
        )
    if not visible(sub.submitter_name):
        errors["submitter_name"] = str(
            _l(
                "Give your name: feedback without the submitter's name cannot be processed (Decree 20/2008, Art. 7)."
            )
        )
    if not (visible(sub.contact_phone) or visible(sub.contact_email)):
        errors["contact"] = str(
            _l(
                "Give a phone number or an e-mail address so the answer can reach you (Decree 20/2008, Art. 7)."
            )
        )
    for name, limit in MAX_LENGTHS.items():
        if len(getattr(sub, name) or "") > limit:
            errors[name] = str(_l("At most %(n)d characters.", n=limit))
    if sub.contact_phone and not phones.is_mobile(sub.contact_phone):
        errors["contact_phone"] = phone_problem(sub.contact_phone)
    if sub.contact_email and "contact_email" not in errors:
        try:  # (also refuses line breaks, which would end up in the mail's To: header)
            validate_email(sub.contact_email, check_deliverability=False)
        except EmailNotValidError:
            errors["contact_email"] = str(_l("Enter a valid e-mail address."))
    if errors:
        raise IntakeError(errors)


def route(procedure: Procedure | None, field: ProcedureField | None) -> Agency | None:
    """The agency a new case goes to: a rule for the procedure, else the procedure's
    responsible agency, else a rule for the field; None = the coordinators' queue."""
    if procedure is not None:
        rule = db.session.scalar(
            select(RoutingRule).where(RoutingRule.procedure_id == procedure.id)
        )
        if rule is not None:
            return rule.agency
        if procedure.agency is not None:
            return procedure.agency
        field = field or procedure.field
    if field is not None:
        rule = db.session.scalar(select(RoutingRule).where(RoutingRule.field_id == field.id))
        if rule is not None:
            return rule.agency
    return None


def received_instant(day: date | None) -> datetime:
    """When a case was received: now, or for an earlier day (a letter entered later), the
    start of that local day (the hour is not known; pages then show the day only)."""
    if day is None or day >= local_today():
        return now_utc()
    return datetime.combine(day, time.min, tzinfo=local_tz()).astimezone(UTC)


def _new_code(kind: CaseKind, complaint: bool = False) -> str:
    prefix = "KT" if complaint else "PA" if kind == CaseKind.report else "KN"
    year = now_utc().strftime("%y")
    while True:
        code = f"{prefix}-{year}-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
        if db.session.scalar(select(FeedbackCase.id).where(FeedbackCase.code == code)) is None:
            return code


#: A submission key as the public form carries it (``secrets.token_urlsafe(16)``).
SUBMIT_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def idempotency_key(form_key: str | None, sub: Submission) -> str | None:
    """What makes two sendings of the public form the same case: the random key of the
    form's page and what it says (a double click sends both unchanged; a citizen who
    goes back, rewrites the text and sends again files a second case).

    :return: ``None`` if ``form_key`` is not a key the form gives (no deduplication).
    """
    if not form_key or not SUBMIT_KEY.fullmatch(form_key):
        return None
    kind = "complaint" if sub.is_complaint else sub.kind.value
    return f"{form_key}\n{kind}\n{visible(clean_text(sub.content or ''))}"


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def case_for_key(key: str) -> FeedbackCase | None:
    """The case filed by the sending identified by ``key`` (:func:`idempotency_key`), if any."""
    return db.session.scalar(
        select(FeedbackCase).where(FeedbackCase.submit_key_hash == _key_hash(key))
    )


def submit(
    sub: Submission,
    channel: CaseChannel,
    created_by: User | None = None,
    response: Response | None = None,
    idempotency_key: str | None = None,
) -> tuple[FeedbackCase, str]:
    """Take in a case: validate, route, give it a code and a tracking secret.

    Words in the text never decide that it is a complaint: only ``sub.is_complaint``
    (the citizen's or the staff's choice) does, and such a submission is recorded as
    redirected (:func:`~.complaints.record_redirect`: without name or contact).

    :param idempotency_key: from :func:`idempotency_key`: stored (hashed, unique), and
        the tracking number derived from it, so that a second sending of the same form
        finds this case and can show its number again (:func:`case_for_key`). A second
        INSERT with the same key fails on the unique index (``IntegrityError``).
    :return: the case and the tracking secret in clear (shown to the citizen once).
    :raises IntakeError: if Art. 7's requirements are not met (nothing stored).
    """
    sub = cleaned(sub)
    if sub.is_complaint:
        from .complaints import record_redirect

        return record_redirect(
            agency=sub.agency or route(sub.procedure, sub.field),
            procedure=sub.procedure,
            content=sub.content,
            kind=sub.kind,
            channel=channel,
            response_id=response.id if response else None,
            idempotency_key=idempotency_key,
            created_by=created_by,
        )
    validate_submission(sub)
    case, secret = new_case(
        kind=sub.kind,
        channel=channel,
        content=sub.content.strip(),
        procedure=sub.procedure,
        field=sub.field,
        agency=sub.agency,
        created_by=created_by,
        response_id=response.id if response else None,
        idempotency_key=idempotency_key,
        received_on=sub.received_on,
    )
    case.submitter_name = (sub.submitter_name or "").strip() or None
    case.contact_phone = phones.normalise(sub.contact_phone) or None
    case.contact_email = (sub.contact_email or "").strip().lower() or None
    case.address = (sub.address or "").strip() or None
    case.consent_at = now_utc() if sub.consent else None
    db.session.flush()
    return case, secret


def new_case(
    *,
    kind: CaseKind,
    channel: CaseChannel,
    content: str,
    procedure: Procedure | None = None,
    field: ProcedureField | None = None,
    agency: Agency | None = None,
    created_by: User | None = None,
    response_id: int | None = None,
    idempotency_key: str | None = None,
    complaint: bool = False,
    received_on: date | None = None,
) -> tuple[FeedbackCase, str]:
    """A new case, routed, with its code, tracking secret and screening clock (state
    ``submitted``, no personal data yet): what :func:`submit` and
    :func:`~.complaints.record_redirect` share.

    :param complaint: a complaint's record: its code starts with ``KT`` instead of PA/KN.
    :param received_on: the local day it was received, when earlier than today (paper,
        phone, e-mail entered later); the deadlines count from it.
    :return: the case (flushed) and the tracking secret in clear.
    """
    secret = secret_from_key(idempotency_key) if idempotency_key else new_secret()
    code = _new_code(kind, complaint)
    field = field or (procedure.field if procedure else None)
    case = FeedbackCase(
        code=code,
        secret_hash=hash_secret(code, secret),
        submit_key_hash=_key_hash(idempotency_key) if idempotency_key else None,
        kind=kind,
        state=CaseState.submitted,
        channel=channel,
        procedure=procedure,
        field=field,
        agency=agency or route(procedure, field),
        content=content,
        created_by_id=created_by.id if created_by else None,
        response_id=response_id,
        received_at=received_instant(received_on),
    )
    db.session.add(case)
    start_clock(case, Durations.from_config().screening, start=received_on)
    db.session.flush()
    return case, secret
