"""The shortcuts taken for speed give the same results as the plain computations.

analysis/_util.py numbers labels without sorting where it can; analyse()
sorts the responses by group before computing; Report.to_dict() builds its
records column-wise; beta_tests() evaluates the lower tail through the
symmetry of the incomplete beta function. Each is checked against the
straightforward version here.
"""

from __future__ import annotations

import gc
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from analysis import (
    Responses,
    analyse,
    beta_tests,
    load_questionnaire,
    period_month,
    poststratify,
)
from analysis._util import combine_codes, factorize, stable_order

Q = load_questionnaire()


def _same_as_unique(values):
    codes, labels = factorize(values)
    expected_labels, expected_codes = np.unique(values, return_inverse=True)
    assert codes.dtype == np.int64
    np.testing.assert_array_equal(codes, expected_codes.ravel())
    assert labels.dtype == expected_labels.dtype
    np.testing.assert_array_equal(labels, expected_labels)


RNG = np.random.default_rng(7)


@pytest.mark.parametrize(
    "values",
    [
        RNG.integers(0, 50, 1000),  # small range: counted
        RNG.integers(-5, 5, 100).astype(np.int8),
        RNG.integers(0, 2**40, 500),  # wide range: sorted
        np.sort(RNG.integers(0, 2**40, 500)),  # already in order
        RNG.random(30) < 0.5,
        np.array(["b", "a", "", "é", "ab", "a\u1ef9", "AG0001"])[RNG.integers(0, 7, 300)],
        np.char.add("AG", np.char.zfill(RNG.integers(0, 500, 2000).astype(str), 4)),  # counted
        np.array(["x" * 30, "y" * 30])[RNG.integers(0, 2, 50)],  # too long to pack
        np.array(["2024-01", "2023-12", "2024-03"], dtype="datetime64[M]")[RNG.integers(0, 3, 40)],
        np.array(["2024-01", "NaT"], dtype="datetime64[M]")[RNG.integers(0, 2, 40)],
        RNG.random(20),
        np.array(["AG1", "AG2"], dtype=object)[RNG.integers(0, 2, 20)],
        np.array([3], dtype=np.uint8),
        np.array([], dtype=np.int64),
    ],
)
def test_factorize_equals_np_unique(values):
    _same_as_unique(values)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=6), min_size=1, max_size=40))
def test_factorize_strings_equals_np_unique(texts):
    _same_as_unique(np.array(texts, dtype=str))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 9), st.integers(0, 10**6), st.integers(0, 2)), min_size=1),
    st.booleans(),
)
def test_combine_codes_and_stable_order(rows, presort):
    a, b, c = (np.array(col, dtype=np.int64) for col in zip(*rows))
    if presort:
        order = np.lexsort((c, b, a))
        a, b, c = a[order], b[order], c[order]
    combined, keys = combine_codes(a, b, c)
    expected_keys, expected = np.unique(np.stack([a, b, c], axis=1), axis=0, return_inverse=True)
    np.testing.assert_array_equal(keys, expected_keys)
    np.testing.assert_array_equal(combined, expected.ravel())
    np.testing.assert_array_equal(stable_order(a, b, c), np.lexsort((c, b, a)))


@pytest.mark.parametrize("cutoff_day", [15, None])
def test_period_month_by_distinct_days_equals_the_calendar(cutoff_day):
    seconds = RNG.integers(1.6e9, 1.8e9, 5000)
    stamps = seconds.astype("datetime64[s]")
    stamps[:2] = np.datetime64("NaT")
    got = period_month(stamps, cutoff_day=cutoff_day)
    local = stamps + np.timedelta64(7, "h")
    month = local.astype("datetime64[M]")
    if cutoff_day is not None:
        day = (local.astype("datetime64[D]") - month.astype("datetime64[D]")).astype(int) + 1
        month = month + (day >= cutoff_day).astype(int)
    np.testing.assert_array_equal(got, month)
    assert got.dtype == np.dtype("datetime64[M]") and np.isnat(got[:2]).all()


