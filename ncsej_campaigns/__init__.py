"""ncsej_campaigns: advocacy campaign and event management for a coalition."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, render_template, request
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _

from ncsej_campaigns.config import build_config, load_or_create_secret_key
from ncsej_campaigns.http import AppRequest, IdConverter

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_relative_config=True,
    )
    app.request_class = AppRequest
    app.url_map.converters["int"] = IdConverter
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(build_config(app.instance_path, overrides))
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = load_or_create_secret_key(app.instance_path)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from ncsej_campaigns import models  # noqa: F401  (every table known to Alembic)
    from ncsej_campaigns.after_commit import init_after_commit
    from ncsej_campaigns.celery_app import celery_init_app
    from ncsej_campaigns.extensions import babel, csrf, db, limiter, login_manager, migrate
    from ncsej_campaigns.i18n import select_locale
    from ncsej_campaigns.security import init_security_headers

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), compare_type=True)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    celery_init_app(app)
    init_after_commit(app)
    init_security_headers(app)

    from ncsej_campaigns.auth.services import load_user

    login_manager.user_loader(load_user)


def register_blueprints(app: Flask) -> None:
    from ncsej_campaigns.audit.views import bp as audit_bp
    from ncsej_campaigns.auth.admin_views import bp as accounts_bp
    from ncsej_campaigns.auth.views import bp as auth_bp
    from ncsej_campaigns.notifications.views import bp as outbox_bp
    from ncsej_campaigns.organizations.views import bp as organizations_bp
    from ncsej_campaigns.people.views import bp as people_bp
    from ncsej_campaigns.public.views import bp as public_bp

    for bp in (public_bp, auth_bp, accounts_bp, organizations_bp, people_bp, outbox_bp, audit_bp):
        app.register_blueprint(bp)
    from ncsej_campaigns.petitions.public_views import bp as petitions_public_bp

    app.register_blueprint(petitions_public_bp)
    from ncsej_campaigns.campaigns.views import bp as campaigns_bp
    from ncsej_campaigns.petitions.views import bp as petitions_manage_bp

    app.register_blueprint(campaigns_bp)
    app.register_blueprint(petitions_manage_bp)
    if app.config["BENCH_ROUTES"]:
        from ncsej_campaigns.public.bench_views import bp as bench_bp

        app.register_blueprint(bench_bp)


def register_errorhandlers(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    def render_error(code: int, title: str, message: str):
        return render_template(
            "errors/error.html", code=code, title=title, message=message
        ), code

    @app.errorhandler(404)
    def not_found(_error):
        return render_error(404, _("Page not found"), _("There is nothing at this address."))

    @app.errorhandler(405)
    def not_allowed(_error):
        return render_error(405, _("Not allowed"), _("This page does not accept that request."))

    @app.errorhandler(413)
    def too_large(_error):
        return render_error(413, _("Too large"), _("The file or form you sent is too large."))

    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return render_error(
            400,
            _("Form expired"),
            _("The form was missing its security token or it has expired. "
              "Go back, reload the page and try again."),
        )

    @app.errorhandler(429)
    def rate_limited(error):
        handler = getattr(error, "limit", None)
        app.logger.info("rate limited: %s %s", request.path, handler)
        return render_error(
            429,
            _("Too many attempts"),
            _("Too many requests in a short time. Please wait a few minutes and try again."),
        )

    @app.errorhandler(500)
    def server_error(_error):
        from ncsej_campaigns.extensions import db

        db.session.rollback()
        return render_error(
            500,
            _("Something went wrong"),
            _("An unexpected error occurred and nothing was changed. Please try again."),
        )


def register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from ncsej_campaigns.i18n import switch_token

    @app.context_processor
    def inject_helpers():
        return {
            "current_locale": str(get_locale() or "en"),
            "languages": app.config["LANGUAGES"],
            "language_switch_token": switch_token,
        }

    # Email layouts name their language with get_locale(); inside force_locale it is the
    # recipient's, so it has to be callable from any template, not only from request pages.
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": (
        format_datetime(value, fmt) if value else ""
    )
    app.jinja_env.filters["date"] = lambda value, fmt="medium": (
        format_date(value, fmt) if value else ""
    )


def register_commands(app: Flask) -> None:
    from ncsej_campaigns.commands import register

    register(app)
