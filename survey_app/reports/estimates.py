"""Estimates shared between periods: the analysis call, the summary a period
leaves for the next one, the change since the previous period, and trends.

**The previous period.** The change since the previous period is measured
against what was published for it: the ``estimates`` of its latest published
snapshot (so a late response in a closed month does not move a figure
leaders were already shown, and nothing of that period is loaded). Without
a published snapshot that keeps its estimates, the previous period is
loaded and analysed by agency (:func:`period_summary`).
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

import analysis
from analysis import Calibration, Questionnaire, Report

from ..agencies.models import Agency
from ..extensions import db
from .cache import cached
from .loading import PeriodData, data_version, load_period, period_volumes, questionnaire
from .periods import Period
from .weighting import weighting

#: The satisfaction target of the plan.
TARGET = 0.90


def block(rec: dict) -> dict:
    keys = ("n", "n_eff", "index", "se", "ci_low", "ci_high", "p_below", "p_above", "verdict")
    return {k: rec.get(k) for k in keys} | {"flags": rec.get("flags", [])}


def analyse_period(data: PeriodData, calibration: Calibration | None, q, by=("agency",)) -> Report:
    return analysis.analyse(
        data.responses, q, by=by, calibration=calibration, p0=TARGET, cutoff_day=None
    )


def estimates_by_agency(report: Report) -> dict[int, tuple[float, float, int]]:
    table = report.groups
    ids = table.keys["agency"]
    return {
        int(a): (
            float(table.stats["index"][g, 0]),
            float(table.stats["variance"][g, 0]),
            int(table.stats["df"][g, 0]),
        )
        for g, a in enumerate(ids)
    }


def num(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def published_estimates(period: Period) -> tuple[int, dict] | None:
    """The latest published report of ``period``: ``(snapshot id, its estimates)``.

    Only the ``estimates`` member of the frozen results is read. ``None`` when
    nothing was published, or the latest publication predates ``estimates``.
    """
    from .models import ReportSnapshot

    row = db.session.execute(
        select(ReportSnapshot.id, ReportSnapshot.results["estimates"])
        .where(ReportSnapshot.period == period.label, ReportSnapshot.published_at.is_not(None))
        .order_by(ReportSnapshot.published_at.desc(), ReportSnapshot.id.desc())
        .limit(1)
    ).first()
    if row is None or not row[1]:
        return None
    return int(row[0]), row[1]


def estimates_json(summary: dict) -> dict:
    """A :func:`period_summary`'s estimates as JSON (NaN as null)."""

    def triple(t):
        return [num(t[0]), num(t[1]), int(t[2])]

    return {
        "weighted": summary["weighted"],
        "province": triple(summary["province"]),
        "agencies": {str(a): triple(rec["estimate"]) for a, rec in summary["agencies"].items()},
    }


def summary_of_estimates(estimates: dict) -> dict:
    """What the change since the previous period needs, from published ``estimates``."""

    def triple(t):
        return (
            np.nan if t[0] is None else float(t[0]),
            np.nan if t[1] is None else float(t[1]),
            int(t[2]),
        )

    return {
        "weighted": bool(estimates["weighted"]),
        "province": triple(estimates["province"]),
        "agencies": {int(a): {"estimate": triple(t)} for a, t in estimates["agencies"].items()},
    }


def summary_of(report: Report, info: dict) -> dict:
    """What the trend and the change since the previous period need from one analysis."""
    estimates = estimates_by_agency(report)
    agencies = {}
    for g, a in enumerate(report.groups.keys["agency"].tolist()):
        rec = report.groups.block(g, 0)  # the composite index
        agencies[a] = {k: rec[k] for k in ("n", "index", "ci_low", "ci_high", "verdict")}
        agencies[a]["estimate"] = estimates[a]
    st = report.overall.stats
    return {
        "weighted": bool(info.get("used")),
        "agencies": agencies,
        "province": (float(st["index"][0, 0]), float(st["variance"][0, 0]), int(st["df"][0, 0])),
    }


def period_summary(
    period: Period, q: Questionnaire | None = None, version: tuple | None = None
) -> dict | None:
    """Every agency's composite index in ``period``, weighted as in its report.

    The same load, weighting and analysis as :func:`compute_report` (so the
    numbers are identical), without the drill-downs; cached like it.

    :return: ``None`` for a period without responses, else ``weighted`` (post-
        stratified to dossier volumes, or base weights), ``agencies`` (agency
        id → ``n, index, ci_low, ci_high, verdict`` and ``estimate``, the
        (index, variance, df) triple) and ``province`` (the same triple).
    :param version: the period's :func:`data_version` when the caller has just read it.
    """
    version = version or data_version(period)

    def compute():
        qq = q or questionnaire()
        data = load_period(period, qq, details=False)  # no counters, no times
        if data.responses.n == 0:
            return None
        calibration, info = weighting(data, period_volumes(period))
        return summary_of(analyse_period(data, calibration, qq), info)

    return cached(("summary", version), compute)


def change_since(now: tuple, before: tuple | None) -> dict | None:
    """The change of an index since the previous period (``period_change``).

    :param now: ``(index, variance, df)`` this period; :param before: the same
        triple of the previous period, or None.
    :return: ``previous, difference, se, p_value, significant``, or None when
        either index is missing.
    """
    if before is None or not np.isfinite(before[0]) or not np.isfinite(now[0]):
        return None
    ch = analysis.period_change(
        np.array([now[0]]),
        np.array([now[1]]),
        np.array([now[2]]),
        np.array([before[0]]),
        np.array([before[1]]),
        np.array([before[2]]),
    )
    return {
        "previous": num(before[0]),
        "difference": num(ch["difference"][0]),
        "se": num(ch["se"][0]),
        "p_value": num(ch["p_value"][0]),
        "significant": bool(ch["significant"][0]),
    }


def trend(agency: Agency, period: Period, n: int = 12) -> list[dict]:
    """The agency's composite index over the last ``n`` periods, oldest first.

    Each point is the agency's row of that period's own report
    (:func:`period_summary`): weighted to the dossier volumes when the period
    has them, else base weights (``weighted`` says which), with its interval.
    """
    return trends(period, [agency.id], n)[agency.id]


def trends(period: Period, agency_ids, n: int = 12) -> dict[int, list[dict]]:
    """:func:`trend` for several agencies at once (one summary per period)."""
    q = questionnaire()
    summaries = [(p, period_summary(p, q)) for p in period.last(n)]
    out = {}
    for a in agency_ids:
        points = []
        for p, summary in summaries:
            point = {
                "period": p.label,
                "n": 0,
                "index": None,
                "ci_low": None,
                "ci_high": None,
                "verdict": None,
                "weighted": None,
            }
            rec = summary["agencies"].get(a) if summary else None
            if rec is not None:
                point.update({k: rec[k] for k in ("n", "index", "ci_low", "ci_high", "verdict")})
                point["weighted"] = summary["weighted"]
            points.append(point)
        out[a] = points
    return out
