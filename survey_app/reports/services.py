"""Satisfaction reports from the database: load, weight, analyse, package as JSON.

A report is a plain JSON-ready dict (so a published one can be frozen in a
:class:`~survey_app.reports.models.ReportSnapshot` exactly as shown):

- ``province``: the composite index with its interval and verdict, the Q0
  share, the elements and items;
- ``agencies``: one row per agency with responses (its own counters), with
  coverage (responses / dossiers), Cronbach's alpha per element, data-quality
  counts, the change since the previous period and the counters drill-down;
- ``weighting``: whether dossier volumes were used, and how;
- ``funnel``: the control limits for the funnel plot;
- ``estimates``: the (index, variance, df) of the composite per agency and for
  the province, which the next period's report compares with;
- ``change_basis``: what the change since the previous period is measured
  against: that period's published report (``published_snapshot``, its id)
  when there is one, else its report computed now.

**The previous period.** The change since the previous period is measured
against what was published for it: the ``estimates`` of its latest published
snapshot (so a late response in a closed month does not move a figure
leaders were already shown, and nothing of that period is loaded). Without
a published snapshot that keeps its estimates, the previous period is
loaded and analysed by agency (:func:`period_summary`).

**Weighting.** When the one-stop system's dossier volumes are known for the
period, responses are post-stratified to them
(:func:`analysis.poststratify`). Only responses that came through a receipt
link know their procedure field, so the cells are chosen per agency by the
rule the analysts' CLI applies too (:func:`analysis.volumes.agency_level_cells`):
when every response of an agency has a field with a positive volume, its
cells are agency × field; otherwise the agency is one cell with its total
volume (the field mix of the untagged responses is unknown, and splitting
the volume would be a guess). Within an agency, a single cell only rescales the weights,
so the agency's index is unchanged, while the province index then counts
each agency in proportion to the dossiers it handled. If any responding
agency has no volume for the period the report is **not** weighted (a
partial weighting would mix dossier-scaled and response-scaled weights) and
``weighting`` lists those agencies. A volume row for month M counts the
dossiers of reporting month M, under whichever month convention is set.

Staff-flagged responses (sent from a browser where staff were logged in)
are left out, and so are responses quarantined by the ballot-stuffing
screening (:mod:`survey_app.surveys.screening`, run first by
:func:`compute_report`); ``quarantine`` says how many.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from flask import current_app
from sqlalchemy import BigInteger, Float, and_, case, cast, extract, func, literal_column, select

import analysis
from analysis import Calibration, Questionnaire, Report
from analysis.volumes import Volumes, agency_level_cells

from ..agencies.models import Agency, Counter, DossierVolume, Procedure
from ..extensions import db
from ..surveys import screening
from ..surveys.models import Answer, Response
from ..surveys.questionnaire import DEFAULT_VERSION, QUESTIONNAIRE_DIR
from .periods import Period

#: The satisfaction target of the plan.
TARGET = 0.90
#: Comments shown per agency page (a fair sample: :mod:`survey_app.reports.comments`).
COMMENT_LIMIT = 50
#: Comments of quarantined responses shown after the sample, marked, per agency.
QUARANTINED_COMMENT_LIMIT = 5
QUALITY_FLAGS = ("burst", "too_fast", "straight_lining", "outside_hours", "counter_differs")


def questionnaire() -> Questionnaire:
    """The analysis view of the configured questionnaire version."""
    version = current_app.config.get("QUESTIONNAIRE_VERSION", DEFAULT_VERSION)
    return analysis.load_questionnaire(Path(QUESTIONNAIRE_DIR) / f"{version}.json")


# -- loading --------------------------------------------------------------------------------


@dataclass
class PeriodData:
    """The responses of one period as arrays, plus what the report needs around them."""

    responses: analysis.Responses
    field: np.ndarray  # procedure field id per response, -1 when unknown
    duration: np.ndarray  # seconds from page shown to last step, NaN when unknown


def _window_filter(period: Period, agency_ids=None, *, quarantined: bool | None = False):
    """The period's responses sent by citizens (not staff-flagged).

    :param quarantined: ``False`` (default) leaves out the quarantined ones, as every
        figure does; ``True`` keeps only those; ``None`` keeps both.
    """
    start, end = period.window()
    conditions = [
        Response.submitted_at >= start,
        Response.submitted_at < end,
        Response.staff_flag.is_(False),
    ]
    if quarantined is not None:
        conditions.append(Response.quarantined.is_(quarantined))
    if agency_ids is not None:
        conditions.append(Response.agency_id.in_(list(agency_ids)))
    return and_(*conditions)


def _epoch(column):
    """Seconds since 1970 (UTC) of a ``UTCDateTime`` column, computed by the database."""
    if db.session.get_bind().dialect.name == "sqlite":  # naive UTC text
        return (func.julianday(column) - 2440587.5) * 86400.0
    return cast(extract("epoch", column), Float)


def _arrays(statement, dtype: list[tuple[str, str]]) -> np.ndarray:
    """The rows of a Core ``statement`` as a structured array, streamed from the DB-API
    cursor (no Row objects, no per-value type processing)."""
    result = db.session.connection().execute(statement)
    try:
        return np.fromiter(result.cursor, dtype=np.dtype(dtype))
    finally:
        result.close()


#: Answers packed per response by the database: 3 bits per item (values 1–5, 0 when
#: missing), 21 items to a 64-bit integer.
_PACK_BITS, _PACK_ITEMS = 3, 21


def _packed_answers(codes: tuple[str, ...]) -> list:
    """Correlated subqueries that pack each response's answers into integers.

    One per 21 items: ``SUM(value · 8^k)`` over the response's answer rows,
    ``k`` the item's place in its pack (primary key ``(response_id,
    item_code)``, so each item is added at most once and the sum never carries).
    Answers "not applicable" (NULL) and item codes of no column add nothing.
    """
    items = list(enumerate(codes))[1:]  # Q0 lives on the response
    packs = []
    for first in range(0, len(items), _PACK_ITEMS):
        chunk = items[first : first + _PACK_ITEMS]
        column = case(
            {
                code: cast(Answer.value, BigInteger) * literal_column(str(1 << (_PACK_BITS * k)))
                for k, (_j, code) in enumerate(chunk)
            },
            value=Answer.item_code,
            else_=0,
        )
        packs.append(
            func.coalesce(
                select(cast(func.sum(column), BigInteger))
                .where(Answer.response_id == Response.id)
                .scalar_subquery(),
                0,
            )
        )
    return packs


def load_period(
    period: Period, q: Questionnaire | None = None, agency_ids=None, *, details: bool = True
) -> PeriodData:
    """Responses of ``period`` (not staff-flagged) and their answers as arrays.

    One Core query that returns numbers only — times as epoch seconds, each
    response's answers packed into integers by the database
    (:func:`_packed_answers`) — streamed from the cursor into numpy and
    unpacked with array shifts. No ORM objects, no per-row Python, and one
    row per response rather than one per answer.

    :param agency_ids: only these agencies (default: all).
    :param details: also the counters and the times (submission, duration),
        which the quality signals and the drill-down need; without them only
        what the weighting and the indices use (agency, field, answers).
    """
    q = q or questionnaire()
    where = _window_filter(period, agency_ids)
    codes = q.item_codes
    packs = _packed_answers(codes)
    columns = [Response.id, Response.agency_id]
    dtype = [("id", "i8"), ("agency", "i8")]
    if details:
        columns += [
            Response.counter_id,
            _epoch(Response.submitted_at),
            _epoch(Response.started_at),
            _epoch(Response.completed_at),
        ]
        dtype += [("counter", "i8"), ("submitted", "f8"), ("started", "f8"), ("completed", "f8")]
    columns += [Response.overall, func.coalesce(Procedure.field_id, -1), *packs]
    dtype += [("overall", "i1"), ("field", "i8")] + [(f"pack{k}", "i8") for k in range(len(packs))]
    rows = _arrays(
        select(*columns)
        .outerjoin(Procedure, Procedure.id == Response.procedure_id)
        .where(where)
        .order_by(Response.id),
        dtype,
    )
    n = rows.size
    answers = np.zeros((n, len(codes)), dtype=np.int8)
    if n == 0:
        empty = analysis.Responses(answers, codes, np.zeros(0, dtype=np.int64))
        return PeriodData(empty, np.zeros(0, dtype=np.int64), np.zeros(0))
    answers[:, 0] = rows["overall"]
    shifts = _PACK_BITS * np.arange(_PACK_ITEMS, dtype=np.int64)
    mask = (1 << _PACK_BITS) - 1
    for k in range(len(packs)):
        first = 1 + k * _PACK_ITEMS
        width = min(_PACK_ITEMS, len(codes) - first)
        unpacked = (rows[f"pack{k}"][:, None] >> shifts[:width]) & mask
        answers[:, first : first + width] = unpacked
    ids = rows["id"].copy()
    if not details:
        responses = analysis.Responses(
            answers=answers, item_codes=codes, agency=rows["agency"].copy(), response_id=ids
        )
        return PeriodData(responses, rows["field"].copy(), np.full(n, np.nan))
    # whole seconds (julianday's rounding error is far below a millisecond)
    submitted = np.floor(rows["submitted"] + 1e-3)
    end = np.where(np.isnan(rows["completed"]), rows["submitted"], rows["completed"])
    responses = analysis.Responses(
        answers=answers,
        item_codes=codes,
        agency=rows["agency"].copy(),
        submitted_at=submitted.astype("datetime64[s]"),
        response_id=ids,
        counter=rows["counter"].copy(),
    )
    duration = end - rows["started"]
    responses.extra["duration_seconds"] = duration
    return PeriodData(responses, rows["field"].copy(), duration)


def period_volumes(period: Period) -> dict[tuple[int, int], int]:
    """Dossiers per (agency id, field id) over the months of ``period``."""
    rows = db.session.execute(
        select(DossierVolume.agency_id, DossierVolume.field_id, func.sum(DossierVolume.dossiers))
        .where(DossierVolume.month.in_(period.months()))
        .group_by(DossierVolume.agency_id, DossierVolume.field_id)
    ).all()
    return {(a, f): int(total or 0) for a, f, total in rows}


def fingerprint(period: Period) -> dict:
    """What the report's inputs were: response count, highest id, volumes checksum.

    Comparing fingerprints tells whether a report would still come out the same.
    """
    count, max_id = db.session.execute(
        select(func.count(Response.id), func.max(Response.id)).where(_window_filter(period))
    ).one()
    return {"responses": int(count), "max_id": int(max_id or 0), "volumes": _volumes_digest(period)}


def _fingerprint_of(version: tuple) -> dict:
    """:func:`fingerprint` from a :func:`data_version` of the same period (read together)."""
    return {"responses": version[4], "max_id": version[6], "volumes": version[8]}


def _volumes_digest(period: Period) -> str:
    volumes = sorted(period_volumes(period).items())
    return hashlib.sha256(json.dumps(volumes).encode()).hexdigest()[:16]


# -- the per-process cache ------------------------------------------------------------------
#
# Browsing one period (the province page, its sort orders, the agency pages,
# the downloads) would otherwise re-run the analysis on every request. Results
# are kept per process, keyed by the period and a cheap *data version* of its
# window, so a worker never serves a result computed from other data and no
# state is shared between workers.

#: Results kept per process (least recently used dropped first).
CACHE_SIZE = 48
_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()


def data_version(period: Period) -> tuple:
    """A cheap key that changes whenever the period's report could change.

    One aggregate query over the window (count, sum and maximum of the ids of
    the non-staff responses, latest ``completed_at`` — set whenever details
    or a comment are added) and the volumes' checksum, plus the settings the
    report depends on and the database it comes from.
    """
    count, id_sum, max_id, completed = db.session.execute(
        select(
            func.count(Response.id),
            func.sum(Response.id),
            func.max(Response.id),
            func.max(Response.completed_at),
        ).where(_window_filter(period))
    ).one()
    return (
        str(db.engine.url),
        period.label,
        bool(current_app.config.get("REPORT_CALENDAR_MONTHS", False)),
        current_app.config.get("QUESTIONNAIRE_VERSION", DEFAULT_VERSION),
        int(count),
        int(id_sum or 0),
        int(max_id or 0),
        str(completed),
        _volumes_digest(period),
    )


def _cached(key: tuple, compute):
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    value = compute()
    _remember(key, value)
    return value


def _remember(key: tuple, value) -> None:
    with _cache_lock:
        _cache[key] = value
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)


def forget_cached_reports() -> None:
    """Empty this process's cache (for tests that empty the tables)."""
    with _cache_lock:
        _cache.clear()


