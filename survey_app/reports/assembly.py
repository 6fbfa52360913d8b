"""Assembling the report of a period: a plain JSON-ready dict.

A report is a dict (so a published one can be frozen in a
:class:`~survey_app.reports.models.ReportSnapshot` exactly as shown):

- ``headline_indicator``: ``"q0"`` or ``"composite"`` (``REPORT_HEADLINE`` when
  computed): which indicator carries the verdict on the overview; the other
  is shown as the explanation. Reports published before it was kept lack it
  and were read with the composite first (:mod:`.presentation`);
- ``min_n`` (``REPORT_MIN_N``), ``questionnaire`` (the version, whose file
  names the elements and items);
- ``province``: the composite index with its interval and verdict, the Q0
  share (``q0``), the elements and items; every block carries ``n`` (the
  respondents it counts: all respondents for Q0, those who answered at least
  one questionnaire item for the composite), ``n_eff``, ``n_use``, ``df``,
  ``deff`` and the reliability ``flags``;
- ``agencies``: one row per agency with responses (its own counters), with
  coverage (responses / dossiers), Cronbach's alpha per element, data-quality
  counts, the change since the previous period (of the composite in
  ``change``, of Q0 in ``q0.change``) and the counters drill-down (each with
  its composite block and its ``q0``);
- ``agencies_without_responses``: the agencies that handled dossiers in the
  period or have a counter, but got no response (never dropped);
- ``weighting``: whether dossier volumes were used, and how (:mod:`.weighting`);
- ``funnel``: the funnel plot of the headline indicator against ``n_use``: the
  points (with the agencies' names) and the control limits;
- ``estimates``: the (index, variance, df) of the composite per agency and for
  the province, which the next period's report compares with (:mod:`.estimates`);
- ``change_basis``: what the change since the previous period is measured
  against: that period's published report (``published_snapshot``, its id)
  when there is one, else its report computed now.
"""

from __future__ import annotations

import numpy as np
from flask import current_app
from sqlalchemy import select

import analysis

from ..agencies.models import Agency, Counter
from ..extensions import db
from ..surveys import screening
from ..surveys.questionnaire import DEFAULT_VERSION
from .cache import cached, remember
from .estimates import (
    TARGET,
    analyse_period,
    block,
    change_since,
    estimates_by_agency,
    estimates_json,
    headline_setting,
    min_n_setting,
    num,
    overall_estimate,
    period_summary,
    published_estimates,
    summary_of,
    summary_of_estimates,
)
from .loading import (
    agencies_without_responses,
    data_version,
    fingerprint_of,
    load_period,
    period_channel_volumes,
    period_volumes,
    quarantine_counts,
    questionnaire,
    return_channel_setting,
)
from .periods import Period
from .weighting import weighting

QUALITY_FLAGS = ("burst", "too_fast", "straight_lining", "outside_hours", "counter_differs")


def empty_report(period: Period) -> dict:
    start, end = period.window()
    first, last = period.local_days()
    return {
        "period": period.label,
        "kind": period.kind,
        "window": {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
        },
        "calendar_months": bool(current_app.config.get("REPORT_CALENDAR_MONTHS", False)),
        "target": TARGET,
        "headline_indicator": headline_setting(),
        "min_n": min_n_setting(),
        "questionnaire": current_app.config.get("QUESTIONNAIRE_VERSION", DEFAULT_VERSION),
        "empty": True,
        "n_responses": 0,
        "weighting": {"used": False, "method": None},
        "province": None,
        "agencies": [],
        "elements": [],
        "items": [],
        "funnel": None,
        "quality_totals": {},
        "coverage": {"responses": 0, "dossiers": 0},
        "agencies_without_responses": [],
        "quarantine": quarantine_counts(period),
    }


def compute_report(period: Period) -> dict:
    """The report of ``period`` for the whole province, as a JSON-ready dict.

    Computed once per process for each data version of the period and of the
    previous one (see :func:`data_version`); callers must not modify it.

    :return: see the module docstring; ``empty`` is true (and nothing else is
        estimated) when the period has no response.
    """
    screening.screen_if_due()  # what arrived since the last screening run, in its own transaction
    version = data_version(period)
    published = published_estimates(period.previous(), headline_setting())
    if published is not None:
        previous = ("published", published[0])
    else:
        previous = data_version(period.previous())
    key = ("report", version, previous)
    return cached(key, lambda: _compute_report(period, version, previous, published))


