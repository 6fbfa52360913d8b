"""Naive reference implementations (loops, dense matrices) for the property tests.

They follow ANALYSIS.md literally, one domain at a time, so that the
vectorised, sparse code in analysis/ can be checked against them on small
random designs.
"""

from __future__ import annotations

import numpy as np


def naive_variance(weights, strata, clusters, z, *, X=None, w0=None, lonely_psu="remove"):
    """V of one domain total: residualise z on X (W0), PSU totals, Σ_h n_h/(n_h−1) Σ_j (t−t̄)²."""
    n = len(weights)
    strata = np.zeros(n, dtype=int) if strata is None else np.asarray(strata)
    clusters = np.arange(n) if clusters is None else np.asarray(clusters)
    e = np.asarray(z, dtype=float)
    if X is not None:
        X = np.asarray(X, dtype=float)
        W0 = np.diag(w0)
        beta = np.linalg.pinv(X.T @ W0 @ X, rcond=1e-10, hermitian=True) @ (X.T @ W0 @ e)
        e = e - X @ beta
    V = 0.0
    for h in np.unique(strata):
        in_h = strata == h
        psus = np.unique(clusters[in_h])
        t = np.array(
            [np.sum(weights[in_h & (clusters == j)] * e[in_h & (clusters == j)]) for j in psus]
        )
        n_h = len(psus)
        if n_h == 1:
            if lonely_psu == "adjust":
                V += t[0] ** 2
            continue
        V += n_h / (n_h - 1) * np.sum((t - t.mean()) ** 2)
    return V


def naive_indices(answers, weights, group, questionnaire):
    """Item, element and composite indices per group by the definitions (dict of dicts)."""
    codes = questionnaire.item_codes
    out = {}
    for g in np.unique(group):
        rows = group == g
        p = {}
        for i, code in enumerate(codes):
            a = answers[rows, i] > 0
            y = np.isin(answers[rows, i], questionnaire.satisfied_values)
            N = np.sum(weights[rows] * a)
            if N > 0:
                p[code] = np.sum(weights[rows] * y) / N
        elements = {}
        for element in questionnaire.elements:
            kept = [p[c] for c in element.items if c in p]
            if kept:
                elements[element.code] = np.mean(kept)
        c = {el.code: el.weight for el in questionnaire.elements if el.code in elements}
        composite = (sum(c[e] * elements[e] for e in c) / sum(c.values())) if c else np.nan
        out[int(g)] = {"items": p, "elements": elements, "composite": composite}
    return out
