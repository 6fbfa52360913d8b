"""The top-level analysis: per group (agency, agency × month…) and for the province.

:func:`analyse` takes a :class:`~analysis.data.Responses` table and returns a
:class:`Report`: for every group and for the province (``overall``) the
blocks ``n, n_kish, n_eff, df, index, se, ci_low, ci_high, p_below, p_above,
q_below, verdict`` (plus ``weight_total, deff, q_above, flags``) of the
composite index, of each element and of each item (Q0 included), as arrays
``(G, K)`` and as JSON-ready records (a group's top-level block is the
composite; ``elements`` and ``items`` hold the rest).

For speed (10⁶ responses, bench/analysis_bench.md) :func:`analyse` sorts the
responses by group once, so that every group total reads memory in order;
the item totals ``N``, ``S`` and the domains are computed once and shared by
the groups and the province (the province's totals are the sums of the
groups'); only the linearised scores and their variances are computed per
table. :meth:`Report.to_dict` converts each statistic to Python values in one
``tolist`` and builds the blocks from those lists.
"""

from __future__ import annotations

import gc
import math
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import repeat

import numpy as np
import scipy.sparse as sp

from ._util import combine_codes, factorize, lookup, stable_order
from .compare import period_change
from .data import Responses, period_month
from .design import Design
from .indices import (
    ItemLayout,
    answer_cells,
    answer_matrix,
    group_indices,
    item_totals,
    score_matrix,
)
from .intervals import DEFAULT_MIN_N, INSUFFICIENT, benjamini_hochberg, flag_names, infer
from .questionnaire import Questionnaire, load_questionnaire
from .weights import Calibration, design_weights

#: Statistics of every block, in output order.
BLOCK_FIELDS = (
    "n",
    "n_kish",
    "n_eff",
    "n_use",
    "df",
    "weight_total",
    "deff",
    "index",
    "se",
    "ci_low",
    "ci_high",
    "p_below",
    "p_above",
    "q_below",
    "q_above",
    "verdict",
    "flags",
)
_INT_FIELDS = {"n", "df"}


