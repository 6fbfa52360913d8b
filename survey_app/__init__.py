"""Hài Lòng: counter satisfaction surveys and citizen feedback for a province."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import Config

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"


def create_app(config: type[Config] | dict[str, Any] | None = None) -> Flask:
    """Build the application.

    :param config: a config class (default :class:`Config`, read from the
        environment) or a dict of overrides applied on top of it.
    """
    app = Flask(__name__, instance_relative_config=True)
    if isinstance(config, type):
        app.config.from_object(config)
    else:
        app.config.from_object(Config)
        app.config.update(config or {})
    Config.finalise(app.config, Path(app.instance_path))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS_DIR)

    if app.config["PROXY_FIX_X_FOR"]:
        # only what nginx sets (deploy/nginx): the client address and the scheme; the
        # host, port and prefix stay the request's own (an X-Forwarded-Host sent by a
        # client would otherwise pass through nginx and be believed)
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=app.config["PROXY_FIX_X_FOR"],
            x_proto=1,
            x_host=0,
            x_port=0,
            x_prefix=0,
        )

    register_logging(app)  # first: its hooks time and tag everything after it
    register_extensions(app)
    register_blueprints(app)
    register_operations(app)
    register_errorhandlers(app)
    register_commands(app)
    register_template_helpers(app)
    from .auth.permissions import check_declarations

    check_declarations(app)  # every route says who may use it
    return app


def register_logging(app: Flask) -> None:
    from .core.logs import configure_logging

    configure_logging(app)


def register_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (every model registered before Alembic looks)
    from .auth.services import load_user
    from .core.db import close_session_safely, install_sqlite_pragmas
    from .core.i18n import babel_locale, select_timezone
    from .core.ratelimit import init_limiter
    from .core.sessions import CachedSerializerSessionInterface
    from .core.uploads import register as register_upload_limits
    from .extensions import babel, csrf, db, login_manager, migrate

    app.session_interface = CachedSerializerSessionInterface()
    db.init_app(app)
    # registered after Flask-SQLAlchemy's teardown, so it runs before it (Flask runs
    # them in reverse) and closes the session whatever state its connection is in
    app.teardown_appcontext(close_session_safely)
    with app.app_context():
        install_sqlite_pragmas(db.engine, app.config["DATABASE_LOCK_TIMEOUT"])
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    babel.init_app(app, locale_selector=babel_locale, timezone_selector=select_timezone)
    register_upload_limits(app)  # before CSRFProtect, which reads the body first
    csrf.init_app(app)
    init_limiter(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.user_loader(load_user)
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"


def register_blueprints(app: Flask) -> None:
    from .core.params import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route: ids are ASCII, in range
    from .api import dossiers as _dossier_counts  # noqa: F401  (its route is on the API blueprint)
    from .api import events  # noqa: F401  (its route joins the API blueprint)
    from .api import feed as _feed_api  # noqa: F401  (GET /api/v1/feed on the API blueprint)
    from .api.cases import open311
    from .api.views import bp as api_bp
    from .auth.views import bp as auth_bp
    from .core.views import bp as core_bp
    from .extensions import csrf
    from .feed import events as feed_events
    from .feed.views import bp as feed_bp
    from .feedback.admin_views import bp as feedback_admin_bp
    from .feedback.staff_views import bp as cases_bp
    from .feedback.views import bp as feedback_bp
    from .invites.views import bp as invites_bp
    from .notifications.views import bp as notifications_bp
    from .notifications.views import callbacks as sms_callbacks_bp
    from .reports.subscription_views import bp as report_subscriptions_bp
    from .reports.views import bp as reports_bp
    from .staff.views import bp as staff_bp
    from .surveys.views import bp as surveys_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(surveys_bp)
    app.register_blueprint(feedback_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(feedback_admin_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(report_subscriptions_bp)
    app.register_blueprint(feed_bp)
    feed_events.install()  # case events into the outgoing feed, in the same transaction
    app.register_blueprint(invites_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(open311)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(sms_callbacks_bp)
    csrf.exempt(sms_callbacks_bp)  # the SMS gateway authenticates with a shared secret
    csrf.exempt(api_bp)  # API calls authenticate with a key, not a browser session
    csrf.exempt(open311)


def register_operations(app: Flask) -> None:
    """Health checks and Prometheus metrics (deploy/ has the matching nginx and systemd)."""
    from .core import health, metrics

    health.register(app)
    metrics.register(app)


def register_errorhandlers(app: Flask) -> None:
    from .core import errors, security

    errors.register(app)
    security.register(app)


def register_commands(app: Flask) -> None:
    from .agencies.cli import import_cli
    from .api.cli import api_keys_cli
    from .auth.cli import users_cli
    from .core.backup import backup_command
    from .core.cli import translate_cli
    from .demo.cli import demo_cli
    from .feed.cli import feed_cli
    from .feedback.cli import feedback_cli, outbox_cli
    from .invites.cli import invites_cli
    from .reports.cli import export_cli
    from .reports.report_cli import report_cli
    from .surveys.cli import survey_cli

    for group in (
        import_cli,
        api_keys_cli,
        users_cli,
        translate_cli,
        demo_cli,
        survey_cli,
        feedback_cli,
        outbox_cli,
        feed_cli,
        export_cli,
        report_cli,
        invites_cli,
        backup_command,
    ):
        app.cli.add_command(group)


def register_template_helpers(app: Flask) -> None:
    from .core.i18n import register_template_helpers as register_i18n

    register_i18n(app)
