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
If the storage cannot be reached the request goes on (and a warning is
logged): a citizen's rating is worth more than the limit.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from functools import cache, wraps
from typing import TypeVar

from flask import Flask, current_app, request
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import TooManyRequests

from ..extensions import limiter

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable)

#: Marks a view limited here, so Flask-Limiter's hooks leave it alone (:func:`init_limiter`).
_MARK = "_direct_rate_limit"


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
    strategy = limiter.limiter
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX")
    identifiers = (prefix, key, request.endpoint) if prefix else (key, request.endpoint)
    try:
        for item in _items(spec):
            if not strategy.hit(item, *identifiers):
                reset_at = strategy.get_window_stats(item, *identifiers).reset_time
                log.info("rate limit %s exceeded by %s at %s", item, key, request.endpoint)
                raise TooManyRequests(retry_after=max(1, math.ceil(reset_at - time.time())))
    except TooManyRequests:
        raise
    except Exception:  # the storage (Redis) is down: let the citizen through
        log.warning(
            "rate limit storage unavailable; %s not limited", request.endpoint, exc_info=True
        )


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
