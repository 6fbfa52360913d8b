"""Feedback performance and one-stop indicators per agency, beside satisfaction.

Issue 16, point 8. Counts only: nothing here reads a case's text, its
submitter or its contact details, so the figures may go wherever the
satisfaction figures go (province report readers included).

**Feedback cases (phản ánh, kiến nghị)** of the period, per agency:

- *received*: cases whose receipt (``received_at``) falls in the period and
  that were at the agency at any time (routed there on receipt, transferred
  to it, or transferred away from it). A case that passed through two
  agencies counts at both; the province row counts it once. Complaints and
  denunciations redirected out of the process are not counted.
- *answered*: cases answered in the period while at the agency (an
  ``answered`` step dated in the period). A case answered more than once in
  the period (an answer sent back before approval, a reopened case) counts
  once, with its last answer in the period.
- *the answer clock* of an answer starts on the day the case was accepted,
  transferred to the agency, or reopened, whichever came last before the
  answer (the start the workflow gives the answer deadline). Its legal time
  is ``FEEDBACK_ANSWER_DAYS`` working days after that day plus the extension
  granted in that step. Waiting for the citizen's extra information happens
  during screening, before the clock starts, so it is never counted.
- *answered within the legal time*: answered cases whose answer day is on or
  before the due date of that clock.
- *median working days to answer*: over the answered cases, the working days
  from the start of the answer clock to the answer (weekends, public
  holidays and the admins' calendar changes left out, by the same calendar
  as every deadline: :func:`survey_app.feedback.workflow.work_calendar`).
- *overdue now*: cases now at the agency and waiting for it (submitted,
  screening, transferred to it, accepted, assigned, in progress) whose due
  date has passed, counted on the day the figures are computed (``as_of``),
  whenever they were received. Cases waiting for the coordinators' approval
  or publication are not the agency's; the province row adds the cases in
  the coordinators' queue.
- *reopened*: cases reopened in the period (the citizen disagreed with the
  published answer, or a closed case was taken up again) while at the agency.
- *transferred away* and *days charged for misrouting*: transfers away from
  the agency in the period (it was not the competent agency) and the working
  days those cases had spent there, as the workflow recorded them on the
  transfer (:func:`survey_app.feedback.workflow.transition`).

**One-stop indicators** (TT 01/2018/TT-VPCP Art. 13) from the survey's two
factual questions, per agency over the period's responses (staff-flagged
responses left out, as in the satisfaction figures): the share of those who
answered the question who needed *one trip or fewer* (none: online; one),
and who contacted *one agency only*. Respondents' shares, not weighted to
dossier volumes, with the Clopper–Pearson interval (``analysis.infer`` on a
simple random sample gives exactly that interval), the NCHS low-reliability
flags of the satisfaction figures, and *too few answers* (no interval) below
``REPORT_MIN_N`` (default ``analysis``'s 10).

**Dossiers settled on time** (issue 18; the plan's II.3.c wants 95–100 %), per
agency from the one-stop system's figures (CSV import and API,
:mod:`survey_app.agencies.dossiers`), days and sources summed over the
period's months: dossiers received, resolved, resolved on time (early
included) and late, and the on-time rate ``resolved_on_time / resolved`` over
the figures that classify their resolved dossiers (the rest of those are
neither on time nor late: counted against the rate, as the one-stop reports
do). These are counts of every dossier, not a sample: no interval. Under
:data:`SMALL_COUNT` resolved dossiers the rate is shown as a count and gets no
verdict against the target (``DOSSIER_ON_TIME_TARGET``, default 95 %). Each row
carries the agency's satisfaction headline from the report (``satisfaction``)
so the two are read side by side.

**Channel mix**: the period's responses per survey channel (poster, receipt,
kiosk, web, invite) and per return channel of the dossier (counter, online,
post, unknown), beside the dossiers' own return-channel mix (and those whose
figures give no channel), per agency and for the province, with shares of 1.

**Small numbers**: a share whose denominator is under :data:`SMALL_COUNT` is
shown as a count ("3/7"), never as a percentage.

Everything is read by a few aggregate queries (:mod:`.kpi_feedback` for the
cases); the per-answer arithmetic (working days, due dates, medians) runs on
numpy arrays with :class:`~.kpi_feedback.WorkdayIndex`, the calendar's
arithmetic over arrays.
"""

from __future__ import annotations

