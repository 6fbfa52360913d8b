"""Property-based tests (Hypothesis) of the statistics library.

The vectorised, sparse code is checked against the naive implementations in
reference.py on small random designs, and the invariants ANALYSIS.md implies
are checked on random inputs.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import analysis.design as design_module
from analysis import (
    ABOVE,
    BELOW,
    INSUFFICIENT,
    Design,
    Responses,
    analyse,
    benjamini_hochberg,
    beta_bounds,
    estimate_indices,
    flag_names,
    infer,
    load_questionnaire,
    poststratify,
    rake,
)
from analysis.indices import answer_matrix

from .reference import naive_indices, naive_variance

QUESTIONNAIRE = load_questionnaire()
PROPERTY = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@contextlib.contextmanager
def calibration_strategy(mode: str):
    """Force one of the code paths of the calibration terms."""
    names = ("_DENSE_LIMIT", "_BILINEAR_MODE", "_STRATUM_MODE")
    saved = {name: getattr(design_module, name) for name in names}
    forced = {
        "auto": {},
        "sparse-rows": {"_DENSE_LIMIT": 0, "_BILINEAR_MODE": "rows", "_STRATUM_MODE": "quadratic"},
        "sparse-pairs": {
            "_DENSE_LIMIT": 0,
            "_BILINEAR_MODE": "pairs",
            "_STRATUM_MODE": "quadratic",
        },
        "direct": {"_DENSE_LIMIT": 0, "_STRATUM_MODE": "direct"},
        "dense-quadratic": {"_STRATUM_MODE": "quadratic"},
    }[mode]
    for name, value in forced.items():
        setattr(design_module, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(design_module, name, value)


@st.composite
def random_designs(draw):
    """A small random design: weights, strata, clusters, groups, optional calibration."""
    n = draw(st.integers(4, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_strata = draw(st.integers(1, 3))
    strata = rng.integers(0, n_strata, n) if n_strata > 1 else None
    clusters = (
        rng.integers(0, draw(st.integers(1, max(1, n // 2))), n) if draw(st.booleans()) else None
    )
    n_groups = draw(st.integers(1, 4))
    group = rng.integers(0, n_groups, n)
    w0 = rng.uniform(0.2, 5.0, n)
    kind = draw(st.sampled_from([None, "poststratify", "rake"]))
    calibration = None
    X = None
    targets = None
    if kind == "poststratify":
        n_cells = draw(st.integers(1, 5))
        cell = rng.integers(0, n_cells, n)
        totals = rng.uniform(5, 50, n_cells)
        calibration = poststratify(w0, cell, totals)
        X = np.eye(n_cells)[cell]
        targets = np.where(np.bincount(cell, minlength=n_cells) > 0, totals, 0.0)
    elif kind == "rake":
        m1 = rng.integers(0, draw(st.integers(1, 3)), n)
        m2 = rng.integers(0, draw(st.integers(1, 3)), n)
        _, m1 = np.unique(m1, return_inverse=True)
        _, m2 = np.unique(m2, return_inverse=True)
        X = np.hstack([np.eye(m1.max() + 1)[m1], np.eye(m2.max() + 1)[m2]])
        # margins of w* = w0·exp(Xλ): a raking solution exists and is w*
        w_star = w0 * np.exp(X @ rng.normal(0, 0.5, X.shape[1]))
        totals = [np.bincount(m1, w_star), np.bincount(m2, w_star)]
        calibration = rake(w0, [m1, m2], totals)
        targets = X.T @ w_star
        np.testing.assert_allclose(calibration.weights, w_star, rtol=1e-9)
    lonely = draw(st.sampled_from(["remove", "certainty", "adjust"]))
    weights = w0 if calibration is None else calibration.weights
    design = Design(
        weights, strata=strata, clusters=clusters, calibration=calibration, lonely_psu=lonely
    )
    return {
        "design": design,
        "w0": w0,
        "weights": weights,
        "strata": strata,
        "clusters": clusters,
        "group": group,
        "n_groups": n_groups,
        "X": X,
        "lonely": lonely,
        "rng": rng,
        "targets": targets,
    }


@pytest.mark.parametrize(
    "mode", ["auto", "sparse-rows", "sparse-pairs", "direct", "dense-quadratic"]
)
@PROPERTY
@given(case=random_designs())
def test_domain_variance_equals_naive_formula(mode, case):
    """Design.variance == ANALYSIS.md's formula domain by domain (all calibration code paths)."""
    n = case["weights"].size
    scores = case["rng"].normal(size=(n, 3))
    with calibration_strategy(mode):
        design = Design(
            case["weights"],
            strata=case["strata"],
            clusters=case["clusters"],
            calibration=case["design"].calibration,
            lonely_psu=case["lonely"],
        )
        V = design.variance(scores, design.grouping(case["group"], case["n_groups"]))
    for g in range(case["n_groups"]):
        for k in range(3):
            z = np.where(case["group"] == g, scores[:, k], 0.0)
            expected = naive_variance(
                case["weights"],
                case["strata"],
                case["clusters"],
                z,
                X=case["X"],
                w0=case["w0"],
                lonely_psu=case["lonely"],
            )
            assert V[g, k] == pytest.approx(expected, rel=1e-8, abs=1e-10)