def _compute_report(
    period: Period, version: tuple, previous_version: tuple, published: tuple | None
) -> dict:
    q = questionnaire()
    out = empty_report(period)
    out["fingerprint"] = fingerprint_of(version)
    data = load_period(period, q)
    volumes = period_volumes(period)
    dossiers_by_agency: dict[int, int] = {}
    for (a, _f), v in volumes.items():
        dossiers_by_agency[a] = dossiers_by_agency.get(a, 0) + v
    out["coverage"]["dossiers"] = int(sum(volumes.values()))
    out["agencies_without_responses"] = agencies_without_responses(
        np.unique(data.responses.agency).tolist(), volumes
    )
    if data.responses.n == 0:
        remember(("summary", version), None)
        return out
    r = data.responses
    mode, assumed = return_channel_setting()
    channel_volumes = period_channel_volumes(period) if mode != "off" else None
    calibration, info = weighting(data, volumes, channel_volumes, mode, dict(assumed))
    report = analyse_period(data, calibration, q)
    summary = summary_of(report, info)
    remember(("summary", version), summary)
    out["estimates"] = estimates_json(summary)
    result = report.to_dict()
    out.update(empty=False, n_responses=r.n, weighting=info)
    out["coverage"]["responses"] = r.n
    out["elements"] = list(q.element_codes)
    out["items"] = list(q.item_codes)
    out["headline"] = result["headline"]

    province = result["overall"]
    out["province"] = block(province) | {
        "q0": block(province["items"][q.overall]),
        "elements": {e: block(b) for e, b in province["elements"].items()},
        "items": {i: block(b) for i, b in province["items"].items()},
        "dropped_items": province["dropped_items"],
    }

    # change since the previous period, per agency and for the province
    out["change_basis"] = {
        "period": period.previous().label,
        "published_snapshot": None if published is None else published[0],
    }
    if published is not None:
        before = summary_of_estimates(published[1])
    else:
        before = period_summary(period.previous(), q, previous_version)
    previous: dict[int, tuple[float, float, int]] = {}
    previous_q0: dict[int, tuple[float, float, int]] = {}
    prev_province = prev_province_q0 = None
    if before is not None:
        previous = {
            a: rec["estimate"] for a, rec in before["agencies"].items() if "estimate" in rec
        }
        previous_q0 = {
            a: rec["q0_estimate"] for a, rec in before["agencies"].items() if "q0_estimate" in rec
        }
        prev_province = before["province"]
        prev_province_q0 = before.get("province_q0")

    out["province"]["change"] = change_since(overall_estimate(report), prev_province)
    out["province"]["q0"]["change"] = change_since(
        overall_estimate(report, q.overall), prev_province_q0
    )

    # reliability, data quality, coverage per agency
    group_ids, group = np.unique(r.agency, return_inverse=True)
    n_groups = group_ids.size
    answers = r.answers
    alpha = analysis.cronbach_alpha(answers, q, group, n_groups)
    alpha_province = analysis.cronbach_alpha(answers, q)
    out["province"]["alpha"] = {
        e: num(alpha_province["alpha"][0, k]) for k, e in enumerate(q.element_codes)
    }
    signals = analysis.quality_signals(r)
    distribution = analysis.counter_distribution_test(r.agency, r.counter, answers[:, 0])
    flagged = np.asarray(distribution["flag"], dtype=bool)
    if flagged.any():
        span = int(max(r.counter.max(), np.max(distribution["counter"]))) + 1
        differing = np.unique(
            np.asarray(distribution["agency"], dtype=np.int64)[flagged] * span
            + np.asarray(distribution["counter"], dtype=np.int64)[flagged]
        )
        signals["counter_differs"] = np.isin(r.agency * span + r.counter, differing)
    else:
        signals["counter_differs"] = np.zeros(r.n, dtype=bool)
    flag_counts = {
        name: np.bincount(group, weights=signals[name].astype(float), minlength=n_groups)
        for name in QUALITY_FLAGS
        if name in signals
    }
    out["quality_totals"] = {name: int(signals[name].sum()) for name in flag_counts}
    counts = np.bincount(group, minlength=n_groups)

    # counters drill-down, with the same weights
    by_counter = analyse_period(data, calibration, q, by=("agency", "counter")).groups
    q0_column = by_counter.column(q.overall)
    counters_of: dict[int, list[dict]] = {}
    for g, (a, c) in enumerate(
        zip(by_counter.keys["agency"], by_counter.keys["counter"], strict=True)
    ):
        counters_of.setdefault(int(a), []).append(
            {"counter_id": int(c)}
            | block(by_counter.block(g, 0))
            | {"q0": block(by_counter.block(g, q0_column))}
        )

    meta = {
        a.id: a for a in db.session.scalars(select(Agency).where(Agency.id.in_(group_ids.tolist())))
    }
    counter_names = dict(
        db.session.execute(
            select(Counter.id, Counter.name).where(Counter.id.in_(np.unique(r.counter).tolist()))
        ).all()
    )
    estimates = estimates_by_agency(report)
    q0_estimates = estimates_by_agency(report, q.overall)
    rows = []
    for rec in result["groups"]:
        a = int(rec["agency"])
        agency = meta[a]
        k = int(np.searchsorted(group_ids, a))
        dossiers = dossiers_by_agency.get(a, 0)
        for c in counters_of.get(a, []):
            c["name"] = counter_names.get(c["counter_id"], str(c["counter_id"]))
        rows.append(
            {
                "agency_id": a,
                "code": agency.code,
                "name": agency.name,
                "parent_id": agency.parent_id,
                "path": agency.path,
                **block(rec),
                "q0": block(rec["items"][q.overall])
                | {"change": change_since(q0_estimates[a], previous_q0.get(a))},
                "elements": {e: block(b) for e, b in rec["elements"].items()},
                "items": {i: block(b) for i, b in rec["items"].items()},
                "dropped_items": rec["dropped_items"],
                "responses": int(counts[k]),
                "dossiers": dossiers,
                "coverage": (counts[k] / dossiers) if dossiers else None,
                "alpha": {e: num(alpha["alpha"][k, j]) for j, e in enumerate(q.element_codes)},
                "quality": {name: int(v[k]) for name, v in flag_counts.items()},
                "quarantined": out["quarantine"]["by_agency"].get(str(a), 0),
                "change": change_since(estimates[a], previous.get(a)),
                "counters": sorted(counters_of.get(a, []), key=lambda c: c["name"]),
            }
        )
    rows.sort(key=lambda row: row["path"])
    out["agencies"] = rows
    out["agency_names"] = {str(a): meta[a].name for a in meta}
    out["funnel"] = funnel(rows, TARGET, out["headline_indicator"])
    return out


