"""The public home, the dashboard after sign-in, the language switch and ``/healthz``."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import func, select

from ncsej_campaigns import i18n
from ncsej_campaigns.auth.models import User
from ncsej_campaigns.auth.policy import member_required, scoped_people
from ncsej_campaigns.extensions import csrf, db, limiter
from ncsej_campaigns.notifications.models import OutboxEmail, OutboxStatus
from ncsej_campaigns.organizations.models import ACTIVE_MEMBERSHIP, Organization
from ncsej_campaigns.page_cache import cached_for_visitors
from ncsej_campaigns.petitions.public_views import open_petition_cards
from ncsej_campaigns.public import health
from ncsej_campaigns.redirects import safe_next

bp = Blueprint("public", __name__)


@bp.route("/")
@cached_for_visitors
def home():
    members = db.session.scalar(
        select(func.count()).select_from(Organization)
        .where(Organization.membership_status.in_(ACTIVE_MEMBERSHIP))
    )
    return render_template("public/home.html", member_count=members,
                           open_items=open_petition_cards(str(get_locale() or "en")))


def _count(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.subquery()))


@bp.route("/dashboard")
@member_required
def dashboard():
    stats = {"people": _count(scoped_people())}
    if current_user.is_coalition_wide:
        stats["organizations"] = db.session.scalar(
            select(func.count()).select_from(Organization))
        stats["accounts"] = db.session.scalar(select(func.count()).select_from(User))
        stats["failed_emails"] = db.session.scalar(
            select(func.count()).select_from(OutboxEmail)
            .where(OutboxEmail.status == OutboxStatus.FAILED))
    return render_template("public/dashboard.html", stats=stats)


@bp.route("/language", methods=["POST"])
@csrf.exempt  # checked below: visitors' switch tokens need no session
def set_language():
    i18n.check_switch_token(request.form.get("csrf_token"))
    response = redirect(safe_next(request.form.get("next"), "/"))
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        i18n.remember_choice(response, lang)
        if current_user.is_authenticated and current_user.locale != lang:
            current_user.locale = lang
            db.session.commit()
    return response


@bp.route("/healthz")
@limiter.exempt
def healthz():
    checks = {"database": health.check_database(), "broker": health.check_broker()}
    healthy = all(v in ("ok", "in-process") for v in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", **checks), (200 if healthy else 503)