@st.composite
def random_answers(draw, n_max=60):
    n = draw(st.integers(1, n_max))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    m = len(QUESTIONNAIRE.item_codes)
    p_missing = draw(st.sampled_from([0.0, 0.2, 0.6, 0.95]))
    answers = rng.integers(1, 6, (n, m)).astype(np.int8)
    answers[rng.random((n, m)) < p_missing] = 0
    answers[:, 0] = rng.integers(1, 6, n)
    if draw(st.booleans()):  # everybody satisfied or nobody
        answers = np.where(answers > 0, draw(st.sampled_from([2, 5])), 0).astype(np.int8)
    n_groups = draw(st.integers(1, 3))
    group = rng.integers(0, n_groups, n)
    weights = rng.uniform(0.1, 3.0, n)
    return answers, group, n_groups, weights


@PROPERTY
@given(data=random_answers())
def test_indices_equal_their_definitions(data):
    """Item, element and composite indices (with dropped items/elements) match the definitions."""
    answers, group, n_groups, weights = data
    est = estimate_indices(answer_matrix(answers), weights, group, n_groups, QUESTIONNAIRE)
    naive = naive_indices(answers, weights, group, QUESTIONNAIRE)
    for g in range(n_groups):
        if g not in naive:
            assert np.all(np.isnan(est.index[g]))
            continue
        ref = naive[g]
        for k, (name, kind) in enumerate(zip(est.names, est.kinds)):
            got = est.index[g, k]
            want = {
                "composite": ref["composite"],
                "element": ref["elements"].get(name, np.nan),
                "item": ref["items"].get(name, np.nan),
            }[kind]
            if np.isnan(want):
                assert np.isnan(got), (g, name)
            else:
                assert got == pytest.approx(want, abs=1e-13), (g, name)


def _responses(answers, group, weights):
    return Responses(
        answers=answers, item_codes=QUESTIONNAIRE.item_codes, agency=group, weight=weights
    )


@PROPERTY
@given(data=random_answers(), scale=st.floats(1e-3, 1e3))
def test_invariant_to_weight_scaling(data, scale):
    """Multiplying every weight by a constant changes no index, SE, interval, p value or verdict."""
    answers, group, _, weights = data
    a = analyse(_responses(answers, group, weights), QUESTIONNAIRE, min_n=2)
    b = analyse(_responses(answers, group, weights * scale), QUESTIONNAIRE, min_n=2)
    for table_a, table_b in ((a.groups, b.groups), (a.overall, b.overall)):
        for key in ("index", "se", "ci_low", "ci_high", "p_below", "p_above", "n_kish", "n_eff"):
            np.testing.assert_allclose(
                table_a.stats[key],
                table_b.stats[key],
                rtol=1e-8,
                atol=1e-12,
                equal_nan=True,
                err_msg=key,
            )
        # a verdict can only flip when a bound is within rounding of the target
        differ = table_a.stats["verdict"] != table_b.stats["verdict"]
        near = (np.abs(table_a.stats["ci_low"] - 0.9) < 1e-8) | (
            np.abs(table_a.stats["ci_high"] - 0.9) < 1e-8
        )
        assert not np.any(differ & ~near)


