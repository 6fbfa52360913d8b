"""The page where province-wide administrators say who is sent the periodic reports."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.models import Role
from ..auth.permissions import Permission, requires
from ..core.params import parse_id
from ..core.time import now_utc
from ..extensions import db
from . import subscriptions
from .forms import KIND_CHOICES, SubscriptionForm
from .mailing import catch_up_days
from .models import ReportSubscription

bp = Blueprint("report_subscriptions", __name__, url_prefix="/staff/reports/subscriptions")


def _province_wide() -> None:
    """The reports sent go to any agency's staff and outside the service: only an
    administrator of the whole province decides (403)."""
    if not current_user.sees_whole_province:
        abort(
            403,
            description=_("Only administrators of the whole province choose who is sent reports."),
        )


def _subscription_or_404(value: str) -> ReportSubscription:
    subscription = db.session.get(ReportSubscription, parse_id(value) or 0)
    if subscription is None:
        abort(404)
    return subscription


@bp.route("/", methods=["GET", "POST"])
@requires(Permission.manage_report_subscriptions)
def index():
    """Who is sent which report by e-mail; add, pause, resume and remove recipients."""
    _province_wide()
    form = SubscriptionForm()
    # (CSRFProtect has checked every POST's token before the view runs)
    if request.method == "POST" and ("delete" in request.form or "toggle" in request.form):
        if "delete" in request.form:
            subscription = _subscription_or_404(request.form["delete"])
            subscriptions.remove(current_user, subscription)
            flash(_("Subscription removed."), "success")
        else:
            subscription = _subscription_or_404(request.form["toggle"])
            subscriptions.set_active(current_user, subscription, not subscription.active)
            flash(
                _("Subscription resumed.") if subscription.active else _("Subscription paused."),
                "success",
            )
        db.session.commit()
        return redirect(url_for(".index"), code=303)
    if form.validate_on_submit():
        role = Role(form.role.data) if form.recipient.data == "role" else None
        email = form.email.data if form.recipient.data == "email" else None
        created, had = subscriptions.add_subscriptions(current_user, form.kinds.data, role, email)
        db.session.commit()
        labels = dict(KIND_CHOICES)
        if created:
            flash(
                _(
                    "Added: %(reports)s.",
                    reports=", ".join(str(labels[s.kind]) for s in created),
                ),
                "success",
            )
        if had:
            flash(
                _(
                    "Already on the list, left as it was: %(reports)s.",
                    reports=", ".join(str(labels[k]) for k in had),
                ),
                "info",
            )
        return redirect(url_for(".index"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "reports/subscriptions.html",
        form=form,
        subscriptions=subscriptions.listing(),
        accounts=subscriptions.accounts_by_role(),
        next_sends=subscriptions.next_sends(now_utc()),
        kind_labels=dict(KIND_CHOICES),
        catch_up_days=catch_up_days(),
    ), status
