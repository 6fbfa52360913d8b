"""Estimates shared between periods: the analysis call, the summary a period
leaves for the next one, the change since the previous period, and trends.

**The previous period.** The change since the previous period is measured
against what was published for it: the ``estimates`` of its latest published
snapshot (so a late response in a closed month does not move a figure
leaders were already shown, and nothing of that period is loaded). Without
a published snapshot that keeps its estimates (of the headline indicator:
the share satisfied overall is kept since December 2026), the previous period
is loaded and analysed by agency (:func:`period_summary`).

**Settings.** ``REPORT_HEADLINE`` (``q0`` or ``composite``) says which
indicator carries the verdict (:func:`headline_setting`); ``REPORT_MIN_N``
is the number of respondents below which no verdict is given.
"""

from __future__ import annotations

import numpy as np
from flask import current_app
from sqlalchemy import select

import analysis
from analysis import Calibration, Questionnaire, Report
from analysis.intervals import DEFAULT_MIN_N

from ..agencies.models import Agency
from ..extensions import db
from .cache import cached
from .loading import PeriodData, data_version, load_period, period_volumes, questionnaire
from .periods import Period
from .weighting import weighting

#: The satisfaction target of the plan.
TARGET = 0.90
#: The indicators that may carry the verdict (``REPORT_HEADLINE``).
HEADLINES = ("q0", "composite")
#: What a block of the report keeps of the analysis' block.
BLOCK_KEYS = (
    "n",
    "n_eff",
    "n_use",
    "df",
    "deff",
    "index",
    "se",
    "ci_low",
    "ci_high",
    "p_below",
    "p_above",
    "verdict",
)
#: What a trend point and a period summary keep of a block.
POINT_KEYS = ("n", "n_use", "df", "index", "ci_low", "ci_high", "verdict", "flags")


def headline_setting() -> str:
    """``REPORT_HEADLINE``: ``"q0"`` (default) or ``"composite"``."""
    value = str(current_app.config.get("REPORT_HEADLINE", "q0")).lower()
    return value if value in HEADLINES else "q0"


def min_n_setting() -> int:
    """``REPORT_MIN_N``: fewer respondents than this and no verdict (default 10)."""
    return int(current_app.config.get("REPORT_MIN_N", DEFAULT_MIN_N))


def block(rec: dict) -> dict:
    return {k: rec.get(k) for k in BLOCK_KEYS} | {"flags": rec.get("flags", [])}


def analyse_period(data: PeriodData, calibration: Calibration | None, q, by=("agency",)) -> Report:
    return analysis.analyse(
        data.responses,
        q,
        by=by,
        calibration=calibration,
        p0=TARGET,
        cutoff_day=None,
        min_n=min_n_setting(),
        headline="composite" if headline_setting() == "composite" else q.overall,
    )


def estimates_by_agency(report: Report, name: str = "composite") -> dict[int, tuple]:
    """``(index, variance, df)`` of one estimand (default the composite) per agency."""
    table = report.groups
    k = table.column(name)
    ids = table.keys["agency"]
    return {
        int(a): (
            float(table.stats["index"][g, k]),
            float(table.stats["variance"][g, k]),
            int(table.stats["df"][g, k]),
        )
        for g, a in enumerate(ids)
    }


def overall_estimate(report: Report, name: str = "composite") -> tuple:
    """``(index, variance, df)`` of one estimand for the province."""
    st, k = report.overall.stats, report.overall.column(name)
    return (float(st["index"][0, k]), float(st["variance"][0, k]), int(st["df"][0, k]))