def _check_interval_and_verdict(r, est, p0=0.90, alpha=0.05):
    low, high, verdict = r["ci_low"], r["ci_high"], r["verdict"]
    finite = np.isfinite(est) & np.isfinite(low)
    assert np.all(low[finite] <= est[finite] + 1e-12)
    assert np.all(est[finite] <= high[finite] + 1e-12)
    assert np.all((low[finite] >= 0) & (high[finite] <= 1))
    decided = verdict != INSUFFICIENT
    # the verdict is read off the interval…
    assert np.all((verdict == ABOVE) == (decided & (low > p0)))
    assert np.all((verdict == BELOW) == (decided & (high < p0)))
    # …and agrees with the one-sided tests it inverts (away from rounding ties)
    clear_low = np.abs(low - p0) > 1e-9
    clear_high = np.abs(high - p0) > 1e-9
    assert np.all(((r["p_above"] < alpha / 2) == (low > p0))[decided & clear_low])
    assert np.all(((r["p_below"] < alpha / 2) == (high < p0))[decided & clear_high])


@PROPERTY
@given(
    est=st.floats(0, 1),
    rel_var=st.floats(1e-6, 1.0),
    n=st.integers(0, 5000),
    df_frac=st.floats(0, 1),
    kish_frac=st.floats(0.05, 1),
    p0=st.floats(0.5, 0.99),
)
def test_interval_contains_estimate_and_verdict_matches(est, rel_var, n, df_frac, kish_frac, p0):
    """For any estimate, variance, n, df, kind and method: low ≤ I ≤ high, and the
    verdict follows the interval and the p values the interval inverts."""
    var = est * (1 - est) / max(n, 1) / rel_var
    df = int(df_frac * max(n - 1, 0))
    for mean, method in ((False, "beta"), (False, "logit"), (False, "wilson"), (True, "beta")):
        r = infer(
            np.array([est]),
            np.array([var]),
            np.array([n]),
            np.array([df]),
            np.array([kish_frac * n]),
            mean=mean,
            method=method,
            p0=p0,
            min_n=2,
        )
        _check_interval_and_verdict(r, np.array([est]), p0=p0)


@PROPERTY
@given(
    est=st.floats(0, 1),
    deff=st.floats(0.01, 20),
    n=st.integers(2, 5000),
    df_frac=st.floats(0, 1),
    kish_frac=st.floats(0.05, 1),
)
def test_binary_interval_never_narrower_than_clopper_pearson_of_its_respondents(
    est, deff, n, df_frac, kish_frac
):
    """ANALYSIS.md: n* ≤ n_d, so a binary outcome's interval contains the exact
    (Clopper–Pearson) interval of its own respondent count, whatever the design
    effect (below 1 included: n_eff is capped at n_d)."""
    var = est * (1 - est) / n * deff
    df = max(1, int(df_frac * (n - 1)))
    r = infer(est, var, n, df, kish_frac * n)
    assert r["n_use"] <= n + 1e-9 and r["n_star"] <= n + 1e-9
    cp_low, cp_high = beta_bounds(n * est, n)
    assert r["ci_low"] <= cp_low + 1e-9
    assert r["ci_high"] >= cp_high - 1e-9
    assert r["ci_high"] - r["ci_low"] >= cp_high - cp_low - 1e-9


@PROPERTY
@given(
    est=st.floats(0.01, 0.99),
    rel_var=st.floats(1e-4, 1.0),
    n=st.integers(0, 400),
    df_frac=st.floats(0, 1),
    mean=st.booleans(),
    method=st.sampled_from(["beta", "logit", "wilson"]),
)
def test_reliability_flags_follow_nchs(est, rel_var, n, df_frac, mean, method):
    """Low reliability ⇔ n_use < 30, df < 8 or an interval 30 points wide or more;
    each reason has its own flag, and the estimate keeps its interval."""
    var = est * (1 - est) / max(n, 1) / rel_var
    df = int(df_frac * max(n - 1, 0))
    r = infer(est, var, n, df, n, mean=mean, method=method)
    names = set(flag_names(int(r["flags"])))
    assert ("low_reliability_n" in names) == (not r["n_use"] >= 30)
    assert ("low_reliability_df" in names) == (df < 8)
    wide = np.isfinite(r["ci_low"]) and r["ci_high"] - r["ci_low"] >= 0.30
    assert ("low_reliability_width" in names) == bool(wide)
    if df >= 1 and n >= 2:
        assert np.isfinite(r["ci_low"]) and np.isfinite(r["ci_high"])
    assert (r["verdict"] == INSUFFICIENT) == (n < 10 or not np.isfinite(r["ci_low"]))


