"""Agreement with R's survey package (tests/analysis/fixtures/golden_r.json).

The fixtures come from tools/r/make_fixtures.R: svydesign / svyciprop(method
="beta") / svyratio(covmat=TRUE) + svycontrast / postStratify / calibrate(
calfun="raking") on tests/analysis/fixtures/golden_responses.csv under ten
designs (unweighted, weighted, equal weights, stratified, clustered, stratified
+ clustered, post-stratified, raked, and a stratum with a single PSU under
survey.lonely.psu = "remove" and "adjust"), for nine agencies (including n = 1, n = 2, all satisfied, none
satisfied, an item nobody answered, an element nobody answered, one-tap-only
respondents) and the province, and for agency × month domains (22) under the
stratified + clustered, post-stratified and raked designs.

The raw quantities (estimate, variance, SE, df, n, n_kish) are R's survey
package's own. The presentation intervals of the revised ANALYSIS.md
(Korn–Graubard with ``n_use = min(n_eff, n_d)`` for items, logit-t for the
composite and elements, Wilson with ``t_df``) are compared with the same
closed-form formulas evaluated in R from R's numbers
(tests/analysis/fixtures/golden_intervals.json, tools/r/make_intervals.R).

Tolerances: point estimates and weights 1e-12 (absolute / relative), variances
1e-9 relative (1e-15 absolute for R's rounding-level "zero" variances), SEs
1e-9 relative, intervals and p values 1e-9 absolute; n and df exactly.

Where R gives NaN or an error the module does what ANALYSIS.md says instead;
each such place is asserted explicitly below:

- an item nobody answered in a domain: R cannot estimate (subset is empty);
  the module reports n = 0, no estimate, ``insufficient_data``, and drops the
  item from its element (R's ratio for it would be NaN, so make_fixtures.R
  drops it too before svycontrast).
- n = 1: R's df is 0, svyciprop's interval NaN; the module reports the
  estimate, no interval, ``insufficient_data`` flagged ``low_df``.
- estimate at 0 or 1 (all / none satisfied): R's variance is 0 (or 1e-33
  rounding), svyciprop's interval degenerate or NaN; the module uses
  Clopper–Pearson with n_kish, flagged (compared with the same formula
  evaluated in R: golden_intervals.json).
- zero variance inside (0, 1) (the n = 2 agency's elements A, D, E: both
  respondents' scores cancel): R's variance is rounding noise (±1e-18) and
  its interval NaN; the module uses Clopper–Pearson with n_kish, flagged
  ``zero_variance_clopper_pearson`` (an extension of ANALYSIS.md's boundary
  rule, mirrored in make_intervals.R).
- calibrated designs: svyciprop takes ``t_{nrow(design)−1}`` and R's subset()
  of a calibrated design keeps every row, so its interval uses the full
  sample size instead of n_d; the module follows ANALYSIS.md (n_d). The
  interval is compared with ANALYSIS.md's formula in R, with R's estimate
  and variance (golden_intervals.json), and the test checks that svyciprop's interval
  is the one with the full sample size.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import special, stats

from analysis import INSUFFICIENT, analyse

from .conftest import (
    CALIBRATED,
    DESIGNS,
    MONTH_DESIGNS,
    design_options,
    golden_calibration,
    golden_intervals,
    golden_r,
    golden_report,
    golden_responses,
)

AGENCIES = [f"AG{k:02d}" for k in range(1, 10)]
GROUPS = AGENCIES + ["overall"]


def _nan(x):
    return float("nan") if x is None else float(x)


def _list(x):
    if x is None:
        return []
    return [x] if isinstance(x, str) else list(x)


def _r_group(design: str, group: str) -> dict:
    block = golden_r()["designs"][design]
    return block["overall"] if group == "overall" else block["groups"][group]


def _r_intervals(design: str, group: str) -> dict:
    block = golden_intervals()["designs"][design]
    return block["overall"] if group == "overall" else block["groups"][group]


def _spec(ri: dict, name: str, method: str = "beta") -> dict:
    """R's presentation interval of one estimand: logit-t for the composite and
    elements, ``method`` for items."""
    if name == "composite":
        return ri["composite"]["logit_t"]
    if name in ri.get("elements", {}):
        return ri["elements"][name]["logit_t"]
    return ri["items"][name][method]


def _ours(design: str, group: str, method: str = "beta"):
    report = golden_report(design, method)
    if group == "overall":
        return report.overall, 0
    labels = list(report.groups.keys["agency"])
    return report.groups, labels.index(group)


def _blocks(r_group: dict):
    """(estimand name, R block) for the composite, the elements and the items."""
    yield "composite", r_group["composite"]
    yield from r_group["elements"].items()
    yield from r_group["items"].items()


class Mismatches:
    def __init__(self):
        self.lines = []

    def close(self, what, ours, theirs, *, rel=0.0, abs_=0.0):
        ours, theirs = _nan(ours), _nan(theirs)
        if math.isnan(theirs) and math.isnan(ours):
            return
        if math.isnan(theirs) or math.isnan(ours) or abs(ours - theirs) > abs_ + rel * abs(theirs):
            self.lines.append(f"{what}: ours {ours!r} R {theirs!r}")

    def equal(self, what, ours, theirs):
        if ours != theirs:
            self.lines.append(f"{what}: ours {ours!r} R {theirs!r}")

    def check(self):
        assert not self.lines, "\n".join(self.lines[:40]) + f"\n({len(self.lines)} mismatches)"


@pytest.mark.parametrize("design", DESIGNS)
def test_weights_match_r(design):
    """Final weights (incl. postStratify(partial=TRUE) and calibrate(raking)) to 1e-12 relative."""
    r_weights = np.array(golden_r()["designs"][design]["weights"])
    report = golden_report(design)
    cal = golden_calibration(design)
    responses = golden_responses()
    if cal is not None:
        ours = cal.weights
    elif design == "unweighted":
        ours = np.ones(responses.n)
    elif design == "equal_weights":
        ours = np.full(responses.n, 2.5)
    else:
        ours = responses.weight
    np.testing.assert_allclose(ours, r_weights, rtol=1e-12, atol=0)
    assert report.settings["calibration"] == (None if cal is None else cal.method)


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("design", DESIGNS)
def test_estimates_match_r(design, group):
    """n, n_kish, Σw, df, index, variance, SE (R), and the presentation interval,
    its p values and n_use (ANALYSIS.md's formulas in R)."""
    table, g = _ours(design, group)
    ri = _r_intervals(design, group)
    m = Mismatches()
    for name, rb in _blocks(_r_group(design, group)):
        k = table.column(name)
        st = {key: value[g, k] for key, value in table.stats.items()}
        where = f"{design}/{group}/{name}"
        m.equal(f"{where} n", int(st["n"]), rb["n"])
        if "error" in rb:
            # R cannot estimate: an item nobody answered in the domain (empty
            # subset) or an element with no item left. ANALYSIS.md: no
            # estimate, insufficient_data, and the item/element is dropped
            assert rb["n"] == 0 and int(st["n"]) == 0, where
            assert math.isnan(st["index"]) and math.isnan(st["ci_low"]), where
            assert st["verdict"] == INSUFFICIENT, where
            assert st["flags"] & 16, where  # not_estimable
            continue
        m.equal(f"{where} df", int(st["df"]), rb["df"])
        m.close(f"{where} n_kish", st["n_kish"], rb["n_kish"], rel=1e-12)
        m.close(f"{where} weight_total", st["weight_total"], rb["weight_total"], rel=1e-12)
        m.close(f"{where} index", st["index"], rb["index"], abs_=1e-12)
        m.close(f"{where} variance", st["variance"], rb["variance"], rel=1e-9, abs_=1e-15)
        if _nan(rb["variance"]) > 1e-15:
            m.close(f"{where} se", st["se"], rb["se"], rel=1e-9)
        spec = _spec(ri, name)
        lo, hi = (_nan(x) for x in spec["ci"])
        m.close(f"{where} ci_low", st["ci_low"], lo, abs_=1e-9)
        m.close(f"{where} ci_high", st["ci_high"], hi, abs_=1e-9)
        m.close(f"{where} p_below", st["p_below"], spec["p_below"], abs_=1e-9)
        m.close(f"{where} p_above", st["p_above"], spec["p_above"], abs_=1e-9)
        n_use = ri["items"][name]["n_use"] if name in ri["items"] else None
        if n_use is not None:
            m.close(f"{where} n_use", st["n_use"], n_use, rel=1e-9)
    m.check()


@pytest.mark.parametrize("method", ["logit", "wilson"])
@pytest.mark.parametrize("design", DESIGNS)
def test_other_item_methods_match_the_formulas_in_r(design, method):
    """method="logit" / "wilson" (t_df, n_use) for items; the composite and elements
    keep logit-t whatever the method."""
    m = Mismatches()
    compared = 0
    for group in GROUPS:
        table, g = _ours(design, group, method)
        ri = _r_intervals(design, group)
        for name, rb in _blocks(_r_group(design, group)):
            if "error" in rb:
                continue
            k = table.column(name)
            spec = _spec(ri, name, method)
            where = f"{design}/{group}/{name}/{method}"
            lo, hi = (_nan(x) for x in spec["ci"])
            m.close(f"{where} ci_low", table.stats["ci_low"][g, k], lo, abs_=1e-9)
            m.close(f"{where} ci_high", table.stats["ci_high"][g, k], hi, abs_=1e-9)
            m.close(f"{where} p_below", table.stats["p_below"][g, k], spec["p_below"], abs_=1e-9)
            m.close(f"{where} p_above", table.stats["p_above"][g, k], spec["p_above"], abs_=1e-9)
            compared += 1
    m.check()
    assert compared > 150


@pytest.mark.parametrize("design", [d for d in DESIGNS if d not in CALIBRATED])
def test_item_intervals_are_svyciprop_beta(design):
    """Uncalibrated designs: where the design effect is at least 1 (n_eff ≤ n_d) our
    item interval *is* svyciprop(method="beta"); where n_eff > n_d, the effective
    size is capped at n_d and ours contains svyciprop's (never narrower)."""
    m = Mismatches()
    compared = capped = 0
    for group in GROUPS:
        table, g = _ours(design, group)
        for name, rb in _r_group(design, group)["items"].items():
            if "error" in rb or rb["n"] < 2:
                continue
            k = table.column(name)
            est = table.stats["index"][g, k]
            lo, hi = (_nan(x) for x in rb["ci_svyciprop"])
            if est <= 1e-12 or est >= 1 - 1e-12:
                # R: V = 0 → n_eff 0 or NaN → degenerate/NaN interval; ours: Clopper–Pearson
                assert math.isnan(lo) or lo == hi or hi - lo < 1e-6 or lo == 0 or hi == 1, rb
                assert table.stats["flags"][g, k] & 1
                continue
            ours_lo, ours_hi = table.stats["ci_low"][g, k], table.stats["ci_high"][g, k]
            if table.stats["n_eff"][g, k] > table.stats["n"][g, k]:
                capped += 1
                assert table.stats["n_use"][g, k] == table.stats["n"][g, k]
                assert ours_lo <= lo + 1e-12 and ours_hi >= hi - 1e-12, (design, group, name)
                continue
            compared += 1
            m.close(f"{design}/{group}/{name} ci_low", ours_lo, lo, abs_=1e-9)
            m.close(f"{design}/{group}/{name} ci_high", ours_hi, hi, abs_=1e-9)
    m.check()
    assert compared > 60


@pytest.mark.parametrize("design", CALIBRATED)
def test_calibrated_svyciprop_uses_full_sample_size(design):
    """R's svyciprop on a calibrated subset uses nrow = full n; ANALYSIS.md (and we) use n_d.

    Recomputing R's interval with the full n reproduces svyciprop exactly, so
    the only difference is that documented choice.
    """
    n_full = golden_responses().n
    table, g = _ours(design, "AG01")
    rb = _r_group(design, "AG01")["items"]["Q0"]
    assert rb["nrow_design"] == n_full and rb["n"] < n_full
    est, var, df = rb["index"], rb["variance"], rb["df"]
    n_eff = est * (1 - est) / var  # svyciprop does not cap it
    n_star = n_eff * (stats.t.ppf(0.025, n_full - 1) / stats.t.ppf(0.025, df)) ** 2
    lo = special.betaincinv(n_star * est, n_star * (1 - est) + 1, 0.025)
    hi = special.betaincinv(n_star * est + 1, n_star * (1 - est), 0.975)
    assert lo == pytest.approx(rb["ci_svyciprop"][0], abs=1e-9)
    assert hi == pytest.approx(rb["ci_svyciprop"][1], abs=1e-9)
    k = table.column("Q0")
    spec = _r_intervals(design, "AG01")["items"]["Q0"]["beta"]
    assert table.stats["ci_low"][g, k] == pytest.approx(spec["ci"][0], abs=1e-9)
    assert abs(table.stats["ci_low"][g, k] - lo) > 1e-6  # the choice is visible


@pytest.mark.parametrize("design", ["weighted", "stratified_clustered", "raked"])
def test_logit_interval_matches_svyciprop_logit(design):
    """method="logit" against svyciprop(method="logit") (an intercept-only svyglm).

    R's value comes from IRLS, which stops at a relative deviance change of
    1e-8, so its estimate is only good to about 1e-9; compared to 1e-8.
    """
    m = Mismatches()
    for group in GROUPS:
        table, g = _ours(design, group, "logit")
        for name, rb in _r_group(design, group)["items"].items():
            if "error" in rb or rb["n"] < 2 or not rb["df"] >= 1:
                continue
            k = table.column(name)
            est = table.stats["index"][g, k]
            if est <= 1e-12 or est >= 1 - 1e-12:
                continue
            lo, hi = (_nan(x) for x in rb["ci_logit"])
            if not (0 < lo < hi < 1):
                # the n = 2 agency (df = 1): svyglm's bounds come out as 0 and NaN;
                # ours are the formula's expit(logit I ± t_1·SE/(I(1−I))), not compared
                assert group == "AG06", (design, group, name, lo, hi)
                continue
            m.close(
                f"{design}/{group}/{name} logit low", table.stats["ci_low"][g, k], lo, abs_=1e-8
            )
            m.close(
                f"{design}/{group}/{name} logit high", table.stats["ci_high"][g, k], hi, abs_=1e-8
            )
    m.check()


@pytest.mark.parametrize("design", DESIGNS)
def test_dropped_items_and_elements_match(design):
    """Items nobody answered are dropped from their element; empty elements from the composite."""
    for group in GROUPS:
        table, g = _ours(design, group)
        record = table.record(g)
        rb = _r_group(design, group)["composite"]
        assert sorted(record["dropped_items"]) == sorted(_list(rb.get("dropped_items"))), group
        assert sorted(record["dropped_elements"]) == sorted(_list(rb.get("dropped_elements")))
    ag03 = _ours(design, "AG03")[0].record(_ours(design, "AG03")[1])
    assert ag03["dropped_items"] == ["A4"] and ag03["items"]["A4"]["n"] == 0
    assert ag03["items"]["A4"]["index"] is None
    assert ag03["items"]["A4"]["verdict"] == INSUFFICIENT
    assert "not_estimable" in ag03["items"]["A4"]["flags"]
    ag04 = _ours(design, "AG04")[0].record(_ours(design, "AG04")[1])
    assert ag04["dropped_elements"] == ["E"]
    assert ag04["elements"]["E"]["index"] is None


@pytest.mark.parametrize("design", DESIGNS)
def test_edge_agencies(design):
    """n = 1, n = 2, all satisfied, none satisfied: what ANALYSIS.md prescribes where R has NaN."""
    table, g1 = _ours(design, "AG05")
    one = table.record(g1)
    r_one = _r_group(design, "AG05")["composite"]
    assert one["n"] == 1 and one["df"] == 0 == r_one["df"]
    assert one["index"] == pytest.approx(r_one["index"], abs=1e-12)  # estimate still reported
    assert one["ci_low"] is None and one["ci_high"] is None  # R: NaN
    assert one["verdict"] == INSUFFICIENT and {"small_n", "low_df"} <= set(one["flags"])

    two = table.record(_ours(design, "AG06")[1])
    assert two["n"] == 2 and two["df"] == 1
    assert two["verdict"] == INSUFFICIENT and "small_n" in two["flags"]
    assert two["ci_low"] is not None  # an interval is computed, the verdict suppressed
    for code in ("A", "D"):
        # both respondents' scores cancel: V = 0 with 0 < I < 1
        assert "zero_variance_clopper_pearson" in two["elements"][code]["flags"]

    all_sat = table.record(_ours(design, "AG07")[1])
    assert all_sat["index"] == 1.0 and "boundary_clopper_pearson" in all_sat["flags"]
    assert all_sat["ci_high"] == 1.0
    assert all_sat["ci_low"] == pytest.approx(0.025 ** (1 / all_sat["n_kish"]), rel=1e-12)
    assert all_sat["p_above"] == pytest.approx(0.9 ** all_sat["n_kish"], rel=1e-12)

    none_sat = table.record(_ours(design, "AG08")[1])
    assert none_sat["index"] == 0.0 and none_sat["verdict"] == "below_target"
    assert none_sat["ci_low"] == 0.0
    assert none_sat["ci_high"] == pytest.approx(1 - 0.025 ** (1 / none_sat["n_kish"]), rel=1e-12)


def test_equal_weights_equal_unweighted():
    """All weights equal (2.5) gives the unweighted estimates and intervals."""
    a = golden_report("unweighted").groups.stats
    b = golden_report("equal_weights").groups.stats
    for key in ("index", "se", "ci_low", "ci_high", "p_below", "p_above", "n_kish"):
        np.testing.assert_allclose(a[key], b[key], rtol=1e-12, atol=1e-14, equal_nan=True)
    np.testing.assert_array_equal(a["verdict"], b["verdict"])


def test_one_tap_only_respondents_are_outside_the_composite_domain():
    """AG09: a third answered only Q0: the composite's n is smaller than Q0's, as in R."""
    table, g = _ours("stratified_clustered", "AG09")
    rec = table.record(g)
    assert rec["items"]["Q0"]["n"] == 50
    assert rec["n"] == _r_group("stratified_clustered", "AG09")["composite"]["n"] < 50


@pytest.mark.parametrize("design", MONTH_DESIGNS)
def test_agency_month_domains_match_r(design):
    """by="agency_month": calibration cells and margins cut across the month domains.

    The post-stratification cells (agency × field) and the raking margins span
    all months, so each domain's residual spills into the other months' rows;
    R's subset() of the calibrated design and our sparse bilinear terms must agree.
    """
    r_months = golden_r()["designs"][design]["months"]
    r_spec = golden_intervals()["designs"][design]["months"]
    table = golden_report(design, by="agency_month").groups
    keys = [f"{a}|{m}" for a, m in zip(table.keys["agency"], table.keys["month"])]
    assert sorted(keys) == sorted(r_months) and len({k.split("|")[1] for k in keys}) >= 2
    m = Mismatches()
    for g, key in enumerate(keys):
        rg = r_months[key]
        for name, rb in (("composite", rg["composite"]), ("Q0", rg["items"]["Q0"])):
            k = table.column(name)
            st = {s: v[g, k] for s, v in table.stats.items()}
            where = f"{design}/{key}/{name}"
            m.equal(f"{where} n", int(st["n"]), rb["n"])
            if "error" in rb:  # not reached with this data; same rule as above
                assert math.isnan(st["index"]) and st["verdict"] == INSUFFICIENT, where
                continue
            m.equal(f"{where} df", int(st["df"]), rb["df"])
            m.close(f"{where} index", st["index"], rb["index"], abs_=1e-12)
            m.close(f"{where} variance", st["variance"], rb["variance"], rel=1e-9, abs_=1e-15)
            spec = _spec(r_spec[key], name)
            lo, hi = (_nan(x) for x in spec["ci"])
            m.close(f"{where} ci_low", st["ci_low"], lo, abs_=1e-9)
            m.close(f"{where} ci_high", st["ci_high"], hi, abs_=1e-9)
    m.check()


@pytest.mark.parametrize("design", ["lonely_remove", "lonely_adjust"])
def test_lonely_psu_design_has_a_lonely_stratum(design):
    """The lonely-PSU designs really have a single-PSU stratum, and "fail" refuses them."""
    options, _ = design_options(design)
    strata = options["stratum"]
    r = golden_responses()
    psu = np.char.add(np.char.add(strata, "/"), r.cluster)
    assert len(set(psu[strata == "S5"])) == 1
    with pytest.raises(ValueError, match="single PSU"):
        analyse(replace(r, stratum=strata))
