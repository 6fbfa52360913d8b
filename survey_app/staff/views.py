"""Staff pages: counters and today's counts, QR codes and posters, and admin pages."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import func, select

from ..agencies import services as agency_services
from ..agencies.models import Agency, AgencyKind, Counter
from ..auth.models import Role, User
from ..auth.permissions import Permission, check_agency, has_permission, requires, signed_in
from ..auth.services import create_account, start_session, unlock_account, update_account
from ..core.collation import tree_sorted, vi_key, vi_sorted
from ..core.params import parse_id
from ..core.time import now_utc
from ..extensions import db
from ..reports import warning_notices
from ..reports.warning_models import SatisfactionWarning
from ..surveys import posters, qr
from ..surveys.services import count_today
from .forms import AgencyForm, CounterForm, UserForm, kind_label, role_label
from .landing import landing_url

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.app_context_processor
def _helpers():
    return {
        "has_permission": lambda p: has_permission(current_user, Permission(p)),
        "kind_label": kind_label,
        "role_label": role_label,
        "poster_address": qr.poster_address,
    }


def _agency_or_404(agency_id: int) -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        abort(404)
    check_agency(agency)
    return agency


def _counter_or_404(counter_id: int) -> Counter:
    counter = db.session.get(Counter, counter_id)
    if counter is None:
        abort(404)
    check_agency(counter.agency)
    return counter


def _poster_size() -> str:
    size = request.args.get("size", "A5").upper()
    if size not in posters.SIZES:
        abort(400, description=_("Poster size must be A4 or A5."))
    return size


# -- counters, counts, QR and posters ------------------------------------------------


@bp.get("/home")
@signed_in
def home():
    """The staff home: the start page of the user's role (the queue, one's cases, the
    report or the counters)."""
    return redirect(landing_url(current_user), code=303)


@bp.get("/")
@requires(Permission.view_counters)
def dashboard():
    """The counters in the user's scope with today's number of responses; early warnings
    within the scope at the top."""
    every = _in_vietnamese_order(
        db.session.scalars(agency_services.visible_counters(current_user)).all()
    )
    query = (request.args.get("q") or "")[:100].strip()
    counters = _matching(every, query)
    counts = count_today([c.id for c in every])
    cards = warning_notices.visible(current_user)
    return render_template(
        "staff/dashboard.html",
        counters=counters,
        query=query,
        every=len(every),
        counts=counts,
        total=sum(counts.values()),
        warnings=cards,
        warned={card.warning.counter_id for card in cards},
        watches=warning_notices.watches([c.id for c in counters]),
        last_checked=warning_notices.last_checked(),
        min_taps=current_app.config["EARLY_WARNING_MIN_TAPS"],
        share_text=warning_notices.share,
    )


def _in_vietnamese_order(counters: list[Counter]) -> list[Counter]:
    """Counters by agency (the tree, siblings in Vietnamese alphabetical order), then
    by name in Vietnamese alphabetical order."""
    agencies = tree_sorted({c.agency.id: c.agency for c in counters}.values())
    place = {a.id: i for i, a in enumerate(agencies)}
    return sorted(counters, key=lambda c: (place[c.agency_id], vi_key(c.name)))


def _matching(counters: list[Counter], query: str) -> list[Counter]:
    """The counters whose name, code, place or agency holds every word of ``query``,
    accents and case ignored ("quay ho tich" finds "Quầy Hộ tịch")."""
    words = agency_services.fold(query).split()
    if not words:
        return counters
    return [
        c
        for c in counters
        if all(
            w in agency_services.fold(f"{c.name} {c.code} {c.location} {c.agency.name}")
            for w in words
        )
    ]


@bp.post("/warnings/acknowledge")
@requires(Permission.manage_counters)
def acknowledge_warning():
    """Acknowledge an early warning: seen and being dealt with (the agency's admins)."""
    warning_id = parse_id(request.form.get("warning"))
    if warning_id is None:
        abort(400, description=_("Say which warning to acknowledge."))
    warning = db.session.get(SatisfactionWarning, warning_id)
    if warning is None:
        abort(404)
    check_agency(warning.agency)
    if warning_notices.acknowledge(warning, current_user, now_utc()):
        db.session.commit()
        flash(
            _(
                "Warning acknowledged. It stays on this page until the ratings are back "
                "to usual, and no more e-mails are sent about it."
            ),
            "success",
        )
    else:
        flash(_("This warning was already acknowledged or has closed."), "info")
    return redirect(url_for(".dashboard"), code=303)


@bp.get("/counters/<int:counter_id>")
@requires(Permission.view_counters)
def counter(counter_id: int):
    """One counter: its QR, its link, today's count and its posters."""
    counter = _counter_or_404(counter_id)
    return render_template(
        "staff/counter.html",
        counter=counter,
        url=qr.counter_url(counter.code),
        today=count_today([counter.id])[counter.id],
        qr_svg=qr.qr_svg(qr.counter_url(counter.code), scale=6).decode(),
    )


@bp.get("/counters/<int:counter_id>/qr.<any(svg,png):fmt>")
@requires(Permission.print_posters)
def counter_qr(counter_id: int, fmt: str):
    """The counter's QR code as SVG or PNG, to download."""
    counter = _counter_or_404(counter_id)
    url = qr.counter_url(counter.code)
    if fmt == "svg":
        body, mimetype = qr.qr_svg(url), "image/svg+xml"
    else:
        body, mimetype = qr.qr_png(url), "image/png"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="qr-{counter.code}.{fmt}"'},
    )


