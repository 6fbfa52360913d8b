"""Early warning: a counter or agency whose citizens turn dissatisfied is flagged within days.

``flask report warnings`` (cron) calls :func:`run`. For every active counter,
and every active agency with two counters or more (its own counters' taps
together), it

1. counts the Q0 taps of the **baseline window** (``EARLY_WARNING_BASELINE_DAYS``,
   180 days before the monitoring window; :func:`.warning_subjects.counted_taps`
   says which responses count) and their dissatisfied share (Q0 of 1–3), shrunk
   toward the agency's (an agency's toward the province's) by
   :func:`analysis.monitoring.baseline_rate`. With fewer than
   ``EARLY_WARNING_MIN_TAPS`` taps the subject is *not monitored yet*;
2. designs a Bernoulli CUSUM (:func:`analysis.monitoring.design_cusum`) tuned to a
   rise of the odds of dissatisfaction by ``EARLY_WARNING_ODDS_RATIO`` (2), whose
   average run length between false alarms ARL0 is the subject's usual taps per
   year divided by ``EARLY_WARNING_FALSE_ALARMS_PER_YEAR`` (0.5: one false alarm
   per counter every two years), at least 250 taps. It is designed for an upper
   90 % bound of the usual share (:func:`analysis.monitoring.baseline_bound`): a
   share estimated low would otherwise multiply the false alarms, so the stated
   rate is an upper bound, with that confidence;
3. runs it over the **monitoring window** (``EARLY_WARNING_WINDOW_DAYS``, 30) in
   time order, and records a :class:`~.warning_models.SatisfactionWarning` when it
   signals and the episode is still going on; the agency's admins are told
   through the outbox (:mod:`.warning_notices`).

**Episodes.** At most one warning per subject is not closed (a unique partial
index). While a warning is open or acknowledged, the subject is judged by the
chart the warning was opened with (its baseline frozen), run from the last
alarm and restarting from 0 after each, exactly as
:func:`analysis.monitoring.run_cusum` does; each further alarm is counted on the
warning. It **closes by itself** when, since the last alarm, at least its
``quiet_taps`` taps and :data:`MIN_QUIET_DAYS` days have passed without a new one
and the statistic is below half its threshold. ``quiet_taps``
(:func:`analysis.monitoring.taps_to_rule_out`) is the number of taps within which
a counter still at the rise the chart was designed for would have signalled
again 9 times in 10. An idle counter gives no evidence, so its warning waits.
Acknowledging a warning (an admin has seen it) stops the mails; it stays
watched until it closes. A counter or agency that leaves the survey closes its
warning (``withdrawn``). A new warning needs an alarm after the last one closed.

**Several runs, several servers.** Each subject is one short transaction when the
caller commits after each (``after_each``); the unique index and the outbox's
dedupe keys make a second run, or a concurrent one, record and send nothing twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from analysis.monitoring import CusumDesign, run_cusum

from ..extensions import db
from . import warning_notices as notices
from .warning_models import SatisfactionWarning, SatisfactionWatch, WarningStatus
from .warning_subjects import (
    Chart,
    Settings,
    Subject,
    at,
    chart_for,
    epoch_of,
    settings,
    subjects,
)

__all__ = ["MIN_QUIET_DAYS", "RunResult", "check", "close_withdrawn", "run", "settings"]

#: A warning stays open at least this many days after its last alarm.
MIN_QUIET_DAYS = 3


@dataclass
class RunResult:
    """What a run did, for the command's output."""

    counters: int = 0
    agencies: int = 0
    #: Counters with too little history to be judged against themselves yet.
    not_monitored: int = 0
    opened: list[SatisfactionWarning] = field(default_factory=list)
    closed: int = 0
    mails: int = 0


def _design_of(warning: SatisfactionWarning) -> CusumDesign:
    return CusumDesign(
        p0=warning.design_share,
        p1=warning.shift_share,
        up=warning.weight_up,
        down=warning.weight_down,
        threshold=warning.threshold,
        arl0=warning.arl0_taps,
        arl1=warning.arl1_taps,
    )


def _chart_of(watch: SatisfactionWatch) -> Chart | None:
    """The chart the watch recorded last time, if it recorded one."""
    if watch.threshold is None or watch.design_share is None or watch.quiet_taps is None:
        return None
    design = CusumDesign(
        p0=watch.design_share,
        p1=watch.shift_share,
        up=watch.weight_up,
        down=watch.weight_down,
        threshold=watch.threshold,
        arl0=watch.arl0_taps,
        arl1=watch.arl1_taps,
    )
    return Chart(
        design, watch.quiet_taps, watch.baseline_share, watch.taps_per_day, watch.arl0_target
    )


