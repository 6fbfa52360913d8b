"""Rate limits for the survey's steps, checked with ``limits`` directly.

Flask-Limiter works out which limits apply to a request twice (in its
``before_request`` hook and again in the view's decorator), through a dozen
context lookups each time: about 0.15 ms per request, more than storing the
citizen's rating. The survey steps are the hottest views of the service, so
:func:`rate_limit` checks their limits with ``limits``, the library Flask-Limiter
is built on, in Flask-Limiter's own storage (memory, or Redis when
``RATELIMIT_STORAGE_URI`` says so) and strategy, under the same keys, and tells
Flask-Limiter to skip these views. Everything else keeps ``@limiter.limit``.

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

from flask import current_app, request
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import TooManyRequests

from ..extensions import limiter

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable)

#: Marks a view limited here, so Flask-Limiter's hooks leave it alone.
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


@limiter.request_filter
def _limited_directly() -> bool:
    """Flask-Limiter skips the views :func:`rate_limit` takes care of."""
    view = current_app.view_functions.get(request.endpoint or "")
    return view is not None and getattr(view, _MARK, False)