@dataclass
class EstimateTable:
    """All estimates for one partition, as ``(G, K)`` arrays.

    :ivar names: estimand names: ``"composite"``, element codes, item codes.
    :ivar kinds: ``"composite" | "element" | "item"`` per estimand.
    :ivar keys: group labels per grouping column (each ``(G,)``).
    :ivar stats: :data:`BLOCK_FIELDS` arrays plus ``variance``.
    :ivar dropped_items: ``(G, m)`` items nobody answered in the group.
    :ivar dropped_elements: ``(G, E)`` elements left without items.
    :ivar change: vs the previous month (``difference, se, t, df, p_value,
        significant`` and ``previous`` row numbers, -1 when none), or None.
    """

    names: list[str]
    kinds: list[str]
    keys: dict[str, np.ndarray]
    stats: dict[str, np.ndarray]
    item_codes: tuple[str, ...]
    element_codes: tuple[str, ...]
    dropped_items: np.ndarray
    dropped_elements: np.ndarray
    change: dict[str, np.ndarray] | None = None

    @property
    def n_groups(self) -> int:
        return self.stats["index"].shape[0]

    def column(self, name: str) -> int:
        """Column of an estimand (``"composite"``, an element or item code)."""
        return self.names.index(name)

    def get(self, stat: str, name: str) -> np.ndarray:
        """One statistic of one estimand for all groups, ``(G,)``."""
        return self.stats[stat][:, self.column(name)]

    def block(self, g: int, k: int) -> dict:
        """JSON-ready block of group row ``g``, estimand column ``k``."""
        out = {}
        for f in BLOCK_FIELDS:
            value = self.stats[f][g, k]
            if f == "verdict":
                out[f] = str(value)
            elif f == "flags":
                out[f] = flag_names(int(value))
            elif f in _INT_FIELDS:
                out[f] = int(value)
            else:
                out[f] = _num(value)
        if self.change is not None and self.change["previous"][g] >= 0:
            out["change"] = {
                "difference": _num(self.change["difference"][g, k]),
                "se": _num(self.change["se"][g, k]),
                "df": int(self.change["df"][g, k]),
                "p_value": _num(self.change["p_value"][g, k]),
                "significant": bool(self.change["significant"][g, k]),
            }
        return out

    def record(self, g: int) -> dict:
        """JSON-ready record of group row ``g``: keys, composite block, elements, items."""
        return self._records(np.array([g]))[0]

    def records(self) -> list[dict]:
        """JSON-ready records of all groups (as :meth:`record`, built column-wise)."""
        with _no_gc():
            return self._records(np.arange(self.n_groups))

    def _records(self, rows: np.ndarray) -> list[dict]:
        """Records of some group rows: every statistic converted to Python values once
        per column (``tolist``), not value by value."""
        K = len(self.names)
        fields = BLOCK_FIELDS
        columns = [_py_column(f, self.stats[f][rows].ravel()) for f in fields]
        # blocks[i·K + k]: the block of rows[i], estimand k
        blocks = list(map(dict, map(zip, repeat(fields), zip(*columns))))
        del columns
        ch = self.change
        if ch is not None:
            has = ch["previous"][rows] >= 0
            names = ("difference", "se", "df", "p_value", "significant")
            parts = [
                _py_floats(ch["difference"][rows][has].ravel()),
                _py_floats(ch["se"][rows][has].ravel()),
                _py_ints(ch["df"][rows][has].ravel()),
                _py_floats(ch["p_value"][rows][has].ravel()),
                ch["significant"][rows][has].ravel().astype(bool).tolist(),
            ]
            where = np.flatnonzero(np.repeat(has, K)).tolist()
            for j, change in zip(where, map(dict, map(zip, repeat(names), zip(*parts)))):
                blocks[j]["change"] = change
        keys = {key: _py_labels(values[rows]) for key, values in self.keys.items()}
        dropped_items = self.dropped_items[rows].tolist()
        dropped_elements = self.dropped_elements[rows].tolist()
        elements = [(self.names[k], k) for k in range(K) if self.kinds[k] == "element"]
        items = [(self.names[k], k) for k in range(K) if self.kinds[k] == "item"]
        out = []
        for i in range(rows.size):
            row_blocks = blocks[i * K : (i + 1) * K]
            rec = {key: labels[i] for key, labels in keys.items()}
            rec.update(row_blocks[0])
            rec["dropped_items"] = [c for c, d in zip(self.item_codes, dropped_items[i]) if d]
            rec["dropped_elements"] = [
                c for c, d in zip(self.element_codes, dropped_elements[i]) if d
            ]
            rec["elements"] = {name: row_blocks[k] for name, k in elements}
            rec["items"] = {name: row_blocks[k] for name, k in items}
            out.append(rec)
        return out


def _py_floats(values: np.ndarray) -> list:
    """(Nested) lists of Python floats, ``None`` for NaN and ±inf (as :func:`_num`)."""
    values = np.asarray(values, dtype=np.float64)
    out = values.astype(object)
    out[~np.isfinite(values)] = None
    return out.tolist()


