"""Sampling design and Taylor-linearised domain variances.

ANALYSIS.md, "Estimators": with-replacement PSUs, no finite population
correction. For a domain score ``z`` (zero outside the domain; rows outside
are *kept*), with final weights ``w``:

- PSU totals ``t_hj = Σ_{r∈hj} w_r e_r`` where ``e = z`` without calibration
  and, with calibration matrix ``X`` and pre-calibration weights ``w0``,
  ``e = z − X (XᵀW₀X)⁻¹ XᵀW₀ z`` (``⁻¹`` a pseudo-inverse, so only the
  column space of ``X`` matters);
- ``V = Σ_h n_h/(n_h−1) Σ_j (t_hj − t̄_h)²``, ``n_h`` the number of PSUs of
  stratum h in the **full** sample (a domain with no unit in a PSU still
  counts that PSU, with total 0).

This is R's ``svyrecvar`` for ``svydesign(ids=~cluster, strata=~stratum,
weights=~w, nest=TRUE)`` (``ids=~1`` when there are no clusters: each
response is its own PSU), including ``postStratify`` and
``calibrate(calfun="raking")``.

Array layout (built for 10⁶ responses × thousands of domains): the caller
gives a **partition** of the responses into groups (agency, agency × month…)
and a score matrix ``(n, K)`` — K estimands at once (composite, elements,
items) — where row r's scores belong to the domain of its own group. All
sums run through ``np.bincount`` or ``scipy.sparse`` indicator products over
the (group, PSU) pairs that occur, so the cost is linear in n·K.

With calibration the residual ``e`` of group g is no longer zero outside g
(it spills over the calibration cells g touches). Rather than materialise it,
the variance is expanded as a quadratic form,
``V = Q_TT − 2 Q_TU + Q_UU`` with ``t = T − u``, ``T`` the PSU totals of
``w z`` and ``u_j = M_j β_g`` (``M`` = PSU totals of ``w X``, ``β_g =
(XᵀW₀X)⁻¹ XᵀW₀ z_g``), computed on the sparse patterns (group, calibration
column) that occur. Post-stratification cells nested in the groups cost
nothing extra; province-wide raking margins cost O(groups × columns).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ._util import combine_codes, csr_row_gather, factorize, group_sum, indicator, lookup
from .weights import Calibration

LONELY_PSU_OPTIONS = ("fail", "remove", "certainty", "adjust")


@dataclass
class Grouping:
    """Precomputed (group, PSU) and (group, stratum) pairs for one partition.

    Build it with :meth:`Design.grouping`; reuse it for every score matrix on
    the same partition.
    """

    group: np.ndarray
    n_groups: int
    pair: np.ndarray  #: (group, PSU) pair of each response
    pair_g: np.ndarray
    pair_psu: np.ndarray
    pair_h: np.ndarray
    pair_matrix: sp.csr_matrix | None  #: None when pairs are the responses themselves
    gh: np.ndarray  #: (group, stratum) pair of each (group, PSU) pair
    gh_g: np.ndarray
    gh_h: np.ndarray
    calibration: dict | None = None

    @property
    def n_pairs(self) -> int:
        return self.pair_g.size

    @property
    def n_gh(self) -> int:
        return self.gh_g.size

    def pair_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum an ``(n, K)`` array within (group, PSU) pairs."""
        if self.pair_matrix is None:
            return values
        return np.asarray(self.pair_matrix @ values)


