"""Early warning, the inputs: the detector's settings, which taps count, each counter's
and agency's baseline and recent taps, and the chart designed for that baseline.

See :mod:`.warnings` for what is done with them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import numpy as np
from flask import current_app
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import contains_eager

from analysis.monitoring import (
    CusumDesign,
    baseline_bound,
    baseline_rate,
    design_cusum,
    shifted_rate,
    taps_to_rule_out,
)

from ..agencies.models import Agency, Counter
from ..extensions import db
from ..surveys.models import Response
from .loading import _arrays, _epoch

#: A tap is dissatisfied when Q0 is at most this (1 very dissatisfied … 3 neutral).
DISSATISFIED_MAX = 3
#: The smallest ARL0 (taps between false alarms) a chart is designed for: a counter
#: with very few taps gets fewer false alarms than the setting asks, never more.
MIN_ARL0_TAPS = 250.0
#: Usual shares are rounded to this before a chart is designed, and false-alarm targets
#: up to a grid of this ratio, so that designs are shared (and the target still met).
SHARE_STEP = 0.001
ARL0_GRID = 2 ** (1 / 8)
#: The chance, accepted when a warning closes, that the rise is in fact still there.
STILL_THERE_MISS = 0.10
#: Charts are designed for this upper confidence bound of the usual share, so the
#: stated false-alarm rate holds although the usual share is estimated.
BASELINE_CONFIDENCE = 0.9
#: The usual taps per day are counted over at least this many days.
MIN_BASELINE_DAYS = 14


@dataclass(frozen=True)
class Settings:
    """The detector's settings (``EARLY_WARNING_*``), checked."""

    false_alarms_per_year: float
    baseline_days: int
    window_days: int
    min_taps: int
    odds_ratio: float

    @classmethod
    def from_config(cls, config) -> Settings:
        """:raises ValueError: naming the setting that is out of range."""
        settings = cls(
            false_alarms_per_year=float(config["EARLY_WARNING_FALSE_ALARMS_PER_YEAR"]),
            baseline_days=int(config["EARLY_WARNING_BASELINE_DAYS"]),
            window_days=int(config["EARLY_WARNING_WINDOW_DAYS"]),
            min_taps=int(config["EARLY_WARNING_MIN_TAPS"]),
            odds_ratio=float(config["EARLY_WARNING_ODDS_RATIO"]),
        )
        checks = (
            ("EARLY_WARNING_FALSE_ALARMS_PER_YEAR", 0 < settings.false_alarms_per_year <= 52),
            ("EARLY_WARNING_BASELINE_DAYS", 28 <= settings.baseline_days <= 3660),
            ("EARLY_WARNING_WINDOW_DAYS", 1 <= settings.window_days <= 366),
            ("EARLY_WARNING_MIN_TAPS", 10 <= settings.min_taps <= 1_000_000),
            ("EARLY_WARNING_ODDS_RATIO", 1.1 <= settings.odds_ratio <= 20),
        )
        for name, ok in checks:
            if not ok:
                raise ValueError(f"{name} is out of range")
        return settings


def settings() -> Settings:
    """The app's :class:`Settings`. :raises ValueError: if one is out of range."""
    return Settings.from_config(current_app.config)


def counted_taps():
    """The one place that says which responses the detector counts.

    Not those sent from a browser where staff were logged in (``staff_flag``), nor
    those quarantined as ballot stuffing (``quarantined``), as in the reports: a
    burst of fake bad ratings must not raise an alarm any more than fake good ones
    a figure.
    """
    return and_(Response.staff_flag.is_(False), Response.quarantined.is_(False))


def epoch_of(value: datetime) -> float:
    return value.timestamp()


def at(epoch: float) -> datetime:
    """A tap's time (epoch seconds from the database) as an aware UTC datetime."""
    return datetime.fromtimestamp(round(float(epoch), 3), UTC)


