"""Queries behind the staff queue, its filters, counts and exports."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, or_, select

from ..agencies.models import Agency
from ..agencies.services import subtree_filter
from ..auth.models import User
from ..auth.permissions import Permission, has_permission
from ..extensions import db
from .models import CaseChannel, CaseState, FeedbackCase
from .workflow import OPEN_STATES

SCOPES = ("mine", "agency", "all")
CODE_PATTERN = re.compile(r"(PA|KN|KT)-\d{2}-[A-Z0-9]{6}")


@dataclass
class CaseFilters:
    """What the staff queue is filtered by (all optional)."""

    scope: str = "agency"
    state: CaseState | None = None
    agency_id: int | None = None
    procedure_id: int | None = None
    channel: CaseChannel | None = None
    due_before: date | None = None
    overdue: bool = False
    unassigned_queue: bool = False
    text: str = ""


def visible_cases(user: User) -> Select[tuple[FeedbackCase]]:
    """Cases the user may see: coordinators everything, handlers their agencies' cases."""
    stmt = select(FeedbackCase)
    if has_permission(user, Permission.coordinate_feedback) and user.sees_whole_province:
        return stmt
    if user.agency is None:
        return stmt.where(FeedbackCase.id.is_(None))
    # a subquery, not a join: SQLite then walks ix_feedback_cases_agency_state per agency
    # instead of looking up the agency of every case (bench/feedback_queue.md, finding 2)
    return stmt.where(
        FeedbackCase.agency_id.in_(select(Agency.id).where(subtree_filter(user.agency)))
    )


def apply_filters(stmt: Select, filters: CaseFilters, user: User, today: date) -> Select:
    if filters.scope == "mine":
        stmt = stmt.where(FeedbackCase.assignee_id == user.id)
    if filters.state is not None:
        stmt = stmt.where(FeedbackCase.state == filters.state)
    if filters.agency_id is not None:
        stmt = stmt.where(FeedbackCase.agency_id == filters.agency_id)
    if filters.unassigned_queue:
        stmt = stmt.where(FeedbackCase.agency_id.is_(None))
    if filters.procedure_id is not None:
        stmt = stmt.where(FeedbackCase.procedure_id == filters.procedure_id)
    if filters.channel is not None:
        stmt = stmt.where(FeedbackCase.channel == filters.channel)
    if filters.due_before is not None:
        stmt = stmt.where(FeedbackCase.due_on <= filters.due_before)
    if filters.overdue:
        stmt = stmt.where(FeedbackCase.due_on < today, FeedbackCase.state.in_(OPEN_STATES))
    text = filters.text.strip()
    if CODE_PATTERN.fullmatch(text.upper()):
        # a case code: the unique index answers, no scan of every content
        stmt = stmt.where(FeedbackCase.code == text.upper())
    elif text:
        like = f"%{text}%"
        stmt = stmt.where(or_(FeedbackCase.code.ilike(like), FeedbackCase.content.ilike(like)))
    return stmt


def state_counts(stmt: Select) -> dict[CaseState, int]:
    """How many cases of ``stmt`` are in each state."""
    sub = stmt.with_only_columns(FeedbackCase.state).order_by(None).subquery()
    query = select(sub.c.state, func.count()).group_by(sub.c.state)
    return {CaseState(state): n for state, n in db.session.execute(query)}
