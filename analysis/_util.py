"""Small array helpers shared by the analysis modules (no statistics here).

Everything works on whole arrays: group sums are ``np.bincount`` or products
with ``scipy.sparse`` indicator matrices, never Python loops over respondents.
Codes are found without sorting where possible (a dense range of small
integers, labels already in order, short strings packed into one integer),
and :func:`stable_order` sorts responses by group with radix passes, so that
an indicator product reads the score matrix in memory order.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

#: Integer codes spanning at most ``max(_DENSE_MIN, _DENSE_FACTOR × n)`` values
#: are numbered by counting (``np.bincount``) instead of sorting.
_DENSE_MIN = 1 << 16
_DENSE_FACTOR = 4


def _dense_limit(n: int) -> int:
    return max(_DENSE_MIN, _DENSE_FACTOR * n)


def _number_integers(ints: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(codes, sorted unique values)`` of an int64 array, or None when no shortcut applies.

    Shortcuts: the values are already non-decreasing (codes from the steps),
    or they span a small range (codes by counting).
    """
    n = ints.size
    if n == 0:
        return None
    steps = ints[1:] != ints[:-1]
    if n == 1 or bool(np.all(ints[1:] >= ints[:-1])):
        codes = np.empty(n, dtype=np.int64)
        codes[0] = 0
        np.cumsum(steps, out=codes[1:])
        first = np.empty(n, dtype=bool)
        first[0] = True
        first[1:] = steps
        return codes, ints[first]
    lo, hi = int(ints.min()), int(ints.max())
    if hi - lo < _dense_limit(n):
        shifted = ints - lo
        present = np.bincount(shifted, minlength=hi - lo + 1) > 0
        number = np.cumsum(present) - 1
        return number[shifted], np.flatnonzero(present) + lo
    return None


def _pack_strings(values: np.ndarray):
    """Short unicode labels as one ``uint64`` each, order preserved, or None.

    Each label's code points (NUL-padded to the array's width) are packed
    most significant first with as many bits as the largest code point
    needs, so integer order is the labels' order. None if that needs more
    than 63 bits.
    """
    width = values.dtype.itemsize // 4
    if width == 0:
        return None
    points = np.ascontiguousarray(values).view(np.uint32).reshape(values.size, width)
    top = points.max(axis=0)
    used = int(np.flatnonzero(top)[-1]) + 1 if top.any() else 1
    bits = max(int(top[:used].max()).bit_length(), 1)
    if used * bits > 63:
        return None
    key = np.zeros(values.size, dtype=np.uint64)
    for j in range(used):
        key <<= np.uint64(bits)
        key |= points[:, j]
    return key, used, bits, width


def _unpack_strings(keys: np.ndarray, used: int, bits: int, width: int, dtype) -> np.ndarray:
    points = np.zeros((keys.size, width), dtype=np.uint32)
    mask = np.uint64((1 << bits) - 1)
    for j in range(used):
        points[:, j] = (keys >> np.uint64(bits * (used - 1 - j))) & mask
    return points.view(dtype).reshape(keys.size)


