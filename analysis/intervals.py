"""Confidence intervals, one-sided tests against the target, verdicts, BH.

ANALYSIS.md, "Confidence interval" and "Against the target". All functions
take arrays of any (broadcastable) shape.

Korn–Graubard (R's ``svyciprop(method="beta")``), for an estimate ``I`` with
variance ``V``, domain size ``n_d`` and design df:

- ``n_eff = I(1−I)/V``; ``n* = n_eff · (t_{n_d−1, α/2} / t_{df, α/2})²``;
  ``x* = n*·I`` (not rounded);
- interval ``[B⁻¹(α/2; x*, n*−x*+1), B⁻¹(1−α/2; x*+1, n*−x*)]``;
- tests against ``p0``: ``p_below = P(X ≤ x* | n*, p0) = 1 − I_{p0}(x*+1, n*−x*)``
  and ``p_above = P(X ≥ x* | n*, p0) = I_{p0}(x*, n*−x*+1)``; since ``B⁻¹`` and
  ``I`` are inverse functions, ``upper < p0 ⇔ p_below < α/2`` and
  ``lower > p0 ⇔ p_above < α/2``.

Boundary (``I`` within 1e-12 of 0 or 1, so ``V = 0``): the same formulas
with ``n* = n_kish`` and ``x* = n*·I``, i.e. Clopper–Pearson with Kish's
effective size, flagged :data:`FLAG_BOUNDARY`. The same fallback is used —
an extension of ANALYSIS.md, flagged :data:`FLAG_ZERO_VARIANCE` — when the
estimate is inside (0, 1) but its estimated variance is zero (every
respondent answered identically), where ``n_eff`` would be infinite.
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
FLAG_NAMES = {
    FLAG_BOUNDARY: "boundary_clopper_pearson",
    FLAG_ZERO_VARIANCE: "zero_variance_clopper_pearson",
    FLAG_SMALL_N: "small_n",
    FLAG_LOW_DF: "low_df",
    FLAG_NOT_ESTIMABLE: "not_estimable",
}

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
    """``(x*, n*, flags)`` for the Korn–Graubard interval and tests.

    :param estimate: ``I``; :param variance: ``V``; :param n: domain size
        ``n_d``; :param df: design degrees of freedom; :param n_kish: Kish size.
    :return: ``x*``, ``n*`` (NaN where not computable: ``df < 1``, ``n_d < 2``,
        no estimate) and the boundary / zero-variance flags.
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
        n_star = n_eff * ratio**2
    cp = boundary | zero_var
    est_cp = np.where(est <= BOUNDARY_EPS, 0.0, np.where(est >= 1 - BOUNDARY_EPS, 1.0, est))
    n_star = np.where(cp, n_kish, n_star)
    n_star = np.where(finite & usable, n_star, np.nan)
    x_star = n_star * np.where(cp, est_cp, est)
    flags = np.where(boundary, FLAG_BOUNDARY, 0) | np.where(zero_var, FLAG_ZERO_VARIANCE, 0)
    return x_star, n_star, flags.astype(np.int64)


def logit_interval(estimate, variance, df, alpha: float = 0.05):
    """``expit(logit I ± t_{df,1−α/2} · SE / (I(1−I)))`` (R: ``svyciprop(method="logit")``)."""
    est, var, df = np.broadcast_arrays(_f(estimate), _f(variance), _f(df))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = stats.t.ppf(1 - alpha / 2, np.where(df >= 1, df, np.nan))
        half = t * np.sqrt(var) / (est * (1 - est))
        centre = special.logit(est)
        return special.expit(centre - half), special.expit(centre + half)


def wilson_interval(estimate, n_eff, alpha: float = 0.05):
    """Wilson score interval with the effective size ``n_eff`` and the normal quantile.

    ``(I + z²/2n ∓ z √(I(1−I)/n + z²/4n²)) / (1 + z²/n)``, ``n = n_eff``.
    """
    est, n = np.broadcast_arrays(_f(estimate), _f(n_eff))
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = 1 + z * z / n
        centre = (est + z * z / (2 * n)) / denom
        half = z * np.sqrt(est * (1 - est) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


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
    p0: float = 0.90,
    alpha: float = 0.05,
    min_n: int = 30,
    method: str = "beta",
) -> dict[str, np.ndarray]:
    """Interval, tests and verdict for estimates of a proportion-type index.

    :param estimate: ``I`` (NaN = not estimable).
    :param variance: its linearised variance ``V``.
    :param n: domain size ``n_d``; :param df: design df; :param n_kish: Kish size.
    :param p0: target (0.90).
    :param alpha: two-sided level of the interval; the one-sided tests use α/2.
    :param min_n: suppression threshold on ``n``.
    :param method: ``"beta"`` (Korn–Graubard, default), ``"logit"`` or
        ``"wilson"`` (with ``n_eff``). The p values are always the
        Korn–Graubard tests; the verdict follows the reported interval, which
        for ``"beta"`` is the same thing as ``p < α/2``.
    :return: dict of arrays ``se, n_eff, deff, ci_low, ci_high, p_below,
        p_above, verdict, flags, n_star, x_star`` (``deff = n_d / n_eff``, the
        variance relative to simple random sampling of the same size; where
        Clopper–Pearson was used, ``n_eff`` is the ``n_kish`` it used). No
        interval (NaN) when ``df < 1``; with ``n < min_n`` the interval and p
        values are computed but the verdict is suppressed.

    Verdict: ``insufficient_data`` when not estimable, ``n < min_n`` or
    ``df < 1`` (the estimate is still reported, flagged); otherwise
    ``below_target`` ⇔ ``ci_high < p0`` (⇔ ``p_below < α/2``),
    ``above_target`` ⇔ ``ci_low > p0`` (⇔ ``p_above < α/2``), else
    ``inconclusive``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    est, var, n, df, n_kish = np.broadcast_arrays(
        _f(estimate), _f(variance), _f(n), _f(df), _f(n_kish)
    )
    x_star, n_star, flags = kg_parameters(est, var, n, df, n_kish, alpha)
    low, high = beta_bounds(x_star, n_star, alpha)
    p_below, p_above = beta_tests(x_star, n_star, p0)
    cp = (flags & (FLAG_BOUNDARY | FLAG_ZERO_VARIANCE)) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(cp, n_kish, est * (1 - est) / var)
        deff = n / n_eff
    if method != "beta":
        if method == "logit":
            alt_low, alt_high = logit_interval(est, var, df, alpha)
        else:
            alt_low, alt_high = wilson_interval(est, n_eff, alpha)
        usable = np.isfinite(n_star) & ~cp
        low = np.where(usable, alt_low, low)
        high = np.where(usable, alt_high, high)
    not_estimable = ~np.isfinite(est)
    small = n < min_n
    low_df = ~(df >= 1)
    flags = (
        flags
        | np.where(not_estimable, FLAG_NOT_ESTIMABLE, 0)
        | np.where(small, FLAG_SMALL_N, 0)
        | np.where(low_df, FLAG_LOW_DF, 0)
    )
    verdict = np.full(est.shape, INCONCLUSIVE, dtype="<U17")
    verdict[high < p0] = BELOW
    verdict[low > p0] = ABOVE
    verdict[not_estimable | small | low_df | ~np.isfinite(low) | ~np.isfinite(high)] = INSUFFICIENT
    with np.errstate(invalid="ignore"):
        se = np.sqrt(var)
    return {
        "se": se,
        "n_eff": n_eff,
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
