"""Staff login and logout."""

from __future__ import annotations

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
from flask_login import login_required, login_user, logout_user

from ..extensions import db, limiter
from .forms import LoginForm
from .permissions import public
from .services import authenticate

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only local paths, so a crafted link cannot send a user elsewhere after login."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("staff.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    """Staff login."""
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session on login (no fixation)
            if lang:
                session["lang"] = lang
            login_user(user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")), code=303)
        flash(_("Wrong e-mail or password, or the account is disabled."), "error")
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@public
@login_required
def logout():
    """Log out (POST, so a link on another site cannot log staff out)."""
    logout_user()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"), code=303)
