"""The citizen's receipt: shown after filing, again on reload within the browser's
session, printable and downloadable. The tracking number comes from the session
(sealed, :mod:`~survey_app.feedback.receipts`), never from the address."""

from __future__ import annotations

from flask import Response, abort, current_app, redirect, render_template, url_for

from ..auth.permissions import public
from ..extensions import db
from . import citizen, receipts
from .models import FeedbackCase
from .tracking import format_secret
from .views import bp


def _case_of(kept: receipts.Kept) -> FeedbackCase:
    case = db.session.get(FeedbackCase, kept.case_id)
    if case is None or case.code != kept.code:
        abort(404)
    return case


def show_receipt(kept: receipts.Kept):
    """The receipt page of a case this browser was given the number of."""
    case = _case_of(kept)
    screening, answer = receipts.answer_window(case)
    return render_template(
        "feedback/submitted.html",
        case=case,
        secret=format_secret(kept.secret),
        deliveries=receipts.deliveries(case),
        screening_days=screening,
        answer_days=answer,
        deadline=citizen.deadline(case),
        track_url=current_app.config["PUBLIC_BASE_URL"] + url_for(".track"),
    )


@bp.get("/track/<code>/receipt")
@public
def receipt(code: str):
    """A case's receipt again, if this browser was given it in this session; otherwise
    the case page (which asks for the number when the browser has not proved it)."""
    kept = receipts.kept_for(code)
    if kept is None:
        return redirect(url_for(".status", code=code.strip().upper()[:20]), code=303)
    return show_receipt(kept)


@bp.get("/track/<code>/receipt.txt")
@public
def receipt_file(code: str):
    """The receipt as a small text file to save on the phone (works without JavaScript)."""
    kept = receipts.kept_for(code)
    if kept is None:
        return redirect(url_for(".status", code=code.strip().upper()[:20]), code=303)
    case = _case_of(kept)
    config = current_app.config
    text = receipts.receipt_text(
        case, kept.secret, province=config["PROVINCE_NAME"], office=config["CONTACT_OFFICE"]
    )
    response = Response(text.encode("utf-8"), mimetype="text/plain")
    response.headers["Content-Disposition"] = f'attachment; filename="bien-nhan-{case.code}.txt"'
    response.headers["Cache-Control"] = "no-store, private"  # the tracking number is in it
    return response