def _py_ints(values: np.ndarray) -> list:
    """Nested lists of Python ints (0 where undefined: such entries are not output)."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        values = np.where(np.isfinite(values), values, 0)
    return values.astype(np.int64).tolist()


def _py_column(field: str, values: np.ndarray) -> list:
    """One statistic of a block (a 1-d array) as a Python list, converted as :meth:`EstimateTable.block` does."""
    if field == "verdict":
        return values.astype(str).tolist()
    if field == "flags":
        distinct, inverse = np.unique(values, return_inverse=True)
        names = [flag_names(int(v)) for v in distinct]
        return list(map(list.copy, map(names.__getitem__, inverse.ravel().tolist())))
    if field in _INT_FIELDS:
        return _py_ints(values)
    return _py_floats(values)


def _py_labels(values: np.ndarray) -> list:
    """Group labels as Python values (as :func:`_label`)."""
    if values.dtype.kind == "M":
        return values.astype(str).tolist()
    if values.dtype.kind == "O":
        return [_label(v) for v in values]
    return values.tolist()


@dataclass
class Report:
    """Result of :func:`analyse`.

    :ivar groups: estimates per group.
    :ivar overall: the province (all responses), one row.
    :ivar settings: the options used.
    :ivar headline: the estimand shown first (``"composite"`` or the Q0 code).
    :ivar coverage_gaps: post-stratification cells with volume but no response.
    """

    groups: EstimateTable
    overall: EstimateTable
    settings: dict
    headline: str
    coverage_gaps: list = field(default_factory=list)

    def to_dict(self) -> dict:
        """Everything as plain JSON-ready Python objects (NaN → None)."""
        with _no_gc():
            return {
                "settings": self.settings,
                "headline": self.headline,
                "coverage_gaps": self.coverage_gaps,
                "overall": self.overall.record(0),
                "groups": self.groups.records(),
            }


@contextmanager
def _no_gc():
    """Pause the cyclic garbage collector while building millions of containers.

    They hold no reference cycles, but each allocation counts towards the
    collector's thresholds, and its passes over the growing heap would cost
    as much as building the records. The previous state is restored.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _num(value):
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def _label(value):
    if isinstance(value, np.datetime64):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def estimate_table(
    answers: np.ndarray,
    design: Design,
    group: np.ndarray,
    n_groups: int,
    questionnaire: Questionnaire,
    *,
    keys: dict[str, np.ndarray] | None = None,
    p0: float = 0.90,
    alpha: float = 0.05,
    min_n: int = DEFAULT_MIN_N,
    method: str = "beta",
) -> EstimateTable:
    """Estimates, variances, intervals, tests and q values for one partition.

    :param answers: ``(n, m)`` int8 answers in ``questionnaire.item_codes`` order.
    :param design: the sampling design (weights, strata, clusters, calibration).
    :param group: group code per response; :param n_groups: G.
    :param keys: group labels to carry into the output.
    :return: :class:`EstimateTable`. Benjamini–Hochberg q values are taken per
        estimand across the groups whose verdict is not ``insufficient_data``.
    """
    group = np.asarray(group, dtype=np.int64)
    answers = answer_matrix(answers)  # the score tables need codes 0–5
    layout = ItemLayout.of(questionnaire)
    n, m = answers.shape
    domain = np.empty((n, 1 + layout.member.shape[0] + m), dtype=bool)
    N, S = item_totals(answers, design.weights, group, n_groups, layout, domain)
    return _table(
        answers,
        design,
        group,
        n_groups,
        questionnaire,
        layout,
        N,
        S,
        domain,
        keys=keys,
        options={"p0": p0, "alpha": alpha, "min_n": min_n, "method": method},
    )


def _table(
    answers,
    design,
    group,
    n_groups,
    questionnaire,
    layout,
    N,
    S,
    domain,
    *,
    keys,
    options,
    scores=None,
    cells=None,
) -> EstimateTable:
    """:func:`estimate_table` from the item totals ``N``, ``S`` and the domains (shared).

    :param scores: an ``(n, K)`` buffer for the linearised scores (reused).
    :param cells: :func:`~analysis.indices.answer_cells` (shared).
    """
    gi = group_indices(N, S, layout)
    scores = score_matrix(answers, group, gi, layout, out=scores, cells=cells)
    grouping = design.grouping(group, n_groups)
    variance = design.variance(scores, grouping)
    del scores, cells
    sizes = design.domain_sizes(domain, grouping)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_kish = np.where(
            sizes["weight_sq"] > 0, sizes["weight_total"] ** 2 / sizes["weight_sq"], 0.0
        )
    index = np.where(sizes["n"] > 0, gi.index(), np.nan)
    E = layout.member.shape[0]
    # the composite and the elements are means of several items (logit-t);
    # the items, Q0 included, are binary outcomes (Korn–Graubard with n_use)
    mean = np.arange(1 + E + len(questionnaire.item_codes)) <= E
    inf = infer(index, variance, sizes["n"], sizes["df"], n_kish, mean=mean, **options)
    testable = inf["verdict"] != INSUFFICIENT
    stats = {
        "n": sizes["n"],
        "n_kish": n_kish,
        "n_eff": inf["n_eff"],
        "n_use": inf["n_use"],
        "df": sizes["df"],
        "weight_total": sizes["weight_total"],
        "deff": inf["deff"],
        "index": index,
        "se": inf["se"],
        "variance": variance,
        "ci_low": inf["ci_low"],
        "ci_high": inf["ci_high"],
        "p_below": inf["p_below"],
        "p_above": inf["p_above"],
        "q_below": benjamini_hochberg(np.where(testable, inf["p_below"], np.nan), axis=0),
        "q_above": benjamini_hochberg(np.where(testable, inf["p_above"], np.nan), axis=0),
        "verdict": inf["verdict"],
        "flags": inf["flags"],
    }
    return EstimateTable(
        names=["composite", *questionnaire.element_codes, *questionnaire.item_codes],
        kinds=["composite"] + ["element"] * E + ["item"] * len(questionnaire.item_codes),
        keys=keys or {},
        stats=stats,
        item_codes=questionnaire.item_codes,
        element_codes=questionnaire.element_codes,
        dropped_items=~gi.kept,
        dropped_elements=~gi.element_kept,
    )


