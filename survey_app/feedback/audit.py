"""The audit trail of personal-data reads and case changes, and masking for lists."""

from __future__ import annotations

import re

from sqlalchemy import insert

from ..auth.models import User
from ..core.redact import NAME_MASK, redact
from ..extensions import db
from .models import AuditLog, FeedbackCase


def record(
    user: User | None,
    action: str,
    case: FeedbackCase | None = None,
    detail: str = "",
    target: User | None = None,
) -> None:
    """Add an audit line (flushed with the request's other changes).

    :param user: who acted (None: the system, a citizen or a shell command);
    :param target: the staff account an administrator's action was about.
    """
    db.session.add(
        AuditLog(
            user_id=user.id if user else None,
            action=action,
            case_id=case.id if case else None,
            detail=detail[:2000],
            target_user_id=target.id if target else None,
        )
    )


def record_export(
    user: User, fmt: str, case_ids: list[int], *, unmasked: bool, filters: str = ""
) -> AuditLog:
    """Record an export and which cases it contained.

    One ``export`` line says who exported what (format, number of cases,
    masked or not, the filters), and each exported case gets an
    ``export_case`` line pointing to it, so a case's audit trail shows every
    export its data left in, as it shows every read of its page.

    :param case_ids: the ids of the exported cases.
    :param filters: the queue's filters, without the searched text.
    :return: the ``export`` line (flushed: its id is set).
    """
    masking = "unmasked" if unmasked else "masked"
    summary = AuditLog(
        user_id=user.id,
        action="export",
        detail=f"{fmt}, {len(case_ids)} cases, {masking}, {filters}"[:2000],
    )
    db.session.add(summary)
    db.session.flush()
    if case_ids:  # a Core executemany: 24,000 ORM objects would cost seconds
        line = {
            "at": summary.at,
            "user_id": user.id,
            "action": "export_case",
            "detail": f"export #{summary.id} ({fmt}, {masking})",
        }
        db.session.execute(
            insert(AuditLog.__table__), [dict(line, case_id=case_id) for case_id in case_ids]
        )
    return summary


def mask_name(name: str | None) -> str:
    """ "Nguyễn Văn An" → "Nguyễn V. A."."""
    if not name:
        return ""
    parts = name.split()
    return " ".join([parts[0], *(p[0] + "." for p in parts[1:])])


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    return phone[:3] + "*" * max(len(phone) - 6, 2) + phone[-3:] if len(phone) > 6 else "***"


def mask_email(email: str | None) -> str:
    if not email or "@" not in email:
        return ""
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"


def mask_text(text: str | None, name: str | None = None) -> str:
    """Free text for a masked export: the submitter's name, wherever the text repeats
    it, replaced by the redaction service's name mask, then phones, e-mail addresses,
    ID numbers and introduced names removed by :func:`~survey_app.core.redact.redact`.
    (Initials would not do in the text: "tôi là Lê T. H." reads as a name again.)

    :param name: the submitter's name as given in the case's name field.
    """
    if not text:
        return ""
    words = (name or "").split()
    folded = text.casefold()
    if words and all(w.casefold() in folded for w in words):  # else no pattern to build
        spelled = r"\s+".join(re.escape(w) for w in words)
        text = re.sub(rf"(?<!\w){spelled}(?!\w)", lambda _: NAME_MASK, text, flags=re.IGNORECASE)
    return redact(text)
