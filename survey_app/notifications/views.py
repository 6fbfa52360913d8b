"""The SMS gateway's callbacks (inbound "TU CHOI", delivery reports), the admin outbox
page and the staff member's notification settings."""

from __future__ import annotations

import hmac
import unicodedata

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from ..auth.permissions import Permission, public, requires, signed_in
from ..core import phones
from ..core.params import page_number, parse_id
from ..core.redact import redact
from ..core.time import now_utc
from ..extensions import db
from ..feedback import outbox
from ..feedback.audit import record
from ..feedback.models import OutboxMessage
from ..feedback.services import phone_problem
from .base import mask_recipient
from .models import PhoneOptOut
from .preferences import STAFF_CHANNELS, STAFF_EVENTS, prefs_of, set_prefs
from .settings import configured

bp = Blueprint("notifications", __name__)
callbacks = Blueprint("sms_callbacks", __name__, url_prefix="/notifications/sms")

#: Delivery-report statuses (Jasmin's message_status, SMPP stat, providers' words).
DELIVERED = {"DELIVRD", "DELIVERED", "DELIVERY_SUCCESS", "SUCCESS", "1"}
FAILED = {
    "UNDELIV",
    "UNDELIVERABLE",
    "EXPIRED",
    "REJECTD",
    "REJECTED",
    "DELETED",
    "FAILED",
    "ERROR",
    "2",
}
PAGE = 50


def _fold(text: str) -> str:
    """Upper case, without diacritics or spaces: ``từ  chối`` → ``TUCHOI``."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return "".join(text.split()).upper()


def _field(*names: str) -> str:
    data = request.get_json(silent=True) if request.is_json else None
    source = data if isinstance(data, dict) else request.values
    for name in names:
        value = source.get(name)
        if value not in (None, ""):
            return str(value)[:500]
    return ""


def _authenticate() -> None:
    """The gateway proves itself with SMS_CALLBACK_SECRET (header or parameter);
    callbacks are off (404) without one."""
    secret = current_app.config.get("SMS_CALLBACK_SECRET")
    if not secret:
        abort(404)
    given = request.headers.get("X-Callback-Secret") or request.args.get("secret") or ""
    if not hmac.compare_digest(given.encode(), secret.encode()):
        abort(403)


@callbacks.route("/inbound", methods=["GET", "POST"])
@public
def inbound():
    """A text a citizen sent to the brandname: an opt-out keyword records the number's
    keyed hash; anything else is acknowledged and dropped (no one reads it here)."""
    _authenticate()
    sender = _field("from", "phone", "msisdn", "source_addr", "Phone")
    text = _field("content", "text", "message", "short_message", "Message")
    keywords = {
        _fold(k) for k in current_app.config.get("SMS_OPT_OUT_KEYWORDS", "").split(",") if k
    }
    number = phones.normalise(sender)
    if number is None:
        return "invalid sender", 400
    if _fold(text) in keywords:
        digest = phones.keyed_hash(number)
        if not db.session.scalar(select(PhoneOptOut.id).where(PhoneOptOut.phone_hash == digest)):
            db.session.add(PhoneOptOut(phone_hash=digest, source="sms"))
            record(None, "phone_opt_out", detail="inbound SMS")
            db.session.commit()
    return "ACK/Jasmin", 200, {"Content-Type": "text/plain"}  # Jasmin wants an ACK


@callbacks.route("/status", methods=["GET", "POST"])
@public
def delivery_status():
    """A delivery report: the message (by the provider's id, or our ``hl-<id>``
    reference) becomes delivered, or failed with the gateway's reason."""
    _authenticate()
    ident = _field("id", "msgid", "message_id", "SMSID", "smsid")
    ref = _field("ref", "tracking_id", "RequestId")
    status = _field("message_status", "status", "stat", "SendStatus").strip().upper()
    message = None
    if ident:
        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.provider_id == ident))
    if message is None and ref.startswith("hl-") and (our := parse_id(ref[3:])) is not None:
        message = db.session.get(OutboxMessage, our)
    if message is None:
        return "unknown message", 404
    if status in DELIVERED:
        message.status = "delivered"
    elif status in FAILED:
        message.status = "failed"
        reason = _field("err", "error", "reason", "ErrorCode") or status
        message.last_error = redact(f"delivery report: {status} {reason}".strip())[:2000]
    else:  # an intermediate report (ACCEPTD, ENROUTE…): nothing to record
        return "OK", 200, {"Content-Type": "text/plain"}
    message.status_at = now_utc()
    db.session.commit()
    return "OK", 200, {"Content-Type": "text/plain"}


