"""Publishing a report: frozen snapshots, and what changed since one was published."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from .assembly import compute_report
from .comments import sample as comment_sample
from .estimates import trends
from .kpis import period_kpis
from .loading import fingerprint
from .periods import Period
from .presentation import block_of, headline_of


def compare(snapshot_results: dict, live: dict) -> dict:
    """What changed between a published report and the same period recomputed now.

    Both are read through the published report's headline indicator (the
    composite for reports published before it was kept), so a change of
    ``REPORT_HEADLINE`` since does not pass for a change of the figures.

    :return: ``indicator``, ``new_responses`` (live minus published count),
        ``inputs_changed`` and per agency the headline's n, index and verdict
        then and now, and the difference.
    """
    indicator = headline_of(snapshot_results)
    then = {row["agency_id"]: row for row in snapshot_results.get("agencies", [])}
    now = {row["agency_id"]: row for row in live.get("agencies", [])}
    rows = []
    for agency_id in sorted(
        set(then) | set(now), key=lambda a: (now.get(a) or then.get(a))["path"]
    ):
        a, b = block_of(then.get(agency_id), indicator), block_of(now.get(agency_id), indicator)
        before, after = a.get("index"), b.get("index")
        named = now.get(agency_id) or then.get(agency_id)
        rows.append(
            {
                "agency_id": agency_id,
                "name": named["name"],
                "path": named["path"],
                "n_then": a.get("n") or 0,
                "n_now": b.get("n") or 0,
                "index_then": before,
                "index_now": after,
                "difference": (after - before)
                if before is not None and after is not None
                else None,
                "verdict_then": a.get("verdict"),
                "verdict_now": b.get("verdict"),
            }
        )
    return {
        "indicator": indicator,
        "new_responses": live.get("n_responses", 0) - snapshot_results.get("n_responses", 0),
        "inputs_changed": snapshot_results.get("fingerprint") != live.get("fingerprint"),
        "agencies": rows,
    }


def publish(period: Period, user=None, report: dict | None = None):
    """Freeze the report of ``period`` as published now. Flushes, never commits.

    The snapshot keeps the results, each agency's comments (personal data
    removed) and its trend as they are now, so the published report, its
    agency pages and its downloads never change when late responses arrive.

    :param report: the results to freeze (default: computed now).
    :return: the new :class:`~survey_app.reports.models.ReportSnapshot`.
    """
    from ..core.time import now_utc
    from .models import ReportSnapshot

    report = report if report is not None else compute_report(period)
    frozen = dict(report)  # the cached report itself is never modified
    if not report.get("empty"):
        ids = [row["agency_id"] for row in report["agencies"]]
        frozen["comments"] = {str(a): found for a, found in comment_sample(period, ids).items()}
        frozen["trends"] = {str(a): points for a, points in trends(period, ids).items()}
    frozen["kpis"] = period_kpis(period)  # feedback and one-stop figures, as shown now
    now = now_utc()
    snapshot = ReportSnapshot(
        period=period.label,
        kind=period.kind,
        created_at=now,
        published_at=now,
        published_by=user,
        fingerprint=report.get("fingerprint") or fingerprint(period),
        results=frozen,
    )
    db.session.add(snapshot)
    db.session.flush()
    return snapshot


def published_snapshots(period: Period | None = None) -> list:
    """Published snapshots, newest first (of one period when given)."""
    from .models import ReportSnapshot

    query = select(ReportSnapshot).where(ReportSnapshot.published_at.is_not(None))
    if period is not None:
        query = query.where(ReportSnapshot.period == period.label)
    return list(
        db.session.scalars(
            query.order_by(ReportSnapshot.published_at.desc(), ReportSnapshot.id.desc())
        )
    )
