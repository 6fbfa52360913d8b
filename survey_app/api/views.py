"""JSON API for the one-stop software: survey links to print on receipts."""

from __future__ import annotations

import base64
import hashlib

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from ..agencies.models import Agency, Counter, Procedure
from ..auth.permissions import api_key
from ..core.errors import error_response
from ..core.params import json_body
from ..extensions import db, limiter
from ..surveys import qr, shortlinks
from ..surveys.shortlinks import issue_receipt_link
from .services import key_from_request

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_DOSSIER_REF = 100


def _key_for_limit() -> str:
    # a digest, so neither the rate-limit store nor a log line holds the key itself
    key = key_from_request()
    if key:
        return "api:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    return "api-addr:" + (request.remote_addr or "")


@bp.post("/survey-links")
@limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_key_for_limit)
@api_key()
def create_survey_link():
    """Issue a single-use receipt link (and its QR) for one transaction.

    The link is a short one (``https://host/7kq20x9d``, :mod:`survey_app.surveys.shortlinks`),
    short enough to print legibly and to type; the signed ``/r/<token>`` links
    issued before keep working until they expire.

    Body: ``{"counter": "ABC234", "procedure": "1.001234", "dossier_ref": "…",
    "qr": "svg" | "png"}``; only ``counter`` is required.
    """
    client = g.api_client
    body = json_body()
    if not isinstance(body, dict):
        return error_response(400, _("The request body must be a JSON object."))
    counter_code = body.get("counter")
    procedure_code = body.get("procedure")
    dossier_ref = body.get("dossier_ref")
    qr_kind = body.get("qr")
    problems = {}
    if not isinstance(counter_code, str) or not counter_code.strip():
        problems["counter"] = _("Give the counter's code.")
    if procedure_code is not None and not isinstance(procedure_code, str):
        problems["procedure"] = _("The procedure code must be text.")
    if dossier_ref is not None and (
        not isinstance(dossier_ref, str) or not 0 < len(dossier_ref.strip()) <= MAX_DOSSIER_REF
    ):
        problems["dossier_ref"] = _(
            "The dossier reference must be text of at most %(n)d characters.", n=MAX_DOSSIER_REF
        )
    if qr_kind not in (None, "svg", "png"):
        problems["qr"] = _('qr must be "svg" or "png".')
    if problems:
        return jsonify(
            error={"status": 422, "title": _("Invalid request"), "fields": problems}
        ), 422

    counter = db.session.scalar(
        select(Counter)
        .join(Agency)
        .where(
            Counter.code == counter_code.strip().upper(),
            Counter.is_active.is_(True),
            Agency.is_active.is_(True),
        )
    )
    if counter is None:
        db.session.commit()  # keep last_used_at
        return error_response(404, _("No active counter has this code."))
    if not client.may_use(counter):
        db.session.commit()
        return error_response(403, _("This API key may not request links for this counter."))
    procedure = None
    if procedure_code is not None:
        procedure = db.session.scalar(
            select(Procedure).where(Procedure.code == procedure_code.strip())
        )
        if procedure is None:
            return jsonify(
                error={
                    "status": 422,
                    "title": _("Invalid request"),
                    "fields": {"procedure": _("Unknown procedure code.")},
                }
            ), 422
        procedure_code = procedure.code

    link = issue_receipt_link(counter.id, procedure, dossier_ref)
    url = shortlinks.short_url(link.id)
    payload = {
        "url": url,
        "counter": counter.code,
        "procedure": procedure_code,
        "channel": "receipt",
        "issued_at": link.created_at.isoformat(),
        "expires_at": link.expires_at.isoformat(),
    }
    if qr_kind == "svg":
        payload["qr_svg"] = qr.qr_svg(url, scale=4).decode()
    elif qr_kind == "png":
        payload["qr_png_base64"] = base64.b64encode(qr.qr_png(url, scale=4)).decode()
    db.session.commit()
    return jsonify(payload), 201
