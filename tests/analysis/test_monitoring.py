"""Early warning (analysis.monitoring): the Bernoulli CUSUM's stated run lengths hold
on simulated taps — false alarms as rare as promised, a real drop found as fast."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import beta

from analysis.monitoring import (
    average_run_length,
    baseline_bound,
    baseline_rate,
    design_cusum,
    integer_weights,
    run_cusum,
    shifted_rate,
    taps_to_rule_out,
)


def _first_signals(design, rate, rng, counters):
    """Taps until the first alarm on ``counters`` simulated counters whose rate is
    ``rate`` (the same recursion as :func:`run_cusum`, vectorised over counters)."""
    s = np.zeros(counters, dtype=np.int64)
    first = np.zeros(counters, dtype=np.int64)
    tap = 0
    while (first == 0).any():
        tap += 1
        bad = rng.random(counters) < rate
        s = np.where(bad, s + design.up, np.maximum(0, s - design.down))
        first[(s >= design.threshold) & (first == 0)] = tap
    return first.astype(float)


def test_the_vectorised_simulation_is_run_cusum():
    design = design_cusum(0.2, arl0=100)
    y = np.random.default_rng(1).random(5000) < 0.2
    _, signals = run_cusum(y, design)
    s, first = 0, None
    for i, bad in enumerate(y):
        s = s + design.up if bad else max(0, s - design.down)
        if s >= design.threshold:
            first = i
            break
    assert signals[0] == first


def test_average_run_length_matches_a_hand_solved_chain():
    """up = 1, down = 1, h = 2: from 0 → 1 (p) or stay 0 (1−p); from 1 → alarm (p)
    or 0 (1−p). L0 = 1 + p L1 + (1−p) L0, L1 = 1 + (1−p) L0 → L0 = (1 + p)/p²."""
    for p in (0.1, 0.3, 0.5):
        assert average_run_length(p, 1, 1, 2) == pytest.approx((1 + p) / p**2, rel=1e-12)


@pytest.mark.parametrize("p0", [0.03, 0.1, 0.25])
def test_design_meets_its_false_alarm_target_with_the_smallest_threshold(p0):
    design = design_cusum(p0, arl0=1000)
    assert design.arl0 >= 1000
    assert average_run_length(p0, design.up, design.down, design.threshold - 1) < 1000
    assert design.p1 == pytest.approx(shifted_rate(p0, 2.0))
    odds = design.p1 / (1 - design.p1) / (p0 / (1 - p0))
    assert odds == pytest.approx(2.0)
    assert design.arl1 < design.arl0 / 5  # it is a detector, not a coin


def test_simulated_false_alarms_are_as_rare_as_stated():
    """In control, the mean taps to a (false) alarm over 600 simulated counters is
    the computed ARL0 within sampling error (4 standard errors)."""
    rng = np.random.default_rng(20261206)
    design = design_cusum(0.08, arl0=400)
    runs = _first_signals(design, 0.08, rng, 600)
    se = runs.std(ddof=1) / math.sqrt(runs.size)
    assert abs(runs.mean() - design.arl0) < 4 * se


def test_simulated_detection_delay_is_as_stated():
    """After the share of dissatisfied taps doubles its odds (8 % → 14.8 %), the
    mean delay to the alarm is the computed ARL1; a larger drop is found faster."""
    rng = np.random.default_rng(7)
    design = design_cusum(0.08, arl0=2000)
    delays = _first_signals(design, design.p1, rng, 800)
    se = delays.std(ddof=1) / math.sqrt(delays.size)
    assert abs(delays.mean() - design.arl1) < 4 * se
    worse = _first_signals(design, 0.30, rng, 300)
    assert worse.mean() < delays.mean() / 2


def test_a_counter_that_turns_bad_is_flagged_within_days_not_at_month_end():
    """40 taps a day at 8 % dissatisfied for 60 days, then 25 %: the alarm comes a
    few days after the change, and not before it."""
    rng = np.random.default_rng(3)
    design = design_cusum(0.08, arl0=40 * 365)  # one false alarm a year at this counter
    before, after = rng.random(60 * 40) < 0.08, rng.random(30 * 40) < 0.25
    _, signals = run_cusum(np.concatenate([before, after]), design)
    assert signals.size >= 1
    day = signals[0] // 40
    assert 60 <= day <= 64


def test_statistic_restarts_after_a_signal():
    design = design_cusum(0.1, arl0=50)
    s, signals = run_cusum(np.ones(200, dtype=bool), design)
    taps_per_alarm = math.ceil(design.threshold / design.up)
    assert np.array_equal(signals, np.arange(taps_per_alarm - 1, 200, taps_per_alarm))
    assert (s[signals] >= design.threshold).all()


def test_weights_and_baseline_bounds():
    up, down = integer_weights(0.02, shifted_rate(0.02, 2.0))
    assert max(up, down) <= 200 and min(up, down) >= 1
    # a short history leans on the agency, a long one on itself
    assert baseline_rate(0, 5, 0.10) == pytest.approx(50 * 0.10 / 55)
    assert baseline_rate(200, 1000, 0.10) == pytest.approx((200 + 5) / 1050)
    assert baseline_rate(0, 10_000, 0.0) == 0.005
    with pytest.raises(ValueError):
        design_cusum(0.0)
    with pytest.raises(ValueError):
        design_cusum(0.1, odds_ratio=1.0)


def test_taps_to_rule_out_a_shift_that_is_still_there():
    """After an alarm, ``taps_to_rule_out(design, 0.1)`` taps without a new one: a counter
    still at ``p1`` signals again within them 9 times in 10 (simulated, 1500 counters)."""
    design = design_cusum(0.08, arl0=1000)
    n = taps_to_rule_out(design, miss=0.1)
    assert design.arl1 < n < 5 * design.arl1
    runs = _first_signals(design, design.p1, np.random.default_rng(11), 1500)
    still_quiet = (runs > n).mean()
    assert abs(still_quiet - 0.1) < 4 * math.sqrt(0.1 * 0.9 / runs.size)
    assert taps_to_rule_out(design, miss=0.1) > taps_to_rule_out(design, miss=0.3)
    assert taps_to_rule_out(design, miss=0.1, p=0.4) < n  # a larger drop shows sooner
    with pytest.raises(ValueError):
        taps_to_rule_out(design, miss=0.0)


def test_a_chart_designed_for_the_baseline_bound_keeps_its_false_alarm_promise():
    """A counter truly at 8 %, its usual share estimated from 400 taps: the bound is
    above the true share about 9 times in 10 (so the chart's ARL0 at the true share is
    at least the designed one, since run lengths fall as the share rises), while the
    point estimate is below it about half the time."""
    rng = np.random.default_rng(12)
    p, n = 0.08, 400
    x = rng.binomial(n, p, size=2000)
    bounds = np.array([baseline_bound(int(k), n, p) for k in x])
    points = np.array([baseline_rate(int(k), n, p) for k in x])
    assert 0.86 < (bounds >= p).mean() < 0.94
    assert 0.35 < (points >= p).mean() < 0.65
    assert (bounds >= points).all()
    design = design_cusum(0.1, arl0=500)
    arls = [
        average_run_length(q, design.up, design.down, design.threshold) for q in (0.06, 0.08, 0.1)
    ]
    assert arls[0] > arls[1] > arls[2] >= 500
    assert baseline_bound(0, 10_000, 0.0) == pytest.approx(0.005)
    # (20 + 50·0.1) dissatisfied against (180 + 50·0.9) satisfied: Beta(25, 225)
    assert baseline_bound(20, 200, 0.1) == pytest.approx(beta.ppf(0.9, 25, 225), rel=1e-12)
    with pytest.raises(ValueError):
        baseline_bound(1, 10, 0.1, confidence=1.0)