def num(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def published_estimates(period: Period, headline: str = "composite") -> tuple[int, dict] | None:
    """The latest published report of ``period``: ``(snapshot id, its estimates)``.

    Only the ``estimates`` member of the frozen results is read. ``None`` when
    nothing was published, or the latest publication predates ``estimates``
    (or, for the ``q0`` headline, predates the share satisfied overall in them).
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
    if headline == "q0" and not row[1].get("q0"):
        return None
    return int(row[0]), row[1]


def estimates_json(summary: dict) -> dict:
    """A :func:`period_summary`'s estimates as JSON (NaN as null).

    The composite's at the top level (as before December 2026), the share
    satisfied overall's under ``q0``.
    """

    def triple(t):
        return [num(t[0]), num(t[1]), int(t[2])]

    return {
        "weighted": summary["weighted"],
        "province": triple(summary["province"]),
        "agencies": {str(a): triple(rec["estimate"]) for a, rec in summary["agencies"].items()},
        "q0": {
            "province": triple(summary["province_q0"]),
            "agencies": {
                str(a): triple(rec["q0_estimate"]) for a, rec in summary["agencies"].items()
            },
        },
    }


def summary_of_estimates(estimates: dict) -> dict:
    """What the change since the previous period needs, from published ``estimates``.

    Estimates published before the share satisfied overall was kept give
    ``province_q0 = None`` and no ``q0_estimate``.
    """

    def triple(t):
        return (
            np.nan if t[0] is None else float(t[0]),
            np.nan if t[1] is None else float(t[1]),
            int(t[2]),
        )

    q0 = estimates.get("q0") or {}
    agencies = {int(a): {"estimate": triple(t)} for a, t in estimates["agencies"].items()}
    for a, t in (q0.get("agencies") or {}).items():
        agencies.setdefault(int(a), {})["q0_estimate"] = triple(t)
    return {
        "weighted": bool(estimates["weighted"]),
        "province": triple(estimates["province"]),
        "province_q0": triple(q0["province"]) if q0.get("province") else None,
        "agencies": agencies,
    }


def summary_of(report: Report, info: dict) -> dict:
    """What the trend and the change since the previous period need from one analysis.

    :return: ``weighted``; ``agencies``: agency id → the composite's
        :data:`POINT_KEYS`, ``estimate`` (its (index, variance, df)), and ``q0``
        and ``q0_estimate``, the same of the share satisfied overall;
        ``province`` and ``province_q0``, the two triples for the province.
    """
    overall = report.groups.item_codes[0]
    estimates = estimates_by_agency(report)
    q0_estimates = estimates_by_agency(report, overall)
    q0_column = report.groups.column(overall)
    agencies = {}
    for g, a in enumerate(report.groups.keys["agency"].tolist()):
        rec = report.groups.block(g, 0)  # the composite index
        q0 = report.groups.block(g, q0_column)
        agencies[a] = {k: rec[k] for k in POINT_KEYS}
        agencies[a]["estimate"] = estimates[a]
        agencies[a]["q0"] = {k: q0[k] for k in POINT_KEYS}
        agencies[a]["q0_estimate"] = q0_estimates[a]
    return {
        "weighted": bool(info.get("used")),
        "agencies": agencies,
        "province": overall_estimate(report),
        "province_q0": overall_estimate(report, overall),
    }


def period_summary(
    period: Period, q: Questionnaire | None = None, version: tuple | None = None
) -> dict | None:
    """Every agency's composite index in ``period``, weighted as in its report.

    The same load, weighting and analysis as :func:`compute_report` (so the
    numbers are identical), without the drill-downs; cached like it.

    :return: ``None`` for a period without responses, else :func:`summary_of`:
        ``weighted`` (post-stratified to dossier volumes, or base weights),
        ``agencies`` (agency id → the composite's ``n, n_use, df, index,
        ci_low, ci_high, verdict, flags`` and ``estimate``, the (index,
        variance, df) triple; the same of the share satisfied overall under
        ``q0`` and ``q0_estimate``) and ``province`` / ``province_q0``.
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
    """The agency's indices over the last ``n`` periods, oldest first.

    Each point is the agency's row of that period's own report
    (:func:`period_summary`): weighted to the dossier volumes when the period
    has them, else base weights (``weighted`` says which), with its interval:
    the composite's :data:`POINT_KEYS` at the top level (as points frozen
    before December 2026 have them) and the share satisfied overall's under
    ``q0`` (None when the agency had no response).
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
            point = {"period": p.label} | dict.fromkeys(POINT_KEYS)
            point.update(n=0, flags=[], weighted=None, q0=None)
            rec = summary["agencies"].get(a) if summary else None
            if rec is not None:
                point.update({k: rec[k] for k in POINT_KEYS})
                point["q0"] = dict(rec["q0"])
                point["weighted"] = summary["weighted"]
            points.append(point)
        out[a] = points
    return out