# -- the admin outbox page ----------------------------------------------------------------
SHOWN = {
    "failed": or_(
        OutboxMessage.status == "failed",
        (OutboxMessage.sent_at.is_(None)) & (OutboxMessage.attempts >= outbox.MAX_ATTEMPTS),
    ),
    "queued": (OutboxMessage.sent_at.is_(None)) & (OutboxMessage.attempts < outbox.MAX_ATTEMPTS),
    "opted_out": OutboxMessage.status == "opted_out",
}


@bp.route("/staff/admin/outbox", methods=["GET", "POST"])
@requires(Permission.view_audit)
def outbox_page():
    """Messages waiting or given up on, recipients masked, with the reason; retry."""
    if request.method == "POST":
        message_id = parse_id(request.form.get("retry")) or abort(400)
        message = db.session.get(OutboxMessage, message_id) or abort(404)
        if message.sent_at is not None:
            abort(409, description=_("This message has already been sent."))
        outbox.retry(message)
        record(current_user, "outbox_retry", detail=f"message {message.id}")
        db.session.commit()
        flash(_("The message is queued again."), "success")
        return redirect(url_for(".outbox_page", show=request.args.get("show", "failed")), code=303)
    show = request.args.get("show", "failed")
    if show not in SHOWN:
        show = "failed"
    page = page_number(request.args.get("page"))
    query = select(OutboxMessage).where(SHOWN[show])
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.order_by(OutboxMessage.id.desc()).limit(PAGE).offset((page - 1) * PAGE)
    ).all()
    counts = {
        name: db.session.scalar(select(func.count()).select_from(OutboxMessage).where(cond))
        for name, cond in SHOWN.items()
    }
    return render_template(
        "notifications/outbox.html",
        rows=rows,
        show=show,
        counts=counts,
        page=page,
        pages=max(1, -(-total // PAGE)),
        masked=mask_recipient,
        reason=lambda m: redact(m.last_error or ""),
    )


# -- staff settings -----------------------------------------------------------------------
@bp.route("/staff/notifications", methods=["GET", "POST"])
@signed_in
def settings_page():
    """Which events reach me, and by which channel."""
    zalo_ready = (
        configured("zalo", current_app.config) or current_app.config.get("APP_ENV") != "production"
    )
    errors: dict[str, str] = {}
    phone_typed = current_user.zalo_phone or ""
    if request.method == "POST":
        phone_typed = request.form.get("zalo_phone", "").strip()[:40]
        zalo_phone = phones.normalise(phone_typed) if phone_typed else None
        chosen = {
            event: [c for c in STAFF_CHANNELS if request.form.get(f"{event}:{c}") == "y"]
            for event in STAFF_EVENTS
        }
        if phone_typed and zalo_phone is None:
            errors["zalo_phone"] = phone_problem(phone_typed)
        elif any("zalo" in c for c in chosen.values()) and not zalo_phone:
            errors["zalo_phone"] = _(
                "Give the mobile number of your Zalo account to get messages by Zalo."
            )
        if not errors:
            set_prefs(current_user, chosen, zalo_phone)
            record(current_user, "notification_settings")
            db.session.commit()
            flash(_("Your notification settings are saved."), "success")
            return redirect(url_for(".settings_page"), code=303)
        prefs = {event: tuple(c) for event, c in chosen.items()}
        status = 400
    else:
        prefs = prefs_of(current_user)
        status = 200
    return render_template(
        "notifications/settings.html",
        events=STAFF_EVENTS,
        prefs=prefs,
        errors=errors,
        phone=phone_typed,
        zalo_ready=zalo_ready,
    ), status