def funnel(
    rows: list[dict], p0: float = TARGET, indicator: str | None = None, size: str = "n_use"
) -> dict | None:
    """Points and control limits (95%, 99.8%) for the funnel plot of ``rows``.

    :param indicator: ``"composite"`` (the rows' own blocks) or ``"q0"``; by
        default the headline (``REPORT_HEADLINE``).
    :param size: the x axis, ``"n_use"`` (the effective size capped at the
        respondents, ANALYSIS.md; the default) or ``"n_eff"``; the result names it
        in ``size`` and holds the grid under that key (``n_eff`` when absent).
    :return: ``indicator``, ``size``, the points (``agency_id``, ``code``,
        ``name``, the size, ``index``), the grid and the limits; None without a
        point.
    """
    indicator = indicator or headline_setting()
    points = []
    for r in rows:
        b = (r.get("q0") or {}) if indicator == "q0" else r
        x = b.get(size)
        if x and b.get("index") is not None and np.isfinite(x) and x > 0:
            points.append(
                {
                    "agency_id": r["agency_id"],
                    "code": r["code"],
                    "name": r["name"],
                    size: x,
                    "index": b["index"],
                }
            )
    if not points:
        return None
    top = max(p[size] for p in points) * 1.1
    grid = np.unique(np.geomspace(max(5.0, min(p[size] for p in points) * 0.8), top, 40))
    limits = analysis.funnel_limits(grid, p0=p0)
    return {
        "indicator": indicator,
        "size": size,
        "points": points,
        size: grid.tolist(),
        "limits": {
            str(level): {"lower": lo.tolist(), "upper": hi.tolist()}
            for level, (lo, hi) in limits.items()
        },
    }


def visible_rows(report: dict, user, key: str = "agencies") -> list[dict]:
    """The report's agency rows inside ``user``'s scope.

    :param key: ``"agencies"`` (those with responses) or
        ``"agencies_without_responses"`` (absent from reports published before
        they were listed: empty).
    """
    rows = report.get(key) or []
    if user.sees_whole_province:
        return rows
    if user.agency is None:
        return []
    prefix = user.agency.path
    return [row for row in rows if row["path"].startswith(prefix)]


def agency_row(report: dict, agency_id: int) -> dict | None:
    for row in report["agencies"]:
        if row["agency_id"] == agency_id:
            return row
    return None
