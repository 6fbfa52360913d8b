"""Confidence intervals, one-sided tests against the target, verdicts, reliability, BH.

ANALYSIS.md, "Confidence intervals" (revised December 2026), "Reliability
flags" and "Against the target". All functions take arrays of any
(broadcastable) shape.

Two kinds of estimate get different intervals:

- **Binary outcomes** (Q0 and each item, a share of respondents):
  Korn–Graubard (R's ``svyciprop(method="beta")``) with the effective size
  capped at the domain size, as the NCHS presentation standards do (design
  effect floored at 1): ``n_eff = I(1−I)/V``, ``n_use = min(n_eff, n_d)``,
  ``n* = n_use · (t_{n_d−1, α/2} / t_{df, α/2})²``, ``x* = n*·I`` (not
  rounded); interval ``[B⁻¹(α/2; x*, n*−x*+1), B⁻¹(1−α/2; x*+1, n*−x*)]``;
  tests against ``p0``: ``p_below = 1 − I_{p0}(x*+1, n*−x*)`` and ``p_above =
  I_{p0}(x*, n*−x*+1)``. Since ``B⁻¹`` and ``I`` are inverse functions,
  ``upper < p0 ⇔ p_below < α/2`` and ``lower > p0 ⇔ p_above < α/2``. Because
  ``df ≤ n_d − 1``, ``n* ≤ n_d``: the interval is never narrower than the
  Clopper–Pearson interval of the domain's own respondent count.
  ``"logit"`` and ``"wilson"`` (score interval with ``t_df`` and ``n_use``)
  are available on request.
- **Means of several items** (the composite and element indices): a
  respondent's score is a fraction, so the binomial model does not hold;
  logit-t ``expit(logit I ± t_{df, α/2} · SE / (I(1−I)))`` with the design df,
  and the tests it inverts, ``p_below = F_t((logit I − logit p0)·I(1−I)/SE;
  df)`` and ``p_above = 1 − p_below``.

Boundary (``I`` within 1e-12 of 0 or 1, so ``V = 0``): Clopper–Pearson with
``n_kish`` (``n* = n_kish``, ``x* = n*·I``) for either kind, flagged
:data:`FLAG_BOUNDARY`. The same fallback is used — an extension of
ANALYSIS.md, flagged :data:`FLAG_ZERO_VARIANCE` — when the estimate is inside
(0, 1) but its estimated variance is zero (every respondent answered
identically), where ``n_eff`` would be infinite.

Reliability (NCHS 2017): an estimate is flagged low-reliability, with the
reason, when ``n_use < 30``, ``df < 8`` or its interval is 30 points wide or
more. It is still reported with its interval.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

#: Estimate within this distance of 0 or 1 counts as on the boundary.
BOUNDARY_EPS = 1e-12
#: ``n_eff`` above this is treated as a zero variance (not a real sample size).
ZERO_VARIANCE_NEFF = 1e15

FLAG_BOUNDARY = 1  #: Clopper–Pearson with n_kish was used (estimate at 0 or 1)
FLAG_ZERO_VARIANCE = 2  #: Clopper–Pearson with n_kish was used (zero variance inside (0, 1))
FLAG_SMALL_N = 4  #: n < min_n: verdict suppressed
FLAG_LOW_DF = 8  #: df < 1: verdict suppressed, no interval
FLAG_NOT_ESTIMABLE = 16  #: no data (nothing answered / nothing left): no estimate
FLAG_FEW_RESPONSES = 32  #: low reliability: n_use < 30 (NCHS 2017)
FLAG_FEW_DF = 64  #: low reliability: df < 8 (NCHS 2017)
FLAG_WIDE = 128  #: low reliability: the interval is 30 points wide or more (NCHS 2017)
#: Any of the NCHS reasons for showing an estimate as of low reliability.
LOW_RELIABILITY = FLAG_FEW_RESPONSES | FLAG_FEW_DF | FLAG_WIDE
FLAG_NAMES = {
    FLAG_BOUNDARY: "boundary_clopper_pearson",
    FLAG_ZERO_VARIANCE: "zero_variance_clopper_pearson",
    FLAG_SMALL_N: "small_n",
    FLAG_LOW_DF: "low_df",
    FLAG_NOT_ESTIMABLE: "not_estimable",
    FLAG_FEW_RESPONSES: "low_reliability_n",
    FLAG_FEW_DF: "low_reliability_df",
    FLAG_WIDE: "low_reliability_width",
}

#: NCHS 2017 thresholds: effective size, degrees of freedom, interval width.
RELIABLE_N = 30
RELIABLE_DF = 8
RELIABLE_WIDTH = 0.30
#: Default ``min_n``: fewer respondents than this and no verdict is given.
DEFAULT_MIN_N = 10

ABOVE = "above_target"
BELOW = "below_target"
INCONCLUSIVE = "inconclusive"
INSUFFICIENT = "insufficient_data"
METHODS = ("beta", "logit", "wilson")


def flag_names(flags: int) -> list[str]:
    """Names of the bits set in an integer flag value."""
    return [name for bit, name in FLAG_NAMES.items() if int(flags) & bit]


def _f(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def beta_bounds(x_star, n_star, alpha: float = 0.05):
    """``[B⁻¹(α/2; x, n−x+1), B⁻¹(1−α/2; x+1, n−x)]``, with ``0`` at ``x = 0`` and ``1`` at ``x = n``.

    With integer ``x``/``n`` this is the Clopper–Pearson interval.
    """
    x, n = np.broadcast_arrays(_f(x_star), _f(n_star))
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(
            x > 0, special.betaincinv(np.where(x > 0, x, 1.0), n - x + 1, alpha / 2), 0.0
        )
        high = np.where(
            x < n, special.betaincinv(x + 1, np.where(x < n, n - x, 1.0), 1 - alpha / 2), 1.0
        )
    bad = ~(np.isfinite(x) & np.isfinite(n))
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def beta_tests(x_star, n_star, p0: float = 0.90):
    """One-sided tests the beta interval inverts.

    :return: ``(p_below, p_above)``: ``p_below = 1 − I_{p0}(x+1, n−x)`` (1 when
        ``x = n``), ``p_above = I_{p0}(x, n−x+1)`` (1 when ``x = 0``).

    For ``p0 ≥ 1/2``, ``1 − p0`` is exact in floating point and ``p_below`` is
    evaluated as ``I_{1−p0}(n−x, x+1)`` (the same number: ``1 − I_p(a, b) =
    I_{1−p}(b, a)``), which scipy computes several times faster than the
    complement ``betaincc``.
    """
    x, n = np.broadcast_arrays(_f(x_star), _f(n_star))
    with np.errstate(invalid="ignore", divide="ignore"):
        below = x < n
        if np.ndim(p0) == 0 and p0 >= 0.5:
            tail = special.betainc(np.where(below, n - x, 1.0), x + 1, 1.0 - p0)
        else:
            tail = special.betaincc(x + 1, np.where(below, n - x, 1.0), p0)
        p_below = np.where(below, tail, 1.0)
        p_above = np.where(x > 0, special.betainc(np.where(x > 0, x, 1.0), n - x + 1, p0), 1.0)
    bad = ~(np.isfinite(x) & np.isfinite(n))
    return np.where(bad, np.nan, p_below), np.where(bad, np.nan, p_above)


def _t_quantile(q: float, df: np.ndarray) -> np.ndarray:
    """``t_{df, q}`` evaluated once per distinct df (df are whole numbers, few distinct)."""
    values, inverse = np.unique(df, return_inverse=True)
    return stats.t.ppf(q, values)[inverse.reshape(df.shape)]


def kg_parameters(estimate, variance, n, df, n_kish, alpha: float = 0.05):
    """``(x*, n*, flags, n_use)`` for the Korn–Graubard interval and tests.

    :param estimate: ``I``; :param variance: ``V``; :param n: domain size
        ``n_d``; :param df: design degrees of freedom; :param n_kish: Kish size.
    :return: ``x*``, ``n*`` (NaN where not computable: ``df < 1``, ``n_d < 2``,
        no estimate), the boundary / zero-variance flags, and ``n_use``: the
        effective size capped at the domain size, ``min(n_eff, n_d)`` (``n_kish``
        where Clopper–Pearson is used).
    """
    est, var, n, df, n_kish = np.broadcast_arrays(
        _f(estimate), _f(variance), _f(n), _f(df), _f(n_kish)
    )
    finite = np.isfinite(est)
    boundary = finite & ((est <= BOUNDARY_EPS) | (est >= 1 - BOUNDARY_EPS))
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = est * (1 - est) / var
        zero_var = finite & ~boundary & ~(n_eff <= ZERO_VARIANCE_NEFF)
        usable = (df >= 1) & (n >= 2)
        ratio = _t_quantile(alpha / 2, np.where(usable, n - 1, 1.0)) / _t_quantile(
            alpha / 2, np.where(usable, df, 1.0)
        )
        cp = boundary | zero_var
        n_use = np.where(cp, n_kish, np.fmin(n_eff, n))
        n_use = np.where(finite, n_use, np.nan)
        n_star = np.where(cp, n_kish, n_use * ratio**2)
    est_cp = np.where(est <= BOUNDARY_EPS, 0.0, np.where(est >= 1 - BOUNDARY_EPS, 1.0, est))
    n_star = np.where(finite & usable, n_star, np.nan)
    x_star = n_star * np.where(cp, est_cp, est)
    flags = np.where(boundary, FLAG_BOUNDARY, 0) | np.where(zero_var, FLAG_ZERO_VARIANCE, 0)
    return x_star, n_star, flags.astype(np.int64), n_use


def logit_interval(estimate, variance, df, alpha: float = 0.05):
    """``expit(logit I ± t_{df,1−α/2} · SE / (I(1−I)))`` (R: ``svyciprop(method="logit")``)."""
    est, var, df = np.broadcast_arrays(_f(estimate), _f(variance), _f(df))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = stats.t.ppf(1 - alpha / 2, np.where(df >= 1, df, np.nan))
        half = t * np.sqrt(var) / (est * (1 - est))
        centre = special.logit(est)
        return special.expit(centre - half), special.expit(centre + half)


def logit_tests(estimate, variance, df, p0: float = 0.90):
    """One-sided tests the logit-t interval inverts.

    :return: ``(p_below, p_above)`` with ``T = (logit I − logit p0) · I(1−I)/SE``,
        ``p_below = F_t(T; df)`` and ``p_above = 1 − F_t(T; df)``, so that
        ``upper < p0 ⇔ p_below < α/2`` and ``lower > p0 ⇔ p_above < α/2``.
    """
    est, var, df = np.broadcast_arrays(_f(estimate), _f(variance), _f(df))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (special.logit(est) - special.logit(p0)) * est * (1 - est) / np.sqrt(var)
        dof = np.where(df >= 1, df, np.nan)
        return stats.t.cdf(t, dof), stats.t.sf(t, dof)


def wilson_interval(estimate, n_use, df, alpha: float = 0.05):
    """Wilson score interval with the effective size ``n_use`` and ``t_df`` (not z).

    ``(I + t²/2n ∓ t √(I(1−I)/n + t²/4n²)) / (1 + t²/n)``, ``n = n_use``,
    ``t = t_{df, 1−α/2}`` (as R's survey ≥ 4.5 ``svyciprop(method="wilson")``),
    clipped to [0, 1] against rounding.
    """
    est, n, df = np.broadcast_arrays(_f(estimate), _f(n_use), _f(df))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = stats.t.ppf(1 - alpha / 2, np.where(df >= 1, df, np.nan))
        denom = 1 + t * t / n
        centre = (est + t * t / (2 * n)) / denom
        half = t * np.sqrt(est * (1 - est) / n + t * t / (4 * n * n)) / denom
    # at p̂ = 0 or 1 the bound is 0 or 1 up to rounding (−5.6e-17 was seen)
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def wilson_tests(estimate, n_use, df, p0: float = 0.90):
    """One-sided score tests the Wilson interval inverts.

    :return: ``(p_below, p_above)`` with ``Z = (I − p0) / √(p0(1−p0)/n_use)``,
        ``p_below = F_t(Z; df)``, ``p_above = 1 − F_t(Z; df)``.
    """
    est, n, df = np.broadcast_arrays(_f(estimate), _f(n_use), _f(df))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (est - p0) / np.sqrt(p0 * (1 - p0) / n)
        dof = np.where(df >= 1, df, np.nan)
        return stats.t.cdf(z, dof), stats.t.sf(z, dof)


def benjamini_hochberg(p, axis: int = 0) -> np.ndarray:
    """Benjamini–Hochberg adjusted values (q values) along ``axis``; NaN entries are left out.

    ``q_(i) = min_{j ≥ i} min(1, m p_(j) / j)`` over the m finite p values.
    """
    p = _f(p)
    moved = np.moveaxis(p, axis, -1)
    flat = moved.reshape(-1, moved.shape[-1]) if moved.ndim else moved.reshape(1, 1)
    out = np.full(flat.shape, np.nan)
    finite = np.isfinite(flat)
    m = finite.sum(axis=1, keepdims=True)
    # NaN sort last; rank within the finite ones
    order = np.argsort(np.where(finite, flat, np.inf), axis=1, kind="stable")
    sorted_p = np.take_along_axis(flat, order, axis=1)
    rank = np.arange(1, flat.shape[1] + 1)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.where(rank <= m, sorted_p * m / rank, np.inf)
    q_sorted = np.minimum.accumulate(scaled[:, ::-1], axis=1)[:, ::-1]
    q_sorted = np.minimum(q_sorted, 1.0)
    np.put_along_axis(out, order, q_sorted, axis=1)
    out = np.where(finite, out, np.nan)
    return np.moveaxis(out.reshape(moved.shape), -1, axis) if p.ndim else out.reshape(())


def infer(
    estimate,
    variance,
    n,
    df,
    n_kish,
    *,
    mean=False,
    p0: float = 0.90,
    alpha: float = 0.05,
    min_n: int = DEFAULT_MIN_N,
    method: str = "beta",
) -> dict[str, np.ndarray]:
    """Interval, tests, verdict and reliability of proportion-type estimates.

    :param estimate: ``I`` (NaN = not estimable).
    :param variance: its linearised variance ``V``.
    :param n: domain size ``n_d``; :param df: design df; :param n_kish: Kish size.
    :param mean: True (or a broadcastable boolean array) where the estimate is a
        mean of several items (composite, element): logit-t interval and tests
        whatever ``method`` says. False: a binary outcome (an item, Q0).
    :param p0: target (0.90).
    :param alpha: two-sided level of the interval; the one-sided tests use α/2.
    :param min_n: below this many respondents no verdict is given (default 10).
    :param method: interval of binary outcomes: ``"beta"`` (Korn–Graubard with
        ``n_use``, default), ``"logit"`` or ``"wilson"`` (``t_df``, ``n_use``).
        The p values are always the tests the reported interval inverts.
    :return: dict of arrays ``se, n_eff, n_use, deff, ci_low, ci_high, p_below,
        p_above, verdict, flags, n_star, x_star``. ``n_eff = I(1−I)/V`` as
        computed (``n_kish`` where Clopper–Pearson was used), ``n_use =
        min(n_eff, n_d)``, ``deff = n_d / n_eff``. No interval (NaN) when ``df <
        1`` or ``n_d < 2``; with ``n < min_n`` the interval and p values are
        computed but the verdict is suppressed. ``flags`` carries the NCHS
        low-reliability reasons (:data:`LOW_RELIABILITY`).

    Verdict: ``insufficient_data`` when not estimable, ``n < min_n`` or no
    interval; otherwise ``below_target`` ⇔ ``ci_high < p0`` (⇔ ``p_below <
    α/2``), ``above_target`` ⇔ ``ci_low > p0`` (⇔ ``p_above < α/2``), else
    ``inconclusive``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    est, var, n, df, n_kish, mean = np.broadcast_arrays(
        _f(estimate), _f(variance), _f(n), _f(df), _f(n_kish), np.asarray(mean, dtype=bool)
    )
    x_star, n_star, flags, n_use = kg_parameters(est, var, n, df, n_kish, alpha)
    low, high = beta_bounds(x_star, n_star, alpha)
    p_below, p_above = beta_tests(x_star, n_star, p0)
    cp = (flags & (FLAG_BOUNDARY | FLAG_ZERO_VARIANCE)) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(cp, n_kish, est * (1 - est) / var)
        deff = n / n_eff
    usable = np.isfinite(n_star) & ~cp
    logit = usable & (mean | (method == "logit"))
    if logit.any():
        alt = logit_interval(est, var, df, alpha) + logit_tests(est, var, df, p0)
        low, high, p_below, p_above = (
            np.where(logit, a, b) for a, b in zip(alt, (low, high, p_below, p_above))
        )
    wilson = usable & ~mean & (method == "wilson")
    if wilson.any():
        alt = wilson_interval(est, n_use, df, alpha) + wilson_tests(est, n_use, df, p0)
        low, high, p_below, p_above = (
            np.where(wilson, a, b) for a, b in zip(alt, (low, high, p_below, p_above))
        )
    not_estimable = ~np.isfinite(est)
    small = n < min_n
    low_df = ~(df >= 1)
    no_interval = ~np.isfinite(low) | ~np.isfinite(high)
    with np.errstate(invalid="ignore"):
        few = ~not_estimable & ~(n_use >= RELIABLE_N)
        few_df = ~not_estimable & ~(df >= RELIABLE_DF)
        wide = ~no_interval & (high - low >= RELIABLE_WIDTH)
    flags = (
        flags
        | np.where(not_estimable, FLAG_NOT_ESTIMABLE, 0)
        | np.where(small, FLAG_SMALL_N, 0)
        | np.where(low_df, FLAG_LOW_DF, 0)
        | np.where(few, FLAG_FEW_RESPONSES, 0)
        | np.where(few_df, FLAG_FEW_DF, 0)
        | np.where(wide, FLAG_WIDE, 0)
    )
    verdict = np.full(est.shape, INCONCLUSIVE, dtype="<U17")
    verdict[high < p0] = BELOW
    verdict[low > p0] = ABOVE
    verdict[not_estimable | small | low_df | no_interval] = INSUFFICIENT
    with np.errstate(invalid="ignore"):
        se = np.sqrt(var)
    return {
        "se": se,
        "n_eff": n_eff,
        "n_use": n_use,
        "deff": deff,
        "ci_low": low,
        "ci_high": high,
        "p_below": p_below,
        "p_above": p_above,
        "verdict": verdict,
        "flags": flags.astype(np.int64),
        "n_star": n_star,
        "x_star": x_star,
    }