def _quiet_long_enough(taps: int, seconds: float, quiet_taps: int) -> bool:
    """Enough taps and days without an alarm for a rise still there to have shown."""
    return taps >= quiet_taps and seconds >= MIN_QUIET_DAYS * 86400


def _is_over(times, stat, last_alarm: float, now: datetime, quiet_taps: int, threshold: int):
    """True when the episode whose last alarm was at ``last_alarm`` is over: quiet long
    enough since (``times``, ``stat``: the taps after it), and the statistic back in
    the lower half of its range."""
    level = int(stat[-1]) if stat.size else 0
    quiet = _quiet_long_enough(int(times.size), epoch_of(now) - last_alarm, quiet_taps)
    return quiet and level < threshold / 2


def _stretch(stat: np.ndarray, signals: np.ndarray, i: int) -> int:
    """The first tap of the stretch that raised the alarm at tap ``i``: the one after
    the statistic was last at 0 (or after the previous alarm)."""
    before = signals[signals < i]
    start = int(before[-1]) + 1 if before.size else 0
    zeros = np.flatnonzero(stat[start:i] == 0)
    return start + int(zeros[-1]) + 1 if zeros.size else start


def _get_watch(subject: Subject) -> SatisfactionWatch:
    """The subject's watch row (added if missing; if a concurrent run adds it first,
    theirs is used)."""
    query = select(SatisfactionWatch).where(SatisfactionWatch.subject == subject.key)
    watch = db.session.scalar(query)
    if watch is None:
        try:
            with db.session.begin_nested():
                watch = SatisfactionWatch(
                    subject=subject.key,
                    agency_id=subject.agency.id,
                    counter_id=subject.counter.id if subject.counter else None,
                    baseline_taps=0,
                    baseline_dissatisfied=0,
                )
                db.session.add(watch)
        except IntegrityError:
            watch = db.session.scalar(query)
    return watch


def _follow(
    warning: SatisfactionWarning, subject: Subject, watch: SatisfactionWatch, now: datetime
) -> bool:
    """Run the warning's own chart from its last alarm: count new alarms, close the
    warning when the episode is over. :return: True if it closed."""
    last = epoch_of(warning.last_signal_at)
    since = subject.times > last
    times, bad = subject.times[since], subject.bad[since]
    stat, signals = run_cusum(bad, _design_of(warning))
    if signals.size:
        warning.signals += int(signals.size)
        last = float(times[signals[-1]])
        warning.last_signal_at = at(last)
        times, stat = times[signals[-1] + 1 :], stat[signals[-1] + 1 :]  # restarted there
    watch.statistic = int(stat[-1]) if stat.size else 0
    if _is_over(times, stat, last, now, warning.quiet_taps, warning.threshold):
        warning.status = WarningStatus.closed
        warning.closed_at = now
        warning.close_reason = "recovered"
        return True
    return False


def _open(
    subject: Subject, watch: SatisfactionWatch, chart: Chart, now: datetime
) -> SatisfactionWarning | None:
    """Run a fresh chart over the window's taps (those after the subject's last warning
    closed) and open a warning if it signalled and the episode is still going on."""
    design = chart.design
    closed = db.session.scalar(
        select(func.max(SatisfactionWarning.closed_at)).where(
            SatisfactionWarning.subject == subject.key
        )
    )
    keep = subject.times > (epoch_of(closed) if closed else -math.inf)
    times, bad = subject.times[keep], subject.bad[keep]
    stat, signals = run_cusum(bad, design)
    after = int(signals[-1]) + 1 if signals.size else 0  # the chart restarts after an alarm
    watch.statistic = int(stat[-1]) if stat.size > after else 0
    if not signals.size:
        return None
    last = float(times[signals[-1]])
    if _is_over(times[after:], stat[after:], last, now, chart.quiet_taps, design.threshold):
        return None  # over before anyone looked: nothing to act on
    first = len(signals) - 1  # back over alarms too close together to be separate episodes
    while first > 0 and not _quiet_long_enough(
        int(signals[first] - signals[first - 1] - 1),
        float(times[signals[first]] - times[signals[first - 1]]),
        chart.quiet_taps,
    ):
        first -= 1
    i = int(signals[first])
    start = _stretch(stat, signals, i)
    try:
        with db.session.begin_nested():
            warning = SatisfactionWarning(
                subject=subject.key,
                agency_id=subject.agency.id,
                counter_id=subject.counter.id if subject.counter else None,
                status=WarningStatus.open,
                opened_at=now,
                signal_at=at(times[i]),
                watch_started_at=at(times[start]),
                last_signal_at=at(last),
                signals=len(signals) - first,
                recent_taps=i - start + 1,
                recent_dissatisfied=int(bad[start : i + 1].sum()),
                baseline_share=chart.share,
                design_share=design.p0,
                baseline_taps=subject.baseline.taps,
                taps_per_day=chart.taps_per_day,
                weight_up=design.up,
                weight_down=design.down,
                threshold=design.threshold,
                shift_share=design.p1,
                arl0_taps=design.arl0,
                arl1_taps=design.arl1,
                quiet_taps=chart.quiet_taps,
            )
            db.session.add(warning)
    except IntegrityError:  # another run opened it a moment ago: theirs stands
        return None
    return warning


