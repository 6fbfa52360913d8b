"""Rate limits for the survey's steps, checked with ``limits`` directly.

Flask-Limiter works out which limits apply to a request twice (in its
``before_request`` hook and again in the view's decorator), through a dozen
context lookups each time: about 0.15 ms per request, more than storing the
citizen's rating. The survey steps are the hottest views of the service, so
:func:`rate_limit` checks their limits with ``limits``, the library Flask-Limiter
is built on, in Flask-Limiter's own storage (memory, or Redis when
``RATELIMIT_STORAGE_URI`` says so) and strategy, under the same keys, and Flask-Limiter's
request hooks skip these views (:func:`init_limiter`). Everything else keeps ``@limiter.limit``.

A refused request is a 429 with ``Retry-After``, rendered by the error pages.

When the storage (Redis) cannot be reached, or does not answer within
``RATELIMIT_STORAGE_TIMEOUT``, no request fails and none goes unlimited: the
limits are counted in the process's memory instead (each worker counts for
itself, so an address gets at most workers × the limit) until Redis answers
again, tried every :data:`RETRY_SECONDS`. A warning says so when it happens and
at most every :data:`WARN_EVERY_SECONDS` while it lasts, not once a request.
Flask-Limiter does the same for its views (``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``,
config.py); :func:`over_limit` gives other code (a per-account or per-case count)
the same behaviour.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from functools import cache, wraps
from typing import Any, TypeVar

from flask import Flask, current_app, request
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import STRATEGIES, RateLimiter
from werkzeug.exceptions import TooManyRequests

from ..extensions import limiter
from .logs import pseudonym

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable)

#: Marks a view limited here, so Flask-Limiter's hooks leave it alone (:func:`init_limiter`).
_MARK = "_direct_rate_limit"
_FALLBACK = "hailong.ratelimit_fallback"
#: While the storage is down, it is tried again after this many seconds.
RETRY_SECONDS = 15
#: While the storage stays down, the warning is repeated at most this often.
WARN_EVERY_SECONDS = 60
#: The clock of those two (tests move it on).
monotonic = time.monotonic


def limit_storage_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """``RATELIMIT_STORAGE_OPTIONS`` for the configured storage: Redis gets time limits.

    Without them redis-py waits for ever on a Redis that accepts connections and
    does not answer, and every request with a limit with it.
    """
    options = dict(config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    uri = config.get("RATELIMIT_STORAGE_URI") or ""
    seconds = config.get("RATELIMIT_STORAGE_TIMEOUT")
    if uri.startswith(("redis://", "rediss://", "redis+unix://")) and seconds:
        options.setdefault("socket_connect_timeout", float(seconds))
        options.setdefault("socket_timeout", float(seconds))
    return options


class _Fallback:
    """The counts of the limits checked here: in the shared storage, or in memory while it is down.

    Flask-Limiter keeps the same switch for its own views, but tries its storage
    again only when one of them is requested; the survey's checks keep theirs.
    """

    def __init__(self, strategy_name: str) -> None:
        self.strategy_class = STRATEGIES[strategy_name]
        self.shared: RateLimiter | None = None
        self.memory: RateLimiter | None = None
        self.down_since: float | None = None
        self.retry_at = 0.0
        self.warned_at = 0.0
        self.lock = threading.Lock()

    def strategy(self) -> RateLimiter:
        """The strategy to count with now: the storage's, or memory while it is down."""
        if self.down_since is not None and monotonic() < self.retry_at:
            return self.in_memory()
        if self.shared is None or self.shared.storage is not limiter.storage:
            self.shared = self.strategy_class(limiter.storage)
        return self.shared

    def in_memory(self) -> RateLimiter:
        with self.lock:
            if self.memory is None:  # only when needed: the memory storage starts a timer thread
                self.memory = self.strategy_class(MemoryStorage())
            return self.memory

    def failed(self, error: Exception) -> None:
        now = monotonic()
        with self.lock:
            first = self.down_since is None
            if first:
                self.down_since = now
            self.retry_at = now + RETRY_SECONDS
            warn = first or now - self.warned_at >= WARN_EVERY_SECONDS
            if warn:
                self.warned_at = now
        if warn:
            log.warning(
                "rate limit storage unavailable (%s: %s); limits are counted per process "
                "for %.0f s so far",
                type(error).__name__,
                error,
                now - (self.down_since or now),
            )

    def answered(self) -> None:
        if self.down_since is None:
            return
        with self.lock:
            if self.down_since is None:
                return
            seconds, self.down_since = monotonic() - self.down_since, None
        log.info("rate limit storage answers again after %.0f s; limits shared again", seconds)


