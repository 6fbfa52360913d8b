"""Citizens' comments in a report, personal data removed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ..agencies.models import Agency, Counter
from ..core.redact import redact
from ..extensions import db
from ..surveys.models import Response
from .loading import window_filter
from .periods import Period

#: Comments shown per agency page.
COMMENT_LIMIT = 50


def comments(agency: Agency, period: Period, limit: int = COMMENT_LIMIT) -> list[dict]:
    """The period's comments at the agency's own counters, personal data removed."""
    return period_comments(period, [agency.id], limit).get(agency.id, [])


def period_comments(
    period: Period, agency_ids=None, limit: int = COMMENT_LIMIT
) -> dict[int, list[dict]]:
    """The latest ``limit`` comments of each agency in ``period``, personal data removed.

    :param agency_ids: only these agencies (default: all).
    :return: agency id → ``submitted_at, overall, text, counter`` dicts, newest first.
    """
    rank = (
        func.row_number()
        .over(
            partition_by=Response.agency_id,
            order_by=(Response.submitted_at.desc(), Response.id.desc()),
        )
        .label("rank")
    )
    ranked = (
        select(
            Response.agency_id,
            Response.submitted_at,
            Response.overall,
            Response.comment,
            Counter.name.label("counter"),
            rank,
        )
        .join(Counter, Counter.id == Response.counter_id)
        .where(
            window_filter(period, agency_ids),
            Response.comment.is_not(None),
            Response.comment != "",
        )
        .subquery()
    )
    rows = db.session.execute(
        select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.agency_id, ranked.c.rank)
    ).all()
    out: dict[int, list[dict]] = {}
    for a, s, o, c, name, _rank in rows:
        out.setdefault(a, []).append(
            {"submitted_at": s, "overall": o, "text": redact(c), "counter": name}
        )
    return out


def frozen_comments(results: dict, agency_id: int) -> list[dict] | None:
    """A published report's comments of one agency (None if it froze none)."""
    if "comments" not in results:
        return None
    return [
        dict(c, submitted_at=datetime.fromisoformat(c["submitted_at"]))
        for c in results["comments"].get(str(agency_id), [])
    ]
