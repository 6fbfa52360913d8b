"""Kiosk tablets of a counter: add one (its link and a QR to open it on the tablet), set how
long its link works, replace the link, withdraw the tablet."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..agencies.models import Counter
from ..auth.permissions import Permission, requires
from ..core.forms import FlaskForm
from ..core.i18n import local_date
from ..core.time import local_today, now_utc
from ..extensions import db
from ..feedback import audit
from ..surveys import kiosks as kiosk_services
from ..surveys import qr
from ..surveys.models import Kiosk
from .views import _counter_or_404, bp

#: A link whose last valid day is this close is marked on the page.
_EXPIRES_SOON_DAYS = 14


class _DayField(DateField):
    """A date (``2026-03-31``, as a browser's date picker sends it) with a translated error."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("The date must look like 2026-03-31.")) from None


def _check_valid_until(form, field) -> None:
    if field.data is None:
        return
    if field.data < local_today():
        raise ValidationError(_("The date cannot be in the past."))
    if field.data > kiosk_services.LAST_DAY:
        raise ValidationError(_("The date must be in the years 2000–2100."))


_VALID_UNTIL_LABEL = _l("Link valid until")
_VALID_UNTIL_HELP = _l(
    "The last day the tablet's link works. Leave it empty for a link without an end date; "
    "you can change it at any time."
)


class KioskForm(FlaskForm):
    label = StringField(
        _l("Where the tablet stands"),
        validators=[
            DataRequired(message=_l("This field is required.")),
            Length(max=80, message=_l("At most %(n)d characters.", n=80)),
        ],
    )
    valid_until = _DayField(
        _VALID_UNTIL_LABEL,
        validators=[Optional(), _check_valid_until],
        description=_VALID_UNTIL_HELP,
    )


class KioskLinkDateForm(FlaskForm):
    """The last day an existing kiosk's link works."""

    valid_until = _DayField(
        _VALID_UNTIL_LABEL,
        validators=[Optional(), _check_valid_until],
        description=_VALID_UNTIL_HELP,
    )


def kiosk_url(kiosk: Kiosk) -> str:
    """The kiosk's full-screen survey address, locked to its counter by the signature."""
    token = kiosk_services.kiosk_token(kiosk)
    return qr.public_url(url_for("surveys.kiosk_start", token=token))


def _kiosk_of(counter_id: int, kiosk_id: int) -> tuple[Counter, Kiosk]:
    """The counter (404 if not the user's) and one of its kiosks (404 if not its own)."""
    counter = _counter_or_404(counter_id)
    kiosk = db.session.get(Kiosk, kiosk_id)
    if kiosk is None or kiosk.counter_id != counter.id:
        abort(404)
    return counter, kiosk


def _kiosks_page(
    counter: Counter,
    form: KioskForm,
    status: int = 200,
    date_errors: dict[int, list[str]] | None = None,
):
    rows = db.session.scalars(
        select(Kiosk)
        .where(Kiosk.counter_id == counter.id)
        .order_by(Kiosk.revoked_at.is_not(None), Kiosk.id)
    ).all()
    links = {k.id: kiosk_url(k) for k in rows if k.is_active}
    qr_svgs = {k: qr.qr_svg(url, scale=4).decode() for k, url in links.items()}
    today = local_today()
    valid_until = {k.id: kiosk_services.valid_until(k) for k in rows}
    expired = {k.id for k in rows if kiosk_services.is_expired(k)}
    soon = {
        k
        for k, day in valid_until.items()
        if day is not None and k not in expired and (day - today).days < _EXPIRES_SOON_DAYS
    }
    page = render_template(
        "staff/kiosks.html",
        counter=counter,
        form=form,
        kiosks=rows,
        links=links,
        qr_svgs=qr_svgs,
        valid_until=valid_until,
        expired=expired,
        expires_soon=soon,
        date_errors=date_errors or {},
    )
    return page, status


@bp.route("/counters/<int:counter_id>/kiosks", methods=["GET", "POST"])
@requires(Permission.manage_counters)
def kiosks(counter_id: int):
    """The counter's kiosk tablets; a POST adds one."""
    counter = _counter_or_404(counter_id)
    form = KioskForm()
    if request.method == "GET":
        form.valid_until.data = kiosk_services.default_valid_until()
    if form.validate_on_submit():
        kiosk = kiosk_services.create_kiosk(
            counter, form.label.data, form.valid_until.data, current_user.id
        )
        audit.record(
            current_user,
            "kiosk_created",
            detail=f"kiosk {kiosk.id} at {counter.code}, link valid until "
            f"{_iso(kiosk_services.valid_until(kiosk))}",
        )
        db.session.commit()
        flash(
            _("Kiosk %(label)s added. Open its link on the tablet.", label=kiosk.label), "success"
        )
        return redirect(url_for(".kiosks", counter_id=counter.id), code=303)
    return _kiosks_page(counter, form, 400 if request.method == "POST" else 200)


def _iso(day: date | None) -> str:
    return day.isoformat() if day is not None else "no end date"


@bp.post("/counters/<int:counter_id>/kiosks/<int:kiosk_id>/valid-until")
@requires(Permission.manage_counters)
def kiosk_valid_until(counter_id: int, kiosk_id: int):
    """Set the last day a kiosk's link works (a later date also revives an expired link)."""
    counter, kiosk = _kiosk_of(counter_id, kiosk_id)
    if not kiosk.is_active:
        abort(404)
    form = KioskLinkDateForm()
    if not form.validate_on_submit():
        errors = [str(e) for e in form.valid_until.errors] or [
            _(
                "The form had expired or was not sent from this site. Please open the page again and resubmit."
            )
        ]
        return _kiosks_page(counter, KioskForm(formdata=None), 400, {kiosk.id: errors})
    kiosk_services.set_valid_until(kiosk, form.valid_until.data)
    audit.record(
        current_user,
        "kiosk_link_valid_until",
        detail=f"kiosk {kiosk.id} at {counter.code}: {_iso(form.valid_until.data)}",
    )
    db.session.commit()
    if form.valid_until.data is None:
        message = _("The link of kiosk %(label)s now has no end date.", label=kiosk.label)
    else:
        message = _(
            "The link of kiosk %(label)s now works until %(date)s.",
            label=kiosk.label,
            date=local_date(form.valid_until.data),
        )
    flash(message, "success")
    return redirect(url_for(".kiosks", counter_id=counter.id), code=303)


@bp.post("/counters/<int:counter_id>/kiosks/<int:kiosk_id>/replace-link")
@requires(Permission.manage_counters)
def kiosk_replace_link(counter_id: int, kiosk_id: int):
    """Give a kiosk a new link: the old one stops working at once, on every server."""
    counter, kiosk = _kiosk_of(counter_id, kiosk_id)
    if not kiosk.is_active:
        abort(404)
    kiosk_services.replace_link(kiosk)
    audit.record(
        current_user,
        "kiosk_link_replaced",
        detail=f"kiosk {kiosk.id} at {counter.code}: link {kiosk.link_generation}",
    )
    db.session.commit()
    flash(
        _(
            "Kiosk %(label)s has a new link; the old one no longer works. Open the new link on the tablet.",
            label=kiosk.label,
        ),
        "success",
    )
    return redirect(url_for(".kiosks", counter_id=counter.id), code=303)


@bp.post("/counters/<int:counter_id>/kiosks/<int:kiosk_id>/revoke")
@requires(Permission.manage_counters)
def kiosk_revoke(counter_id: int, kiosk_id: int):
    """Withdraw a kiosk: its link stops working at once, on every server."""
    counter, kiosk = _kiosk_of(counter_id, kiosk_id)
    if kiosk.revoked_at is None:
        kiosk.revoked_at = now_utc()
        audit.record(current_user, "kiosk_revoked", detail=f"kiosk {kiosk.id} at {counter.code}")
        db.session.commit()
        flash(
            _("Kiosk %(label)s withdrawn; its link no longer works.", label=kiosk.label), "success"
        )
    return redirect(url_for(".kiosks", counter_id=counter.id), code=303)
