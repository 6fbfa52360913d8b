"""Feedback handling per agency for a period: the queries and the working-day arithmetic.

The definitions are in :mod:`.kpis`, whose figures these are. Counts only: no
query here reads a case's text, its submitter or its contacts.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from flask import current_app
from sqlalchemy import and_, case, distinct, func, or_, select, union
from sqlalchemy.orm import aliased

from ..extensions import db
from ..feedback.models import CalendarOverride, CaseEvent, CaseState, FeedbackCase
from ..feedback.workdays import WorkCalendar
from ..feedback.workflow import Durations, work_calendar
from .loading import _arrays, _epoch
from .periods import Period

S = CaseState
#: States in which a case waits for its agency (the agency's own overdue cases).
AWAITING_AGENCY = (S.submitted, S.screening, S.transferred, S.accepted, S.assigned, S.in_progress)


class WorkdayIndex:
    """:class:`~survey_app.feedback.workdays.WorkCalendar`'s arithmetic over arrays of days.

    The working days from ``first`` to ``last`` are listed once (asking the
    calendar day by day); counting and adding working days is then a
    ``searchsorted`` over that list, with the calendar's own conventions:
    :meth:`between` counts the working days in ``(start, end]`` and
    :meth:`add` is the ``n``-th working day after ``start`` (``start`` not
    counted; with ``n == 0`` the first working day on or after it).
    """

    def __init__(self, calendar: WorkCalendar, first: date, last: date):
        days = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
        working = np.fromiter(
            (calendar.is_working_day(d) for d in days.tolist()), dtype=bool, count=days.size
        )
        self.first, self.last = first, last
        self.workdays = days[working]

    @classmethod
    def covering(cls, calendar: WorkCalendar, days: np.ndarray, ahead: int) -> WorkdayIndex:
        """An index from the earliest of ``days`` to ``ahead`` working days after the latest
        (three calendar days per working day and two months spare: Tết, swapped days)."""
        first = days.min().item()
        last = days.max().item() + timedelta(days=3 * ahead + 60)
        return cls(calendar, first, last)

    def between(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Working days in ``(start, end]`` (negative when ``end < start``)."""
        w = self.workdays
        return np.searchsorted(w, end, side="right") - np.searchsorted(w, start, side="right")

    def add(self, start: np.ndarray, n: np.ndarray) -> np.ndarray:
        """The ``n``-th working day after ``start`` (the next working day for ``n == 0``)."""
        w = self.workdays
        n = np.asarray(n, dtype=np.int64)
        after = np.searchsorted(w, start, side="right") + n - 1
        on_or_after = np.searchsorted(w, start, side="left")
        k = np.where(n > 0, after, on_or_after)
        if k.size and k.max() >= w.size:
            raise ValueError("the working-day index does not reach far enough")
        return w[k]