@PROPERTY
@given(
    est=st.floats(0.05, 0.95),
    se=st.floats(0.001, 0.2),
    small=st.integers(1, 10),
    extra=st.integers(1, 200),
)
def test_composite_interval_widens_with_fewer_df(est, se, small, extra):
    """Logit-t: the same estimate and SE with fewer degrees of freedom never looks
    more certain (five respondents can never look as certain as fifty)."""
    few = infer(est, se**2, small + 1, small, small + 1, mean=True)
    many = infer(est, se**2, small + extra + 1, small + extra, small + extra + 1, mean=True)
    assert few["ci_low"] <= many["ci_low"] + 1e-12
    assert few["ci_high"] >= many["ci_high"] - 1e-12


@PROPERTY
@given(data=random_answers(n_max=120))
def test_report_intervals_and_verdicts_are_consistent(data):
    """The same on every block analyse() reports."""
    answers, group, _, weights = data
    report = analyse(_responses(answers, group, weights), QUESTIONNAIRE, min_n=5)
    for table in (report.groups, report.overall):
        _check_interval_and_verdict(table.stats, table.stats["index"])
        insufficient = table.stats["verdict"] == INSUFFICIENT
        assert np.all(insufficient[(table.stats["n"] < 5) | (table.stats["df"] < 1)])


@PROPERTY
@given(p=st.lists(st.one_of(st.floats(0, 1), st.just(float("nan"))), min_size=1, max_size=40))
def test_benjamini_hochberg_monotone(p):
    """q ≥ p, q ≤ 1, q ordered like p, NaN kept; all equal p → q = p·(m/m) = p."""
    p = np.array(p)
    q = benjamini_hochberg(p)
    finite = np.isfinite(p)
    assert np.array_equal(np.isnan(q), ~finite)
    pf, qf = p[finite], q[finite]
    assert np.all(qf >= pf - 1e-15) and np.all(qf <= 1)
    order = np.argsort(pf, kind="stable")
    assert np.all(np.diff(qf[order]) >= -1e-15)
    # it never rejects more than the raw test and at least as much as Bonferroni
    assert np.all(qf <= np.minimum(1, pf * max(finite.sum(), 1)) + 1e-15)


@PROPERTY
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 80),
    n_cells=st.integers(1, 8),
    collapse=st.booleans(),
)
def test_poststratified_weights_reproduce_totals(seed, n, n_cells, collapse):
    """Σ_{i∈c} w_i = N_c for every responding cell; gaps reported; collapsing keeps parent totals."""
    rng = np.random.default_rng(seed)
    cell = rng.integers(0, n_cells, n)
    totals = rng.uniform(1, 100, n_cells)
    parent = np.arange(n_cells) // 3
    w0 = rng.uniform(0.1, 4, n)
    cal = poststratify(w0, cell, totals, parent=parent, collapse=collapse)
    achieved = np.bincount(cell, cal.weights, minlength=n_cells)
    responding = np.bincount(cell, minlength=n_cells) > 0
    if not collapse:
        np.testing.assert_allclose(achieved[responding], totals[responding], rtol=1e-12)
        assert set(cal.coverage_gaps) == set(np.flatnonzero(~responding))
    else:
        for par in np.unique(parent):
            cells = parent == par
            if (cells & responding).any():
                assert achieved[cells].sum() == pytest.approx(totals[cells].sum(), rel=1e-12)
                assert not set(cal.coverage_gaps) & set(np.flatnonzero(cells))
            else:
                assert set(np.flatnonzero(cells)) <= set(cal.coverage_gaps)
    # within a cell the weights keep their base-weight proportions
    ratio = cal.weights / w0
    assert np.allclose(
        ratio, ratio[np.unique(cell, return_index=True)[1]][np.unique(cell, return_inverse=True)[1]]
    )


@PROPERTY
@given(case=random_designs())
def test_calibrated_designs_hit_their_totals(case):
    """Post-stratified and raked weights reproduce every calibration total (XᵀW = T)."""
    cal = case["design"].calibration
    assume(cal is not None)
    np.testing.assert_allclose(cal.matrix.T @ cal.weights, case["targets"], rtol=1e-11)
    if cal.method == "rake":
        assert cal.converged and cal.max_error < 1e-12