@bp.get("/counters/<int:counter_id>/poster.pdf")
@requires(Permission.print_posters)
def counter_poster(counter_id: int):
    """A printable poster (PDF, A5 or A4) for one counter."""
    counter = _counter_or_404(counter_id)
    pdf = posters.render_posters([counter], size=_poster_size())
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="poster-{counter.code}.pdf"'},
    )


@bp.get("/agencies/<int:agency_id>/posters.pdf")
@requires(Permission.print_posters)
def agency_posters(agency_id: int):
    """Every active counter's poster in this agency and below, one per page."""
    agency = _agency_or_404(agency_id)
    counters = _in_vietnamese_order(db.session.scalars(_printable_counters(agency)).all())
    if not counters:
        abort(404, description=_("This agency has no active counters to print posters for."))
    pdf = posters.render_posters(counters, size=_poster_size())
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="posters-{agency.code}.pdf"'},
    )


def _printable_counters(agency: Agency):
    """The active counters of ``agency`` and the agencies below it."""
    return (
        select(Counter)
        .join(Agency)
        .where(agency_services.subtree_filter(agency), Counter.is_active.is_(True))
    )


# -- agencies ------------------------------------------------------------------------------


@bp.get("/agencies")
@requires(Permission.view_counters)
def agencies():
    """The agency tree within the user's scope."""
    rows = tree_sorted(db.session.scalars(agency_services.visible_agencies(current_user)).all())
    return render_template("staff/agencies.html", agencies=rows)


@bp.get("/agencies/<int:agency_id>")
@requires(Permission.view_counters)
def agency(agency_id: int):
    """One agency: its sub-agencies and counters, and its posters."""
    agency = _agency_or_404(agency_id)
    counters = vi_sorted(agency.counters, key=lambda c: c.name)
    return render_template(
        "staff/agency.html",
        agency=agency,
        counters=counters,
        children=vi_sorted(agency.children, key=lambda a: a.name),
        counts=count_today([c.id for c in counters]),
        ancestors=agency.ancestors(),
        printable=db.session.scalar(
            select(func.count()).select_from(_printable_counters(agency).subquery())
        ),
    )


def _apply_agency_form(form: AgencyForm, agency: Agency | None) -> Agency:
    parent = db.session.get(Agency, int(form.parent_id.data)) if form.parent_id.data else None
    kind = AgencyKind(form.kind.data)
    if agency is None:
        agency = agency_services.create_agency(form.code.data, form.name.data, parent, kind)
    else:
        agency.code = form.code.data.strip()
        agency.name = form.name.data.strip()
        agency.kind = kind
        if agency.parent_id != (parent.id if parent else None):
            agency_services.move_agency(agency, parent)
    agency_services.set_agency_active(agency, form.is_active.data)
    for name in ("complaint_body_name", "complaint_body_address", "complaint_body_phone"):
        setattr(agency, name, (form[name].data or "").strip() or None)
    return agency


