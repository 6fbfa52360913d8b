"""GET /api/v1/feed: the outgoing feed of case events, paged by an opaque cursor.

Each item is ``{"cursor": …, "event": <the webhook's body>}`` (:mod:`survey_app.feed.events`): no personal
data. A key needs the ``feed`` scope (``flask api-keys create --scope feed``); a
key limited to an agency reads the events of that agency's subtree only.
"""

from __future__ import annotations

import json

from flask import current_app, g, jsonify, request
from flask_babel import gettext as _

from ..auth.permissions import api_key
from ..core.errors import error_response
from ..extensions import db, limiter
from ..feed import services
from .views import _key_for_limit, bp

DEFAULT_LIMIT = 100


@bp.get("/feed")
@limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_key_for_limit)
@api_key()
def feed():
    """Case events after ``after`` (a cursor from an earlier page), at most ``limit``."""
    client = g.api_client
    if not client.has_scope("feed"):
        db.session.commit()  # the key's last use
        return error_response(
            403, _("This API key may not read the feed: it needs the feed scope.")
        )
    maximum = int(current_app.config["FEED_PAGE_MAX"])
    raw_limit = request.args.get("limit")
    if raw_limit is None:
        limit = DEFAULT_LIMIT
    elif raw_limit.isascii() and raw_limit.isdigit() and 1 <= int(raw_limit) <= maximum:
        limit = int(raw_limit)
    else:
        db.session.commit()
        return error_response(400, _("limit must be a whole number from 1 to %(n)d.", n=maximum))
    try:
        after = services.decode_cursor(request.args.get("after"))
    except services.CursorError as exc:
        db.session.commit()
        return error_response(400, str(exc))
    services.sequence()
    db.session.commit()  # the positions, before anyone reads them
    scope = client.counter.agency if client.counter is not None else client.agency
    page = services.page(after, limit, within=scope)
    items = [
        {"cursor": services.encode_cursor(event.position), "event": json.loads(event.payload)}
        for event in page.events
    ]
    return jsonify(
        items=items,
        next_cursor=services.encode_cursor(page.last),
        has_more=page.has_more,
    )