@dataclass
class Counts:
    """Taps and dissatisfied taps in the baseline window, and when the first came."""

    taps: int = 0
    dissatisfied: int = 0
    first: float = math.inf  #: epoch seconds

    def add(self, taps: int, dissatisfied: int, first: float) -> None:
        self.taps += taps
        self.dissatisfied += dissatisfied
        self.first = min(self.first, first)

    @property
    def share(self) -> float:
        return self.dissatisfied / self.taps if self.taps else 0.0


@dataclass
class Subject:
    """A counter, or an agency as a whole, with its baseline counts and recent taps."""

    #: ``counter:<id>`` or ``agency:<id>``.
    key: str
    agency: Agency
    counter: Counter | None
    baseline: Counts
    #: What the baseline share is shrunk toward: the agency's (the province's for an agency).
    prior_share: float
    #: Counters with taps in the baseline window (1 for a counter).
    counters_seen: int
    #: The monitoring window's taps in time order: epoch seconds and dissatisfied or not.
    times: np.ndarray
    bad: np.ndarray


def _baseline_counts(start: datetime, end: datetime):
    """Per (counter, agency) in the baseline window: taps, dissatisfied, first tap."""
    bad = case((Response.overall <= DISSATISFIED_MAX, 1), else_=0)
    return db.session.execute(
        select(
            Response.counter_id,
            Response.agency_id,
            func.count(),
            func.sum(bad),
            func.min(_epoch(Response.submitted_at)),
        )
        .where(Response.submitted_at >= start, Response.submitted_at < end, counted_taps())
        .group_by(Response.counter_id, Response.agency_id)
    ).all()


def _window_taps(start: datetime, end: datetime) -> np.ndarray:
    """The monitoring window's taps in time order: counter, agency, time, dissatisfied."""
    return _arrays(
        select(
            Response.counter_id,
            Response.agency_id,
            _epoch(Response.submitted_at),
            case((Response.overall <= DISSATISFIED_MAX, 1), else_=0),
        )
        .where(Response.submitted_at >= start, Response.submitted_at < end, counted_taps())
        .order_by(Response.submitted_at, Response.id),
        [("counter", "i8"), ("agency", "i8"), ("at", "f8"), ("bad", "i1")],
    )


def _groups(keys: np.ndarray) -> dict[int, np.ndarray]:
    """Indices per key, each in the original (time) order."""
    if not keys.size:
        return {}
    order = np.argsort(keys, kind="stable")
    values, starts = np.unique(keys[order], return_index=True)
    return dict(zip(values.tolist(), np.split(order, starts[1:]), strict=True))


def subjects(now: datetime, s: Settings) -> list[Subject]:
    """Every active counter of an active agency, and every active agency with two
    active counters or more, with their baseline counts and the window's taps.

    Two queries over responses: the baseline window's counts grouped by counter
    and agency, and the monitoring window's taps as arrays.
    """
    window_start = now - timedelta(days=s.window_days)
    by_counter: dict[int, Counts] = defaultdict(Counts)
    by_agency: dict[int, Counts] = defaultdict(Counts)
    seen: dict[int, set[int]] = defaultdict(set)
    province = Counts()
    for counter_id, agency_id, taps, bad, first in _baseline_counts(
        window_start - timedelta(days=s.baseline_days), window_start
    ):
        taps, bad, first = int(taps), int(bad or 0), float(first)
        by_counter[counter_id].add(taps, bad, first)
        by_agency[agency_id].add(taps, bad, first)
        seen[agency_id].add(counter_id)
        province.add(taps, bad, first)
    taps = _window_taps(window_start, now)
    of_counter, of_agency = _groups(taps["counter"]), _groups(taps["agency"])
    none = np.zeros(0, dtype=np.int64)
    province_share = province.share if province.taps else 0.1

    def agency_share(agency_id: int) -> float:
        own = by_agency.get(agency_id, Counts())
        return baseline_rate(own.dissatisfied, own.taps, province_share)

    counters = db.session.scalars(
        select(Counter)
        .join(Agency)
        .options(contains_eager(Counter.agency))
        .where(Counter.is_active.is_(True), Agency.is_active.is_(True))
        .order_by(Agency.path, Counter.id)
    ).all()
    found: list[Subject] = []
    agencies: dict[int, list[Counter]] = defaultdict(list)
    for counter in counters:
        agencies[counter.agency_id].append(counter)
        rows = of_counter.get(counter.id, none)
        found.append(
            Subject(
                key=f"counter:{counter.id}",
                agency=counter.agency,
                counter=counter,
                baseline=by_counter.get(counter.id, Counts()),
                prior_share=agency_share(counter.agency_id),
                counters_seen=1,
                times=taps["at"][rows],
                bad=taps["bad"][rows].astype(bool),
            )
        )
    for agency_id, own in agencies.items():
        if len(own) < 2:
            continue  # an agency with one counter is watched through that counter
        rows = of_agency.get(agency_id, none)
        found.append(
            Subject(
                key=f"agency:{agency_id}",
                agency=own[0].agency,
                counter=None,
                baseline=by_agency.get(agency_id, Counts()),
                prior_share=province_share,
                counters_seen=len(seen.get(agency_id, ())),
                times=taps["at"][rows],
                bad=taps["bad"][rows].astype(bool),
            )
        )
    return found