def check(subject: Subject, now: datetime, s: Settings, result: RunResult) -> None:
    """Look at one subject: update its watch, open or follow its warning, tell the admins
    of an open one (once each: the outbox's dedupe key)."""
    base = subject.baseline
    watch = _get_watch(subject)
    known = _chart_of(watch)
    watch.agency_id = subject.agency.id
    watch.checked_at = now
    watch.baseline_taps, watch.baseline_dissatisfied = base.taps, base.dissatisfied
    watch.window_taps = int(subject.times.size)
    watch.monitored = base.taps >= s.min_taps and subject.counters_seen >= (
        1 if subject.counter else 2
    )
    warning = db.session.scalar(
        select(SatisfactionWarning).where(
            SatisfactionWarning.subject == subject.key, SatisfactionWarning.closed_at.is_(None)
        )
    )
    if watch.monitored:
        window_start = now - timedelta(days=s.window_days)
        chart = chart_for(base, subject.prior_share, window_start, s, known=known)
        design = chart.design
        watch.baseline_share, watch.taps_per_day = chart.share, chart.taps_per_day
        watch.design_share = design.p0
        watch.arl0_target, watch.quiet_taps = chart.arl0_target, chart.quiet_taps
        watch.weight_up, watch.weight_down, watch.threshold = (
            design.up,
            design.down,
            design.threshold,
        )
        watch.shift_share, watch.arl0_taps, watch.arl1_taps = design.p1, design.arl0, design.arl1
        if warning is None:
            warning = _open(subject, watch, chart, now)
            if warning is not None:
                result.opened.append(warning)
    else:
        result.not_monitored += subject.counter is not None
        watch.baseline_share = watch.design_share = watch.taps_per_day = None
        watch.statistic = None
    if warning is not None and warning not in result.opened:
        if _follow(warning, subject, watch, now):
            result.closed += 1
    if warning is not None and warning.status == WarningStatus.open:
        result.mails += notices.notify(warning)
    db.session.flush()


def close_withdrawn(keys: set[str], now: datetime) -> int:
    """Close the warnings of counters and agencies no longer in the survey."""
    unclosed = db.session.scalars(
        select(SatisfactionWarning).where(SatisfactionWarning.closed_at.is_(None))
    ).all()
    stale = [warning for warning in unclosed if warning.subject not in keys]
    for warning in stale:
        warning.status = WarningStatus.closed
        warning.closed_at = now
        warning.close_reason = "withdrawn"
    db.session.flush()
    return len(stale)


def run(now: datetime, after_each: Callable[[], None] | None = None) -> RunResult:
    """Check every counter and agency once (see the module's docstring).

    :param now: the time of the run: the end of the monitoring window.
    :param after_each: called after each subject (the command commits there, so each
        subject is one short transaction and concurrent runs wait on nothing long).
    :return: what was done, with the warnings opened.
    :raises ValueError: if an ``EARLY_WARNING_*`` setting is out of range.
    """
    s = settings()
    result = RunResult()
    found = subjects(now, s)
    for subject in found:
        if subject.counter is not None:
            result.counters += 1
        else:
            result.agencies += 1
        check(subject, now, s, result)
        if after_each is not None:
            after_each()
    result.closed += close_withdrawn({subject.key for subject in found}, now)
    return result


def unclosed_count() -> int:
    """Warnings open or acknowledged, over the whole province."""
    return db.session.scalar(
        select(func.count())
        .select_from(SatisfactionWarning)
        .where(SatisfactionWarning.closed_at.is_(None))
    )
