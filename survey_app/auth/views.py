"""Staff login and logout, changing one's password, and when a session ends.

Login protection follows OWASP's "device cookies": a browser that logged in to
an account gets a signed cookie with a random id and is then *recognised* for
that account. Wrong passwords from unrecognised browsers count against the
account and, past ``LOGIN_MAX_FAILURES``, lock every unrecognised browser out of
it with a growing back-off; a recognised browser has its own budget, so an
attacker guessing from anywhere cannot keep the owner out. The per-address and
per-account-name rate limits do not count a recognised browser either.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadData, URLSafeTimedSerializer

from ..core.i18n import local_datetime
from ..core.time import now_utc
from ..extensions import db, limiter
from ..feedback import audit
from ..staff.landing import landing_url
from .forms import ChangePasswordForm, LoginForm
from .permissions import public, signed_in
from .services import (
    MIN_PASSWORD_LENGTH,
    authenticate,
    end_session,
    login_budget,
    paused_until,
    recognised_device,
    record_wrong_password,
    remember_device,
    set_password,
    start_session,
    user_by_email,
)

bp = Blueprint("auth", __name__)

#: The device cookie: a signed random id, sent only with requests from this site.
DEVICE_COOKIE = "hailong_device"
_DEVICE_SALT = "hailong.login-device"


def _safe_next(target: str | None, user) -> str:
    """Only local paths, so a crafted link cannot send a user elsewhere after login;
    without one, the start page of the user's role."""
    if (
        target
        and target.isprintable()  # no line breaks to smuggle into the Location header
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return landing_url(user)


def _account_key() -> str:
    """The rate-limit key for the account name tried, whatever the client's address."""
    return "login-account:" + (request.form.get("email") or "").strip().lower()[:255]


def _own_account_key() -> str:
    """The rate-limit key for the signed-in account (the address for anyone else)."""
    if current_user.is_authenticated:
        return f"password-change:{current_user.id}"
    return "password-change-anonymous:" + get_remote_address()


def _device_serializer() -> URLSafeTimedSerializer:
    keys = [*(current_app.config.get("SECRET_KEY_FALLBACKS") or ()), current_app.secret_key]
    return URLSafeTimedSerializer(keys, salt=_DEVICE_SALT)


def _device_id() -> str | None:
    """The id in this browser's device cookie, if it carries a valid, unexpired one."""
    if "auth_device_id" not in g:
        raw = request.cookies.get(DEVICE_COOKIE, "")
        device_id = None
        if 0 < len(raw) <= 200:
            max_age = timedelta(days=current_app.config["LOGIN_DEVICE_DAYS"]).total_seconds()
            try:
                value = _device_serializer().loads(raw, max_age=max_age)
            except BadData:
                value = None
            if isinstance(value, str) and 32 <= len(value) <= 64:
                device_id = value
        g.auth_device_id = device_id
    return g.auth_device_id


def _set_device_cookie(response: Response, device_id: str) -> Response:
    """Give the browser (again) its device cookie, valid LOGIN_DEVICE_DAYS from now."""
    response.set_cookie(
        DEVICE_COOKIE,
        _device_serializer().dumps(device_id),
        max_age=int(timedelta(days=current_app.config["LOGIN_DEVICE_DAYS"]).total_seconds()),
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Strict",  # only ever needed by this site's own login and password forms
    )
    return response


def _recognised_browser() -> bool:
    """True if this browser is recognised for the account named in the login form:
    such an attempt is left out of the address and account-name rate limits, as it
    is limited by the browser's own budget of wrong passwords."""
    if "auth_recognised" not in g:
        device_id = _device_id()
        user = user_by_email(request.form.get("email") or "") if device_id else None
        g.auth_recognised = user is not None and recognised_device(user, device_id) is not None
    return g.auth_recognised


def _clear_session() -> None:
    """Empty the session cookie, keeping only the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _start_session(user, token: str) -> None:
    """A fresh session for ``user`` (no fixation), stamped for the timeouts, carrying the
    secret of its server-side record (:func:`~.services.start_session`)."""
    _clear_session()
    login_user(user)
    session.permanent = True  # the cookie lasts PERMANENT_SESSION_LIFETIME, not "until quit"
    now = int(now_utc().timestamp())
    session["login_at"] = session["seen_at"] = now
    session["sid"] = token


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
        logout_user()
        _clear_session()
        flash(_("Your session has expired. Please log in again."), "info")
        return
    if now - seen_at >= 30:  # not on every request: the cookie need not change each time
        session["seen_at"] = now


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    methods=["POST"],
    exempt_when=_recognised_browser,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"],
    methods=["POST"],
    key_func=_account_key,
    exempt_when=_recognised_browser,
)
def login():
    """Staff login."""
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        device_id = _device_id()
        user = authenticate(form.email.data, form.password.data, device_id)
        if user is not None:
            device_id = remember_device(user, device_id)
            token = start_session(user)
            db.session.commit()
            _start_session(user, token)
            if (until := paused_until(user)) is not None:
                # only a recognised browser gets here during a lock: tell its owner
                flash(
                    _(
                        "Someone entered wrong passwords for your account many times: logins to it "
                        "from browsers you have not used with it are refused until %(when)s. "
                        "If it was not you, change your password.",
                        when=local_datetime(until),
                    ),
                    "info",
                )
            response = redirect(_safe_next(request.args.get("next"), user), code=303)
            return _set_device_cookie(response, device_id)
        db.session.commit()  # the failed attempt counts towards the lock
        # one message for every failure, so it tells nobody whether the account exists
        flash(
            _(
                "Wrong e-mail or password, or the account is disabled or locked. After %(n)d wrong "
                "passwords in a row, logins to an account from browsers that have not logged in to "
                "it before are refused for %(minutes)d minutes, longer each time it happens again; "
                "a browser you have logged in with before keeps working.",
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
    """Log out (POST, so a link on another site cannot log staff out). The session ends on
    the server too, so a copy of its cookie no longer works; other browsers stay logged in."""
    end_session(session.get("sid"))
    db.session.commit()
    logout_user()
    _clear_session()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
@limiter.limit(
    lambda: current_app.config["PASSWORD_CHANGE_RATE_LIMIT"],
    methods=["POST"],
    key_func=_own_account_key,
)
def change_password():
    """Change one's own password; the account's other sessions end.

    A wrong current password counts as a wrong password at login does, against
    this browser's budget (:func:`~.services.record_wrong_password`); while that
    budget is locked the form checks nothing.
    """
    user = current_user._get_current_object()
    form = ChangePasswordForm(user=user)
    page = {"form": form, "min_length": MIN_PASSWORD_LENGTH}
    if request.method == "POST" and login_budget(user, _device_id()).is_locked(now_utc()):
        flash(
            _(
                "Too many wrong passwords: your password cannot be checked from this browser "
                "for a while. Try again later."
            ),
            "error",
        )
        return render_template("auth/change_password.html", **page), 429
    if form.validate_on_submit():
        set_password(user, form.new_password.data)  # ends every session, this one too
        device_id = remember_device(user, _device_id())
        token = start_session(user)
        audit.record(user, "password_changed", target=user, detail="every other session ended")
        db.session.commit()
        _start_session(user, token)  # this browser goes on under the new password
        flash(_("Your password has been changed."), "success")
        return _set_device_cookie(redirect(landing_url(user), code=303), device_id)
    if form.wrong_current_password:
        record_wrong_password(user, _device_id())
        db.session.commit()
    status = 400 if request.method == "POST" else 200
    return render_template("auth/change_password.html", **page), status