def factorize(values) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes for an array of labels.

    :param values: any 1-d array (strings, integers…).
    :return: ``(codes, labels)`` with ``labels[codes] == values``; ``codes`` is
        ``int64`` and ``labels`` is sorted (``np.unique`` order).

    Same result as ``np.unique(values, return_inverse=True)``, faster for
    integers and dates in a small range (counting, no sort) and for short
    strings (packed into integers, then counted when they span a small range
    — labels differing in their last few characters —, else hashed and
    binary-searched as integers rather than as strings).
    """
    values = np.asarray(values).ravel()
    kind = values.dtype.kind
    if values.size and (kind in "iu" and values.dtype.itemsize <= 4 or kind in "biM"):
        ints = values.view(np.uint8) if kind == "b" else values
        ints = ints.astype(np.int64, copy=False) if kind != "M" else ints.view(np.int64)
        if kind != "M" or not np.any(ints == np.iinfo(np.int64).min):  # NaT sorts last
            numbered = _number_integers(ints)
            if numbered is not None:
                codes, uniq = numbered
                labels = uniq.view(values.dtype) if kind == "M" else uniq.astype(values.dtype)
                return codes, labels
    elif values.size and kind == "U":
        packed = _pack_strings(values)
        if packed is not None:
            key, used, bits, width = packed
            numbered = _number_integers(key.view(np.int64))  # < 2⁶³: same order
            if numbered is None:
                uniq = np.unique(key)  # hashed, then sorted
                codes = np.searchsorted(uniq, key).astype(np.int64, copy=False)
            else:
                codes, uniq = numbered
                uniq = uniq.view(np.uint64)
            return codes, _unpack_strings(uniq, used, bits, width, values.dtype)
    labels, codes = np.unique(values, return_inverse=True)
    return codes.astype(np.int64, copy=False).ravel(), labels


def combine_codes(*codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the distinct combinations of several non-negative code arrays.

    :param codes: equally long non-negative integer arrays.
    :return: ``(combined, keys)``: ``combined[r]`` numbers the distinct tuples
        in sorted (lexicographic) order; ``keys`` is ``(n_combinations, k)``
        holding each tuple.

    No sort when the tuples come in order (responses sorted by
    :func:`stable_order`) or span a small range.
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
    numbered = _number_integers(key.ravel())
    if numbered is None:
        uniq, combined = np.unique(key, return_inverse=True)
    else:
        combined, uniq = numbered
    keys = np.empty((uniq.size, len(arrays)), dtype=np.int64)
    rest = uniq.copy()
    for j in range(len(arrays) - 1, -1, -1):
        keys[:, j] = rest % sizes[j]
        rest //= sizes[j]
    return combined.astype(np.int64, copy=False).ravel(), keys


def stable_order(*codes: np.ndarray) -> np.ndarray:
    """Permutation sorting rows by several non-negative code arrays (first most significant).

    Least significant key first, each by a stable sort; keys below 2¹⁶ use
    numpy's radix sort (``uint16``), so sorting 10⁶ responses by group costs a
    few milliseconds.
    """
    order = None
    for c in reversed(codes):
        c = np.asarray(c, dtype=np.int64)
        if order is not None:
            c = c[order]
        small = c.size == 0 or int(c.max()) < (1 << 16)
        step = np.argsort(c.astype(np.uint16) if small else c, kind="stable")
        order = step if order is None else order[step]
    return order


def is_sorted(values: np.ndarray) -> bool:
    """Whether a 1-d array is non-decreasing."""
    values = np.asarray(values)
    return bool(values.size < 2 or np.all(values[1:] >= values[:-1]))


def indicator(codes: np.ndarray, n_codes: int, values=None) -> sp.csr_matrix:
    """Sparse ``(n_codes, len(codes))`` matrix with ``values`` (default 1) at ``[codes[r], r]``.

    Multiplying it by an ``(n, k)`` array sums the rows of each code. Codes in
    order (responses sorted by group) give the CSR arrays directly.
    """
    codes = np.asarray(codes, dtype=np.int64)
    n = codes.size
    data = np.ones(n) if values is None else np.asarray(values, dtype=np.float64)
    if n and is_sorted(codes) and codes[0] >= 0 and codes[-1] < n_codes:
        indptr = np.searchsorted(codes, np.arange(n_codes + 1), side="left")
        return sp.csr_matrix((data, np.arange(n), indptr), shape=(n_codes, n))
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
    if rows.size == matrix.shape[0] and (
        rows.size == 0 or np.all(np.diff(rows) == 1) and rows[0] == 0
    ):
        # every row once, in order (one PSU per response): the matrix itself
        source = np.repeat(np.arange(rows.size, dtype=np.int64), np.diff(matrix.indptr))
        return source, matrix.indices.astype(np.int64), matrix.data
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