def _group_column(responses: Responses, name: str, cutoff_day):
    if name == "month":
        if responses.submitted_at is None:
            raise ValueError("grouping by month needs submitted_at")
        return period_month(responses.submitted_at, cutoff_day=cutoff_day)
    value = getattr(responses, name, None)
    if value is None:
        value = responses.extra.get(name)
    if value is None:
        raise ValueError(f"no column {name!r} to group by")
    return value


def analyse(
    responses: Responses,
    questionnaire: Questionnaire | None = None,
    *,
    by: str | tuple[str, ...] = "agency",
    calibration: Calibration | None = None,
    lonely_psu: str = "fail",
    p0: float = 0.90,
    alpha: float = 0.05,
    min_n: int = DEFAULT_MIN_N,
    method: str = "beta",
    cutoff_day: int | None = 15,
    headline: str | None = None,
) -> Report:
    """Satisfaction indices with intervals and verdicts per group and for the province.

    :param responses: the response table.
    :param questionnaire: default: the shipped questionnaire.
    :param by: ``"agency"``, ``"agency_month"`` or a tuple of column names
        (``agency``, ``month``, ``counter``, ``procedure_field``, ``stratum`` or an
        ``extra`` column). ``month`` is the reporting month of ``submitted_at``
        (15th → 14th unless ``cutoff_day=None``).
    :param calibration: post-stratification or raking of these responses; its
        weights replace the base weights and its residualisation enters the
        variance.
    :param lonely_psu: see :class:`~analysis.design.Design`.
    :param p0: target; :param alpha: level; :param min_n: suppression threshold;
    :param method: interval method, ``"beta"`` (Korn–Graubard), ``"logit"``, ``"wilson"``.
    :param headline: ``"composite"`` or the overall item code (``"Q0"``, the
        default: the share satisfied overall, the plan's own wording): which
        block reports lead with (both are computed).
    :return: :class:`Report`. When grouping includes ``month``, every block of
        a group carries its change since the agency's previous month
        (:func:`~analysis.compare.period_change`).
    """
    questionnaire = questionnaire or load_questionnaire()
    headline = questionnaire.overall if headline is None else headline
    if headline not in ("composite", questionnaire.overall):
        raise ValueError(f"headline must be 'composite' or {questionnaire.overall!r}")
    if isinstance(by, str):
        by = ("agency", "month") if by == "agency_month" else (by,)
    answers = answer_matrix(responses.item_matrix(questionnaire.item_codes))
    n = responses.n
    if n == 0:
        raise ValueError("no responses to analyse")
    if calibration is not None:
        weights = calibration.weights
    else:
        weights = design_weights(n, responses.weight)
    codes, labels = [], []
    for name in by:
        c, lab = factorize(_group_column(responses, name, cutoff_day))
        codes.append(c)
        labels.append(lab)
    group, key_codes = combine_codes(*codes)
    keys = {name: labels[j][key_codes[:, j]] for j, name in enumerate(by)}
    G = key_codes.shape[0]
    if calibration is not None and calibration.matrix.shape[0] != n:
        raise ValueError("calibration does not match the number of responses")

    # Responses in group order (then stratum / PSU, then calibration cell):
    # every group total below then reads memory in order. The estimates do
    # not depend on the order of the rows.
    order = _row_order(group, responses, calibration)
    strata, clusters = responses.stratum, responses.cluster
    design = Design(
        weights[order],
        strata=None if strata is None else np.asarray(strata)[order],
        clusters=None if clusters is None else np.asarray(clusters)[order],
        calibration=None if calibration is None else _permute_calibration(calibration, order),
        lonely_psu=lonely_psu,
    )
    answers = answers[order]
    group = group[order]
    del order

    # The groups and the province share the item totals (the province's are
    # sums of the groups') and the domains (they do not depend on the grouping).
    layout = ItemLayout.of(questionnaire)
    domain = np.empty((n, 1 + layout.member.shape[0] + answers.shape[1]), dtype=bool)
    N, S = item_totals(answers, design.weights, group, G, layout, domain)
    options = {"p0": p0, "alpha": alpha, "min_n": min_n, "method": method}
    common = (answers, design)
    scores = np.empty(domain.shape)  # filled by each table in turn
    cells = answer_cells(answers)
    groups = _table(
        *common,
        group,
        G,
        questionnaire,
        layout,
        N,
        S,
        domain,
        keys=keys,
        options=options,
        scores=scores,
        cells=cells,
    )
    overall = _table(
        *common,
        np.zeros(n, dtype=np.int64),
        1,
        questionnaire,
        layout,
        N.sum(axis=0, keepdims=True),
        S.sum(axis=0, keepdims=True),
        domain,
        keys={"scope": np.array(["province"])},
        options=options,
        scores=scores,
        cells=cells,
    )
    del scores, cells
    if "month" in by:
        groups.change = _changes(groups, by, key_codes, labels, alpha)
    gaps = []
    if calibration is not None and calibration.coverage_gaps.size:
        gaps = [
            {"cell": int(c), "volume": float(v)}
            for c, v in zip(calibration.coverage_gaps, calibration.gap_volume)
        ]
    settings = {
        "questionnaire": questionnaire.version,
        "by": list(by),
        "p0": p0,
        "alpha": alpha,
        "min_n": min_n,
        "method": method,
        "lonely_psu": lonely_psu,
        "calibration": None if calibration is None else calibration.method,
        "cutoff_day": cutoff_day,
    }
    return Report(
        groups=groups, overall=overall, settings=settings, headline=headline, coverage_gaps=gaps
    )


