"""The outbox for administrators: what was sent, what failed and why, and a retry button."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ncsej_campaigns.audit import services as audit
from ncsej_campaigns.auth.policy import admin_required
from ncsej_campaigns.extensions import db
from ncsej_campaigns.notifications import services
from ncsej_campaigns.notifications.models import OutboxEmail, OutboxStatus
from ncsej_campaigns.pagination import paginate
from ncsej_campaigns.text import like_pattern

bp = Blueprint("outbox", __name__, url_prefix="/admin/outbox")


@bp.route("/")
@admin_required
def index():
    status = request.args.get("status", "")
    q = request.args.get("q", "").strip()
    stmt = select(OutboxEmail).order_by(OutboxEmail.id.desc())
    if status in {s.value for s in OutboxStatus}:
        stmt = stmt.where(OutboxEmail.status == status)
    if q:
        stmt = stmt.where(OutboxEmail.to_address.ilike(like_pattern(q), escape="\\"))
    counts = dict(db.session.execute(
        select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)).all())
    return render_template("admin/outbox.html", page=paginate(stmt), status=status, q=q,
                           statuses=list(OutboxStatus), counts=counts)


@bp.route("/<int:email_id>")
@admin_required
def detail(email_id: int):
    email = db.session.get(OutboxEmail, email_id) or abort(404)
    return render_template("admin/outbox_detail.html", email=email,
                           text=services.email_text(email))


@bp.route("/<int:email_id>/retry", methods=["POST"])
@admin_required
def retry(email_id: int):
    email = db.session.get(OutboxEmail, email_id) or abort(404)
    try:
        services.requeue(email)
    except ValueError:
        flash(_("Only failed or pending emails can be retried."), "error")
    else:
        audit.record("outbox.retried", target=email, actor=current_user,
                     summary=email.to_address)
        db.session.commit()
        flash(_("The email was queued for another try."), "success")
    return redirect(url_for("outbox.detail", email_id=email.id))
