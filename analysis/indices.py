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


#: Rows per chunk when building ``(n, m)`` temporaries (bounds memory; small
#: enough for a chunk's temporaries to stay in the processor's cache).
CHUNK_ROWS = 1 << 15


def _chunks(n: int):
    return [slice(a, min(a + CHUNK_ROWS, n)) for a in range(0, n, CHUNK_ROWS)]


@dataclass
class ItemLayout:
    """Questionnaire structure as arrays (built once per analysis).

    :ivar member: ``(E, m)`` element membership; :ivar member_t: its float transpose.
    :ivar pairs: ``(item, element)`` column pairs, for sums over each element's items.
    :ivar element_of: element of each item (ignored for Q0); :ivar in_element: item in an element.
    :ivar element_weights: ``c_e``; :ivar satisfied: ``y`` per answer code (256 entries, 0/1 float).
    """

    member: np.ndarray
    member_t: np.ndarray
    pairs: tuple[tuple[int, int], ...]
    element_of: np.ndarray
    in_element: np.ndarray
    element_weights: np.ndarray
    satisfied: np.ndarray

    @classmethod
    def of(cls, questionnaire: Questionnaire) -> ItemLayout:
        member = questionnaire.element_matrix()
        satisfied = np.zeros(256)
        satisfied[list(questionnaire.satisfied_values)] = 1.0
        return cls(
            member=member,
            member_t=np.ascontiguousarray(member.T, dtype=np.float64),
            pairs=tuple((int(i), int(e)) for e, i in zip(*np.nonzero(member))),
            element_of=np.argmax(member, axis=0),
            in_element=member.any(axis=0),
            element_weights=questionnaire.element_weights(),
            satisfied=satisfied,
        )