# -- weighting ------------------------------------------------------------------------------


def weighting(data: PeriodData, volumes: dict[tuple[int, int], int]):
    """Post-stratification to dossier volumes (see the module docstring).

    :return: ``(calibration or None, description dict)``.
    """
    r = data.responses
    by_agency: dict[int, int] = {}
    for (a, _f), v in volumes.items():
        by_agency[a] = by_agency.get(a, 0) + v
    agencies = np.unique(r.agency)
    missing = [int(a) for a in agencies if by_agency.get(int(a), 0) <= 0]
    info = {
        "used": False,
        "method": None,
        "agency_field_cells": 0,
        "agency_cells": 0,
        "agencies_without_volume": missing,
        "coverage_gaps": 0,
    }
    if not volumes or missing or r.n == 0:
        return None, info
    # the rule shared with the CLI (analysis.volumes.agency_level_cells), on the
    # responding agencies' positive volumes
    keys = sorted(k for k, v in volumes.items() if v > 0 and k[0] in set(agencies.tolist()))
    cells = Volumes(
        agency=np.array([a for a, _f in keys], dtype=np.int64),
        procedure_field=np.array([str(f) for _a, f in keys], dtype=str),
        dossiers=np.array([volumes[k] for k in keys], dtype=np.float64),
        line=np.arange(len(keys), dtype=np.int64),
    )
    # the rule only looks at the distinct (agency, field) pairs: applied to those, then
    # mapped back to the responses (string labels for 5,000 pairs, not for 10⁶ responses)
    span = int(max(data.field.max(initial=0), 0)) + 2
    pairs, inverse = np.unique(r.agency * span + data.field + 1, return_inverse=True)
    pair_agency, pair_field = pairs // span, pairs % span - 1
    known = np.where(pair_field >= 0, pair_field.astype(str), "")
    cells, known, merged = agency_level_cells(pair_agency, known, None, cells)
    field = np.where(known == "", -1, pair_field)[inverse.ravel()]
    cell_field = np.array([int(f) if f else -1 for f in cells.procedure_field], dtype=np.int64)
    span = int(max(field.max(initial=0), cell_field.max(initial=0))) + 2
    cell_key = cells.agency * span + cell_field + 1
    order = np.argsort(cell_key)
    pos = np.searchsorted(cell_key[order], r.agency * span + field + 1)
    cell = order[np.minimum(pos, order.size - 1)]
    calibration = analysis.poststratify(np.ones(r.n), cell, cells.dossiers)
    info.update(
        used=True,
        method="poststratify",
        agency_field_cells=int(cells.agency.size - len(merged)),
        agency_cells=len(merged),
        coverage_gaps=int(calibration.coverage_gaps.size),
    )
    return calibration, info