def _table(seed=3, n=500):
    rng = np.random.default_rng(seed)
    answers = rng.choice([0, 1, 2, 3, 4, 5, 5, 4], size=(n, len(Q.item_codes))).astype(np.int8)
    answers[:, 0] = rng.choice([3, 4, 5], size=n)
    days = rng.integers(0, 85, n)
    return Responses(
        answers=answers,
        item_codes=Q.item_codes,
        agency=rng.choice(["B", "A", "C"], n),
        submitted_at=np.datetime64("2024-01-15T02:00:00") + (days * 86400).astype("timedelta64[s]"),
        stratum=rng.choice(["S1", "S2"], n),
        cluster=rng.integers(0, 40, n).astype(str),
        weight=rng.uniform(0.5, 3, n),
    )


@pytest.mark.parametrize("calibrated", [False, True])
def test_analyse_does_not_depend_on_the_order_of_the_responses(calibrated):
    r = _table()
    cell = np.unique(np.char.add(r.agency, r.stratum), return_inverse=True)[1].ravel()
    cal = poststratify(r.weight, cell, np.arange(1, 7) * 100.0) if calibrated else None
    perm = np.random.default_rng(1).permutation(r.n)
    shuffled = r.select(perm)
    cal2 = None
    if cal is not None:
        cal2 = replace(
            cal,
            weights=cal.weights[perm],
            base_weights=cal.base_weights[perm],
            matrix=cal.matrix[perm],
        )
    a = analyse(r, Q, by="agency_month", calibration=cal, min_n=5)
    b = analyse(shuffled, Q, by="agency_month", calibration=cal2, min_n=5)
    for ta, tb in ((a.groups, b.groups), (a.overall, b.overall)):
        for name in ("n", "df", "verdict", "flags"):
            np.testing.assert_array_equal(ta.stats[name], tb.stats[name])
        for name in ("index", "variance", "ci_low", "ci_high", "p_below", "q_above"):
            np.testing.assert_allclose(
                ta.stats[name], tb.stats[name], rtol=1e-12, atol=1e-15, equal_nan=True
            )


def test_records_equal_the_blocks_field_by_field():
    report = analyse(_table(), Q, by="agency_month", min_n=60)  # some flagged small_n
    table = report.groups
    assert gc.isenabled()
    out = report.to_dict()
    assert gc.isenabled()  # the collector is paused only while building
    records = out["groups"]
    assert len(records) == table.n_groups
    changes = flags = 0
    for g, rec in enumerate(records):
        assert list(rec)[:2] == ["agency", "month"] and rec["month"] == str(table.keys["month"][g])
        for k, (name, kind) in enumerate(zip(table.names, table.kinds)):
            got = rec if kind == "composite" else rec[kind + "s"][name]
            expected = table.block(g, k)
            assert {f: got[f] for f in expected} == expected
            extra = {"agency", "month", "dropped_items", "dropped_elements", "elements", "items"}
            assert set(got) - set(expected) <= extra
            changes += "change" in expected
            flags += bool(expected["flags"])
    assert changes and flags
    assert records[0]["flags"] is not records[1]["flags"]  # no shared lists
    assert out["overall"] == report.overall.record(0)


@pytest.mark.parametrize("p0", [0.9, 0.5, 0.3])
def test_beta_tests_lower_tail_equals_the_complement(p0):
    rng = np.random.default_rng(2)
    n = rng.uniform(2, 500, 200)
    x = n * rng.uniform(0, 1, 200)
    x[:3] = [0.0, n[1], np.nan]
    p_below, p_above = beta_tests(x, n, p0)
    below = x < n
    expected = np.where(below, special.betaincc(x + 1, np.where(below, n - x, 1.0), p0), 1.0)
    expected[2] = np.nan
    np.testing.assert_allclose(p_below, expected, rtol=1e-12, atol=1e-15, equal_nan=True)
    assert p_below[1] == 1.0 and p_above[0] == 1.0