import numpy as np
from flask import current_app
from sqlalchemy import func, or_, select

import analysis
from analysis.intervals import DEFAULT_MIN_N, LOW_RELIABILITY

from ..agencies.dossiers import period_figures
from ..agencies.models import ALL_CHANNELS, Agency
from ..core.time import local_today
from ..extensions import db
from ..feedback.workflow import Durations
from ..surveys.models import Response
from .assembly import visible_rows
from .cache import cached
from .estimates import TARGET
from .kpi_feedback import feedback, feedback_version
from .loading import (
    RETURN_CHANNELS,
    SURVEY_CHANNELS,
    _arrays,
    _code_of,
    data_version,
    window_filter,
)
from .periods import Period

#: Below this denominator a share is shown as a count, never as a percentage.
SMALL_COUNT = 10
FEEDBACK_KEYS = (
    "received",
    "answered",
    "on_time",
    "median_days",
    "overdue",
    "reopened",
    "transferred_away",
    "misrouting_days",
)
ONE_STOP_KEYS = ("one_trip", "one_agency")
#: Return channels of the dossiers in the channel mix: the three, and ``all`` for the
#: figures that give none.
DOSSIER_CHANNELS = (*RETURN_CHANNELS, ALL_CHANNELS)


def on_time_target() -> float:
    """The plan's target for dossiers settled on time (``DOSSIER_ON_TIME_TARGET``)."""
    return float(current_app.config.get("DOSSIER_ON_TIME_TARGET", 0.95))


def _survey_side(period: Period) -> tuple:
    """What the period's responses say beyond satisfaction: the one-stop answers
    (:func:`_one_stop`) and the responses per agency, survey channel and return channel
    (``{agency: (survey counts, return counts)}``, the last return count the unknown)."""
    rows = _arrays(
        select(
            Response.agency_id,
            _code_of(Response.channel, SURVEY_CHANNELS),
            _code_of(Response.return_channel, RETURN_CHANNELS),
        ).where(window_filter(period)),
        [("agency", "i8"), ("survey", "i8"), ("returned", "i8")],
    )
    ids, group = np.unique(rows["agency"], return_inverse=True)
    group = group.ravel()
    n_survey, n_return = len(SURVEY_CHANNELS), len(RETURN_CHANNELS) + 1
    survey = np.bincount(
        group * n_survey + np.maximum(rows["survey"], 0), minlength=ids.size * n_survey
    ).reshape(ids.size, n_survey)
    returned = np.where(rows["returned"] < 0, n_return - 1, rows["returned"])
    back = np.bincount(group * n_return + returned, minlength=ids.size * n_return).reshape(
        ids.size, n_return
    )
    channels = {int(a): (survey[k].tolist(), back[k].tolist()) for k, a in enumerate(ids.tolist())}
    return _one_stop(period), channels


def _dossier_figures(period: Period) -> dict[int, dict]:
    """The one-stop figures of ``period`` per agency: received, resolved, timed (the
    resolved ones classified on time or late), on time, late, and received per return
    channel (``by_channel``, keys of :data:`DOSSIER_CHANNELS`)."""
    out: dict[int, dict] = {}
    for (a, _f, channel), v in period_figures(period.months(), by_channel=True).items():
        row = out.setdefault(
            a,
            {
                "received": 0,
                "resolved": None,
                "timed": 0,
                "on_time": 0,
                "late": 0,
                "by_channel": dict.fromkeys(DOSSIER_CHANNELS, 0),
            },
        )
        row["received"] += v["dossiers"]
        if v["resolved"] is not None:
            row["resolved"] = (row["resolved"] or 0) + v["resolved"]
        for name in ("timed", "on_time", "late"):
            row[name] += v[name]
        key = channel if channel in DOSSIER_CHANNELS else ALL_CHANNELS
        row["by_channel"][key] += v["dossiers"]
    return out


def _dossier_block(figures: dict | None, small: int, target: float) -> dict:
    """An agency's on-time rate: counts, the rate, and whether it meets ``target``
    (None under ``small`` classified dossiers, or without any)."""
    f = figures or {"received": 0, "resolved": None, "timed": 0, "on_time": 0, "late": 0}
    timed = f["timed"]
    share = f["on_time"] / timed if timed else None
    return {
        "received": f["received"],
        "resolved": f["resolved"],
        "timed": timed,
        "on_time": f["on_time"],
        "late": f["late"],
        "on_time_share": share,
        "too_few": 0 < timed < small,
        "meets_target": None if share is None or timed < small else bool(share >= target),
    }


