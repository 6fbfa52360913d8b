"""Cronbach's alpha per element (ANALYSIS.md, "Around the index")."""

from __future__ import annotations

import numpy as np

from ._util import indicator
from .questionnaire import Questionnaire


def cronbach_alpha(
    answers: np.ndarray,
    questionnaire: Questionnaire,
    group: np.ndarray | None = None,
    n_groups: int | None = None,
    weights: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Cronbach's alpha of each element's items, per group.

    ``α = m/(m−1) · (1 − Σ_i σ²_i / σ²_T)`` over the respondents who answered
    all m items of the element (listwise deletion), on the raw 1–5 scores,
    ``T`` the sum of the m scores. Variances are (optionally weighted)
    moments; the divisor cancels in the ratio, so unweighted results equal the
    textbook formula with ``n−1``.

    :param answers: ``(n, m)`` answers (0 = missing) in ``questionnaire.item_codes`` order.
    :param questionnaire: the element → item map.
    :param group: group code per response (default: one group).
    :param weights: optional weights.
    :return: ``{"alpha": (G, E), "n": (G, E) complete cases}``; alpha is NaN for
        elements with fewer than 2 items, fewer than 2 complete cases or no
        variance in the total.
    """
    answers = np.asarray(answers)
    n = answers.shape[0]
    if group is None:
        group = np.zeros(n, dtype=np.int64)
        n_groups = 1
    group = np.asarray(group, dtype=np.int64)
    G = int(n_groups if n_groups is not None else group.max() + 1)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    codes = questionnaire.item_codes
    E = len(questionnaire.elements)
    alpha = np.full((G, E), np.nan)
    count = np.zeros((G, E), dtype=np.int64)
    for e, element in enumerate(questionnaire.elements):  # loop over elements
        cols = [codes.index(code) for code in element.items]
        m = len(cols)
        x = answers[:, cols].astype(np.float64)
        complete = (x > 0).all(axis=1)
        count[:, e] = np.bincount(group, weights=complete, minlength=G).astype(np.int64)
        if m < 2:
            continue
        wc = w * complete
        ind = indicator(group, G, wc)
        W = np.asarray(ind @ np.ones(n))
        total = x.sum(axis=1)
        s1 = np.asarray(ind @ x)
        s2 = np.asarray(ind @ (x * x))
        t1 = np.asarray(ind @ total)
        t2 = np.asarray(ind @ (total * total))
        with np.errstate(divide="ignore", invalid="ignore"):
            item_var = (s2 / W[:, None] - (s1 / W[:, None]) ** 2).sum(axis=1)
            total_var = t2 / W - (t1 / W) ** 2
            a = m / (m - 1) * (1 - item_var / total_var)
        ok = (count[:, e] >= 2) & (total_var > 1e-12 * np.maximum(t2 / np.where(W > 0, W, 1), 1))
        alpha[:, e] = np.where(ok, a, np.nan)
    return {"alpha": alpha, "n": count}
