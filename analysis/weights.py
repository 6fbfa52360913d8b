"""Weights: base (design) weights, post-stratification, raking.

See ANALYSIS.md, "Weights". A calibration returns a :class:`Calibration`:
the calibrated weights *and* what the variance needs (ANALYSIS.md,
"Estimators": with calibration the linearised score is replaced by its
weighted least-squares residual on the calibration matrix ``X``, weighted by
the **pre-calibration** weights ``w0``). R equivalents: ``postStratify``
(with ``partial=TRUE`` for coverage gaps) and ``calibrate(calfun="raking")``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ._util import group_sum


@dataclass(frozen=True)
class Calibration:
    """Calibrated weights plus the calibration matrix for the variance.

    :ivar weights: final weights ``w`` (length n).
    :ivar base_weights: pre-calibration weights ``w0``.
    :ivar matrix: ``X`` as a sparse ``(n, p)`` matrix (cell or margin-level
        indicators). Only its column space matters for the variance.
    :ivar method: ``"poststratify"`` or ``"rake"``.
    :ivar coverage_gaps: post-stratification cells (codes) with a known volume
        but no response; their volume is not redistributed unless collapsing
        was asked for.
    :ivar gap_volume: the volume of those cells (same order).
    :ivar collapsed: cells whose volume was moved into their parent's other
        cells (``collapse=True``).
    :ivar iterations: raking iterations used (0 for post-stratification).
    :ivar converged: whether raking met its tolerance.
    :ivar max_error: largest relative margin error left by raking.
    """

    weights: np.ndarray
    base_weights: np.ndarray
    matrix: sp.csr_matrix
    method: str
    coverage_gaps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    gap_volume: np.ndarray = field(default_factory=lambda: np.zeros(0))
    collapsed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    iterations: int = 0
    converged: bool = True
    max_error: float = 0.0


def design_weights(n: int, weight=None, inclusion_probability=None) -> np.ndarray:
    """Base weights ``w0``.

    :param n: number of responses.
    :param weight: given base weights (positive, finite); or
    :param inclusion_probability: ``π`` with ``w0 = 1/π``; neither → all ones.
    :return: float64 array of length ``n``.
    :raises ValueError: on non-positive or non-finite weights.
    """
    if weight is not None and inclusion_probability is not None:
        raise ValueError("give weight or inclusion_probability, not both")
    if inclusion_probability is not None:
        prob = np.asarray(inclusion_probability, dtype=np.float64)
        if np.any(~np.isfinite(prob)) or np.any(prob <= 0) or np.any(prob > 1):
            raise ValueError("inclusion probabilities must be in (0, 1]")
        w0 = 1.0 / prob
    elif weight is not None:
        w0 = np.asarray(weight, dtype=np.float64).copy()
    else:
        w0 = np.ones(n)
    if w0.shape != (n,):
        raise ValueError(f"expected {n} weights, got shape {w0.shape}")
    if np.any(~np.isfinite(w0)) or np.any(w0 <= 0):
        raise ValueError("base weights must be positive and finite")
    return w0


def kish_n(weights: np.ndarray) -> float:
    """Kish effective size ``(Σw)² / Σw²``."""
    weights = np.asarray(weights, dtype=np.float64)
    sq = float(np.dot(weights, weights))
    return float(weights.sum() ** 2 / sq) if sq > 0 else 0.0


def poststratify(
    base_weights: np.ndarray,
    cell: np.ndarray,
    totals: np.ndarray,
    *,
    parent: np.ndarray | None = None,
    collapse: bool = False,
) -> Calibration:
    """Post-stratify to known cell totals: ``w = w0 · N_c / Σ_{i∈c} w0``.

    Typical cells: agency × procedure field (× month), with ``N_c`` the number
    of dossiers the one-stop system handled.

    A cell with volume but no response is a **coverage gap**: it is reported
    in :attr:`Calibration.coverage_gaps` and its volume is *not* redistributed
    (the weighted total then falls short of the volume by that much; R's
    ``postStratify(partial=TRUE)`` does the same). With ``collapse=True`` and a
    ``parent`` per cell (e.g. the agency of each agency × field cell) the gap
    volume of a parent is spread over the parent's responding cells in
    proportion to their own totals, ``N'_c = N_c · Σ_{c∈parent} N_c /
    Σ_{c∈parent, responding} N_c``; a parent with no responding cell stays a
    gap.

    :param base_weights: ``w0`` (length n).
    :param cell: cell code per response, ``0 … len(totals)-1``.
    :param totals: known volume per cell (``NaN`` = unknown).
    :param parent: parent code per cell, for ``collapse``.
    :param collapse: redistribute gap volume within the parent.
    :return: a :class:`Calibration` whose matrix is the cell indicator matrix.
    :raises ValueError: if a cell has responses but an unknown or zero total.
    """
    w0 = np.asarray(base_weights, dtype=np.float64)
    cell = np.asarray(cell, dtype=np.int64)
    totals = np.asarray(totals, dtype=np.float64)
    n_cells = totals.size
    if cell.shape != w0.shape:
        raise ValueError("cell and base_weights must have the same length")
    if cell.size and (cell.min() < 0 or cell.max() >= n_cells):
        raise ValueError("cell codes must index totals")
    count = np.bincount(cell, minlength=n_cells)
    responding = count > 0
    bad = responding & ~(np.isfinite(totals) & (totals > 0))
    if np.any(bad):
        raise ValueError(
            f"cells with responses but no known positive total: {np.flatnonzero(bad).tolist()}"
        )
    known = np.where(np.isfinite(totals), totals, 0.0)
    gap = ~responding & (known > 0)
    target = known.copy()
    collapsed = np.zeros(0, dtype=np.int64)
    if collapse:
        if parent is None:
            raise ValueError("collapse needs a parent code per cell")
        parent = np.asarray(parent, dtype=np.int64)
        n_parents = int(parent.max()) + 1 if parent.size else 0
        all_volume = np.bincount(parent, weights=known, minlength=n_parents)
        responding_volume = np.bincount(parent, weights=known * responding, minlength=n_parents)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(responding_volume > 0, all_volume / responding_volume, 1.0)
        target = np.where(responding, known * factor[parent], known)
        movable = gap & (responding_volume[parent] > 0)
        collapsed = np.flatnonzero(movable)
        gap = gap & ~movable
    sum_w0 = np.bincount(cell, weights=w0, minlength=n_cells)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(responding, target / sum_w0, 0.0)
    weights = w0 * ratio[cell]
    matrix = sp.csr_matrix(
        (np.ones(cell.size), cell, np.arange(cell.size + 1)), shape=(cell.size, n_cells)
    )
    return Calibration(
        weights=weights,
        base_weights=w0,
        matrix=matrix,
        method="poststratify",
        coverage_gaps=np.flatnonzero(gap),
        gap_volume=known[gap],
        collapsed=collapsed,
    )


@dataclass(frozen=True)
class CellSplit:
    """Post-stratification cells, some split by a further dimension (:func:`split_cells`).

    :ivar cell: new cell code per response.
    :ivar totals: known total per new cell.
    :ivar parent: the original cell of each new cell (the parent for collapsing).
    :ivar level: the level of the further dimension of each new cell, ``-1`` for an
        original cell kept whole.
    :ivar split: per original cell, whether it was split.
    :ivar kept_whole: per original cell, why it was not split: ``""`` (it was),
        ``"no_levels"`` (no total by level), ``"partial_levels"`` (its totals by level
        do not add up to its total), ``"unknown_level"`` (a response whose level is
        unknown, or has no positive total).
    """

    cell: np.ndarray
    totals: np.ndarray
    parent: np.ndarray
    level: np.ndarray
    split: np.ndarray
    kept_whole: np.ndarray


def split_cells(
    cell: np.ndarray,
    level: np.ndarray,
    totals: np.ndarray,
    level_totals: np.ndarray,
    *,
    rtol: float = 1e-9,
) -> CellSplit:
    """Split post-stratification cells by a further dimension where that is known.

    Typical use: agency × procedure field cells split by the dossiers' return
    channel (counter, online, post). A cell is split into one cell per level
    when (1) its totals by level add up to its total (every dossier of the cell
    has a known level: no figure for the cell leaves the level out) and (2)
    every response in the cell has a level with a positive total in it. Else
    the cell is kept whole, as :func:`analysis.volumes.agency_level_cells` keeps
    an agency whole when a response's procedure field is unknown: splitting by a
    guessed mix would be a guess. A level with a total but no response becomes
    a cell without response: :func:`poststratify` reports it as a coverage gap,
    or, with ``collapse=True`` and ``parent=result.parent``, spreads its total
    over the responding levels of the same original cell (ANALYSIS.md,
    "Weights"). Cells kept whole are their own parent, so collapsing never moves
    volume between original cells.

    :param cell: original cell code per response, ``0 … len(totals)-1``.
    :param level: level per response, ``0 … L-1``, or ``-1`` when unknown.
    :param totals: total per original cell (length C).
    :param level_totals: ``(C, L)`` totals per original cell and level (0 where none).
    :param rtol: relative tolerance of "add up".
    :return: a :class:`CellSplit`; pass ``cell``, ``totals`` (and ``parent``) to
        :func:`poststratify`.
    """
    cell = np.asarray(cell, dtype=np.int64)
    level = np.asarray(level, dtype=np.int64)
    totals = np.asarray(totals, dtype=np.float64)
    level_totals = np.asarray(level_totals, dtype=np.float64)
    n_cells = totals.size
    if level_totals.ndim != 2 or level_totals.shape[0] != n_cells:
        raise ValueError("level_totals must have one row per cell")
    n_levels = level_totals.shape[1]
    if cell.shape != level.shape:
        raise ValueError("cell and level must have the same length")
    if level.size and (level.min() < -1 or level.max() >= n_levels):
        raise ValueError("levels must be -1 or index level_totals' columns")
    by_level = level_totals.sum(axis=1)
    covered = (by_level > 0) & np.isclose(by_level, totals, rtol=rtol, atol=0)
    # a response without a level, or in a level with no positive total, keeps its cell whole
    known = level >= 0
    positive = np.zeros(cell.size, dtype=bool)
    positive[known] = level_totals[cell[known], level[known]] > 0
    unsplittable = np.bincount(cell[~positive], minlength=n_cells) > 0
    split = covered & ~unsplittable
    kept_whole = np.where(
        split,
        "",
        np.where(by_level <= 0, "no_levels", np.where(~covered, "partial_levels", "unknown_level")),
    )
    # new cells: the whole cells first (their old order), then each split cell's levels
    whole = np.flatnonzero(~split)
    parts = np.flatnonzero(split)
    new_index = np.full(n_cells, -1, dtype=np.int64)
    new_index[whole] = np.arange(whole.size)
    first_part = whole.size + np.arange(parts.size) * n_levels
    part_start = np.full(n_cells, -1, dtype=np.int64)
    part_start[parts] = first_part
    new_totals = np.concatenate([totals[whole], level_totals[parts].ravel()])
    parent = np.concatenate([whole, np.repeat(parts, n_levels)])
    levels = np.concatenate([np.full(whole.size, -1), np.tile(np.arange(n_levels), parts.size)])
    in_split = split[cell]
    new_cell = np.where(in_split, part_start[cell] + np.maximum(level, 0), new_index[cell])
    return CellSplit(
        cell=new_cell.astype(np.int64),
        totals=new_totals,
        parent=parent.astype(np.int64),
        level=levels.astype(np.int64),
        split=split,
        kept_whole=kept_whole,
    )


def rake(
    base_weights: np.ndarray,
    margins: list[np.ndarray],
    totals: list[np.ndarray],
    *,
    max_iter: int = 1000,
    tol: float = 1e-13,
    strict: bool = True,
) -> Calibration:
    """Raking (iterative proportional fitting) to known margins.

    Each sweep multiplies the weights so that every margin in turn matches:
    ``w ← w · T_{m,l} / Σ_{i: level_m(i)=l} w_i``. It stops when the largest
    relative margin error ``max |Σw − T| / T`` is below ``tol``. The solution
    is the raking calibration ``w = w0 · exp(Xλ)``, the same as R's
    ``calibrate(calfun="raking")`` reaches by Newton steps.

    Raking *within* groups (e.g. separately per agency) needs no option: give
    margins coded agency × level with their totals; the calibration matrix then
    falls apart into independent blocks.

    :param base_weights: ``w0``.
    :param margins: one code array per margin (codes ``0 … len(totals[m])-1``).
    :param totals: known totals per margin level. The grand totals of all
        margins must agree.
    :param max_iter: most sweeps.
    :param tol: convergence tolerance on the relative margin error.
    :param strict: raise if not converged (else return with ``converged=False``).
    :return: a :class:`Calibration` whose matrix stacks the level indicators of
        all margins.
    :raises ValueError: inconsistent margins, a level with a total but no
        response (or a response but no total), or non-convergence when strict.
    """
    w0 = np.asarray(base_weights, dtype=np.float64)
    n = w0.size
    codes = [np.asarray(m, dtype=np.int64) for m in margins]
    targets = [np.asarray(t, dtype=np.float64) for t in totals]
    if not codes or len(codes) != len(targets):
        raise ValueError("give one totals array per margin")
    grand = [t.sum() for t in targets]
    if not np.allclose(grand, grand[0], rtol=1e-9, atol=0):
        raise ValueError(f"margins disagree on the grand total: {grand}")
    for m, (c, t) in enumerate(zip(codes, targets)):
        if c.shape != (n,) or (n and (c.min() < 0 or c.max() >= t.size)):
            raise ValueError(f"margin {m}: codes must index its totals")
        count = np.bincount(c, minlength=t.size)
        if np.any((count == 0) & (t > 0)) or np.any((count > 0) & ~(t > 0)):
            raise ValueError(
                f"margin {m}: levels with a total but no response, or responses but no total"
            )
    weights = w0.copy()
    error = np.inf
    iterations = 0
    for iterations in range(1, max_iter + 1):
        for c, t in zip(codes, targets):
            current = np.bincount(c, weights=weights, minlength=t.size)
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(current > 0, t / current, 1.0)
            weights *= factor[c]
        error = max(
            float(np.max(np.abs(np.bincount(c, weights=weights, minlength=t.size) - t) / t))
            for c, t in zip(codes, targets)
        )
        if error < tol:
            break
    converged = error < tol
    if not converged and strict:
        raise ValueError(f"raking did not converge in {max_iter} sweeps (error {error:.3g})")
    offsets = np.cumsum([0] + [t.size for t in targets])
    rows = np.repeat(np.arange(n), len(codes))
    cols = np.stack([c + off for c, off in zip(codes, offsets[:-1])], axis=1).ravel()
    matrix = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, int(offsets[-1])))
    return Calibration(
        weights=weights,
        base_weights=w0,
        matrix=matrix,
        method="rake",
        iterations=iterations,
        converged=converged,
        max_error=error,
    )


def weighted_totals(weights: np.ndarray, codes: np.ndarray, n_codes: int) -> np.ndarray:
    """``Σ w`` per code (e.g. to check that calibrated weights hit their totals)."""
    return group_sum(np.asarray(codes, dtype=np.int64), n_codes, np.asarray(weights))
