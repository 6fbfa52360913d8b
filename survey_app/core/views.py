"""The public home page, the privacy notice, and the province's identity on public pages."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from ..auth.permissions import public

bp = Blueprint("core", __name__)
log = logging.getLogger(__name__)

_CODE = re.compile(r"[A-Za-z0-9]{3,16}")
#: Emblem files served from outside the static folder (PROVINCE_EMBLEM as a path).
_EMBLEM_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}


@bp.get("/")
@public
def index():
    """Home: explains the survey and lets a citizen type the code from a poster."""
    code = (request.args.get("code") or "").strip().upper().replace(" ", "")
    if code and _CODE.fullmatch(code):
        return redirect(url_for("surveys.counter", code=code, via="web"), code=303)
    status = 400 if code else 200
    return render_template("core/index.html", code=code, invalid=bool(code)), status


@bp.get("/privacy")
@public
def privacy():
    """The privacy notice: what personal data, why, on what legal basis, how long, whom to ask."""
    config = current_app.config
    return render_template(
        "core/privacy.html",
        retention_days=config["FEEDBACK_RETENTION_DAYS"],
        outbox_days=config["OUTBOX_RETENTION_DAYS"],
        session_hours=int(config["PERMANENT_SESSION_LIFETIME"].total_seconds() // 3600),
    )


@dataclass(frozen=True)
class Province:
    """The province and its office as the settings give them (``PROVINCE_*``, ``CONTACT_*``)."""

    name: str
    authority: str
    emblem_url: str
    office: str
    address: str
    phone: str
    email: str
    hours: str

    @property
    def phone_link(self) -> str:
        """The phone number for a ``tel:`` link (digits and a leading +)."""
        return re.sub(r"[^\d+]", "", self.phone)


def _emblem_path() -> Path | None:
    """The emblem file when PROVINCE_EMBLEM is an absolute path, else None (a static file)."""
    setting = current_app.config.get("PROVINCE_EMBLEM") or ""
    path = Path(setting)
    return path if path.is_absolute() else None


@bp.app_template_global()
def province() -> Province:
    """The province's name, emblem and contact, for the public pages' header and footer."""
    c = current_app.config
    if _emblem_path() is not None:
        emblem = url_for("core.emblem")
    else:
        emblem = url_for("static", filename=c.get("PROVINCE_EMBLEM") or "province-emblem.svg")
    return Province(
        name=c["PROVINCE_NAME"],
        authority=c["PROVINCE_AUTHORITY"],
        emblem_url=emblem,
        office=c["CONTACT_OFFICE"],
        address=c["CONTACT_ADDRESS"],
        phone=c["CONTACT_PHONE"],
        email=c["CONTACT_EMAIL"],
        hours=c.get("CONTACT_HOURS") or "",
    )


@bp.get("/emblem")
@public
def emblem():
    """The province's emblem when the operator keeps it outside the static folder."""
    path = _emblem_path()
    if path is None or path.suffix.lower() not in _EMBLEM_TYPES or not path.is_file():
        abort(404)
    return send_file(path, mimetype=_EMBLEM_TYPES[path.suffix.lower()], max_age=24 * 3600)


#: Settings whose shipped values are the demo's (Hải Dương): a real deployment sets them.
DEMO_SETTINGS = (
    "PROVINCE_NAME",
    "PROVINCE_AUTHORITY",
    "CONTACT_OFFICE",
    "CONTACT_ADDRESS",
    "CONTACT_PHONE",
    "CONTACT_EMAIL",
)


def demo_settings_left(config) -> list[str]:
    """The province and contact settings still at the demo's values."""
    from ..config import Config

    return [name for name in DEMO_SETTINGS if config.get(name) == getattr(Config, name)]


def _warn_of_demo_contact(state) -> None:
    """In production, say in the log when public pages would show the demo's contact."""
    config = state.app.config
    if config.get("APP_ENV") == "production" and (left := demo_settings_left(config)):
        log.warning(
            "public pages show the demo's province and contact (%s): set them for this "
            "province (README, Configuration)",
            ", ".join(left),
        )


bp.record_once(_warn_of_demo_contact)
