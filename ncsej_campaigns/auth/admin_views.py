"""Account management for administrators."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from ncsej_campaigns.auth import services
from ncsej_campaigns.auth.forms import AccountForm, role_choices
from ncsej_campaigns.auth.models import Role, User
from ncsej_campaigns.auth.policy import admin_required
from ncsej_campaigns.extensions import db
from ncsej_campaigns.organizations.models import Organization
from ncsej_campaigns.pagination import paginate
from ncsej_campaigns.text import like_pattern

bp = Blueprint("accounts", __name__, url_prefix="/admin/accounts")


def _organization_choices():
    orgs = db.session.execute(select(Organization.id, Organization.name)
                              .order_by(Organization.name)).all()
    return [(0, _("— none —"))] + [(o.id, o.name) for o in orgs]


def _prepare(form: AccountForm) -> AccountForm:
    form.role.choices = role_choices()
    form.organization_id.choices = _organization_choices()
    return form


def _organization(form: AccountForm) -> Organization | None:
    return db.session.get(Organization, form.organization_id.data) if (
        form.organization_id.data) else None


@bp.route("/")
@admin_required
def index():
    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    stmt = select(User).order_by(User.email)
    if q:
        stmt = stmt.where(or_(User.email.ilike(like_pattern(q), escape="\\"),
                              User.full_name.ilike(like_pattern(q), escape="\\")))
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.role == role)
    return render_template("admin/accounts.html", page=paginate(stmt), q=q, role=role,
                           roles=list(Role))


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def create():
    form = _prepare(AccountForm())
    if form.validate_on_submit():
        try:
            user = services.create_user(
                email=form.email.data, password=form.password.data,
                role=Role(form.role.data), organization=_organization(form),
                full_name=form.full_name.data or "", locale=form.locale.data,
                actor=current_user,
            )
            user.active = form.active.data
        except services.AccountError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Account %(email)s created.", email=user.email), "success")
            return redirect(url_for("accounts.index"))
    return render_template("admin/account_form.html", form=form, user=None)


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@admin_required
def edit(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = _prepare(AccountForm(obj=user))
    del form.password  # passwords are reset by the owner through an emailed link
    if request.method == "GET":
        form.role.data = user.role.value
        form.organization_id.data = user.organization_id or 0
    if form.validate_on_submit():
        if form.email.data.lower() != user.email:
            form.email.errors.append(_("The sign-in email cannot be changed."))
        else:
            try:
                services.update_user(
                    user, full_name=form.full_name.data or "", role=Role(form.role.data),
                    organization=_organization(form), active=form.active.data,
                    locale=form.locale.data, actor=current_user,
                )
            except services.AccountError as exc:
                db.session.rollback()
                form.form_errors.append(str(exc))
            else:
                db.session.commit()
                flash(_("Account %(email)s saved.", email=user.email), "success")
                return redirect(url_for("accounts.index"))
    return render_template("admin/account_form.html", form=form, user=user)


@bp.route("/<int:user_id>/send-reset", methods=["POST"])
@admin_required
def send_reset(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if not user.active:
        flash(_("%(email)s is disabled: enable the account before sending a reset link.",
                email=user.email), "error")
        return redirect(url_for("accounts.edit", user_id=user.id))
    services.request_password_reset(user.email)
    db.session.commit()
    flash(_("A password reset link was sent to %(email)s.", email=user.email), "info")
    return redirect(url_for("accounts.edit", user_id=user.id))