def _mix(counts: list[int], names: tuple[str, ...]) -> dict:
    """Counts by name with their total and shares (which add up to 1 when there is any)."""
    total = int(sum(counts))
    return {
        "total": total,
        "counts": {k: int(v) for k, v in zip(names, counts, strict=True)},
        "shares": {k: (v / total if total else None) for k, v in zip(names, counts, strict=True)},
    }


def _channel_block(survey_counts, dossier_counts: dict | None) -> dict:
    survey, returned = survey_counts or (
        [0] * len(SURVEY_CHANNELS),
        [0] * (len(RETURN_CHANNELS) + 1),
    )
    dossiers = dossier_counts or dict.fromkeys(DOSSIER_CHANNELS, 0)
    return {
        "survey": _mix(survey, SURVEY_CHANNELS),
        "returned": _mix(returned, (*RETURN_CHANNELS, "unknown")),
        "dossiers": _mix([dossiers[c] for c in DOSSIER_CHANNELS], DOSSIER_CHANNELS),
    }


def min_n() -> int:
    """Fewer answers than this and a share gets no interval ("too few answers")."""
    return int(current_app.config.get("REPORT_MIN_N", DEFAULT_MIN_N))


def _one_stop(period: Period) -> tuple[dict[int, tuple], tuple]:
    """Answers to the two factual questions per agency: ``(x, n)`` of each indicator.

    The rows that answered either question are fetched as arrays and counted
    with numpy (a ``GROUP BY`` over a province's month sorts every row: three
    times slower on SQLite).
    """
    r = Response
    rows = _arrays(
        select(r.agency_id, func.coalesce(r.trips, -1), func.coalesce(r.agencies_contacted, -1))
        .where(window_filter(period))
        .where(or_(r.trips.is_not(None), r.agencies_contacted.is_not(None))),
        [("agency", "i8"), ("trips", "i8"), ("contacted", "i8")],
    )
    ids, group = np.unique(rows["agency"], return_inverse=True)
    trips, contacted = rows["trips"], rows["contacted"]
    counts = np.stack(
        [
            np.bincount(group, weights=condition, minlength=ids.size)
            for condition in (
                (trips >= 0) & (trips <= 1),
                trips >= 0,
                contacted == 1,
                contacted >= 1,
            )
        ],
        axis=1,
    ).astype(np.int64)
    per_agency = {int(a): tuple(int(v) for v in c) for a, c in zip(ids, counts, strict=True)}
    return per_agency, tuple(int(v) for v in counts.sum(axis=0)) if ids.size else (0, 0, 0, 0)


def shares(x, n, threshold: int | None = None) -> list[dict]:
    """Shares ``x/n`` with their Clopper–Pearson intervals, NCHS flags and ``too_few``.

    ``analysis.infer`` on a simple random sample (``V = p(1−p)/n``, ``df = n − 1``,
    ``n_kish = n``) gives ``n_use = n* = n`` and ``x* = x``: the Clopper–Pearson
    interval, the boundary rule and the reliability flags of the satisfaction
    figures. Below ``threshold`` (default :func:`min_n`) answers: no interval.

    :return: per share ``x, n, share, ci_low, ci_high, too_few, low_reliability,
        flags`` (the NCHS reasons' names).
    """
    threshold = min_n() if threshold is None else threshold
    x, n = np.asarray(x, dtype=np.float64), np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, x / n, np.nan)
        result = analysis.infer(
            p, p * (1 - p) / n, n, n - 1, n, p0=TARGET, min_n=threshold, method="beta"
        )
    out = []
    for k in range(x.size):
        too_few = bool(n[k] < threshold)
        flags = int(result["flags"][k])
        finite = not too_few and np.isfinite(result["ci_low"][k])
        out.append(
            {
                "x": int(x[k]),
                "n": int(n[k]),
                "share": float(p[k]) if n[k] > 0 else None,
                "ci_low": float(result["ci_low"][k]) if finite else None,
                "ci_high": float(result["ci_high"][k]) if finite else None,
                "too_few": too_few,
                "low_reliability": bool(not too_few and flags & LOW_RELIABILITY),
                "flags": analysis.flag_names(flags & LOW_RELIABILITY),
            }
        )
    return out