@dataclass(frozen=True)
class Chart:
    """The chart for a subject's baseline and the figures it was designed from."""

    design: CusumDesign
    #: Quiet taps after an alarm that end the episode (taps_to_rule_out).
    quiet_taps: int
    #: The usual dissatisfied share (shrunk toward the prior) and taps per day.
    share: float
    taps_per_day: float
    #: The ARL0 asked for (the design's ``arl0`` is at least this).
    arl0_target: float


@lru_cache(maxsize=4096)
def _design(share: float, odds_ratio: float, arl0: float) -> tuple[CusumDesign, int]:
    design = design_cusum(share, odds_ratio=odds_ratio, arl0=arl0)
    return design, taps_to_rule_out(design, miss=STILL_THERE_MISS)


def chart_for(
    baseline: Counts,
    prior_share: float,
    end: datetime,
    s: Settings,
    known: Chart | None = None,
) -> Chart:
    """The chart for a baseline that ended at ``end``.

    The usual share is shrunk toward ``prior_share``; the chart is designed for
    its upper bound (:data:`BASELINE_CONFIDENCE`,
    :func:`analysis.monitoring.baseline_bound`) rounded up to :data:`SHARE_STEP`
    (its ``p0``), so that its false-alarm rate holds although the share is
    estimated. The ARL0 target — taps per year over ``false_alarms_per_year``,
    at least :data:`MIN_ARL0_TAPS` — is rounded up to the :data:`ARL0_GRID`, so
    that most subjects and days share a design. Taps per day count from the
    baseline's first tap (a new counter is not diluted by the days before it
    opened), over at least :data:`MIN_BASELINE_DAYS`.

    :param known: the chart found last time, whose design is used again when it was
        made for the same ``p0``, target and shift: designing takes a tenth of a
        second, and from one day to the next it rarely changes.
    """
    share = baseline_rate(baseline.dissatisfied, baseline.taps, prior_share)
    bound = baseline_bound(
        baseline.dissatisfied, baseline.taps, prior_share, confidence=BASELINE_CONFIDENCE
    )
    bound = min(max(round(math.ceil(bound / SHARE_STEP - 1e-9) * SHARE_STEP, 6), 0.005), 0.95)
    days = min(max((epoch_of(end) - baseline.first) / 86400, MIN_BASELINE_DAYS), s.baseline_days)
    taps_per_day = baseline.taps / days
    wanted = max(taps_per_day * 365.25 / s.false_alarms_per_year, MIN_ARL0_TAPS)
    target = round(ARL0_GRID ** math.ceil(math.log(wanted, ARL0_GRID) - 1e-9), 6)
    if (
        known is not None
        and known.arl0_target == target
        and known.design.p0 == bound
        and known.design.p1 == shifted_rate(bound, s.odds_ratio)
    ):
        return Chart(known.design, known.quiet_taps, share, taps_per_day, target)
    design, quiet = _design(bound, s.odds_ratio, target)
    return Chart(design, quiet, share, taps_per_day, target)
