"""QR codes (segno) for counter posters and receipt links."""

from __future__ import annotations

import io

import segno
from flask import current_app


def public_url(path: str) -> str:
    """``path`` (from ``url_for``) on the public address of the service."""
    return current_app.config["PUBLIC_BASE_URL"] + path


def counter_url(counter_code: str) -> str:
    """The public survey address of a counter, as printed and encoded in its QR."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/s/{counter_code}"


def receipt_url(token: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/r/{token}"


def make_qr(data: str) -> segno.QRCode:
    # Error correction M survives a creased or slightly dirty poster and keeps
    # the code small enough to scan from a metre away on a cheap camera.
    return segno.make_qr(data, error="m")


def qr_svg(data: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    make_qr(data).save(out, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True)
    return out.getvalue()


def qr_png(data: str, scale: int = 10) -> bytes:
    out = io.BytesIO()
    make_qr(data).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
