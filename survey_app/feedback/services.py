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

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..agencies.models import Agency, Procedure, ProcedureField
from ..auth.models import User
from ..core import phones
from ..core.params import clean_text
from ..core.time import now_utc
from ..extensions import db
from ..surveys.models import Response
from .models import CaseChannel, CaseKind, CaseState, FeedbackCase, RoutingRule
from .tracking import (  # noqa: F401 (the tracking number's helpers, used from here too)
    SECRET_ALPHABET,
    SECRET_LENGTH,
    check_secret,
    hash_secret,
    new_secret,
    secret_from_key,
)
from .workflow import Durations, start_clock, transition

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

#: Words that mark a complaint (khiếu nại) or denunciation (tố cáo): not feedback.
_COMPLAINT = re.compile(r"\b(khiếu\s*nại|tố\s*cáo|complain|complaint|denounc\w*)\b", re.IGNORECASE)


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
    consent: bool = False
    #: The citizen marked it as a complaint or denunciation.
    is_complaint: bool = False


def _cleaned(sub: Submission) -> Submission:
    """The submission's text fit to store, whatever channel it came by (see ``clean_text``)."""
    texts = ("content", "submitter_name", "contact_phone", "contact_email", "address")
    changes = {k: clean_text(getattr(sub, k)) for k in texts if isinstance(getattr(sub, k), str)}
    return dataclasses.replace(sub, **changes)


def looks_like_complaint(text: str) -> bool:
    """True when the text says it is a complaint or denunciation (khiếu nại, tố cáo)."""
    return bool(_COMPLAINT.search(text or ""))


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
    if not sub.consent:
        errors["consent"] = str(
            _l(
                "Tick the consent box: your personal data is only processed with your consent (Decree 13/2023)."
            )
        )
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


def _new_code(kind: CaseKind) -> str:
    prefix = "PA" if kind == CaseKind.report else "KN"
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

    A text that is a complaint or denunciation is recorded as redirected (with
    the legal explanation), not processed.

    :param idempotency_key: from :func:`idempotency_key`: stored (hashed, unique), and
        the tracking number derived from it, so that a second sending of the same form
        finds this case and can show its number again (:func:`case_for_key`). A second
        INSERT with the same key fails on the unique index (``IntegrityError``).
    :return: the case and the tracking secret in clear (shown to the citizen once).
    :raises IntakeError: if Art. 7's requirements are not met (nothing stored).
    """
    sub = _cleaned(sub)
    validate_submission(sub)
    secret = secret_from_key(idempotency_key) if idempotency_key else new_secret()
    code = _new_code(sub.kind)
    field = sub.field or (sub.procedure.field if sub.procedure else None)
    case = FeedbackCase(
        code=code,
        secret_hash=hash_secret(code, secret),
        submit_key_hash=_key_hash(idempotency_key) if idempotency_key else None,
        kind=sub.kind,
        state=CaseState.submitted,
        channel=channel,
        procedure=sub.procedure,
        field=field,
        agency=sub.agency or route(sub.procedure, field),
        content=sub.content.strip(),
        submitter_name=(sub.submitter_name or "").strip() or None,
        contact_phone=phones.normalise(sub.contact_phone) or None,
        contact_email=(sub.contact_email or "").strip().lower() or None,
        address=(sub.address or "").strip() or None,
        consent_at=now_utc(),
        created_by_id=created_by.id if created_by else None,
        response_id=response.id if response else None,
        received_at=now_utc(),
    )
    db.session.add(case)
    start_clock(case, Durations.from_config().screening)
    db.session.flush()
    if sub.is_complaint or looks_like_complaint(sub.content):
        transition(
            case,
            CaseState.redirected_complaint,
            None,
            action="redirected_complaint",
            reason=str(COMPLAINT_EXPLANATION),
        )
    return case, secret


COMPLAINT_EXPLANATION = _l(
    "This looks like a complaint (khiếu nại) or a denunciation (tố cáo). These are not handled "
    "as feedback on administrative procedures: they follow the Law on Complaints 2011 and the "
    "Law on Denunciations 2018. Please submit it to the citizen reception office (Ban Tiếp công "
    "dân) or the inspectorate (Thanh tra) of the agency concerned. Your submission has been "
    "recorded."
)