def local_days(seconds: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """The local calendar days (``datetime64[D]``) of UTC instants given as epoch seconds.

    The zone's offset is looked up once per distinct hour, not once per instant.
    """
    s = np.floor(np.asarray(seconds, dtype=np.float64) + 1e-3).astype(np.int64)
    if s.size == 0:
        return np.zeros(0, dtype="datetime64[D]")
    hours, inverse = np.unique(s // 3600, return_inverse=True)
    offsets = np.array(
        [
            datetime.fromtimestamp(int(h) * 3600, UTC).astimezone(zone).utcoffset().total_seconds()
            for h in hours
        ],
        dtype=np.int64,
    )
    return ((s + offsets[inverse]) // 86400).astype("datetime64[D]")


def _clock_starts(event):
    """SQL: ``event`` started an answer clock (see :func:`~survey_app.feedback.workflow.transition`).

    An acceptance (except one following a transfer to the agency, whose clock
    already runs), a transfer to an agency, a reopening.
    """
    return or_(
        and_(
            event.to_state == S.accepted,
            or_(event.from_state != S.transferred, event.from_agency_id.is_(None)),
        ),
        and_(event.to_state == S.transferred, event.to_agency_id.is_not(None)),
        and_(event.to_state == S.in_progress, event.from_state.in_([S.published, S.closed])),
    )


def _in(column, period: Period):
    start, end = period.window()
    return and_(column >= start, column < end)


def received(period: Period) -> tuple[dict[int, int], int]:
    """Cases received in the period, per agency they were at, and in all (each once)."""
    fc, ev = FeedbackCase, CaseEvent
    cases = select(fc.id).where(_in(fc.received_at, period), fc.state != S.redirected_complaint)
    pairs = union(
        select(fc.id.label("case_id"), fc.agency_id.label("agency_id")).where(
            fc.id.in_(cases), fc.agency_id.is_not(None)
        ),
        select(ev.case_id, ev.from_agency_id).where(
            ev.case_id.in_(cases), ev.from_agency_id.is_not(None)
        ),
        select(ev.case_id, ev.to_agency_id).where(
            ev.case_id.in_(cases), ev.to_agency_id.is_not(None)
        ),
    ).subquery()
    rows = db.session.execute(
        select(pairs.c.agency_id, func.count()).group_by(pairs.c.agency_id)
    ).all()
    total = db.session.scalar(select(func.count()).select_from(cases.subquery()))
    return {int(a): int(n) for a, n in rows}, int(total or 0)


def answers(period: Period) -> np.ndarray:
    """One row per case and agency answered in the period: its last answer there, when
    its answer clock started, and the extension granted in that step (epoch seconds)."""
    ev = CaseEvent
    last = (
        select(
            ev.case_id.label("case_id"),
            ev.from_agency_id.label("agency_id"),
            func.max(ev.id).label("answer_id"),
        )
        .where(ev.to_state == S.answered, _in(ev.at, period))
        .group_by(ev.case_id, ev.from_agency_id)
        .subquery("last_answer")
    )
    s = aliased(CaseEvent)
    clock = (
        select(func.max(s.id))
        .where(s.case_id == last.c.case_id, s.id < last.c.answer_id, _clock_starts(s))
        .scalar_subquery()
    )
    steps = select(last, clock.label("start_id")).subquery("steps")
    answer, start, x = aliased(CaseEvent), aliased(CaseEvent), aliased(CaseEvent)
    extension = (
        select(func.coalesce(func.sum(x.working_days), 0))
        .where(
            x.case_id == steps.c.case_id,
            x.action == "extended",
            x.id > func.coalesce(steps.c.start_id, 0),
            x.id < steps.c.answer_id,
        )
        .scalar_subquery()
    )
    statement = (
        select(
            steps.c.case_id,
            func.coalesce(steps.c.agency_id, -1),
            steps.c.answer_id,
            _epoch(answer.at),
            # no recorded start (cases older than their events): the day of receipt
            func.coalesce(_epoch(start.at), _epoch(FeedbackCase.received_at)),
            extension,
        )
        .join(answer, answer.id == steps.c.answer_id)
        .join(FeedbackCase, FeedbackCase.id == steps.c.case_id)
        .outerjoin(start, start.id == steps.c.start_id)
    )
    return _arrays(
        statement,
        [
            ("case", "i8"),
            ("agency", "i8"),
            ("answer_id", "i8"),
            ("answered", "f8"),
            ("started", "f8"),
            ("extension", "i8"),
        ],
    )


def answer_times(rows: np.ndarray, answer_days: int, calendar: WorkCalendar, zone: ZoneInfo):
    """Working days to answer, due date and whether on time, for :func:`answers`' rows.

    :return: ``(days, on_time)`` arrays: working days from the start of the
        answer clock to the answer, and answer day ≤ the clock's due date
        (``answer_days`` + the step's extension working days after its start).
    """
    if rows.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    started_on = local_days(rows["started"], zone)
    answered_on = local_days(rows["answered"], zone)
    allowed = answer_days + rows["extension"]
    index = WorkdayIndex.covering(
        calendar, np.concatenate([started_on, answered_on]), int(allowed.max())
    )
    due = index.add(started_on, allowed)
    return index.between(started_on, answered_on), answered_on <= due


def _medians(groups: np.ndarray, values: np.ndarray) -> dict[int, float]:
    """The median of ``values`` within each group (vectorised: one sort)."""
    if groups.size == 0:
        return {}
    order = np.lexsort((values, groups))
    g, v = groups[order], values[order].astype(np.float64)
    keys, first, counts = np.unique(g, return_index=True, return_counts=True)
    medians = (v[first + (counts - 1) // 2] + v[first + counts // 2]) / 2
    return {int(k): float(m) for k, m in zip(keys, medians, strict=True)}


def answered(period: Period) -> tuple[dict[int, dict], dict]:
    """Answered, on time and the median working days, per agency and for the province."""
    rows = answers(period)
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    days, on_time = answer_times(rows, Durations.from_config().answer, work_calendar(), zone)
    agency = rows["agency"]
    ids, counts = np.unique(agency, return_counts=True)
    timely = np.bincount(np.searchsorted(ids, agency), weights=on_time, minlength=ids.size)
    medians = _medians(agency, days)
    per_agency = {
        int(a): {"answered": int(n), "on_time": int(t), "median_days": medians[int(a)]}
        for a, n, t in zip(ids, counts, timely, strict=True)
    }
    # the province: each case once, with its last answer in the period
    order = np.lexsort((rows["answer_id"], rows["case"]))
    cases = rows["case"][order]
    last = np.r_[cases[1:] != cases[:-1], True] if cases.size else np.zeros(0, dtype=bool)
    picked = order[last]
    province = {
        "answered": int(picked.size),
        "on_time": int(on_time[picked].sum()),
        "median_days": float(np.median(days[picked])) if picked.size else None,
    }
    return per_agency, province


def events(period: Period) -> tuple[dict[int, dict], dict]:
    """Reopened cases and transfers away (cases, working days charged), per agency and in all."""
    ev = CaseEvent
    reopened = and_(ev.to_state == S.in_progress, ev.from_state.in_([S.published, S.closed]))
    away = and_(
        ev.to_state == S.transferred,
        ev.from_agency_id.is_not(None),
        or_(ev.to_agency_id.is_(None), ev.to_agency_id != ev.from_agency_id),
    )
    columns = (
        func.count(distinct(case((reopened, ev.case_id)))),
        func.count(distinct(case((away, ev.case_id)))),
        func.coalesce(func.sum(case((away, ev.working_days), else_=0)), 0),
    )
    where = and_(_in(ev.at, period), or_(reopened, away))
    per_agency = {
        int(a): {"reopened": int(r), "transferred_away": int(t), "misrouting_days": int(d or 0)}
        for a, r, t, d in db.session.execute(
            select(ev.from_agency_id, *columns)
            .where(where, ev.from_agency_id.is_not(None))
            .group_by(ev.from_agency_id)
        )
    }
    r, t, d = db.session.execute(select(*columns).where(where)).one()
    return per_agency, {"reopened": int(r), "transferred_away": int(t), "misrouting_days": int(d)}


def overdue(today: date) -> tuple[dict[int, int], int]:
    """Cases waiting for their agency (or the coordinators' queue) past their due date."""
    fc = FeedbackCase
    rows = db.session.execute(
        select(fc.agency_id, func.count())
        .where(fc.state.in_(AWAITING_AGENCY), fc.due_on < today)
        .group_by(fc.agency_id)
    ).all()
    return {int(a): int(n) for a, n in rows if a is not None}, sum(int(n) for _a, n in rows)


def feedback_version() -> tuple:
    """Changes whenever a case, an event or the calendar changes."""
    fc, ev, co = FeedbackCase, CaseEvent, CalendarOverride
    cases = db.session.execute(
        select(func.count(fc.id), func.max(fc.id), func.max(fc.updated_at))
    ).one()
    events = db.session.execute(select(func.count(ev.id), func.max(ev.id))).one()
    days = db.session.execute(select(co.day, co.is_working_day).order_by(co.day)).all()
    digest = hashlib.sha256(repr(days).encode()).hexdigest()[:16]
    return (*map(str, cases), *map(str, events), digest)


def feedback(period: Period, today: date) -> tuple[dict, dict]:
    """Per agency and for the province: every feedback figure of the period (raw values)."""
    by_received, received_total = received(period)
    by_answered, answered_total = answered(period)
    by_events, events_total = events(period)
    by_overdue, overdue_total = overdue(today)
    per_agency: dict[int, dict] = {}
    for a in set(by_received) | set(by_answered) | set(by_events) | set(by_overdue):
        values = {"received": by_received.get(a, 0), "overdue": by_overdue.get(a, 0)}
        per_agency[a] = values | by_answered.get(a, {}) | by_events.get(a, {})
    province = {"received": received_total, "overdue": overdue_total}
    return per_agency, province | answered_total | events_total
