"""Response headers every page gets: a strict Content-Security-Policy and friends.

The pages use no inline script or style and no third-party asset, so the policy
can be 'self' only.
"""

from __future__ import annotations

from flask import Flask, Response, request

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def register(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html" and request.endpoint != "static":
            # pages carry CSRF tokens and, for staff, personal data: never cache them
            headers.setdefault("Cache-Control", "no-store")
        return response