# -- the report -----------------------------------------------------------------------------


def _block(rec: dict) -> dict:
    keys = ("n", "n_eff", "index", "se", "ci_low", "ci_high", "p_below", "p_above", "verdict")
    return {k: rec.get(k) for k in keys} | {"flags": rec.get("flags", [])}


def _analyse(data: PeriodData, calibration: Calibration | None, q, by=("agency",)) -> Report:
    return analysis.analyse(
        data.responses, q, by=by, calibration=calibration, p0=TARGET, cutoff_day=None
    )


def _estimates_by_agency(report: Report) -> dict[int, tuple[float, float, int]]:
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
        "quarantine": quarantine_counts(period),
    }


def quarantine_counts(period: Period) -> dict:
    """Responses of ``period`` left out as quarantined: in all, and per agency id."""
    rows = db.session.execute(
        select(Response.agency_id, func.count())
        .where(_window_filter(period, quarantined=True))
        .group_by(Response.agency_id)
    ).all()
    by_agency = {str(a): int(n) for a, n in rows}
    return {"responses": sum(by_agency.values()), "by_agency": by_agency}


def compute_report(period: Period) -> dict:
    """The report of ``period`` for the whole province, as a JSON-ready dict.

    Computed once per process for each data version of the period and of the
    previous one (see :func:`data_version`); callers must not modify it.

    :return: see the module docstring; ``empty`` is true (and nothing else is
        estimated) when the period has no response.
    """
    screening.screen_if_due()  # what arrived since the last screening run, in its own transaction
    version = data_version(period)
    published = _published_estimates(period.previous())
    if published is not None:
        previous = ("published", published[0])
    else:
        previous = data_version(period.previous())
    key = ("report", version, previous)
    return _cached(key, lambda: _compute_report(period, version, previous, published))


