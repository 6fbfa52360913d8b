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

from ._util import indicator
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
    """Normalise answers to a respondent-major ``(n, m)`` int8 matrix with 0 = missing.

    :param values: ``(n, m)`` answers 1–5; missing as 0, NaN or negative.
    :return: C-contiguous ``(n, m)`` int8 array.
    """
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError("answers must be a 2-d (responses × items) array")
    if n_items is not None and values.shape[1] != n_items:
        raise ValueError(f"expected {n_items} item columns, got {values.shape[1]}")
    if values.dtype == np.int8:
        out = np.where(values > 0, values, np.int8(0)) if (values < 0).any() else values
    elif values.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            out = np.where(np.isfinite(values) & (values > 0), values, 0).astype(np.int8)
    else:
        out = np.where(values > 0, values, 0).astype(np.int8)
    if out.size and out.max() > 5:
        raise ValueError("answers must be 1–5 or missing")
    return np.ascontiguousarray(out)


#: Rows per chunk when building ``(n, m)`` temporaries (bounds memory).
CHUNK_ROWS = 1 << 18


def estimate_indices(
    answers: np.ndarray,
    weights: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    questionnaire: Questionnaire,
) -> PointEstimates:
    """Point estimates and linearised scores for all groups at once.

    :param answers: ``(n, m)`` int8 answers (see :func:`answer_matrix`), items
        in ``questionnaire.item_codes`` order.
    :param weights: final weights (length n).
    :param group: group code per response (a partition).
    :param n_groups: number of groups G.
    :param questionnaire: item → element map and element weights.
    :return: :class:`PointEstimates`.
    """
    codes = questionnaire.item_codes
    n, m = answers.shape
    if m != len(codes):
        raise ValueError(f"expected {len(codes)} items ({', '.join(codes)}), got {m}")
    G = n_groups
    group = np.asarray(group, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    member = questionnaire.element_matrix()  # (E, m)
    E = member.shape[0]
    c = questionnaire.element_weights()
    is_satisfied = np.zeros(256, dtype=bool)
    is_satisfied[list(questionnaire.satisfied_values)] = True
    chunks = [slice(a, min(a + CHUNK_ROWS, n)) for a in range(0, n, CHUNK_ROWS)]

    # N_gi = Σ w a, S_gi = Σ w y per group and item
    N = np.zeros((G, m))
    S = np.zeros((G, m))
    for rows in chunks:
        ans = answers[rows]
        ind = indicator(group[rows], G, w[rows])
        N += ind @ (ans > 0)
        S += ind @ is_satisfied[ans.view(np.uint8)]
    kept = N > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(kept, S / N, np.nan)
        inv_n = np.where(kept, 1.0 / N, 0.0)
    p0 = np.nan_to_num(p)

    # element structure per group: coefficient of item i in its element's mean
    kept_per_element = kept.astype(np.float64) @ member.T  # (G, E)
    element_kept = kept_per_element > 0
    element_of = np.argmax(member, axis=0)  # element of each item (Q0: ignored)
    in_element = member.any(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        elem_coef = np.where(
            kept & in_element[None, :], 1.0 / kept_per_element[:, element_of], 0.0
        )  # (G, m)
    element_index = np.where(element_kept, (elem_coef * p0) @ member.T, np.nan)
    c_kept = np.where(element_kept, c[None, :], 0.0)
    c_total = c_kept.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        c_norm = np.where(c_total > 0, c_kept / c_total, 0.0)
    item_coef = elem_coef * c_norm[:, element_of]  # k_i = c_e / m_e, (G, m)
    composite = np.where(
        c_total[:, 0] > 0, (c_norm * np.nan_to_num(element_index)).sum(axis=1), np.nan
    )

    # linearised scores z and domains, [composite, elements, items]
    K = 1 + E + m
    scores = np.empty((n, K))
    domain = np.empty((n, K), dtype=bool)
    member_t = member.T.astype(np.float64)  # (m, E)
    for rows in chunks:
        ans = answers[rows]
        g = group[rows]
        answered = ans > 0
        z = (is_satisfied[ans.view(np.uint8)] - _per_row(p0, g)) * _per_row(inv_n, g)
        z *= answered
        scores[rows, 1 + E :] = z
        scores[rows, 1 : 1 + E] = (z * _per_row(elem_coef, g)) @ member_t
        scores[rows, 0] = np.einsum("ij,ij->i", z, np.broadcast_to(_per_row(item_coef, g), z.shape))
        domain[rows, 1 + E :] = answered
        domain[rows, 1 : 1 + E] = (answered @ member_t) > 0
        domain[rows, 0] = answered[:, in_element].any(axis=1)
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


def _per_row(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Each response's row of a ``(G, m)`` group-level array (a broadcast row when G = 1)."""
    return values[:1] if values.shape[0] == 1 else np.take(values, group, axis=0)