def item_totals(
    answers: np.ndarray,
    weights: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    layout: ItemLayout,
    domain: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``N_gi = Σ_{r∈g} w_r a_ri`` and ``S_gi = Σ_{r∈g} w_r y_ri`` per group and item, ``(G, m)`` each.

    :param domain: optional ``(n, K)`` bool array to fill with
        :func:`domain_matrix` in the same pass over the answers.
    """
    n, m = answers.shape
    E = layout.member.shape[0]
    totals = np.zeros((n_groups, 2 * m))
    both = np.empty((min(CHUNK_ROWS, n), 2 * m))
    for rows in _chunks(n):
        ans = answers[rows]
        block = both[: ans.shape[0]]
        np.greater(ans, 0, out=block[:, :m])
        block[:, m:] = layout.satisfied[ans.view(np.uint8)]
        totals += indicator(group[rows], n_groups, weights[rows]) @ block
        if domain is not None:
            _fill_domain(domain[rows], block[:, :m], E, layout)
    return totals[:, :m], totals[:, m:]


def _fill_domain(domain: np.ndarray, answered: np.ndarray, E: int, layout: ItemLayout) -> None:
    """Domain columns of a chunk from its float ``answered`` matrix."""
    np.greater(answered, 0, out=domain[:, 1 + E :])
    elements = domain[:, 1 : 1 + E]
    elements[...] = False
    for i, e in layout.pairs:
        np.logical_or(elements[:, e], domain[:, 1 + E + i], out=elements[:, e])
    np.any(domain[:, 1 : 1 + E], axis=1, out=domain[:, 0])


@dataclass
class GroupIndices:
    """Group-level pieces of the indices (ANALYSIS.md, "Estimators"), ``(G, ·)`` arrays.

    :ivar p: item indices (NaN where not answered); :ivar kept: item answered in the group;
    :ivar inv_n: ``1/N_gi`` (0 where not kept); :ivar element_kept: element kept;
    :ivar element_index: ``P_e``; :ivar composite: ``I``; :ivar per_element: ``1/m_ge``
        (0 where the element is not kept); :ivar c_norm: renormalised element weights;
    :ivar elem_coef: coefficient ``1/m_e`` of each item in its element's mean;
    :ivar item_coef: composite coefficients ``k_i = c_e/m_e``.
    """

    p: np.ndarray
    kept: np.ndarray
    inv_n: np.ndarray
    element_kept: np.ndarray
    element_index: np.ndarray
    composite: np.ndarray
    per_element: np.ndarray
    c_norm: np.ndarray
    elem_coef: np.ndarray
    item_coef: np.ndarray

    def index(self) -> np.ndarray:
        """``(G, K)`` estimates, columns ``[composite, elements, items]``."""
        return np.concatenate([self.composite[:, None], self.element_index, self.p], axis=1)


def group_indices(N: np.ndarray, S: np.ndarray, layout: ItemLayout) -> GroupIndices:
    """Item, element and composite indices from the item totals ``N`` and ``S`` (``(G, m)``)."""
    member, element_of, c = layout.member, layout.element_of, layout.element_weights
    kept = N > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(kept, S / N, np.nan)
        inv_n = np.where(kept, 1.0 / N, 0.0)
    p0 = np.nan_to_num(p)
    kept_per_element = kept.astype(np.float64) @ member.T  # (G, E)
    element_kept = kept_per_element > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        per_element = np.where(element_kept, 1.0 / kept_per_element, 0.0)
    elem_coef = np.where(kept & layout.in_element[None, :], per_element[:, element_of], 0.0)
    element_index = np.where(element_kept, (elem_coef * p0) @ member.T, np.nan)
    c_kept = np.where(element_kept, c[None, :], 0.0)
    c_total = c_kept.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        c_norm = np.where(c_total > 0, c_kept / c_total, 0.0)
    item_coef = elem_coef * c_norm[:, element_of]  # k_i = c_e / m_e, (G, m)
    composite = np.where(
        c_total[:, 0] > 0, (c_norm * np.nan_to_num(element_index)).sum(axis=1), np.nan
    )
    return GroupIndices(
        p=p,
        kept=kept,
        inv_n=inv_n,
        element_kept=element_kept,
        element_index=element_index,
        composite=composite,
        per_element=per_element,
        c_norm=c_norm,
        elem_coef=elem_coef,
        item_coef=item_coef,
    )


def score_matrix(
    answers: np.ndarray,
    group: np.ndarray,
    gi: GroupIndices,
    layout: ItemLayout,
    out: np.ndarray | None = None,
    cells: np.ndarray | None = None,
) -> np.ndarray:
    """Linearised scores ``z`` (``(n, K)``, columns ``[composite, elements, items]``).

    Item i: ``z_ri = a_ri (y_ri − p_gi) / N_gi``. Element e: ``Σ_{i∈e} z_ri / m_ge``
    (an item not kept in the group has ``z = 0``). Composite: ``Σ_e c_ge ·
    (element score)``, i.e. ``Σ_i k_i z_ri``. Row r uses its own group g.

    :param out: an ``(n, K)`` float array to fill (e.g. reused between groupings).
    :param cells: :func:`answer_cells` of ``answers``, if already computed.

    Every ``z_ri`` is looked up in a table of ``(y_v − p_gi)/N_gi`` by group,
    answer code v and item.
    """
    n, m = answers.shape
    E = layout.member.shape[0]
    scores = np.empty((n, 1 + E + m)) if out is None else out
    one = gi.p.shape[0] == 1
    # per answer code v and item i: (y_v − p_gi)/N_gi, 0 for v = 0 (not answered)
    table = (layout.satisfied[None, :6, None] - np.nan_to_num(gi.p)[:, None, :]) * gi.inv_n[
        :, None, :
    ]
    table[:, 0, :] = 0.0
    table = table.ravel()  # (G, 6, m) flattened: [g, v, i] at (g·6 + v)·m + i
    if cells is None:
        cells = answer_cells(answers)
    where = np.empty((min(CHUNK_ROWS, n), m), dtype=np.int64 if table.size >= 2**31 else np.int32)
    for rows in _chunks(n):
        if one:
            z = table[cells[rows]]
        else:
            offset = group[rows] * (6 * m)
            z = table[np.add(offset[:, None], cells[rows], out=where[: offset.size])]
        scores[rows, 1 + E :] = z
        elements = _element_sums(z, layout)
        if one:
            elements *= gi.per_element
            composite = scores[rows, 0]
            composite[...] = 0.0
            for e, c_e in enumerate(gi.c_norm[0]):
                composite += c_e * elements[:, e]
        else:
            g = group[rows]
            elements *= np.take(gi.per_element, g, axis=0)
            scores[rows, 0] = np.einsum("ij,ij->i", elements, np.take(gi.c_norm, g, axis=0))
        scores[rows, 1 : 1 + E] = elements
    return scores


def answer_cells(answers: np.ndarray) -> np.ndarray:
    """``v·m + i`` for answer code ``v`` (0–5) of item ``i``: the answer's place in a
    group's ``(6, m)`` table (``uint8`` when it fits), shared by all groupings."""
    n, m = answers.shape
    dtype = np.uint8 if 6 * m <= 256 else np.int32
    cells = np.empty((n, m), dtype=dtype)
    offset = np.arange(m, dtype=dtype)
    for rows in _chunks(n):
        block = cells[rows]
        np.multiply(answers[rows], m, out=block, dtype=dtype, casting="unsafe")
        block += offset
    return cells


def _element_sums(z: np.ndarray, layout: ItemLayout) -> np.ndarray:
    """``Σ_{i∈e} z_ri`` for every element, ``(rows, E)``.

    Column by column rather than ``z @ member_t``: a product this narrow gains
    nothing from a multi-threaded BLAS, which on a busy machine loses much
    time waiting for its threads.
    """
    out = np.zeros((z.shape[0], layout.member.shape[0]))
    for i, e in layout.pairs:
        out[:, e] += z[:, i]
    return out


def domain_matrix(answers: np.ndarray, layout: ItemLayout) -> np.ndarray:
    """Domain membership ``(n, K)``: item answered; element / composite: at least one item answered.

    The same for every grouping (a domain is a group's respondents in it).
    """
    n, m = answers.shape
    E = layout.member.shape[0]
    domain = np.empty((n, 1 + E + m), dtype=bool)
    for rows in _chunks(n):
        _fill_domain(domain[rows], (answers[rows] > 0).astype(np.float64), E, layout)
    return domain


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

    The work is split into :func:`item_totals` (``N``, ``S``),
    :func:`group_indices`, :func:`score_matrix` and :func:`domain_matrix`, which
    :func:`analysis.analyse` calls directly to share them between the groups
    and the province.
    """
    codes = questionnaire.item_codes
    n, m = answers.shape
    if m != len(codes):
        raise ValueError(f"expected {len(codes)} items ({', '.join(codes)}), got {m}")
    group = np.asarray(group, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    layout = ItemLayout.of(questionnaire)
    answers = answer_matrix(answers)  # negative → missing; > 5 is an error
    E = layout.member.shape[0]
    domain = np.empty((n, 1 + E + m), dtype=bool)
    N, S = item_totals(answers, w, group, n_groups, layout, domain)
    gi = group_indices(N, S, layout)
    return PointEstimates(
        names=["composite", *questionnaire.element_codes, *codes],
        kinds=["composite"] + ["element"] * E + ["item"] * m,
        index=gi.index(),
        scores=score_matrix(answers, group, gi, layout),
        domain=domain,
        kept_items=gi.kept,
        kept_elements=gi.element_kept,
        item_coef=gi.item_coef,
    )
