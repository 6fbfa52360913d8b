"""QR codes (segno) for counter posters and receipt links, and the address they encode."""

from __future__ import annotations

import io
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

import segno
from flask import current_app, has_request_context, request


def served_base_url() -> str:
    """The address this request came to: scheme, host, port and prefix."""
    return request.host_url.rstrip("/") + request.script_root


def public_base_url() -> str:
    """The base of the addresses printed on posters and encoded in QR codes.

    ``PUBLIC_BASE_URL``; in development when it is unset, the address being served
    (so a phone on the same network gets a link it can open), and outside a request
    http://127.0.0.1:5000.
    """
    if current_app.config.get("PUBLIC_BASE_URL_FROM_REQUEST") and has_request_context():
        return served_base_url()
    return current_app.config["PUBLIC_BASE_URL"]


def public_url(path: str) -> str:
    """``path`` (from ``url_for``) on the public address of the service."""
    return public_base_url() + path


def counter_url(counter_code: str) -> str:
    """The public survey address of a counter, as printed and encoded in its QR."""
    return f"{public_base_url()}/s/{counter_code}"


def receipt_url(token: str) -> str:
    return f"{public_base_url()}/r/{token}"


def _origin(url: str) -> tuple[str, str, int | None, str]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port, parts.path.rstrip("/")


def is_loopback(url: str) -> bool:
    """Only the computer itself can open ``url`` (127.0.0.0/8, ::1, localhost)."""
    host = _origin(url)[1]
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class PosterAddress:
    """What the staff pages say about the address the posters encode."""

    encoded: str  #: the base the posters and QR codes encode
    served: str  #: the base this page was served from
    mismatch: bool  #: they differ: a scan opens another address than this one
    loopback: bool  #: the posters encode an address no phone can open

    @property
    def needs_warning(self) -> bool:
        return self.mismatch or self.loopback


def poster_address() -> PosterAddress:
    """Compare, in a request, the address posters encode with the address being served."""
    encoded, served = public_base_url(), served_base_url()
    return PosterAddress(
        encoded=encoded,
        served=served,
        mismatch=_origin(encoded) != _origin(served),
        loopback=is_loopback(encoded),
    )


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