def _published_estimates(period: Period) -> tuple[int, dict] | None:
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


def _estimates_json(summary: dict) -> dict:
    """A :func:`period_summary`'s estimates as JSON (NaN as null)."""

    def triple(t):
        return [_num(t[0]), _num(t[1]), int(t[2])]

    return {
        "weighted": summary["weighted"],
        "province": triple(summary["province"]),
        "agencies": {str(a): triple(rec["estimate"]) for a, rec in summary["agencies"].items()},
    }


def _summary_of_estimates(estimates: dict) -> dict:
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


def _summary(report: Report, info: dict) -> dict:
    """What the trend and the change since the previous period need from one analysis."""
    estimates = _estimates_by_agency(report)
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
        return _summary(_analyse(data, calibration, qq), info)

    return _cached(("summary", version), compute)


def _compute_report(
    period: Period, version: tuple, previous_version: tuple, published: tuple | None
) -> dict:
    q = questionnaire()
    out = empty_report(period)
    out["fingerprint"] = _fingerprint_of(version)
    data = load_period(period, q)
    volumes = period_volumes(period)
    dossiers_by_agency: dict[int, int] = {}
    for (a, _f), v in volumes.items():
        dossiers_by_agency[a] = dossiers_by_agency.get(a, 0) + v
    out["coverage"]["dossiers"] = int(sum(volumes.values()))
    if data.responses.n == 0:
        _remember(("summary", version), None)
        return out
    r = data.responses
    calibration, info = weighting(data, volumes)
    report = _analyse(data, calibration, q)
    summary = _summary(report, info)
    _remember(("summary", version), summary)
    out["estimates"] = _estimates_json(summary)
    result = report.to_dict()
    out.update(empty=False, n_responses=r.n, weighting=info)
    out["coverage"]["responses"] = r.n
    out["elements"] = list(q.element_codes)
    out["items"] = list(q.item_codes)
    out["headline"] = result["headline"]

    province = result["overall"]
    out["province"] = _block(province) | {
        "q0": _block(province["items"][q.overall]),
        "elements": {e: _block(b) for e, b in province["elements"].items()},
        "items": {i: _block(b) for i, b in province["items"].items()},
        "dropped_items": province["dropped_items"],
    }

    # change since the previous period, per agency and for the province
    out["change_basis"] = {
        "period": period.previous().label,
        "published_snapshot": None if published is None else published[0],
    }
    if published is not None:
        before = _summary_of_estimates(published[1])
    else:
        before = period_summary(period.previous(), q, previous_version)
    previous: dict[int, tuple[float, float, int]] = {}
    prev_province = None
    if before is not None:
        previous = {a: rec["estimate"] for a, rec in before["agencies"].items()}
        prev_province = before["province"]

    def change(now: tuple, before: tuple | None):
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
            "previous": _num(before[0]),
            "difference": _num(ch["difference"][0]),
            "se": _num(ch["se"][0]),
            "p_value": _num(ch["p_value"][0]),
            "significant": bool(ch["significant"][0]),
        }

    st = report.overall.stats
    out["province"]["change"] = change(
        (st["index"][0, 0], st["variance"][0, 0], int(st["df"][0, 0])), prev_province
    )

    # reliability, data quality, coverage per agency
    group_ids, group = np.unique(r.agency, return_inverse=True)
    n_groups = group_ids.size
    answers = r.answers
    alpha = analysis.cronbach_alpha(answers, q, group, n_groups)
    alpha_province = analysis.cronbach_alpha(answers, q)
    out["province"]["alpha"] = {
        e: _num(alpha_province["alpha"][0, k]) for k, e in enumerate(q.element_codes)
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
    by_counter = _analyse(data, calibration, q, by=("agency", "counter")).groups
    counters_of: dict[int, list[dict]] = {}
    for g, (a, c) in enumerate(
        zip(by_counter.keys["agency"], by_counter.keys["counter"], strict=True)
    ):
        counters_of.setdefault(int(a), []).append(
            {"counter_id": int(c)} | _block(by_counter.block(g, 0))
        )

    meta = {
        a.id: a for a in db.session.scalars(select(Agency).where(Agency.id.in_(group_ids.tolist())))
    }
    counter_names = dict(
        db.session.execute(
            select(Counter.id, Counter.name).where(Counter.id.in_(np.unique(r.counter).tolist()))
        ).all()
    )
    estimates = _estimates_by_agency(report)
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
                **_block(rec),
                "q0": _block(rec["items"][q.overall]),
                "elements": {e: _block(b) for e, b in rec["elements"].items()},
                "items": {i: _block(b) for i, b in rec["items"].items()},
                "dropped_items": rec["dropped_items"],
                "responses": int(counts[k]),
                "dossiers": dossiers,
                "coverage": (counts[k] / dossiers) if dossiers else None,
                "alpha": {e: _num(alpha["alpha"][k, j]) for j, e in enumerate(q.element_codes)},
                "quality": {name: int(v[k]) for name, v in flag_counts.items()},
                "quarantined": out["quarantine"]["by_agency"].get(str(a), 0),
                "change": change(estimates[a], previous.get(a)),
                "counters": sorted(counters_of.get(a, []), key=lambda c: c["name"]),
            }
        )
    rows.sort(key=lambda row: row["path"])
    out["agencies"] = rows
    out["agency_names"] = {str(a): meta[a].name for a in meta}
    out["funnel"] = funnel(rows)
    return out


