"""Report subscriptions: adding, pausing and removing who is sent the periodic reports.

Services flush, never commit; each change is in the audit log (an outside address
sent the province's report is a flow of data the province decides on).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from ..auth.models import Role, User
from ..extensions import db
from ..feedback import audit
from .models import ReportSubscription
from .periods import KINDS, Period


def _describe(subscription: ReportSubscription) -> str:
    who = f"role {subscription.role.value}" if subscription.role else subscription.email
    return f"{who}, {subscription.kind}"


def add_subscriptions(
    actor: User, kinds: list[str], role: Role | None = None, email: str | None = None
) -> tuple[list[ReportSubscription], list[str]]:
    """Subscribe a role or an address to each of ``kinds``.

    :param role: every active account with this role (exactly one of role and email);
    :param email: an address outside the service (stored lower-case).
    :return: the subscriptions created, and the kinds the recipient already had
        (left as they were, paused or not).
    :raises ValueError: neither or both of role and email, or an unknown kind.
    """
    if (role is None) == (not email):
        raise ValueError("give a role or an e-mail address")
    if unknown := set(kinds) - set(KINDS):
        raise ValueError(f"unknown report kinds: {sorted(unknown)}")
    email = email.strip().lower() if email else None
    existing = set(
        db.session.scalars(
            select(ReportSubscription.kind).where(
                ReportSubscription.role == role
                if role is not None
                else func.lower(ReportSubscription.email) == email
            )
        )
    )
    created = []
    for kind in KINDS:
        if kind not in kinds or kind in existing:
            continue
        subscription = ReportSubscription(role=role, email=email, kind=kind, created_by=actor)
        db.session.add(subscription)
        created.append(subscription)
        audit.record(actor, "report_subscription_added", detail=_describe(subscription))
    db.session.flush()
    return created, [k for k in KINDS if k in kinds and k in existing]


def set_active(actor: User, subscription: ReportSubscription, active: bool) -> None:
    """Pause or resume a subscription (audited)."""
    if subscription.active != active:
        subscription.active = active
        action = "report_subscription_resumed" if active else "report_subscription_paused"
        audit.record(actor, action, detail=_describe(subscription))
    db.session.flush()


def remove(actor: User, subscription: ReportSubscription) -> None:
    """Delete a subscription (audited)."""
    audit.record(actor, "report_subscription_removed", detail=_describe(subscription))
    db.session.delete(subscription)
    db.session.flush()


def listing() -> list[ReportSubscription]:
    """Every subscription: roles first, then addresses, each by report kind."""
    rows = db.session.scalars(select(ReportSubscription)).all()
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(
        rows,
        key=lambda s: (
            s.role is None,
            s.role.value if s.role else s.email,
            order.get(s.kind, len(order)),
        ),
    )


def accounts_by_role() -> dict[Role, int]:
    """Active accounts per role (how many people a role subscription reaches)."""
    return {
        role: count
        for role, count in db.session.execute(
            select(User.role, func.count()).where(User.active.is_(True)).group_by(User.role)
        ).all()
    }


def next_sends(now: datetime) -> list[tuple[str, Period, date]]:
    """Per kind: the running period and the local day its report is sent (the day after
    it ends), for the page's "when" table."""
    out = []
    for kind in KINDS:
        period = Period.containing(kind, now)
        out.append((kind, period, period.local_days()[1] + timedelta(days=1)))
    return out
