"""Change since the previous period (ANALYSIS.md, "Around the index")."""

from __future__ import annotations

import numpy as np
from scipy import stats


def period_change(
    estimate,
    variance,
    df,
    previous_estimate,
    previous_variance,
    previous_df,
    *,
    alpha: float = 0.05,
) -> dict[str, np.ndarray]:
    """Difference between two independent periods and its significance.

    ``d = I₁ − I₀``, ``SE = √(V₁ + V₀)`` (independent samples), two-sided
    ``p = 2·P(T > |d|/SE)`` with ``T ~ t`` on ``min(df₁, df₀)`` degrees of
    freedom (a conservative choice; with a zero SE the p value is NaN).

    :return: dict of arrays ``difference, se, t, df, p_value, significant``.
    """
    est1, var1, df1, est0, var0, df0 = (
        np.asarray(a, dtype=np.float64)
        for a in (estimate, variance, df, previous_estimate, previous_variance, previous_df)
    )
    diff = est1 - est0
    se = np.sqrt(var1 + var0)
    dof = np.minimum(df1, df0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = diff / se
        ok = np.isfinite(t) & (dof >= 1)
        p = np.where(
            ok, 2 * stats.t.sf(np.abs(np.where(ok, t, 0.0)), np.where(ok, dof, 1.0)), np.nan
        )
    return {
        "difference": diff,
        "se": se,
        "t": np.where(ok, t, np.nan),
        "df": dof,
        "p_value": p,
        "significant": ok & (p < alpha),
    }


def funnel_limits(n_eff, p0: float = 0.90, levels=(0.95, 0.998)) -> dict[float, tuple]:
    """Control limits of a funnel plot around the target (ANALYSIS.md, "Around the index").

    Plot each agency's index against its effective size ``n_eff``; the limits
    are ``p0 ± z_{(1+level)/2} · √(p0(1−p0)/n_eff)`` (normal approximation),
    clipped to [0, 1]. Points outside the 99.8% funnel are unlikely under
    "the agency is exactly at target".

    :param n_eff: effective sizes at which to draw the limits (array).
    :param p0: the target; :param levels: two-sided coverages.
    :return: ``{level: (lower, upper)}`` arrays shaped like ``n_eff``.
    """
    n = np.asarray(n_eff, dtype=np.float64)
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        half_unit = np.sqrt(p0 * (1 - p0) / n)
    for level in levels:
        z = stats.norm.ppf((1 + level) / 2)
        out[level] = (np.clip(p0 - z * half_unit, 0, 1), np.clip(p0 + z * half_unit, 0, 1))
    return out