def _row_order(group: np.ndarray, responses: Responses, calibration) -> np.ndarray:
    """Responses sorted by group, then PSU (or stratum), then first calibration column."""
    keys = [group]
    if responses.cluster is not None:
        stratum = np.zeros(responses.n, dtype=np.int64)
        if responses.stratum is not None:
            stratum = factorize(responses.stratum)[0]
        keys.append(combine_codes(stratum, factorize(responses.cluster)[0])[0])
    elif responses.stratum is not None:
        keys.append(factorize(responses.stratum)[0])
    if calibration is not None:
        X = calibration.matrix.tocsr()
        first = np.zeros(responses.n, dtype=np.int64)
        filled = np.diff(X.indptr) > 0
        if not X.has_sorted_indices:
            X = X.sorted_indices()
        first[filled] = X.indices[X.indptr[:-1][filled]]
        keys.append(first)
    return stable_order(*keys)


def _permute_calibration(calibration: Calibration, order: np.ndarray) -> Calibration:
    """The same calibration with its responses in ``order``."""
    return replace(
        calibration,
        weights=np.asarray(calibration.weights)[order],
        base_weights=np.asarray(calibration.base_weights)[order],
        matrix=sp.csr_matrix(calibration.matrix)[order],
    )


def _changes(table: EstimateTable, by, key_codes, labels, alpha) -> dict[str, np.ndarray]:
    """Change of every estimand vs the same other keys in the previous month."""
    m = by.index("month")
    month_labels = labels[m]
    prev_month = month_labels[key_codes[:, m]] - np.timedelta64(1, "M")
    pos, found = lookup(month_labels, prev_month)
    prev_codes = key_codes.copy()
    prev_codes[:, m] = pos
    # rows are sorted lexicographically by key codes: find the previous row
    sizes = key_codes.max(axis=0) + 1
    flat = np.zeros(key_codes.shape[0], dtype=np.int64)
    prev_flat = np.zeros(key_codes.shape[0], dtype=np.int64)
    for j, size in enumerate(sizes):
        flat = flat * size + key_codes[:, j]
        prev_flat = prev_flat * size + prev_codes[:, j]
    row, hit = lookup(flat, prev_flat)
    previous = np.where(found & hit, row, -1)
    has = previous >= 0
    src = np.where(has, previous, 0)
    st = table.stats
    ch = period_change(
        st["index"],
        st["variance"],
        st["df"],
        st["index"][src],
        st["variance"][src],
        st["df"][src],
        alpha=alpha,
    )
    mask = has[:, None]
    out = {k: np.where(mask, v, np.nan if v.dtype.kind == "f" else 0) for k, v in ch.items()}
    out["significant"] = ch["significant"] & mask
    out["previous"] = previous
    return out