def _feedback_block(values: dict) -> dict:
    out = {k: values.get(k, 0) for k in FEEDBACK_KEYS}
    out["median_days"] = values.get("median_days")
    answered = out["answered"]
    out["on_time_share"] = out["on_time"] / answered if answered else None
    return out


def period_kpis(period: Period, report: dict | None = None) -> dict:
    """Feedback performance and one-stop indicators of ``period`` for every agency.

    Cached per process like the report. The feedback figures under the
    feedback tables' version, the calendar and today's date (``overdue`` is
    counted today); the one-stop figures under the period's data version,
    or, when ``report`` is given, under that report itself: the live report
    of the period from :func:`~.assembly.compute_report`, which is the same
    object for as long as the data do not change (so a page view does not pay
    for a second data-version scan of the period's responses).

    :param report: the period's live report, as ``compute_report`` returned it.
    :return: a JSON-ready dict: ``as_of`` (ISO day ``overdue`` was counted),
        ``answer_days``, ``min_n``, ``small_count``, ``province`` and
        ``agencies`` (rows with ``agency_id, code, name, path, parent_id``),
        each with ``feedback`` (``received, answered, on_time, on_time_share,
        median_days, overdue, reopened, transferred_away, misrouting_days``) and
        ``one_stop`` (``one_trip`` and ``one_agency``, see :func:`shares`).
    """
    today = local_today()
    answer_days = Durations.from_config().answer
    threshold = min_n()
    setting = bool(current_app.config.get("REPORT_CALENDAR_MONTHS", False))
    feedback_key = (
        "kpis-feedback",
        str(db.engine.url),
        period.label,
        setting,
        current_app.config["TIMEZONE"],
        feedback_version(),
        today.isoformat(),
        answer_days,
    )
    figures = cached(feedback_key, lambda: feedback(period, today))
    # the responses' side and the one-stop figures change with the data version (it
    # has the figures' checksum), so they are cached under it, or under the live report
    if report is not None:
        # the value keeps the report alive, so its id names no other object meanwhile
        one_stop_key = ("kpis-one-stop", id(report))
        one_stop = cached(
            one_stop_key, lambda: (report, (_survey_side(period), _dossier_figures(period)))
        )[1]
    else:
        one_stop_key = ("kpis-one-stop", data_version(period))
        one_stop = cached(one_stop_key, lambda: (_survey_side(period), _dossier_figures(period)))
    target = on_time_target()
    return cached(
        ("kpis", feedback_key, one_stop_key, threshold, target),
        lambda: (
            report,
            _assemble(period, today, answer_days, threshold, figures, one_stop, target),
        ),
    )[1]


def _assemble(period, today, answer_days, threshold, figures, one_stop, target) -> dict:
    (fb, fb_total), (((os_, os_total), channels), dossiers) = figures, one_stop
    agencies = db.session.execute(
        select(Agency.id, Agency.code, Agency.name, Agency.path, Agency.parent_id)
        .where(Agency.id.in_(sorted(set(fb) | set(os_) | set(channels) | set(dossiers))))
        .order_by(Agency.path)
    ).all()
    # every share at once: one analysis call for all the agencies and the province
    counts = np.array([os_.get(a.id, (0, 0, 0, 0)) for a in agencies] + [os_total]).reshape(-1, 4)
    computed = shares(counts[:, [0, 2]].ravel(), counts[:, [1, 3]].ravel(), threshold)
    blocks = [
        dict(zip(ONE_STOP_KEYS, computed[2 * k : 2 * k + 2], strict=True))
        for k in range(len(agencies) + 1)
    ]
    rows = [
        {
            "agency_id": a.id,
            "code": a.code,
            "name": a.name,
            "path": a.path,
            "parent_id": a.parent_id,
            "feedback": _feedback_block(fb.get(a.id, {})),
            "one_stop": blocks[k],
            "dossiers": _dossier_block(dossiers.get(a.id), SMALL_COUNT, target),
            "channels": _channel_block(
                channels.get(a.id), (dossiers.get(a.id) or {}).get("by_channel")
            ),
        }
        for k, a in enumerate(agencies)
    ]
    province_dossiers = {
        "received": sum(d["received"] for d in dossiers.values()),
        "resolved": None
        if all(d["resolved"] is None for d in dossiers.values())
        else sum(d["resolved"] or 0 for d in dossiers.values()),
        **{n: sum(d[n] for d in dossiers.values()) for n in ("timed", "on_time", "late")},
    }
    survey_total = [sum(c[0][j] for c in channels.values()) for j in range(len(SURVEY_CHANNELS))]
    return_total = [
        sum(c[1][j] for c in channels.values()) for j in range(len(RETURN_CHANNELS) + 1)
    ]
    dossier_total = {
        c: sum(d["by_channel"][c] for d in dossiers.values()) for c in DOSSIER_CHANNELS
    }
    return {
        "period": period.label,
        "as_of": today.isoformat(),
        "answer_days": answer_days,
        "min_n": threshold,
        "small_count": SMALL_COUNT,
        "on_time_target": target,
        "province": {
            "feedback": _feedback_block(fb_total),
            "one_stop": blocks[-1],
            "dossiers": _dossier_block(province_dossiers, SMALL_COUNT, target),
            "channels": _channel_block((survey_total, return_total), dossier_total),
        },
        "agencies": rows,
    }


