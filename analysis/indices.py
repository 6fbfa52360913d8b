"""Item, element and composite (agency) satisfaction indices with linearised scores.

ANALYSIS.md, "Estimators". For domain d (a group) and item i, with
``y_ri = 1`` when the answer is satisfied (4–5) and ``a_ri = 1`` when
answered (not N/A):

- item index ``p_i = Σ_{r∈d} w_r y_ri / N_i``, ``N_i = Σ_{r∈d} w_r a_ri``;
- element index ``P_e`` = mean of ``p_i`` over the element's items answered
  in the domain (unanswered items are dropped and reported);
- composite ``I = Σ_e c_e P_e``, ``c_e`` the element weights renormalised over
  the elements that kept at least one item;
- linearised score ``z_r = Σ_i k_i a_ri (y_ri − p_i) / N_i`` with ``k_i`` the
  item's coefficient in the index (``1`` for an item index, ``1/m_e`` for an
  element index, ``c_e/m_e`` for the composite), zero outside the domain.

Domains: an item's domain is the group's respondents who answered it; an
element's (composite's) those who answered at least one of its items. This
fixes ``n`` and ``df``; the variance keeps all rows.

Estimands are laid out as columns: ``[composite, element 1 … E, item 1 … m]``
with the items in :attr:`Questionnaire.item_codes` order (Q0 first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._util import group_sum
from .questionnaire import Questionnaire


@dataclass
class PointEstimates:
    """Indices, linearised scores and domains for every group and estimand.

    :ivar names: estimand names (``"composite"``, element codes, item codes).
    :ivar kinds: ``"composite"``, ``"element"`` or ``"item"`` per estimand.
    :ivar index: ``(G, K)`` estimates (NaN when not estimable).
    :ivar scores: ``(n, K)`` linearised scores ``z``.
    :ivar domain: ``(n, K)`` domain membership.
    :ivar kept_items: ``(G, m)`` item answered in the group.
    :ivar kept_elements: ``(G, E)`` element kept in the group.
    :ivar item_coef: ``(G, m)`` composite coefficients ``k_i``.
    """

    names: list[str]
    kinds: list[str]
    index: np.ndarray
    scores: np.ndarray
    domain: np.ndarray
    kept_items: np.ndarray
    kept_elements: np.ndarray
    item_coef: np.ndarray


def answer_matrix(values, n_items: int | None = None) -> np.ndarray:
    """Normalise answers to an item-major ``(m, n)`` int8 matrix with 0 = missing.

    :param values: ``(n, m)`` answers 1–5; missing as 0, NaN or negative.
    :return: C-contiguous ``(m, n)`` int8 array.
    """
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError("answers must be a 2-d (responses × items) array")
    if n_items is not None and values.shape[1] != n_items:
        raise ValueError(f"expected {n_items} item columns, got {values.shape[1]}")
    if values.dtype.kind == "f":
        clean = np.where(np.isfinite(values) & (values > 0), values, 0)
        out = clean.T.astype(np.int8)
    else:
        out = np.where(values > 0, values, 0).T.astype(np.int8)
    if out.size and out.max() > 5:
        raise ValueError("answers must be 1–5 or missing")
    return np.ascontiguousarray(out)


def estimate_indices(
    answers: np.ndarray,
    weights: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    questionnaire: Questionnaire,
) -> PointEstimates:
    """Point estimates and linearised scores for all groups at once.

    :param answers: item-major ``(m, n)`` int8 answers (see
        :func:`answer_matrix`), items in ``questionnaire.item_codes`` order.
    :param weights: final weights (length n).
    :param group: group code per response (a partition).
    :param n_groups: number of groups G.
    :param questionnaire: item → element map and element weights.
    :return: :class:`PointEstimates`.
    """
    codes = questionnaire.item_codes
    m, n = answers.shape
    if m != len(codes):
        raise ValueError(f"expected {len(codes)} items ({', '.join(codes)}), got {m}")
    G = n_groups
    w = np.asarray(weights, dtype=np.float64)
    member = questionnaire.element_matrix()  # (E, m)
    E = member.shape[0]
    c = questionnaire.element_weights()
    satisfied = np.array(sorted(questionnaire.satisfied_values), dtype=np.int8)

    answered = answers > 0  # (m, n)
    sat = np.isin(answers, satisfied)
    N = np.empty((G, m))
    S = np.empty((G, m))
    for i in range(m):  # loop over items, not respondents
        N[:, i] = np.bincount(group, weights=w * answered[i], minlength=G)
        S[:, i] = np.bincount(group, weights=w * sat[i], minlength=G)
    kept = N > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(kept, S / N, np.nan)
        inv_n = np.where(kept, 1.0 / N, 0.0)

    # element structure per group
    kept_per_element = kept.astype(np.float64) @ member.T  # (G, E)
    element_kept = kept_per_element > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        elem_item_coef = np.where(
            kept[:, None, :] & member[None, :, :],
            1.0 / kept_per_element[:, :, None],
            0.0,
        )  # (G, E, m)
    element_index = np.where(
        element_kept, np.einsum("gem,gm->ge", elem_item_coef, np.nan_to_num(p)), np.nan
    )
    c_kept = np.where(element_kept, c[None, :], 0.0)
    c_total = c_kept.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        c_norm = np.where(c_total > 0, c_kept / c_total, 0.0)
    item_coef = np.einsum("ge,gem->gm", c_norm, elem_item_coef)  # k_i, (G, m)
    composite = np.where(c_total[:, 0] > 0, (c_norm * np.nan_to_num(element_index)).sum(axis=1), np.nan)

    K = 1 + E + m
    scores = np.zeros((n, K))
    domain = np.zeros((n, K), dtype=bool)
    comp_items = member.any(axis=0)
    for i in range(m):
        z = answered[i] * (sat[i] - np.nan_to_num(p[:, i])[group]) * inv_n[group, i]
        scores[:, 1 + E + i] = z
        domain[:, 1 + E + i] = answered[i]
        if comp_items[i]:
            scores[:, 0] += item_coef[group, i] * z
            domain[:, 0] |= answered[i]
        for e in np.flatnonzero(member[:, i]):
            scores[:, 1 + e] += elem_item_coef[group, e, i] * z
            domain[:, 1 + e] |= answered[i]
    index = np.concatenate([composite[:, None], element_index, p], axis=1)
    return PointEstimates(
        names=["composite", *questionnaire.element_codes, *codes],
        kinds=["composite"] + ["element"] * E + ["item"] * m,
        index=index,
        scores=scores,
        domain=domain,
        kept_items=kept,
        kept_elements=element_kept,
        item_coef=item_coef,
    )


def item_counts(answers: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """``(G, m)`` number of answers per group and item."""
    return np.stack(
        [np.bincount(group, weights=row > 0, minlength=n_groups) for row in answers], axis=1
    )


def weighted_group_totals(weights, group, n_groups) -> np.ndarray:
    """``Σ w`` per group over all its responses."""
    return group_sum(np.asarray(group), n_groups, np.asarray(weights, dtype=np.float64))
