"""Small array helpers shared by the analysis modules (no statistics here).

Everything works on whole arrays: group sums are ``np.bincount`` or products
with ``scipy.sparse`` indicator matrices, never Python loops over respondents.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def factorize(values) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes for an array of labels.

    :param values: any 1-d array (strings, integers…).
    :return: ``(codes, labels)`` with ``labels[codes] == values``; ``codes`` is
        ``int64`` and ``labels`` is sorted (``np.unique`` order).
    """
    labels, codes = np.unique(np.asarray(values), return_inverse=True)
    return codes.astype(np.int64, copy=False).ravel(), labels


def combine_codes(*codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the distinct combinations of several non-negative code arrays.

    :param codes: equally long non-negative integer arrays.
    :return: ``(combined, keys)``: ``combined[r]`` numbers the distinct tuples
        in sorted (lexicographic) order; ``keys`` is ``(n_combinations, k)``
        holding each tuple.
    """
    arrays = [np.asarray(c, dtype=np.int64) for c in codes]
    key = np.zeros(arrays[0].shape, dtype=np.int64)
    sizes = []
    for c in arrays:
        size = int(c.max()) + 1 if c.size else 1
        sizes.append(size)
        if key.size and size and int(key.max()) > (np.iinfo(np.int64).max // size) - size:
            raise OverflowError("too many combinations to encode in int64")
        key = key * size + c
    uniq, combined = np.unique(key, return_inverse=True)
    keys = np.empty((uniq.size, len(arrays)), dtype=np.int64)
    rest = uniq.copy()
    for j in range(len(arrays) - 1, -1, -1):
        keys[:, j] = rest % sizes[j]
        rest //= sizes[j]
    return combined.astype(np.int64, copy=False).ravel(), keys


def indicator(codes: np.ndarray, n_codes: int, values=None) -> sp.csr_matrix:
    """Sparse ``(n_codes, len(codes))`` matrix with ``values`` (default 1) at ``[codes[r], r]``.

    Multiplying it by an ``(n, k)`` array sums the rows of each code.
    """
    codes = np.asarray(codes, dtype=np.int64)
    n = codes.size
    data = np.ones(n) if values is None else np.asarray(values, dtype=np.float64)
    return sp.csr_matrix((data, (codes, np.arange(n))), shape=(n_codes, n))


def group_sum(codes: np.ndarray, n_codes: int, values: np.ndarray) -> np.ndarray:
    """Sum ``values`` (1-d or ``(n, k)``) within each code; returns ``(n_codes,)`` or ``(n_codes, k)``."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        return np.bincount(codes, weights=values, minlength=n_codes)
    return np.asarray(indicator(codes, n_codes) @ values)


def csr_row_gather(matrix: sp.csr_matrix, rows: np.ndarray):
    """All stored entries of the given rows of a CSR matrix, as flat arrays.

    :param matrix: CSR matrix (canonical: sorted, no duplicates).
    :param rows: row numbers (repeats allowed).
    :return: ``(source, columns, values)``: ``source[t]`` is the position in
        ``rows`` the entry came from.
    """
    rows = np.asarray(rows, dtype=np.int64)
    start = matrix.indptr[rows].astype(np.int64)
    counts = matrix.indptr[rows + 1].astype(np.int64) - start
    total = int(counts.sum())
    source = np.repeat(np.arange(rows.size, dtype=np.int64), counts)
    first = np.cumsum(counts) - counts
    pos = np.repeat(start - first, counts) + np.arange(total, dtype=np.int64)
    return source, matrix.indices[pos].astype(np.int64), matrix.data[pos]


def lookup(sorted_keys: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``query`` in the sorted unique array ``sorted_keys``.

    :return: ``(position, found)``; ``position`` is only meaningful where ``found``.
    """
    pos = np.searchsorted(sorted_keys, query)
    pos = np.minimum(pos, max(sorted_keys.size - 1, 0))
    found = sorted_keys.size > 0
    if found:
        found = sorted_keys[pos] == query
    else:
        found = np.zeros(np.shape(query), dtype=bool)
    return pos, found