@bp.route("/agencies/new", methods=["GET", "POST"])
@requires(Permission.manage_agencies)
def agency_new():
    """Add an agency anywhere in the tree."""
    form = AgencyForm(editor=current_user)
    if request.method == "GET" and parse_id(request.args.get("parent")) is not None:
        form.parent_id.data = request.args["parent"]
    if form.validate_on_submit():
        agency = _apply_agency_form(form, None)
        db.session.commit()
        flash(_("Agency %(name)s created.", name=agency.name), "success")
        return redirect(url_for(".agency", agency_id=agency.id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("staff/agency_form.html", form=form, agency=None), status


@bp.route("/agencies/<int:agency_id>/edit", methods=["GET", "POST"])
@requires(Permission.manage_agencies)
def agency_edit(agency_id: int):
    """Rename, move, enable or disable an agency."""
    agency = _agency_or_404(agency_id)
    form = AgencyForm(obj=agency, agency=agency, editor=current_user)
    if request.method == "GET":
        form.parent_id.data = str(agency.parent_id or "")
        form.kind.data = agency.kind.value
    if form.validate_on_submit():
        _apply_agency_form(form, agency)
        db.session.commit()
        flash(_("Agency %(name)s saved.", name=agency.name), "success")
        return redirect(url_for(".agency", agency_id=agency.id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("staff/agency_form.html", form=form, agency=agency), status


# -- counters (admin) --------------------------------------------------------------------


@bp.route("/counters/new", methods=["GET", "POST"])
@requires(Permission.manage_counters)
def counter_new():
    """Add a counter; it gets a new public code."""
    form = CounterForm()
    if request.method == "GET" and parse_id(request.args.get("agency")) is not None:
        form.agency_id.data = request.args["agency"]
    if form.validate_on_submit():
        agency = _agency_or_404(int(form.agency_id.data))
        counter = agency_services.create_counter(agency, form.name.data, form.location.data or "")
        counter.is_active = form.is_active.data
        db.session.commit()
        flash(
            _("Counter %(name)s created with code %(code)s.", name=counter.name, code=counter.code),
            "success",
        )
        return redirect(url_for(".counter", counter_id=counter.id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("staff/counter_form.html", form=form, counter=None), status


@bp.route("/counters/<int:counter_id>/edit", methods=["GET", "POST"])
@requires(Permission.manage_counters)
def counter_edit(counter_id: int):
    """Rename, move or disable a counter. Its public code never changes."""
    counter = _counter_or_404(counter_id)
    form = CounterForm(obj=counter)
    if request.method == "GET":
        form.agency_id.data = str(counter.agency_id)
    if form.validate_on_submit():
        counter.name = form.name.data.strip()
        counter.location = (form.location.data or "").strip()
        counter.agency = _agency_or_404(int(form.agency_id.data))
        counter.is_active = form.is_active.data
        db.session.commit()
        flash(_("Counter %(name)s saved.", name=counter.name), "success")
        return redirect(url_for(".counter", counter_id=counter.id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("staff/counter_form.html", form=form, counter=counter), status


# -- users (admin) -------------------------------------------------------------------------


def _visible_users():
    """Accounts an administrator may manage: all of them for a province-wide one,
    else those of agencies inside the administrator's own scope."""
    query = select(User).order_by(User.email)
    if current_user.sees_whole_province:
        return query
    if current_user.agency is None:
        return query.where(User.id.is_(None))
    return query.join(Agency, User.agency_id == Agency.id).where(
        agency_services.subtree_filter(current_user.agency)
    )


def _user_or_404(user_id: int) -> User:
    user = db.session.scalar(_visible_users().where(User.id == user_id))
    if user is None:
        abort(404)
    return user


@bp.get("/users")
@requires(Permission.manage_users)
def users():
    """The staff accounts within the administrator's scope."""
    rows = db.session.scalars(_visible_users()).all()
    return render_template("staff/users.html", users=rows, now=now_utc())


def _apply_user_form(form: UserForm, user: User | None) -> User:
    """Create the account or apply the form's changes to it (each audited)."""
    agency = db.session.get(Agency, int(form.agency_id.data)) if form.agency_id.data else None
    if user is None:
        return create_account(
            current_user,
            form.email.data,
            form.full_name.data,
            form.password.data,
            Role(form.role.data),
            agency,
            active=form.active.data,
        )
    update_account(
        current_user,
        user,
        email=form.email.data,
        full_name=form.full_name.data,
        role=Role(form.role.data),
        agency=agency,
        active=form.active.data,
        password=form.password.data or None,
    )
    return user


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Permission.manage_users)
def user_new():
    """Create a staff account."""
    form = UserForm(editor=current_user)
    if form.validate_on_submit():
        user = _apply_user_form(form, None)
        db.session.commit()
        flash(_("Account %(email)s created.", email=user.email), "success")
        return redirect(url_for(".users"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("staff/user_form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@requires(Permission.manage_users)
def user_edit(user_id: int):
    """Change a staff account's role, agency, password or status."""
    user = _user_or_404(user_id)
    form = UserForm(obj=user, user=user, editor=current_user)
    if request.method == "GET":
        form.agency_id.data = str(user.agency_id or "")
        form.role.data = user.role.value
    if form.validate_on_submit():
        if user.id == current_user.id and (form.role.data != Role.admin or not form.active.data):
            flash(
                _("You cannot remove your own administrator rights or disable your own account."),
                "error",
            )
            return render_template("staff/user_form.html", form=form, user=user), 400
        _apply_user_form(form, user)
        own_new_session = None
        if user.id == current_user.id and form.password.data:
            # the new password ended every session of the account, this one too: go on in a new one
            own_new_session = start_session(user)
        db.session.commit()
        if own_new_session is not None:
            login_user(user)  # the session id carries the new password's tag
            session["sid"] = own_new_session
        flash(_("Account %(email)s saved.", email=user.email), "success")
        return redirect(url_for(".users"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("staff/user_form.html", form=form, user=user, now=now_utc()), status


@bp.post("/users/<int:user_id>/unlock")
@requires(Permission.manage_users)
def user_unlock(user_id: int):
    """Lift the lock that too many wrong passwords put on an account."""
    user = _user_or_404(user_id)
    unlock_account(current_user, user)
    db.session.commit()
    flash(_("Account %(email)s unlocked.", email=user.email), "success")
    return redirect(url_for(".user_edit", user_id=user.id), code=303)


# kiosk tablets live in their own module, on this blueprint
from . import kiosks  # noqa: E402,F401
