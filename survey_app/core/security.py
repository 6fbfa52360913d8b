"""Response headers every page gets: a strict Content-Security-Policy and friends.

The pages use no inline script or style and no third-party asset, so the policy
can be 'self' only: a script an attacker manages to put into a page does not run.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
#: Browser features no page here uses.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "interest-cohort=(), browsing-topics=()"
)


#: Every response gets these, unless the view set its own value.
STATIC_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", PERMISSIONS_POLICY),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


def _https() -> bool:
    return request.is_secure or current_app.config.get("APP_ENV") == "production"


def register(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        present = {name.lower() for name, _ in headers.items()}
        extra = [(name, value) for name, value in STATIC_HEADERS if name.lower() not in present]
        if _https() and app.config.get("HSTS_SECONDS"):
            if "strict-transport-security" not in present:
                extra.append(("Strict-Transport-Security", f"max-age={app.config['HSTS_SECONDS']}"))
        if response.mimetype == "text/html" and request.endpoint != "static":
            # pages carry CSRF tokens and, for staff, personal data: never cache them
            if "cache-control" not in present:
                extra.append(("Cache-Control", "no-store"))
        headers.extend(extra)
        return response