class Design:
    """A one-stage sampling design: weights, optional strata and clusters, optional calibration.

    :param weights: final weights ``w``; default: the calibration's weights,
        else all ones (needs ``n``).
    :param strata: stratum label per response (any labels), or None.
    :param clusters: PSU label per response, nested in strata (R's
        ``nest=TRUE``: the same label in two strata is two PSUs), or None for
        one PSU per response.
    :param calibration: result of :func:`analysis.poststratify` or
        :func:`analysis.rake`; its residualisation enters the variance.
    :param lonely_psu: a stratum with a single PSU in the full sample:
        ``"fail"`` (R's default: raise), ``"remove"``/``"certainty"``
        (contributes nothing), ``"adjust"`` (its PSU total is centred at zero
        rather than at the stratum mean) — R's ``options(survey.lonely.psu)``.
    :param n: number of responses when no weights are given.
    :raises ValueError: lonely PSU with ``"fail"``, bad weights or lengths.
    """

    def __init__(
        self,
        weights=None,
        *,
        strata=None,
        clusters=None,
        calibration: Calibration | None = None,
        lonely_psu: str = "fail",
        n: int | None = None,
    ):
        if weights is None:
            if calibration is not None:
                weights = calibration.weights
            elif n is not None:
                weights = np.ones(n)
            else:
                raise ValueError("give weights, a calibration or n")
        self.weights = np.ascontiguousarray(weights, dtype=np.float64)
        self.n = self.weights.size
        if np.any(~np.isfinite(self.weights)) or np.any(self.weights < 0):
            raise ValueError("weights must be finite and non-negative")
        if lonely_psu not in LONELY_PSU_OPTIONS:
            raise ValueError(f"lonely_psu must be one of {LONELY_PSU_OPTIONS}")
        self.lonely_psu = lonely_psu
        self.calibration = calibration
        if calibration is not None and calibration.matrix.shape[0] != self.n:
            raise ValueError("calibration does not match the number of responses")

        if strata is None:
            self.stratum = np.zeros(self.n, dtype=np.int64)
            self.stratum_labels = np.array([0])
        else:
            self.stratum, self.stratum_labels = factorize(strata)
        self.n_strata = self.stratum_labels.size
        if clusters is None:
            self.psu = np.arange(self.n, dtype=np.int64)
            self.psu_is_row = True
        else:
            cluster_codes, _ = factorize(clusters)
            self.psu, _ = combine_codes(self.stratum, cluster_codes)
            self.psu_is_row = False
        self.n_psu = int(self.psu.max()) + 1 if self.n else 0
        self.psu_stratum = np.zeros(self.n_psu, dtype=np.int64)
        self.psu_stratum[self.psu] = self.stratum
        #: PSUs per stratum in the full sample
        self.n_h = np.bincount(self.psu_stratum, minlength=self.n_strata).astype(np.float64)
        lonely = self.n_h == 1
        if lonely.any() and lonely_psu == "fail":
            raise ValueError(
                "strata with a single PSU: "
                f"{self.stratum_labels[lonely].tolist()} (choose lonely_psu='remove', "
                "'certainty' or 'adjust')"
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = self.n_h / (self.n_h - 1)
        #: variance multiplier f_h and centring flag c_h per stratum
        self.f_h = np.where(lonely, 1.0 if lonely_psu == "adjust" else 0.0, scale)
        self.c_h = np.where(lonely & (lonely_psu == "adjust"), 0.0, 1.0)
        self._cal = None

    # ------------------------------------------------------------------ setup
    def _calibration_parts(self) -> dict:
        """Design-level pieces of the calibration residual (computed once)."""
        if self._cal is None:
            cal = self.calibration
            X = sp.csr_matrix(cal.matrix, dtype=np.float64)
            X.sum_duplicates()
            X.sort_indices()
            w0 = np.asarray(cal.base_weights, dtype=np.float64)
            A = (X.T @ sp.diags(w0) @ X).tocsr()
            a_inv = _block_pinv(A)
            M = (indicator(self.psu, self.n_psu) @ (sp.diags(self.weights) @ X)).tocsr()
            M.sort_indices()
            f_psu = self.f_h[self.psu_stratum]
            G2 = (M.T @ sp.diags(f_psu) @ M).tocsr()
            G2.sort_indices()
            Ms = (indicator(self.psu_stratum, self.n_strata) @ M).tocsr()
            self._cal = {
                "X": X,
                "w0": w0,
                "A_inv": a_inv,
                "M": M,
                "G2": G2,
                "MsT": Ms.T.tocsr(),
                "p": X.shape[1],
            }
        return self._cal

    def grouping(self, group, n_groups: int | None = None) -> Grouping:
        """Pairs of (group, PSU) and (group, stratum) for a partition of the responses.

        :param group: group code per response (``0 … n_groups-1``).
        :param n_groups: number of groups (default ``max + 1``).
        """
        group = np.asarray(group, dtype=np.int64)
        if group.shape != (self.n,):
            raise ValueError("one group code per response")
        G = int(n_groups if n_groups is not None else (group.max() + 1 if self.n else 0))
        if self.psu_is_row:
            pair = np.arange(self.n, dtype=np.int64)
            pair_g, pair_psu, pair_matrix = group, self.psu, None
        else:
            pair, keys = combine_codes(group, self.psu)
            pair_g, pair_psu = keys[:, 0], keys[:, 1]
            pair_matrix = indicator(pair, keys.shape[0])
        pair_h = self.psu_stratum[pair_psu]
        gh, gh_keys = combine_codes(pair_g, pair_h)
        grouping = Grouping(
            group=group,
            n_groups=G,
            pair=pair,
            pair_g=pair_g,
            pair_psu=pair_psu,
            pair_h=pair_h,
            pair_matrix=pair_matrix,
            gh=gh,
            gh_g=gh_keys[:, 0],
            gh_h=gh_keys[:, 1],
        )
        if self.calibration is not None:
            grouping.calibration = self._calibration_grouping(grouping)
        return grouping

    def _calibration_grouping(self, gr: Grouping) -> dict:
        """Sparse operators for the calibration terms of one partition.

        Pattern GC = (group, calibration column) pairs with a possibly non-zero
        ``β_g``; pattern HG = (stratum, group) pairs with non-zero ``Ms_h β_g``.
        """
        parts = self._calibration_parts()
        X, w0, a_inv, M, G2, MsT, p = (
            parts[k] for k in ("X", "w0", "A_inv", "M", "G2", "MsT", "p")
        )
        G = gr.n_groups
        xr = np.repeat(np.arange(self.n, dtype=np.int64), np.diff(X.indptr))
        xc = X.indices.astype(np.int64)
        # B0_g = Σ_{r∈g} w0_r x_r z_r on pattern GC0
        gc0, gc0_keys = combine_codes(gr.group[xr], xc)
        n_gc0 = gc0_keys.shape[0]
        b_op = sp.csr_matrix((w0[xr] * X.data, (gc0, xr)), shape=(n_gc0, self.n))
        # β_g = A⁺ B0_g: expand each (g, c0) by row c0 of A⁺
        src, c1, a = csr_row_gather(a_inv, gc0_keys[:, 1])
        gc, gc_keys = combine_codes(gc0_keys[src, 0], c1)
        n_gc = gc_keys.shape[0]
        expand = sp.csr_matrix((a, (gc, src)), shape=(n_gc, n_gc0))
        gc_g, gc_c = gc_keys[:, 0], gc_keys[:, 1]
        gc_flat = gc_g * p + gc_c  # sorted, since combine_codes sorts lexicographically
        # u at the (group, PSU) pairs: u = M_j β_g
        src, c, m = csr_row_gather(M, gr.pair_psu)
        pos, found = lookup(gc_flat, gr.pair_g[src] * p + c)
        u_op = sp.csr_matrix(
            (m[found], (src[found], pos[found])), shape=(gr.n_pairs, n_gc)
        )
        # βᵀ G2 β within each group
        src, c2, v = csr_row_gather(G2, gc_c)
        pos, found = lookup(gc_flat, gc_g[src] * p + c2)
        q_op = sp.csr_matrix((v[found], (src[found], pos[found])), shape=(n_gc, n_gc))
        # Ms_h β_g on pattern HG
        src, h, v = csr_row_gather(MsT, gc_c)
        hg, hg_keys = combine_codes(h, gc_g[src])
        n_hg = hg_keys.shape[0]
        r_op = sp.csr_matrix((v, (hg, src)), shape=(n_hg, n_gc))
        hg_flat = hg_keys[:, 0] * G + hg_keys[:, 1]
        gh_pos, gh_found = lookup(hg_flat, gr.gh_h * G + gr.gh_g)
        return {
            "b_op": b_op,
            "expand": expand,
            "gc_g": gc_g,
            "u_op": u_op,
            "q_op": q_op,
            "r_op": r_op,
            "hg_h": hg_keys[:, 0],
            "hg_g": hg_keys[:, 1],
            "gh_pos": gh_pos,
            "gh_found": gh_found,
        }

    # --------------------------------------------------------------- variance
    def variance(self, scores: np.ndarray, grouping: Grouping) -> np.ndarray:
        """Linearised variance of K domain totals in every group.

        :param scores: ``(n, K)`` (or ``(n,)``) linearised scores ``z``; row r's
            scores belong to the domain of its group (zero for rows of its
            group outside the domain).
        :param grouping: from :meth:`grouping`.
        :return: ``(n_groups, K)`` variances ``V`` (ANALYSIS.md), clipped at 0.
        """
        scores = np.asarray(scores, dtype=np.float64)
        one = scores.ndim == 1
        if one:
            scores = scores[:, None]
        gr = grouping
        G = gr.n_groups
        T = gr.pair_sum(scores * self.weights[:, None])
        f_p = self.f_h[gr.pair_h][:, None]
        c_p = self.c_h[gr.pair_h][:, None]
        n_gh = self.n_h[gr.gh_h]
        f_gh = self.f_h[gr.gh_h]
        c_gh = self.c_h[gr.gh_h]
        S = group_sum(gr.gh, gr.n_gh, T)
        tbar = S / n_gh[:, None]
        present = np.bincount(gr.gh, minlength=gr.n_gh)
        dev = T - c_p * tbar[gr.gh]
        V = group_sum(gr.pair_g, G, f_p * dev * dev)
        V += group_sum(gr.gh_g, G, (f_gh * c_gh * (n_gh - present))[:, None] * tbar * tbar)
        if gr.calibration is not None:
            ops = gr.calibration
            beta = ops["expand"] @ np.asarray(ops["b_op"] @ scores)
            beta = np.asarray(beta)
            u = np.asarray(ops["u_op"] @ beta)
            fcn_h = self.f_h * self.c_h / self.n_h
            ms_beta = np.asarray(ops["r_op"] @ beta)
            ms_gh = np.where(ops["gh_found"][:, None], ms_beta[ops["gh_pos"]], 0.0)
            q_tu = group_sum(gr.pair_g, G, f_p * T * u)
            q_tu -= group_sum(gr.gh_g, G, fcn_h[gr.gh_h][:, None] * S * ms_gh)
            q_uu = group_sum(ops["gc_g"], G, beta * np.asarray(ops["q_op"] @ beta))
            q_uu -= group_sum(ops["hg_g"], G, fcn_h[ops["hg_h"]][:, None] * ms_beta * ms_beta)
            V = V - 2.0 * q_tu + q_uu
        V = np.maximum(V, 0.0)
        return V[:, 0] if one else V

    def domain_sizes(self, domain: np.ndarray, grouping: Grouping) -> dict[str, np.ndarray]:
        """Counts per group and domain: responses, PSUs, strata, df, Σw, Σw².

        :param domain: ``(n, K)`` booleans (the response is in domain k of its group).
        :return: dict of ``(n_groups, K)`` arrays: ``n``, ``n_psu``, ``n_strata``,
            ``df`` (PSUs with domain units minus strata with domain units — R's
            ``degf`` of the subset), ``weight_total`` (Σw), ``weight_sq`` (Σw²).
        """
        domain = np.asarray(domain)
        if domain.ndim == 1:
            domain = domain[:, None]
        gr = grouping
        G = gr.n_groups
        d = domain.astype(np.float32)
        n = group_sum(gr.group, G, d)
        in_pair = gr.pair_sum(d) > 0
        n_psu = group_sum(gr.pair_g, G, in_pair.astype(np.float32))
        in_gh = np.asarray(indicator(gr.gh, gr.n_gh) @ in_pair.astype(np.float32)) > 0
        n_strata = group_sum(gr.gh_g, G, in_gh.astype(np.float32))
        w = self.weights[:, None]
        return {
            "n": np.rint(n).astype(np.int64),
            "n_psu": np.rint(n_psu).astype(np.int64),
            "n_strata": np.rint(n_strata).astype(np.int64),
            "df": np.rint(n_psu - n_strata).astype(np.int64),
            "weight_total": group_sum(gr.group, G, domain * w),
            "weight_sq": group_sum(gr.group, G, domain * (w * w)),
        }


def _block_pinv(A: sp.csr_matrix, rtol: float = 1e-10) -> sp.csr_matrix:
    """Pseudo-inverse of a symmetric PSD sparse matrix that is block diagonal up to permutation.

    Blocks are the connected components of the sparsity pattern; blocks of
    equal size are inverted together (batched ``eigh``), eigenvalues below
    ``rtol × largest`` of their block treated as zero.
    """
    p = A.shape[0]
    if p == 0:
        return sp.csr_matrix((0, 0))
    _, label = connected_components(A, directed=False)
    sizes = np.bincount(label)
    order = np.argsort(label, kind="stable")
    starts = np.cumsum(sizes) - sizes
    A = A.tocsr()
    diag = A.diagonal()
    rows, cols, vals = [], [], []
    for s in np.unique(sizes):
        comps = np.flatnonzero(sizes == s)
        idx = order[starts[comps][:, None] + np.arange(s)]
        if s == 1:
            d = diag[idx[:, 0]]
            with np.errstate(divide="ignore"):
                inv = np.where(d > 0, 1.0 / d, 0.0)
            rows.append(idx[:, 0])
            cols.append(idx[:, 0])
            vals.append(inv)
            continue
        r = np.repeat(idx, s, axis=1)
        c = np.tile(idx, (1, s))
        blocks = np.asarray(A[r.ravel(), c.ravel()]).reshape(len(comps), s, s)
        evals, evecs = np.linalg.eigh(blocks)
        cutoff = rtol * np.max(np.abs(evals), axis=1, keepdims=True)
        with np.errstate(divide="ignore"):
            inv_vals = np.where(evals > cutoff, 1.0 / evals, 0.0)
        inv = (evecs * inv_vals[:, None, :]) @ np.swapaxes(evecs, 1, 2)
        rows.append(r.ravel())
        cols.append(c.ravel())
        vals.append(inv.ravel())
    out = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(p, p)
    )
    out.sum_duplicates()
    out.sort_indices()
    return out
