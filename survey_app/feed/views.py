"""The administrators' pages of the outgoing feed: webhook subscriptions and their deliveries."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from ..auth.permissions import Permission, requires
from ..core.params import parse_id
from ..extensions import db
from . import services
from .forms import EVENT_LABELS, NewWebhookForm, WebhookForm
from .models import DeliveryStatus, FeedDelivery, WebhookSubscription
from .signing import DEFAULT_TOLERANCE

bp = Blueprint("feed", __name__, url_prefix="/staff/feed/webhooks")

#: Deliveries listed on a subscription's page.
DELIVERIES_SHOWN = 50


def _province_wide() -> None:
    """The feed carries every agency's cases: only an administrator of the whole
    province decides where it goes (403)."""
    if not current_user.sees_whole_province:
        abort(403, description=_("Only administrators of the whole province manage webhooks."))


def _subscription_or_404(subscription_id: int) -> WebhookSubscription:
    subscription = db.session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        abort(404)
    return subscription


def _secret_page(subscription: WebhookSubscription, secret: str, new: bool):
    """The secret, shown this once (never cached)."""
    response = render_template(
        "feed/secret.html",
        subscription=subscription,
        secret=secret,
        new=new,
        tolerance=DEFAULT_TOLERANCE,
    )
    return response, 200, {"Cache-Control": "no-store"}


@bp.get("/")
@requires(Permission.manage_api_keys)
def index():
    """Webhook subscriptions, with their deliveries pending, delivered and failed."""
    _province_wide()
    subscriptions = db.session.scalars(
        select(WebhookSubscription).order_by(WebhookSubscription.name, WebhookSubscription.id)
    ).all()
    counts = {s.id: services.counts_by_status(s) for s in subscriptions}
    return render_template(
        "feed/index.html",
        subscriptions=subscriptions,
        counts=counts,
        labels=EVENT_LABELS,
    )


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.manage_api_keys)
def new():
    """Add a receiver; its secret is shown once."""
    _province_wide()
    form = NewWebhookForm()
    if form.validate_on_submit():
        subscription, secret = services.create_subscription(
            current_user,
            form.name.data,
            form.url.data,
            form.event_types.data or [],
            secret=(form.secret.data or "").strip() or None,
            active=form.active.data,
        )
        db.session.commit()
        return _secret_page(subscription, secret, new=True)
    status = 400 if request.method == "POST" else 200
    return render_template("feed/form.html", form=form, subscription=None), status


@bp.route("/<int:subscription_id>", methods=["GET", "POST"])
@requires(Permission.manage_api_keys)
def edit(subscription_id: int):
    """A subscription: change it, and see (and retry) its deliveries."""
    _province_wide()
    subscription = _subscription_or_404(subscription_id)
    form = WebhookForm(obj=subscription if request.method == "GET" else None)
    if request.method == "GET":
        form.event_types.data = subscription.types
    if form.validate_on_submit():
        services.update_subscription(
            current_user,
            subscription,
            form.name.data,
            form.url.data,
            form.event_types.data or [],
            form.active.data,
        )
        db.session.commit()
        flash(_("Webhook saved."), "success")
        return redirect(url_for(".edit", subscription_id=subscription.id), code=303)
    shown = request.args.get("status", "")
    if shown not in {s.value for s in DeliveryStatus}:
        shown = ""
    query = (
        select(FeedDelivery)
        .where(FeedDelivery.subscription_id == subscription.id)
        .order_by(FeedDelivery.id.desc())
        .limit(DELIVERIES_SHOWN)
    )
    if shown:
        query = query.where(FeedDelivery.status == DeliveryStatus(shown))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "feed/form.html",
        form=form,
        subscription=subscription,
        deliveries=db.session.scalars(query).all(),
        counts=services.counts_by_status(subscription),
        shown=shown,
        statuses=list(DeliveryStatus),
        labels=EVENT_LABELS,
    ), status


@bp.post("/<int:subscription_id>/retry")
@requires(Permission.manage_api_keys)
def retry(subscription_id: int):
    """Send a failed delivery again (``delivery``), or every failed one (``all``)."""
    _province_wide()
    subscription = _subscription_or_404(subscription_id)
    query = select(FeedDelivery).where(
        FeedDelivery.subscription_id == subscription.id,
        FeedDelivery.status == DeliveryStatus.failed,
    )
    if "all" not in request.form:
        delivery_id = parse_id(request.form.get("delivery"))
        if delivery_id is None:
            abort(400, description=_("Choose the delivery to send again."))
        query = query.where(FeedDelivery.id == delivery_id)
    count = services.retry(current_user, db.session.scalars(query).all())
    db.session.commit()
    if count:
        flash(
            ngettext(
                "%(num)d delivery will be sent again within a minute.",
                "%(num)d deliveries will be sent again within a minute.",
                count,
            ),
            "success",
        )
    else:
        flash(_("Nothing to send again: the delivery is no longer failed."), "info")
    return redirect(url_for(".edit", subscription_id=subscription.id, status="failed"), code=303)


@bp.post("/<int:subscription_id>/secret")
@requires(Permission.manage_api_keys)
def new_secret(subscription_id: int):
    """Replace the signing secret (shown once); the receiver must be given it."""
    _province_wide()
    subscription = _subscription_or_404(subscription_id)
    secret = services.rotate_secret(current_user, subscription)
    db.session.commit()
    return _secret_page(subscription, secret, new=False)


@bp.post("/<int:subscription_id>/delete")
@requires(Permission.manage_api_keys)
def delete(subscription_id: int):
    """Remove a subscription and its deliveries."""
    _province_wide()
    subscription = _subscription_or_404(subscription_id)
    services.delete_subscription(current_user, subscription)
    db.session.commit()
    flash(_("Webhook removed."), "success")
    return redirect(url_for(".index"), code=303)
