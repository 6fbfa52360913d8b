"""Staff login and logout, changing one's password, and when a session ends."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..core.time import now_utc
from ..extensions import db, limiter
from .forms import ChangePasswordForm, LoginForm
from .permissions import public, signed_in
from .services import MIN_PASSWORD_LENGTH, authenticate, set_password

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only local paths, so a crafted link cannot send a user elsewhere after login."""
    if (
        target
        and target.isprintable()  # no line breaks to smuggle into the Location header
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("staff.dashboard")


def _account_key() -> str:
    """The rate-limit key for the account name tried, whatever the client's address."""
    return "login-account:" + (request.form.get("email") or "").strip().lower()[:255]


def _start_session(user) -> None:
    """A fresh session for ``user`` (no fixation), stamped for the timeouts."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(user)
    session.permanent = True  # the cookie lasts PERMANENT_SESSION_LIFETIME, not "until quit"
    now = int(now_utc().timestamp())
    session["login_at"] = session["seen_at"] = now


@bp.before_app_request
def _expire_sessions():
    """End a staff session idle longer than SESSION_IDLE_MINUTES or older than
    PERMANENT_SESSION_LIFETIME; the request then goes on as anonymous."""
    if request.endpoint == "static" or "_user_id" not in session:
        return
    now = int(now_utc().timestamp())
    config = current_app.config
    idle = timedelta(minutes=config["SESSION_IDLE_MINUTES"]).total_seconds()
    absolute = current_app.permanent_session_lifetime.total_seconds()
    login_at, seen_at = session.get("login_at"), session.get("seen_at")
    if (
        not isinstance(login_at, int)
        or not isinstance(seen_at, int)
        or now - seen_at > idle
        or now - login_at > absolute
    ):
        lang = session.get("lang")
        logout_user()
        session.clear()
        if lang:
            session["lang"] = lang
        flash(_("Your session has expired. Please log in again."), "info")
        return
    if now - seen_at >= 30:  # not on every request: the cookie need not change each time
        session["seen_at"] = now


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"], methods=["POST"], key_func=_account_key
)
def login():
    """Staff login."""
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            _start_session(user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")), code=303)
        db.session.commit()  # the failed attempt counts towards the lockout
        # one message for every failure, so it tells nobody whether the account exists
        flash(
            _(
                "Wrong e-mail or password, or the account is disabled or locked. "
                "After %(n)d wrong passwords in a row an account is locked for %(minutes)d minutes.",
                n=current_app.config["LOGIN_MAX_FAILURES"],
                minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"],
            ),
            "error",
        )
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@signed_in
def logout():
    """Log out (POST, so a link on another site cannot log staff out)."""
    logout_user()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password():
    """Change one's own password; the account's other sessions end."""
    form = ChangePasswordForm(user=current_user)
    if form.validate_on_submit():
        user = current_user._get_current_object()
        set_password(user, form.new_password.data)
        db.session.commit()
        _start_session(user)  # this session goes on under the new password
        flash(_("Your password has been changed."), "success")
        return redirect(url_for("staff.dashboard"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "auth/change_password.html", form=form, min_length=MIN_PASSWORD_LENGTH
    ), status
