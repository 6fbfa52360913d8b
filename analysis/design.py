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
        ``"fail"`` (R's default: raise, unless the whole design is one
        stratum with one PSU, whose df of 0 suppresses every estimate), ``"remove"``/``"certainty"``
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
        # A design that is a single PSU altogether has df = 0: every estimate is
        # suppressed anyway, so only a lonely stratum among others is an error.
        if lonely.any() and lonely_psu == "fail" and self.n_strata > 1:
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
        """Design-level pieces of the calibration terms (computed once).

        ``A⁺ = (XᵀW₀X)⁺``; ``M`` = PSU totals of ``wX``; ``Hm = A⁺ (Mᵀ F M) A⁺``
        (F = diag f_h); ``Pm = Ms A⁺`` with ``Ms`` the stratum totals of ``M``;
        ``H2 = Pmᵀ diag(f_h c_h / n_h) Pm`` when it is affordable (else the
        stratum term is summed directly).
        """
        if self._cal is None:
            cal = self.calibration
            X = sp.csr_matrix(cal.matrix, dtype=np.float64)
            X.sum_duplicates()
            X.sort_indices()
            w0 = np.asarray(cal.base_weights, dtype=np.float64)
            p = X.shape[1]
            A = (X.T @ sp.diags(w0) @ X).tocsr()
            a_inv = _block_pinv(A)
            M = (indicator(self.psu, self.n_psu) @ (sp.diags(self.weights) @ X)).tocsr()
            f_psu = self.f_h[self.psu_stratum]
            G2 = (M.T @ sp.diags(f_psu) @ M).tocsr()
            Ms = (indicator(self.psu_stratum, self.n_strata) @ M).tocsr()
            Pm = _canonical(Ms @ a_inv)
            fcn = self.f_h * self.c_h / self.n_h
            if p <= _DENSE_LIMIT:
                a_dense = a_inv.toarray()
                Hm = _canonical(sp.csr_matrix(a_dense @ G2.toarray() @ a_dense))
            else:
                Hm = _canonical(a_inv @ G2 @ a_inv)
            self._cal = {
                "w0": w0,
                "X": X,
                "p": p,
                "A_inv": a_inv,
                "M": _canonical(M),
                "Hm": Hm,
                "Pm": Pm,
                "PmT": _canonical(Pm.T),
                "fcn": fcn,
            }
        return self._cal

    def _stratum_quadratic(self) -> sp.csr_matrix | None:
        """``H2 = Pmᵀ diag(f_h c_h / n_h) Pm`` if affordable, else None (computed on demand)."""
        parts = self._calibration_parts()
        if "H2" not in parts:
            Pm, fcn = parts["Pm"], parts["fcn"]
            row_nnz = np.diff(Pm.indptr).astype(np.float64)
            if parts["p"] <= _DENSE_LIMIT:
                pd = Pm.toarray()
                parts["H2"] = _canonical(sp.csr_matrix(pd.T @ (fcn[:, None] * pd)))
            elif float(np.dot(row_nnz, row_nnz)) <= _PRODUCT_LIMIT:
                parts["H2"] = _canonical(Pm.T @ sp.diags(fcn) @ Pm)
            else:
                parts["H2"] = None
        return parts["H2"]

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

        With ``B0_g = Σ_{r∈g} w0_r x_r z_r`` (so ``β_g = A⁺ B0_g``) and
        ``R_g = Σ_{j∈g} f_h T_j M_j`` (sparse vectors over the calibration
        columns that group g touches):

        - ``Σ_j f_h T_j u_j = R_gᵀ A⁺ B0_g``;
        - ``Σ_h f_h c_h n_h T̄_gh ū_gh = Σ_h (f_h c_h/n_h) S_gh (Pm_h · B0_g)``;
        - ``Σ_h f_h Σ_j (u_j − c_h ū_h)² = B0_gᵀ Hm B0_g − Σ_h (f_h c_h/n_h) (Pm_h · B0_g)²``.
        """
        parts = self._calibration_parts()
        X, w0, p = parts["X"], parts["w0"], parts["p"]
        G, H = gr.n_groups, self.n_strata
        xr = np.repeat(np.arange(self.n, dtype=np.int64), np.diff(X.indptr))
        # B0 on the pattern (group, column) of the responses' calibration entries
        b_idx, b_keys = combine_codes(gr.group[xr], X.indices.astype(np.int64))
        b_g, b_c = b_keys[:, 0], b_keys[:, 1]
        n_b = b_g.size
        b_op = sp.csr_matrix((w0[xr] * X.data, (b_idx, xr)), shape=(n_b, self.n))
        # R on the pattern (group, column) of the groups' PSUs
        src, c, m = csr_row_gather(parts["M"], gr.pair_psu)
        r_idx, r_keys = combine_codes(gr.pair_g[src], c)
        f_pair = self.f_h[gr.pair_h]
        r_op = sp.csr_matrix((f_pair[src] * m, (r_idx, src)), shape=(r_keys.shape[0], gr.n_pairs))
        # Pm_h · B0_g at the (group, stratum) pairs where the group has PSUs
        gh_flat = gr.gh_g * H + gr.gh_h
        Pm, PmT = parts["Pm"], parts["PmT"]
        cost_b = int(np.diff(PmT.indptr)[b_c].sum())
        cost_gh = int(np.diff(Pm.indptr)[gr.gh_h].sum())
        if cost_b <= cost_gh:
            src, h, v = csr_row_gather(PmT, b_c)
            pos, found = lookup(gh_flat, b_g[src] * H + h)
            op2 = sp.csr_matrix((v[found], (pos[found], src[found])), shape=(gr.n_gh, n_b))
        else:
            b_flat = b_g * p + b_c
            src, cc, v = csr_row_gather(Pm, gr.gh_h)
            pos, found = lookup(b_flat, gr.gh_g[src] * p + cc)
            op2 = sp.csr_matrix((v[found], (src[found], pos[found])), shape=(gr.n_gh, n_b))
        ops = {
            "b_op": b_op,
            "r_op": r_op,
            "op2": op2,
            "t1": _bilinear(r_keys[:, 0], r_keys[:, 1], b_g, b_c, parts["A_inv"], G),
            "t3": _bilinear(b_g, b_c, b_g, b_c, parts["Hm"], G),
        }
        # Σ_h (f_h c_h/n_h)(Pm_h · B0_g)²: directly over the (stratum, group) pairs
        # when each B0 entry reaches few strata, else as the quadratic form B0ᵀ H2 B0
        if _STRATUM_MODE is None:
            direct = cost_b <= 4 * n_b or self._stratum_quadratic() is None
        else:
            direct = _STRATUM_MODE == "direct" or self._stratum_quadratic() is None
        if not direct:
            ops["t4"] = _bilinear(b_g, b_c, b_g, b_c, self._stratum_quadratic(), G)
        else:
            src, h, v = csr_row_gather(PmT, b_c)
            hg_idx, hg_keys = combine_codes(h, b_g[src])
            ops["op4"] = sp.csr_matrix((v, (hg_idx, src)), shape=(hg_keys.shape[0], n_b))
            ops["hg_h"], ops["hg_g"] = hg_keys[:, 0], hg_keys[:, 1]
        return ops

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
        w = self.weights
        K = scores.shape[1]
        n_gh = self.n_h[gr.gh_h]
        f_gh = self.f_h[gr.gh_h]
        c_gh = self.c_h[gr.gh_h]
        f_pair = self.f_h[gr.pair_h]
        centred = bool(np.all(self.c_h == 1.0))
        if gr.pair_matrix is None:  # each response is its own PSU: t = w z, by chunks
            T = None
            S = np.asarray(indicator(gr.gh, gr.n_gh, w) @ scores)
            n_rows = self.n
        else:
            T = np.asarray(indicator(gr.pair, gr.n_pairs, w) @ scores)
            S = np.asarray(indicator(gr.gh, gr.n_gh) @ T)
            n_rows = gr.n_pairs
        tbar = S / n_gh[:, None]
        # Σ_h f_h Σ_j (t_hj − c_h t̄_h)² over the PSUs with domain units, …
        V = np.zeros((G, K))
        t = np.empty((min(_CHUNK_ROWS, n_rows), K))
        dev = np.empty_like(t)
        for start in range(0, n_rows, _CHUNK_ROWS):
            rows = slice(start, min(start + _CHUNK_ROWS, n_rows))
            size = rows.stop - rows.start
            tc, dc = t[:size], dev[:size]
            np.take(tbar, gr.gh[rows], axis=0, out=dc, mode="clip")  # codes are in range
            if not centred:
                dc *= self.c_h[gr.pair_h[rows], None]
            if T is None:
                np.multiply(scores[rows], w[rows, None], out=tc)
                np.subtract(tc, dc, out=tc)
            else:
                np.subtract(T[rows], dc, out=tc)
            np.multiply(tc, tc, out=tc)
            V += indicator(gr.pair_g[rows], G, f_pair[rows]) @ tc
        present = np.bincount(gr.gh, minlength=gr.n_gh)
        # … and the PSUs without any (t = 0)
        V += group_sum(gr.gh_g, G, (f_gh * c_gh * (n_gh - present))[:, None] * tbar * tbar)
        if gr.calibration is not None:
            ops = gr.calibration
            fcn = self._calibration_parts()["fcn"]
            B0 = np.asarray(ops["b_op"] @ scores)
            if T is None:
                R = np.asarray((ops["r_op"] @ sp.diags(w)) @ scores)
            else:
                R = np.asarray(ops["r_op"] @ T)
            term1 = _bilinear_sum(ops["t1"], R, B0, G)
            term2 = group_sum(gr.gh_g, G, fcn[gr.gh_h][:, None] * S * np.asarray(ops["op2"] @ B0))
            term3 = _bilinear_sum(ops["t3"], B0, B0, G)
            if "t4" in ops:
                term4 = _bilinear_sum(ops["t4"], B0, B0, G)
            else:
                v = np.asarray(ops["op4"] @ B0)
                term4 = group_sum(ops["hg_g"], G, fcn[ops["hg_h"]][:, None] * v * v)
            V = V - 2.0 * (term1 - term2) + (term3 - term4)
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
        G, K = gr.n_groups, domain.shape[1]
        w = self.weights
        n = np.zeros((G, K))
        total = np.zeros((G, K))
        square = np.zeros((G, K))
        by_pair = None if gr.pair_matrix is None else np.zeros((gr.n_pairs, K))
        # one stratum and one response per PSU: a group's strata with units are its n > 0
        need_gh = by_pair is None and self.n_strata > 1
        by_gh = np.zeros((gr.n_gh, K)) if need_gh else None
        d = np.empty((min(_CHUNK_ROWS, self.n), K))
        for start in range(0, self.n, _CHUNK_ROWS):  # chunks bound the float copies
            rows = slice(start, min(start + _CHUNK_ROWS, self.n))
            dc = d[: rows.stop - rows.start]
            dc[...] = domain[rows]
            ind = indicator(gr.group[rows], G)
            n += ind @ dc
            wr = w[rows]
            ind.data = wr[ind.indices]
            total += ind @ dc
            ind.data *= ind.data
            square += ind @ dc
            if need_gh:
                by_gh += indicator(gr.gh[gr.pair[rows]], gr.n_gh) @ dc
            elif by_pair is not None:
                by_pair += indicator(gr.pair[rows], gr.n_pairs) @ dc
        if by_pair is None:
            n_psu = n
            if not need_gh:
                n_strata = (n > 0).astype(np.float64)
            else:
                n_strata = group_sum(gr.gh_g, G, (by_gh > 0).astype(np.float64))
        else:
            in_pair = (by_pair > 0).astype(np.float64)
            n_psu = group_sum(gr.pair_g, G, in_pair)
            in_gh = np.asarray(indicator(gr.gh, gr.n_gh) @ in_pair) > 0
            n_strata = group_sum(gr.gh_g, G, in_gh.astype(np.float64))
        return {
            "n": np.rint(n).astype(np.int64),
            "n_psu": np.rint(n_psu).astype(np.int64),
            "n_strata": np.rint(n_strata).astype(np.int64),
            "df": np.rint(n_psu - n_strata).astype(np.int64),
            "weight_total": total,
            "weight_sq": square,
        }


#: Rows per chunk in :meth:`Design.variance` and :meth:`Design.domain_sizes` (the
#: chunk's temporaries stay in the processor's cache).
_CHUNK_ROWS = 1 << 15
#: Calibration matrices with at most this many columns are multiplied densely.
_DENSE_LIMIT = 3000
#: Largest affordable work for the sparse product Pmᵀ D Pm.
_PRODUCT_LIMIT = 3e7
#: Force :func:`_bilinear`'s strategy (``"rows"`` or ``"pairs"``); tests only.
_BILINEAR_MODE: str | None = None
#: Force the stratum term's strategy (``"direct"`` or ``"quadratic"``); tests only.
_STRATUM_MODE: str | None = None


def _canonical(matrix) -> sp.csr_matrix:
    out = sp.csr_matrix(matrix)
    out.sum_duplicates()
    out.eliminate_zeros()
    out.sort_indices()
    return out


def _bilinear(a_g, a_c, b_g, b_c, Q: sp.csr_matrix, n_groups: int):
    """Index triples for ``Σ_{c,c'} a_{g,c} Q_{c,c'} b_{g,c'}`` within each group.

    ``a`` and ``b`` are sparse per-group vectors given by their patterns
    (group, column), each sorted by (group, column). Either every ``a`` entry
    is expanded by its row of ``Q`` and matched against ``b``, or every pair
    of ``a`` and ``b`` entries of a group is looked up in ``Q`` — whichever
    touches fewer entries.

    :return: ``(a_index, b_index, q, group)`` arrays.
    """
    p = Q.shape[0]
    cost_rows = int(np.diff(Q.indptr)[a_c].sum())
    na = np.bincount(a_g, minlength=n_groups)
    nb = np.bincount(b_g, minlength=n_groups)
    cost_pairs = int(np.dot(na.astype(np.float64), nb))
    use_rows = cost_rows <= cost_pairs if _BILINEAR_MODE is None else _BILINEAR_MODE == "rows"
    if use_rows:
        src, c2, q = csr_row_gather(Q, a_c)
        pos, found = lookup(b_g * p + b_c, a_g[src] * p + c2)
        return src[found], pos[found], q[found], a_g[src[found]]
    reps = nb[a_g]
    a_idx = np.repeat(np.arange(a_g.size, dtype=np.int64), reps)
    first = np.cumsum(reps) - reps
    b_start = np.searchsorted(b_g, np.arange(n_groups))
    b_idx = np.repeat(b_start[a_g] - first, reps) + np.arange(int(reps.sum()), dtype=np.int64)
    q_rows = np.repeat(np.arange(p, dtype=np.int64), np.diff(Q.indptr))
    q_flat = q_rows * p + Q.indices
    pos, found = lookup(q_flat, a_c[a_idx] * p + b_c[b_idx])
    return a_idx[found], b_idx[found], Q.data[pos[found]], a_g[a_idx[found]]


def _bilinear_sum(triples, left: np.ndarray, right: np.ndarray, n_groups: int) -> np.ndarray:
    """``(G, K)`` sums of ``q · left[a] · right[b]`` over the triples of :func:`_bilinear`."""
    a_idx, b_idx, q, g = triples
    return group_sum(g, n_groups, q[:, None] * left[a_idx] * right[b_idx])


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
