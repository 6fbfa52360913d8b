"""Body limits of the views that take files, applied before anything reads the body.

Every request is held to ``MAX_CONTENT_LENGTH`` and ``MAX_FORM_MEMORY_SIZE``
(small: the pages post short forms). A view that takes files declares its own
limit with :func:`accepts_uploads`. The limit has to be set before the body is
parsed, and CSRFProtect parses it in its own ``before_request`` hook, before
the view runs: so :func:`register` adds a hook that runs ahead of it.

Werkzeug's multipart decoder checks each 64 KB chunk it reads, file data
included, against ``max_form_memory_size``; with the general 32 KB no file over
32 KB could be sent. A view taking files gets at least :data:`FORM_MEMORY_FOR_UPLOADS`
(its text fields are still bounded by that and by their own validators).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, request

_MARK = "hailong_upload_limit"
#: ``max_form_memory_size`` for views taking files: above werkzeug's 64 KB read chunk.
FORM_MEMORY_FOR_UPLOADS = 128 * 1024


def accepts_uploads(limit: Callable[[], int]) -> Callable:
    """Mark a view as taking files: ``limit()`` is the largest body it accepts, in bytes.

    Put it right under ``@bp.route`` (it marks the function the route registers).
    """

    def decorate(view: Callable) -> Callable:
        setattr(view, _MARK, limit)
        return view

    return decorate


def register(app: Flask) -> None:
    """Add the hook; call it before ``csrf.init_app`` so that it runs first."""
    app.before_request(_apply_upload_limits)


def _apply_upload_limits() -> None:
    endpoint = request.endpoint
    view = current_app.view_functions.get(endpoint) if endpoint else None
    limit = getattr(view, _MARK, None)
    if limit is not None:
        request.max_content_length = limit()
        request.max_form_memory_size = max(
            current_app.config["MAX_FORM_MEMORY_SIZE"] or 0, FORM_MEMORY_FOR_UPLOADS
        )
