"""Early warning: a counter (or agency) whose citizens turn dissatisfied, days after it starts.

A monthly report tells a leader at the end of the month that an office slipped.
This module watches each counter's taps as they come, one Bernoulli CUSUM per
counter (Reynolds & Stoumbos 1999, "A CUSUM chart for monitoring a proportion
when inspecting continuously"), against the counter's own usual rate.

Each tap is ``y = 1`` when the citizen was not satisfied overall (Q0 of 1–3),
``0`` otherwise. With ``p0`` the counter's usual rate of dissatisfied taps and
``p1`` the rate after the shift to detect (the odds of dissatisfaction
multiplied by ``odds_ratio``), the log-likelihood ratio of a tap is
``a = ln(p1/p0)`` when dissatisfied and ``b = ln((1−p1)/(1−p0)) < 0`` otherwise.
The statistic is ``S_t = max(0, S_{t−1} + w_t)``; it signals when ``S_t ≥ h``.
The weights are rounded to integers (:func:`integer_weights`), so ``S`` moves
on a finite lattice and its **average run lengths** are computed exactly as
the absorption time of a Markov chain (:func:`average_run_length`): ``ARL0``
(taps between false alarms while the rate stays ``p0``) and ``ARL1`` (taps
from the shift to the alarm). The threshold ``h`` is the smallest with
``ARL0`` at least the target (:func:`design_cusum`), so the false-alarm rate
is stated, not guessed: one false alarm per ``ARL0`` taps at that counter.
After an alarm, :func:`taps_to_rule_out` says how many quiet taps show (with a
stated confidence) that the shift is over, so a warning can close by itself.

The usual rate comes from the counter's own history (shrunk toward its
agency's rate when the history is short: :func:`baseline_rate`); the chart is
designed for an upper bound of it (:func:`baseline_bound`), so that an
estimate that happens to be low does not multiply the false alarms. The app
picks the windows and the target (:mod:`survey_app.reports.warnings`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve
from scipy.stats import beta as beta_distribution

#: The larger of the two integer weights at most (lattice size ~ a few × this).
MAX_STEP = 200
#: The smaller of the two integer weights at least (its rounding error ≤ 1/(2·this)).
MIN_STEP = 20


@dataclass(frozen=True)
class CusumDesign:
    """A Bernoulli CUSUM with integer weights and its exact run lengths.

    :ivar p0: the usual share of dissatisfied taps; :ivar p1: the share to detect.
    :ivar up: integer weight of a dissatisfied tap; :ivar down: of a satisfied one
        (subtracted); :ivar threshold: ``h``, signal when ``S ≥ h``.
    :ivar arl0: average taps between false alarms at ``p0``.
    :ivar arl1: average taps from the shift to ``p1`` until the alarm (from ``S = 0``).
    """

    p0: float
    p1: float
    up: int
    down: int
    threshold: int
    arl0: float
    arl1: float


def shifted_rate(p0: float, odds_ratio: float) -> float:
    """``p1``: the rate whose odds are ``odds_ratio`` times those of ``p0``."""
    return odds_ratio * p0 / (1 - p0 + odds_ratio * p0)


def integer_weights(p0: float, p1: float) -> tuple[int, int]:
    """The log-likelihood ratios ``a > 0`` and ``−b > 0`` as integers in the same unit.

    The unit is chosen so that the smaller weight is at least :data:`MIN_STEP`
    units unless that would make the larger exceed :data:`MAX_STEP`.
    """
    a = math.log(p1 / p0)
    b = -math.log((1 - p1) / (1 - p0))
    unit = max(min(a, b) / MIN_STEP, max(a, b) / MAX_STEP)
    return max(1, round(a / unit)), max(1, round(b / unit))


def average_run_length(p: float, up: int, down: int, threshold: int) -> float:
    """Average taps until ``S ≥ threshold``, from ``S = 0``, when each tap is
    dissatisfied with probability ``p``.

    Exact for the integer statistic: states ``0 … h−1``, ``s → s + up`` with
    probability ``p`` (absorbed at ``h``), ``s → max(0, s − down)`` otherwise;
    ``L = 1 + Q L`` solved as a sparse linear system.
    """
    if threshold <= 0:
        return 1.0
    if p <= 0:
        return math.inf
    h = threshold
    q = _transient_matrix(p, up, down, h)
    lengths = spsolve((sp.identity(h, format="csr") - q).tocsc(), np.ones(h))
    return float(lengths[0])


def _transient_matrix(p: float, up: int, down: int, h: int) -> sp.csr_matrix:
    """Transitions among the states ``0 … h−1`` (the alarm ``≥ h`` absorbs)."""
    s = np.arange(h)
    stay_up = s + up < h
    rows = np.concatenate([s[stay_up], s])
    cols = np.concatenate([(s + up)[stay_up], np.maximum(0, s - down)])
    vals = np.concatenate([np.full(stay_up.sum(), p), np.full(h, 1 - p)])
    return sp.csr_matrix((vals, (rows, cols)), shape=(h, h))


def design_cusum(p0: float, *, odds_ratio: float = 2.0, arl0: float = 2000.0) -> CusumDesign:
    """The CUSUM for a counter whose usual dissatisfied share is ``p0``.

    :param odds_ratio: the shift it is tuned to detect (odds of dissatisfaction × 2).
    :param arl0: taps between false alarms wanted while nothing changes.
    :return: the design with the smallest threshold whose ``ARL0 ≥ arl0``.
    """
    if not 0 < p0 < 1:
        raise ValueError("p0 must be strictly between 0 and 1")
    if odds_ratio <= 1:
        raise ValueError("odds_ratio must be above 1 (an increase of dissatisfaction)")
    p1 = shifted_rate(p0, odds_ratio)
    up, down = integer_weights(p0, p1)
    low, high = 1, up
    while average_run_length(p0, up, down, high) < arl0:
        low, high = high, high * 2
        if high > 10**6:
            raise ValueError("ARL0 target out of reach")
    while low < high:  # smallest threshold with ARL0 ≥ arl0 (ARL0 grows with h)
        mid = (low + high) // 2
        if average_run_length(p0, up, down, mid) >= arl0:
            high = mid
        else:
            low = mid + 1
    return CusumDesign(
        p0=p0,
        p1=p1,
        up=up,
        down=down,
        threshold=high,
        arl0=average_run_length(p0, up, down, high),
        arl1=average_run_length(p1, up, down, high),
    )


def run_cusum(dissatisfied: np.ndarray, design: CusumDesign) -> tuple[np.ndarray, np.ndarray]:
    """The statistic after each tap, and the taps where it signalled.

    After a signal the statistic starts again from 0 (a fresh watch).

    :param dissatisfied: boolean per tap, in time order.
    :return: ``(S, signals)``: ``S`` per tap (int64), and the indices of the
        signalling taps.
    """
    y = np.asarray(dissatisfied, dtype=bool)
    out = np.empty(y.size, dtype=np.int64)
    signals = []
    s, up, down, h = 0, design.up, design.down, design.threshold
    for i, bad in enumerate(y.tolist()):
        s = s + up if bad else max(0, s - down)
        if s >= h:
            signals.append(i)
            out[i] = s
            s = 0
        else:
            out[i] = s
    return out, np.array(signals, dtype=np.int64)


def baseline_rate(
    dissatisfied: int, taps: int, prior_rate: float, prior_taps: float = 50.0
) -> float:
    """The usual dissatisfied share, shrunk toward ``prior_rate`` (e.g. the agency's).

    ``(x + m·r) / (n + m)``: a beta prior worth ``prior_taps`` taps, so a counter
    with a short history is judged against its agency, one with a long history
    against itself; kept inside [0.005, 0.95] so a spotless history still allows
    a signal and the design exists.
    """
    rate = (dissatisfied + prior_taps * prior_rate) / (taps + prior_taps)
    return min(max(rate, 0.005), 0.95)


def baseline_bound(
    dissatisfied: int,
    taps: int,
    prior_rate: float,
    prior_taps: float = 50.0,
    confidence: float = 0.9,
) -> float:
    """An upper bound for the usual dissatisfied share, to design the chart for.

    The usual share is estimated, and a chart designed for an estimate that
    happens to be low raises false alarms far more often than stated (with
    400 baseline taps, twice as often on average). The bound is the
    ``confidence`` quantile of the same beta posterior as :func:`baseline_rate`,
    ``Beta(x + m·r, n − x + m·(1 − r))``. Since a chart's average run length
    falls as the share rises (:func:`average_run_length`), a chart designed for
    the bound keeps its ``ARL0`` at the true share whenever the true share is
    below the bound: with about that confidence. Kept inside [0.005, 0.95].

    :return: the bound, at least :func:`baseline_rate` of the same counts.
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence must be strictly between 0 and 1")
    a = dissatisfied + prior_taps * prior_rate
    b = taps - dissatisfied + prior_taps * (1 - prior_rate)
    bound = float(beta_distribution.ppf(confidence, max(a, 1e-9), max(b, 1e-9)))
    return min(max(bound, baseline_rate(dissatisfied, taps, prior_rate, prior_taps)), 0.95)


def taps_to_rule_out(design: CusumDesign, miss: float = 0.05, p: float | None = None) -> int:
    """Taps without an alarm after which a rate still at ``p`` would, with probability
    at least ``1 − miss``, have signalled again.

    After an alarm the statistic starts again from 0 (:func:`run_cusum`). If the
    counter stays at the shifted rate, the chart signals again within this many
    taps in all but ``miss`` of cases; so when that many taps pass without a new
    alarm, the shift the chart was designed for is, with that confidence, gone.
    Exact: the survival ``P(no alarm in n taps)`` of the same Markov chain as
    :func:`average_run_length`, stepped until it falls to ``miss``.

    :param design: the chart; :param miss: the accepted chance that the shift is still there.
    :param p: the rate to rule out (default the design's ``p1``).
    :return: the smallest such number of taps.
    """
    if not 0 < miss < 1:
        raise ValueError("miss must be strictly between 0 and 1")
    rate = design.p1 if p is None else p
    step = _transient_matrix(rate, design.up, design.down, design.threshold).T.tocsr()
    alive = np.zeros(design.threshold)
    alive[0] = 1.0
    limit = 1000 * max(
        1, math.ceil(average_run_length(rate, design.up, design.down, design.threshold))
    )
    for n in range(1, limit + 1):
        alive = step @ alive
        if alive.sum() <= miss:
            return n
    raise ValueError("the rate would hardly ever signal: nothing to rule out")
