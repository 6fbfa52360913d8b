"""Unit tests: reference values (R, textbooks), weights, periods, CSV, signals, report shape."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from analysis import (
    INSUFFICIENT,
    Design,
    Responses,
    analyse,
    benjamini_hochberg,
    beta_bounds,
    counter_distribution_test,
    cronbach_alpha,
    flag_bursts,
    flag_outside_hours,
    flag_straight_lining,
    flag_too_fast,
    funnel_limits,
    load_questionnaire,
    parse_timestamps,
    period_change,
    period_month,
    poststratify,
    quality_signals,
    rake,
    read_responses_csv,
    response_coverage,
    wilson_interval,
)

Q = load_questionnaire()
REPO = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------- references
def test_benjamini_hochberg_matches_r_p_adjust():
    """R: p.adjust(c(0.01, 0.04, 0.03, NA, 0.2, 0.04, 0.5, 0.001, 1, 0.049), "BH")."""
    p = [0.01, 0.04, 0.03, np.nan, 0.2, 0.04, 0.5, 0.001, 1, 0.049]
    r = [0.045, 0.072, 0.072, np.nan, 0.2571428571428571730, 0.072, 0.5625, 0.009, 1.0, 0.0735]
    np.testing.assert_allclose(benjamini_hochberg(p), r, rtol=1e-14, equal_nan=True)


@pytest.mark.parametrize(
    "x,n,low,high",
    [
        (7, 20, 0.15390920478454115, 0.59218853453282816),  # R: binom.test(7, 20)
        (20, 20, 0.83156652901691464, 1.0),
        (0, 13, 0.0, 0.24705263800047095),
    ],
)
def test_beta_bounds_are_clopper_pearson_for_integers(x, n, low, high):
    lo, hi = beta_bounds(x, n)
    assert lo == pytest.approx(low, abs=1e-14) and hi == pytest.approx(high, abs=1e-14)


def test_wilson_textbook_value():
    """p̂ = 0.8, n = 10, 95%, infinite df (t = z): (0.4902, 0.9433) (Newcombe 1998,
    Table I style); with 9 df t > z widens it."""
    lo, hi = wilson_interval(0.8, 10, np.inf)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)
    lo9, hi9 = wilson_interval(0.8, 10, 9)
    assert lo9 < lo and hi9 > hi


def test_counter_chi_square_matches_r_chisq_test():
    """R: chisq.test(matrix(c(12,5,7,3,9, 30,10,25,20,40), 2, byrow=TRUE)) → 3.5780439814814815."""
    counts = {"K1": [12, 5, 7, 3, 9], "K2": [30, 10, 25, 20, 40]}
    counter = np.concatenate([np.repeat(k, sum(v)) for k, v in counts.items()])
    values = np.concatenate([np.repeat(np.arange(1, 6), v) for v in counts.values()])
    out = counter_distribution_test(np.repeat("A", counter.size), counter, values)
    assert list(out["counter"]) == ["K1", "K2"]
    np.testing.assert_allclose(out["chi2"], 3.5780439814814815, rtol=1e-13)
    np.testing.assert_allclose(out["p"], 0.46611122302561525, rtol=1e-12)
    assert list(out["df"]) == [4, 4] and not out["flag"].any()
    # a counter that differs sharply is flagged
    values2 = values.copy()
    values2[counter == "K1"] = 1
    assert counter_distribution_test(np.repeat("A", counter.size), counter, values2)["flag"][0]


def test_counter_chi_square_needs_min_n_and_another_counter():
    out = counter_distribution_test(
        np.array(["A"] * 40 + ["B"] * 10),
        np.array(["K1"] * 40 + ["K9"] * 5 + ["K8"] * 5),
        np.tile([1, 2, 3, 4, 5], 10),
    )
    assert np.all(np.isnan(out["p"])) and not out["flag"].any()  # K1 alone; K8/K9 too small


# ----------------------------------------------------------------- weights
def test_poststratify_coverage_gap_is_reported_not_redistributed():
    w0 = np.array([1.0, 1.0, 2.0, 1.0])
    cell = np.array([0, 0, 1, 1])
    totals = np.array([10.0, 30.0, 60.0])  # cell 2 has volume but no response
    cal = poststratify(w0, cell, totals)
    np.testing.assert_allclose(cal.weights, [5, 5, 20, 10])
    assert list(cal.coverage_gaps) == [2] and list(cal.gap_volume) == [60.0]
    assert cal.weights.sum() == 40.0  # not 100: the gap's volume is not spread


def test_poststratify_collapse_spreads_gap_volume_within_parent():
    w0 = np.ones(4)
    cell = np.array([0, 0, 1, 3])
    totals = np.array([10.0, 30.0, 60.0, 5.0])
    parent = np.array([0, 0, 0, 1])  # cell 2 (gap) belongs to parent 0
    cal = poststratify(w0, cell, totals, parent=parent, collapse=True)
    # parent 0: 100 dossiers over responding cells with 10 and 30 → factor 2.5
    np.testing.assert_allclose(cal.weights, [12.5, 12.5, 75.0, 5.0])
    assert list(cal.collapsed) == [2] and cal.coverage_gaps.size == 0


def test_poststratify_rejects_responses_without_a_total():
    with pytest.raises(ValueError, match="no known positive total"):
        poststratify(np.ones(3), np.array([0, 1, 1]), np.array([5.0, np.nan]))


def test_rake_errors():
    with pytest.raises(ValueError, match="grand total"):
        rake(
            np.ones(4),
            [np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])],
            [np.array([2.0, 2.0]), np.array([3.0, 3.0])],
        )
    with pytest.raises(ValueError, match="did not converge"):
        rake(
            np.arange(1.0, 5.0),
            [np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])],
            [np.array([4.0, 6.0]), np.array([5.0, 5.0])],
            max_iter=1,
        )
    with pytest.raises(ValueError, match="no response"):
        rake(np.ones(2), [np.array([0, 0])], [np.array([1.0, 1.0])])


def test_rake_reports_convergence():
    cal = rake(
        np.arange(1.0, 5.0),
        [np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])],
        [np.array([4.0, 6.0]), np.array([5.0, 5.0])],
    )
    assert cal.converged and cal.max_error < 1e-13 and cal.iterations > 1
    np.testing.assert_allclose(np.bincount([0, 0, 1, 1], cal.weights), [4, 6])
    np.testing.assert_allclose(np.bincount([0, 1, 0, 1], cal.weights), [5, 5])


def test_lonely_psu_policies():
    strata = np.array([0, 0, 0, 1])
    with pytest.raises(ValueError, match="single PSU"):
        Design(np.ones(4), strata=strata)
    z = np.array([[1.0], [-1.0], [0.5], [2.0]])
    for policy, expected in (("remove", 0.0), ("certainty", 0.0), ("adjust", 4.0)):
        d = Design(np.ones(4), strata=strata, lonely_psu=policy)
        v = d.variance(z, d.grouping(np.zeros(4, dtype=int), 1))[0, 0]
        # stratum 0: 3/2 · Σ (t − t̄)² with t̄ = 1/6; stratum 1: 0, or 2² (adjust)
        t = np.array([1.0, -1.0, 0.5])
        assert v == pytest.approx(1.5 * np.sum((t - t.mean()) ** 2) + expected)


# ----------------------------------------------------------------- periods, CSV
def test_reporting_month_runs_from_the_15th():
    t = parse_timestamps(
        [
            "2021-12-14T16:59:59Z",  # 23:59:59 on 14 Dec local → December
            "2021-12-14T17:00:00Z",  # 00:00 on 15 Dec local → January 2022
            "2022-03-14T16:00:00+00:00",  # 23:00 on 14 Mar → March
            "2022-12-15T08:00:00+07:00",  # 15 Dec 2022 → January 2023
        ]
    )
    assert [str(m) for m in period_month(t)] == ["2021-12", "2022-01", "2022-03", "2023-01"]
    assert [str(m) for m in period_month(t, cutoff_day=None)] == [
        "2021-12",
        "2021-12",
        "2022-03",
        "2022-12",
    ]


def _csv(rows, header=None):
    header = header or ["response_id", "agency", "submitted_at", *Q.item_codes]
    lines = [",".join(header)] + [",".join(map(str, r)) for r in rows]
    return io.StringIO("\n".join(lines) + "\n")


def test_read_responses_csv():
    items = ["5", "4", ""] + ["3"] * (len(Q.item_codes) - 3)
    data = _csv(
        [["r1", "A", "2024-03-01T01:00:00Z", *items]],
        header=["response_id", "agency", "submitted_at", *Q.item_codes],
    )
    r = read_responses_csv(data, Q)
    assert r.n == 1 and r.agency[0] == "A" and r.weight is None
    assert list(r.answers[0, :3]) == [5, 4, 0]
    assert str(r.submitted_at[0]) == "2024-03-01T01:00:00"
    with pytest.raises(ValueError, match="lacks item columns"):
        read_responses_csv(
            _csv(
                [["r1", "A", "2024-03-01", "5"]],
                header=["response_id", "agency", "submitted_at", "Q0"],
            ),
            Q,
        )
    short = read_responses_csv(
        _csv(
            [["r1", "A", "2024-03-01", "5"]], header=["response_id", "agency", "submitted_at", "Q0"]
        ),
        Q,
        allow_missing_items=True,
    )
    assert short.answers.sum() == 5
    with pytest.raises(ValueError, match="1–5"):
        read_responses_csv(_csv([["r1", "A", "2024-03-01", "7", *[""] * 21]]), Q)


# ----------------------------------------------------------------- signals
def test_flag_bursts():
    base = np.datetime64("2024-03-01T02:00:00")
    t = base + np.array([0, 5, 10, 15, 20, 25, 30, 500, 1000, 1010]).astype("timedelta64[s]")
    key = np.array(["K1"] * 8 + ["K2"] * 2)
    flags = flag_bursts(key, t, window_seconds=60, max_responses=5)
    assert list(flags) == [True] * 7 + [False] * 3
    # same times, different counters: no burst
    assert not flag_bursts(np.arange(10), t).any()


def test_flag_too_fast_and_straight_lining():
    assert list(flag_too_fast([2.0, 10.0, np.nan, 20.0], [1, 1, 1, 21])) == [
        True,
        False,
        False,
        True,
    ]
    answers = np.zeros((3, 10), dtype=np.int8)
    answers[0] = 5
    answers[1] = 5
    answers[1, 3] = 4
    answers[2, :5] = 5
    assert list(flag_straight_lining(answers)) == [True, False, False]


def test_flag_outside_hours():
    local = np.array(
        [
            "2024-03-04T08:00:00",  # Monday 08:00 → open
            "2024-03-04T17:20:00",  # within the grace period
            "2024-03-04T21:00:00",  # Monday night
            "2024-03-09T09:00:00",  # Saturday
            "2024-04-30T09:00:00",  # a holiday
        ],
        dtype="datetime64[s]",
    )
    utc = local - np.timedelta64(7, "h")
    flags = flag_outside_hours(utc, holidays=["2024-04-30"])
    assert list(flags) == [False, False, True, True, True]
    assert not flag_outside_hours(utc[3:4], open_weekdays=(0, 1, 2, 3, 4, 5))[0]


def test_response_coverage():
    np.testing.assert_allclose(
        response_coverage(np.array([0, 0, 1]), 3, [4, 0, 10]), [0.5, np.nan, 0.0]
    )


def test_quality_signals_on_a_table():
    n = 3
    answers = np.full((n, len(Q.item_codes)), 4, dtype=np.int8)
    r = Responses(
        answers=answers,
        item_codes=Q.item_codes,
        agency=np.array(["A"] * n),
        counter=np.array(["K"] * n),
        submitted_at=parse_timestamps(["2024-03-04T02:00:00Z"] * n),
        extra={"duration_seconds": np.array(["5", "", "60"])},
    )
    out = quality_signals(r)
    assert list(out["straight_lining"]) == [True] * 3
    assert list(out["too_fast"]) == [True, False, False]
    assert not out["burst"].any() and not out["outside_hours"].any()


# ----------------------------------------------------------------- reliability
def test_cronbach_alpha_textbook_and_weights():
    rng = np.random.default_rng(3)
    n = 50
    answers = np.zeros((n, len(Q.item_codes)), dtype=np.int8)
    latent = rng.integers(1, 6, n)
    for j in range(1, len(Q.item_codes)):
        answers[:, j] = np.clip(latent + rng.integers(-1, 2, n), 1, 5)
    answers[0, 1] = 0  # respondent 0 drops out of element A (listwise)
    out = cronbach_alpha(answers, Q)
    cols = [Q.item_codes.index(c) for c in Q.elements[0].items]
    x = answers[1:, cols].astype(float)
    m = len(cols)
    textbook = m / (m - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))
    assert out["alpha"][0, 0] == pytest.approx(textbook, rel=1e-12)
    assert out["n"][0, 0] == n - 1
    # integer weights = duplicated rows
    w = rng.integers(1, 4, n)
    dup = np.repeat(answers, w, axis=0)
    np.testing.assert_allclose(
        cronbach_alpha(answers, Q, weights=w)["alpha"], cronbach_alpha(dup, Q)["alpha"], rtol=1e-10
    )


# ----------------------------------------------------------------- report
def _monthly_table(seed=5, n=400):
    rng = np.random.default_rng(seed)
    answers = rng.choice([0, 2, 3, 4, 5, 5, 4], size=(n, len(Q.item_codes))).astype(np.int8)
    answers[:, 0] = rng.choice([3, 4, 5], size=n)
    days = rng.integers(0, 85, n)
    t = np.datetime64("2024-01-15T02:00:00") + (days * 86400).astype("timedelta64[s]")
    return Responses(
        answers=answers,
        item_codes=Q.item_codes,
        agency=rng.choice(["A", "B"], n),
        submitted_at=t,
        counter=rng.choice(["K1", "K2"], n),
    )


def test_change_since_previous_month():
    report = analyse(_monthly_table(), Q, by="agency_month", min_n=5)
    table = report.groups
    months = [str(m) for m in table.keys["month"]]
    assert months[:3] == ["2024-02", "2024-03", "2024-04"]
    st = table.stats
    k = table.column("composite")
    prev, cur = 0, 1  # agency A, February and March
    assert table.keys["agency"][cur] == "A" and table.change["previous"][cur] == prev
    assert table.change["previous"][prev] == -1 and "change" not in table.record(prev)
    block = table.record(cur)["change"]
    assert block["difference"] == pytest.approx(st["index"][cur, k] - st["index"][prev, k])
    se = np.hypot(st["se"][cur, k], st["se"][prev, k])
    assert block["se"] == pytest.approx(se)
    t = block["difference"] / se
    df = min(st["df"][cur, k], st["df"][prev, k])
    assert block["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), df))
    direct = period_change(
        st["index"][cur, k],
        st["variance"][cur, k],
        st["df"][cur, k],
        st["index"][prev, k],
        st["variance"][prev, k],
        st["df"][prev, k],
    )
    assert bool(direct["significant"]) == block["significant"]


def test_report_json_shape_and_q_values():
    report = analyse(_monthly_table(n=600), Q, by=("agency", "counter"), min_n=20)
    out = report.to_dict()
    json.dumps(out, allow_nan=False)  # NaN became null
    group = out["groups"][0]
    assert {"agency", "counter", "n", "index", "ci_low", "verdict", "elements", "items"} <= set(
        group
    )
    assert next(iter(group["items"])) == "Q0" and set(group["elements"]) == set("ABCDE")
    assert out["overall"]["scope"] == "province" and out["headline"] == "Q0"
    # q values: BH over the groups with a usable test
    st = report.groups.stats
    k = report.groups.column("Q0")
    usable = st["verdict"][:, k] != INSUFFICIENT
    expected = benjamini_hochberg(np.where(usable, st["p_below"][:, k], np.nan))
    np.testing.assert_allclose(st["q_below"][:, k], expected, equal_nan=True)
    with pytest.raises(ValueError, match="headline"):
        analyse(_monthly_table(), Q, headline="A1")
    assert analyse(_monthly_table(), Q, headline="Q0").to_dict()["headline"] == "Q0"


def test_report_lists_coverage_gaps():
    r = _monthly_table()
    cell = (r.agency == "B").astype(int)
    report = analyse(r, Q, calibration=poststratify(np.ones(r.n), cell, [500.0, 300.0, 50.0]))
    assert report.coverage_gaps == [{"cell": 2, "volume": 50.0}]
    assert report.settings["calibration"] == "poststratify"


def test_analysis_never_imports_the_web_app():
    code = (
        "import sys, analysis; analysis.load_questionnaire(); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'survey_app', 'sqlalchemy')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_questionnaire():
    assert Q.item_codes[0] == "Q0" and len(Q.item_codes) == 22
    assert Q.element_codes == ("A", "B", "C", "D", "E")
    np.testing.assert_allclose(Q.element_weights(), 0.2)
    assert Q.element_matrix().sum() == 21 and not Q.element_matrix()[:, 0].any()


def test_funnel_limits():
    limits = funnel_limits(np.array([100.0, 10000.0]))
    low, high = limits[0.95]
    np.testing.assert_allclose(
        high - 0.9, 1.959963984540054 * np.sqrt(0.09 / np.array([100, 10000]))
    )
    assert np.all(limits[0.998][0] < low) and np.all(high <= 1)


def test_analyse_refuses_an_empty_table():
    empty = Responses(
        answers=np.zeros((0, len(Q.item_codes)), dtype=np.int8),
        item_codes=Q.item_codes,
        agency=np.array([], dtype=str),
    )
    with pytest.raises(ValueError, match="no responses"):
        analyse(empty, Q)


def test_five_respondents_never_look_more_certain_than_forty_one():
    """The issue's case: an office with 5 respondents, each satisfied with about
    four items in five (their composite scores agree, so the linearised n_eff
    is far above 5: 340 in the report that showed it), against one with
    41 mixed respondents. Logit-t with the design df makes the small office's
    composite interval the wider one, and its Q0 interval (Korn–Graubard, n_eff
    capped at n_d) contains the exact interval of its 5 respondents."""
    m = len(Q.item_codes)
    small = np.array([[2 if j % 5 == r else 5 for j in range(m)] for r in range(5)], np.int8)
    rng = np.random.default_rng(3)
    large = rng.choice([2, 4, 4, 5, 5, 5], size=(41, m)).astype(np.int8)
    answers = np.vstack([small, large])
    responses = Responses(
        answers=answers, item_codes=Q.item_codes, agency=np.array(["S"] * 5 + ["L"] * 41)
    )
    report = analyse(responses, Q)
    table = report.groups
    s, big = (list(table.keys["agency"]).index(a) for a in ("S", "L"))
    k = table.column("composite")
    st = table.stats
    assert st["n"][s, k] == 5 and st["n_eff"][s, k] > 41  # linearisation says "many"
    assert st["ci_high"][s, k] - st["ci_low"][s, k] > st["ci_high"][big, k] - st["ci_low"][big, k]
    q0 = table.column("Q0")
    cp_low, cp_high = beta_bounds(st["index"][s, q0] * 5, 5)
    assert st["ci_low"][s, q0] <= cp_low + 1e-12 and st["ci_high"][s, q0] >= cp_high - 1e-12
    # the small office is shown, flagged low-reliability, with a verdict withheld (n < 10)
    record = table.record(s)
    assert record["verdict"] == "insufficient_data" and record["index"] is not None
    assert {"small_n", "low_reliability_n", "low_reliability_df"} <= set(record["flags"])
    assert report.headline == "Q0"
