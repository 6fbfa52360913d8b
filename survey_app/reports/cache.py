"""The per-process cache of computed reports.

Browsing one period (the province page, its sort orders, the agency pages,
the downloads) would otherwise re-run the analysis on every request. Results
are kept per process, keyed by the period and a cheap *data version* of its
window, so a worker never serves a result computed from other data and no
state is shared between workers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

#: Results kept per process (least recently used dropped first).
CACHE_SIZE = 48
_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()


def cached(key: tuple, compute):
    """The value kept under ``key``, else ``compute()``, kept."""
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    value = compute()
    remember(key, value)
    return value


def remember(key: tuple, value) -> None:
    """Keep ``value`` under ``key`` (a result computed along with another one)."""
    with _cache_lock:
        _cache[key] = value
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)


def forget_cached_reports() -> None:
    """Empty this process's cache (for tests that empty the tables)."""
    with _cache_lock:
        _cache.clear()
