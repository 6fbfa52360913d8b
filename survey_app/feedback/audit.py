"""The audit trail of personal-data reads and case changes, and masking for lists."""

from __future__ import annotations

from ..auth.models import User
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