def for_user(
    report: dict,
    period: Period,
    user=None,
    order: list[int] | None = None,
    *,
    live: bool = False,
) -> dict:
    """The indicators a report shows ``user``: frozen with a published report, else
    computed now; rows inside the user's scope (:func:`~.assembly.visible_rows`),
    in the order of ``order`` (agency ids; the rest after, by their place in
    the tree). The province row only for those who see the whole province;
    ``None`` as the user: the whole province (the ``flask report`` documents).

    :param live: ``report`` is the period's live report as ``compute_report``
        returned it (see :func:`period_kpis`), not a snapshot's or a copy.
    :return: :func:`period_kpis`'s dict with ``frozen`` (true when it was
        published with the report) and ``province`` None outside the province's view.
    """
    frozen = report.get("kpis")
    if frozen is not None:
        data = frozen
    else:
        data = period_kpis(period, report if live else None)
    rows = data["agencies"] if user is None else visible_rows(data, user)
    if order:
        rank = {a: k for k, a in enumerate(order)}
        rows = sorted(rows, key=lambda r: (rank.get(r["agency_id"], len(rank)), r["path"]))
    province = data["province"] if user is None or user.sees_whole_province else None
    rows = [dict(r, satisfaction=_satisfaction(report, r["agency_id"])) for r in rows]
    if province is not None:
        province = dict(province, satisfaction=_satisfaction(report, None))
    return dict(
        data,
        agencies=list(rows),
        province=province,
        frozen=frozen is not None,
        empty=not rows and (province is None or not _has_figures(province)),
    )


def _satisfaction(report: dict, agency_id: int | None) -> dict | None:
    """The report's headline satisfaction of an agency (None: the province), shown beside
    its on-time rate: ``indicator``, ``index``, its interval, ``n``, ``verdict`` and the
    reliability ``flags``; None when the report has no figure for it."""
    from .presentation import block_of, headline_of

    if agency_id is None:
        row = report.get("province")
    else:
        row = next((r for r in report.get("agencies") or [] if r["agency_id"] == agency_id), None)
    headline = headline_of(report)
    b = block_of(row, headline)
    if not b or b.get("index") is None and not b.get("n"):
        return None
    keys = ("index", "ci_low", "ci_high", "n", "n_use", "df", "verdict", "flags")
    return {"indicator": headline, **{k: b.get(k) for k in keys}}


def _has_figures(row: dict) -> bool:
    """Whether a row counts anything at all (a case, an overdue case, an answer, a dossier,
    a response)."""
    f, o = row["feedback"], row["one_stop"]
    return bool(
        any(f[k] for k in FEEDBACK_KEYS if k != "median_days")
        or any(o[k]["n"] for k in ONE_STOP_KEYS)
        or (row.get("dossiers") or {}).get("received")
        or (row.get("dossiers") or {}).get("timed")
        or ((row.get("channels") or {}).get("survey") or {}).get("total")
    )


def for_agency(report: dict, period: Period, user, agency: Agency, *, live: bool = False) -> dict:
    """:func:`for_user` for one agency's page: its own row first, then the agencies below it
    that ``user`` may see."""
    data = for_user(report, period, user, live=live)
    own = [r for r in data["agencies"] if r["agency_id"] == agency.id]
    below = [
        r
        for r in data["agencies"]
        if r["path"].startswith(agency.path) and r["agency_id"] != agency.id
    ]
    rows = own + below
    return dict(data, agencies=rows, province=None, agency_id=agency.id, empty=not rows)
