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
