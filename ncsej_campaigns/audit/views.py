"""The audit log, for administrators."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from ncsej_campaigns.audit.labels import action_label, target_label
from ncsej_campaigns.audit.models import AuditEntry
from ncsej_campaigns.auth.policy import admin_required
from ncsej_campaigns.extensions import db
from ncsej_campaigns.pagination import paginate
from ncsej_campaigns.text import like_pattern

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


@bp.route("/")
@admin_required
def index():
    action = request.args.get("action", "")
    actor = request.args.get("actor", "").strip()
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if actor:
        stmt = stmt.where(AuditEntry.actor_label.ilike(like_pattern(actor), escape="\\"))
    actions = db.session.scalars(select(AuditEntry.action).distinct()
                                 .order_by(AuditEntry.action)).all()
    return render_template("admin/audit.html", page=paginate(stmt), action=action,
                           actor=actor, actions=actions, action_label=action_label,
                           target_label=target_label)