def funnel(rows: list[dict], p0: float = TARGET) -> dict | None:
    """Points and control limits (95%, 99.8%) for the funnel plot of ``rows``."""
    points = [
        {"agency_id": r["agency_id"], "code": r["code"], "n_eff": r["n_eff"], "index": r["index"]}
        for r in rows
        if r["n_eff"] and r["index"] is not None and np.isfinite(r["n_eff"]) and r["n_eff"] > 0
    ]
    if not points:
        return None
    top = max(p["n_eff"] for p in points) * 1.1
    grid = np.unique(np.geomspace(max(5.0, min(p["n_eff"] for p in points) * 0.8), top, 40))
    limits = analysis.funnel_limits(grid, p0=p0)
    return {
        "points": points,
        "n_eff": grid.tolist(),
        "limits": {
            str(level): {"lower": lo.tolist(), "upper": hi.tolist()}
            for level, (lo, hi) in limits.items()
        },
    }


def _num(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


# -- per agency -----------------------------------------------------------------------------


def visible_rows(report: dict, user) -> list[dict]:
    """The report's agency rows inside ``user``'s scope."""
    if user.sees_whole_province:
        return report["agencies"]
    if user.agency is None:
        return []
    prefix = user.agency.path
    return [row for row in report["agencies"] if row["path"].startswith(prefix)]


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


def comments(agency: Agency, period: Period, limit: int = COMMENT_LIMIT) -> list[dict]:
    """The period's comments at the agency's own counters: :func:`period_comments`."""
    return period_comments(period, [agency.id], limit).get(agency.id, [])


def period_comments(
    period: Period, agency_ids=None, limit: int = COMMENT_LIMIT
) -> dict[int, list[dict]]:
    """A fair sample of each agency's comments in ``period``, personal data removed, with
    the day but not the time, and no counter that could point to one person
    (:func:`survey_app.reports.comments.sample`, which also counts them).

    :param agency_ids: only these agencies (default: all).
    :return: agency id → ``day, counter, overall, text, quarantined`` dicts.
    """
    from . import comments as sampled

    return {a: found["shown"] for a, found in sampled.sample(period, agency_ids, limit).items()}


def frozen_comments(results: dict, agency_id: int) -> list[dict] | None:
    """A published report's comments of one agency (None if it froze none)."""
    from . import comments as sampled

    found = sampled.frozen(results, agency_id)
    return None if found is None else found["shown"]


def agency_row(report: dict, agency_id: int) -> dict | None:
    for row in report["agencies"]:
        if row["agency_id"] == agency_id:
            return row
    return None


def compare(snapshot_results: dict, live: dict) -> dict:
    """What changed between a published report and the same period recomputed now.

    :return: ``new_responses`` (live minus published count), ``inputs_changed``
        and per agency the index then and now and the difference.
    """
    then = {row["agency_id"]: row for row in snapshot_results.get("agencies", [])}
    now = {row["agency_id"]: row for row in live.get("agencies", [])}
    rows = []
    for agency_id in sorted(
        set(then) | set(now), key=lambda a: (now.get(a) or then.get(a))["path"]
    ):
        a, b = then.get(agency_id), now.get(agency_id)
        before = a["index"] if a else None
        after = b["index"] if b else None
        rows.append(
            {
                "agency_id": agency_id,
                "name": (b or a)["name"],
                "path": (b or a)["path"],
                "n_then": a["n"] if a else 0,
                "n_now": b["n"] if b else 0,
                "index_then": before,
                "index_now": after,
                "difference": (after - before)
                if before is not None and after is not None
                else None,
                "verdict_then": a["verdict"] if a else None,
                "verdict_now": b["verdict"] if b else None,
            }
        )
    return {
        "new_responses": live.get("n_responses", 0) - snapshot_results.get("n_responses", 0),
        "inputs_changed": snapshot_results.get("fingerprint") != live.get("fingerprint"),
        "agencies": rows,
    }


# -- snapshots ------------------------------------------------------------------------------


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
        from . import comments as sampled

        frozen["comments"] = {str(a): found for a, found in sampled.sample(period, ids).items()}
        frozen["trends"] = {str(a): points for a, points in trends(period, ids).items()}
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