@cache
def _items(spec: str) -> tuple[RateLimitItem, ...]:
    """``"30/minute;300/hour"`` parsed once, strictest window first."""
    return tuple(sorted(parse_many(spec)))


def rate_limit(
    config_key: str,
    key_func: Callable[[], str] = get_remote_address,
    methods: tuple[str, ...] = ("POST",),
) -> Callable[[F], F]:
    """Limit a view to the rates in ``app.config[config_key]`` per ``key_func()``.

    Counts are kept per view (the endpoint is part of the key), as
    ``@limiter.limit`` does; only requests with one of ``methods`` count.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def limited(*args, **kwargs):
            if request.method in methods and limiter.enabled:
                _hit(current_app.config[config_key], key_func())
            return view(*args, **kwargs)

        setattr(limited, _MARK, True)
        return limited  # type: ignore[return-value]

    return decorate


def _hit(spec: str, key: str) -> None:
    """Count this request against every limit in ``spec``; 429 on the first one exceeded."""
    retry_after = over_limit(spec, key, request.endpoint or "")
    if retry_after is not None:
        log.info("rate limit %s exceeded by %s at %s", spec, pseudonym(key), request.endpoint)
        raise TooManyRequests(retry_after=retry_after)


def over_limit(spec: str, key: str, scope: str) -> int | None:
    """Count one hit of ``key`` in ``scope`` against every limit in ``spec``.

    Kept where Flask-Limiter keeps its counts (under ``RATELIMIT_KEY_PREFIX``),
    or in this process's memory while that storage is unreachable (see the module).

    :param spec: limits as in the settings, e.g. ``"30/minute;300/hour"``.
    :param key: who is counted (an address, an account, a kiosk).
    :param scope: what is counted (a view's endpoint, an action's name).
    :return: ``None`` if the hit is allowed, else the seconds until it would be
        (for ``Retry-After``); a refused hit is not counted further.
    """
    fallback: _Fallback = current_app.extensions[_FALLBACK]
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX")
    identifiers = (prefix, key, scope) if prefix else (key, scope)
    strategy = fallback.strategy()
    try:
        retry_after = _count(strategy, spec, identifiers)
    except Exception as error:
        if strategy is fallback.memory:
            raise  # memory does not fail: a bug, not an outage
        fallback.failed(error)
        return _count(fallback.in_memory(), spec, identifiers)
    if strategy is not fallback.memory:
        fallback.answered()
    return retry_after


def _count(strategy: RateLimiter, spec: str, identifiers: tuple[str, ...]) -> int | None:
    for item in _items(spec):
        if not strategy.hit(item, *identifiers):
            reset_at = strategy.get_window_stats(item, *identifiers).reset_time
            return max(1, math.ceil(reset_at - time.time()))
    return None


def init_limiter(app: Flask) -> None:
    """``limiter.init_app(app)``, its request hooks skipped for the views limited here.

    Flask-Limiter adds three hooks to every request (a check before it, the rate
    limit headers after it, a context reset at teardown), each of which sets up
    its per-request context before anything else. A view limited by
    :func:`rate_limit` needs none of them, so they are wrapped to return at once
    for such a view; every other view gets them unchanged.
    """
    hook_lists = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
    before = [len(hooks.get(None, ())) for hooks in hook_lists]
    limiter.init_app(app)
    app.extensions[_FALLBACK] = _Fallback(app.config.get("RATELIMIT_STRATEGY") or "fixed-window")
    for hooks, count in zip(hook_lists, before, strict=True):
        if None in hooks:
            hooks[None][count:] = [_unless_limited_here(hook) for hook in hooks[None][count:]]


def _unless_limited_here(hook: Callable) -> Callable:
    @wraps(hook)
    def guarded(*args):
        if _limited_here():
            return args[0] if args else None  # an after_request hook returns the response
        return hook(*args)

    return guarded


def _limited_here() -> bool:
    endpoint = request.endpoint
    view = current_app.view_functions.get(endpoint) if endpoint else None
    return getattr(view, _MARK, False)
