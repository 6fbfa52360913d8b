"""Kiosk tablets of a counter: create one (its link and a QR to open it on the tablet), revoke it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..auth.permissions import Permission, requires
from ..core.forms import FlaskForm
from ..core.time import now_utc
from ..extensions import db
from ..feedback import audit
from ..surveys import qr
from ..surveys.models import Kiosk
from ..surveys.tokens import issue_kiosk_token
from .views import _counter_or_404, bp


class KioskForm(FlaskForm):
    label = StringField(
        _l("Where the tablet stands"),
        validators=[
            DataRequired(message=_l("This field is required.")),
            Length(max=80, message=_l("At most %(n)d characters.", n=80)),
        ],
    )


def kiosk_url(kiosk: Kiosk) -> str:
    """The kiosk's full-screen survey address, locked to its counter by the signature."""
    token = issue_kiosk_token(kiosk.id, kiosk.counter.code)
    return qr.public_url(url_for("surveys.kiosk_start", token=token))


@bp.route("/counters/<int:counter_id>/kiosks", methods=["GET", "POST"])
@requires(Permission.manage_counters)
def kiosks(counter_id: int):
    """The counter's kiosk tablets; a POST adds one."""
    counter = _counter_or_404(counter_id)
    form = KioskForm()
    if form.validate_on_submit():
        kiosk = Kiosk(counter=counter, label=form.label.data.strip(), created_by_id=current_user.id)
        db.session.add(kiosk)
        db.session.flush()
        audit.record(current_user, "kiosk_created", detail=f"kiosk {kiosk.id} at {counter.code}")
        db.session.commit()
        flash(
            _("Kiosk %(label)s added. Open its link on the tablet.", label=kiosk.label), "success"
        )
        return redirect(url_for(".kiosks", counter_id=counter.id), code=303)
    rows = db.session.scalars(
        select(Kiosk)
        .where(Kiosk.counter_id == counter.id)
        .order_by(Kiosk.revoked_at.is_not(None), Kiosk.id)
    ).all()
    links = {k.id: kiosk_url(k) for k in rows if k.is_active}
    qr_svgs = {k: qr.qr_svg(url, scale=4).decode() for k, url in links.items()}
    status = 400 if request.method == "POST" else 200
    page = render_template(
        "staff/kiosks.html", counter=counter, form=form, kiosks=rows, links=links, qr_svgs=qr_svgs
    )
    return page, status


@bp.post("/counters/<int:counter_id>/kiosks/<int:kiosk_id>/revoke")
@requires(Permission.manage_counters)
def kiosk_revoke(counter_id: int, kiosk_id: int):
    """Withdraw a kiosk: its link stops working at once, on every server."""
    counter = _counter_or_404(counter_id)
    kiosk = db.session.get(Kiosk, kiosk_id)
    if kiosk is None or kiosk.counter_id != counter.id:
        abort(404)
    if kiosk.revoked_at is None:
        kiosk.revoked_at = now_utc()
        audit.record(current_user, "kiosk_revoked", detail=f"kiosk {kiosk.id} at {counter.code}")
        db.session.commit()
        flash(
            _("Kiosk %(label)s withdrawn; its link no longer works.", label=kiosk.label), "success"
        )
    return redirect(url_for(".kiosks", counter_id=counter.id), code=303)
