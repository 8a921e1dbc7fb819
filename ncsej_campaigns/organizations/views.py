"""Coalition organizations: list, detail and the editor."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ncsej_campaigns.auth.models import User
from ncsej_campaigns.auth.policy import (
    coalition_required,
    get_organization_or_404,
    member_required,
    scoped_organizations,
)
from ncsej_campaigns.extensions import db
from ncsej_campaigns.organizations import services
from ncsej_campaigns.organizations.forms import OrganizationForm
from ncsej_campaigns.organizations.models import MembershipStatus, Organization, OrganizationKind
from ncsej_campaigns.pagination import paginate
from ncsej_campaigns.people.models import Affiliation, Person

bp = Blueprint("organizations", __name__, url_prefix="/organizations")


@bp.route("/")
@member_required
def index():
    if not current_user.is_coalition_wide:
        return redirect(url_for("organizations.detail", org_id=current_user.organization_id))
    filters = {k: request.args.get(k, "").strip() for k in ("q", "kind", "region", "status")}
    stmt = services.search_organizations(scoped_organizations(), **filters)
    people_counts = dict(db.session.execute(
        select(Affiliation.organization_id, func.count()).group_by(Affiliation.organization_id)
    ).all())
    return render_template(
        "organizations/index.html", page=paginate(stmt), filters=filters,
        kinds=list(OrganizationKind), statuses=list(MembershipStatus),
        regions=services.known_regions(), people_counts=people_counts,
    )


def _parent_choices(org: Organization | None):
    stmt = select(Organization.id, Organization.name).order_by(Organization.name)
    if org is not None and org.id:
        stmt = stmt.where(Organization.id != org.id)
    return [(0, _("— none —"))] + [(r.id, r.name) for r in db.session.execute(stmt)]


def _edit(org: Organization | None):
    form = OrganizationForm(obj=org)
    form.parent_id.choices = _parent_choices(org)
    if request.method == "GET" and org is not None:
        form.kind.data = org.kind.value
        form.membership_status.data = org.membership_status.value
        form.parent_id.data = org.parent_id or 0
    if form.validate_on_submit():
        try:
            org = services.save_organization(org, form.data_for_save(), actor=current_user)
        except services.OrganizationError as exc:
            db.session.rollback()
            getattr(form, exc.field or "name").errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("%(name)s saved.", name=org.name), "success")
            return redirect(url_for("organizations.detail", org_id=org.id))
    return render_template("organizations/form.html", form=form, org=org)


@bp.route("/new", methods=["GET", "POST"])
@coalition_required
def create():
    return _edit(None)


@bp.route("/<int:org_id>/edit", methods=["GET", "POST"])
@coalition_required
def edit(org_id: int):
    return _edit(get_organization_or_404(org_id))


@bp.route("/<int:org_id>")
@member_required
def detail(org_id: int):
    org = get_organization_or_404(org_id)
    people_stmt = (select(Person).join(Affiliation)
                   .where(Affiliation.organization_id == org.id)
                   .order_by(Person.last_name, Person.first_name))
    representatives = db.session.scalars(
        select(User).where(User.organization_id == org.id).order_by(User.email)
    ).all()
    return render_template("organizations/detail.html", org=org, page=paginate(people_stmt),
                           representatives=representatives)
