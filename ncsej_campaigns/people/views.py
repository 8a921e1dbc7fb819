"""People: the coordinators' and federations' directory, and a person's own data requests."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ncsej_campaigns.auth.policy import (
    coalition_required,
    get_person_or_404,
    member_required,
    scope_organization_id,
    scoped_people,
)
from ncsej_campaigns.extensions import db, limiter
from ncsej_campaigns.http import id_arg
from ncsej_campaigns.organizations.models import Organization
from ncsej_campaigns.pagination import paginate
from ncsej_campaigns.people import services
from ncsej_campaigns.people.forms import DataRequestForm, EraseForm, PersonForm
from ncsej_campaigns.security import private
from ncsej_campaigns.tokens import TokenError

bp = Blueprint("people", __name__)


def _organization_choices():
    stmt = select(Organization.id, Organization.name).order_by(Organization.name)
    org_id = scope_organization_id()
    if org_id is not None:
        return [(r.id, r.name) for r in db.session.execute(stmt.where(Organization.id == org_id))]
    return [(0, _("— none —"))] + [(r.id, r.name) for r in db.session.execute(stmt)]


@bp.route("/people/")
@member_required
def index():
    q = request.args.get("q", "").strip()
    # A federation's list is its own organization: filtering it by another one would tell
    # which of its people that organization also holds.
    org = id_arg("org") if current_user.is_coalition_wide else 0
    language = request.args.get("language", "")
    language = language if language in ("en", "ru") else ""
    stmt = services.search_people(scoped_people(), q=q, organization_id=org or None,
                                  language=language)
    organizations = _organization_choices() if current_user.is_coalition_wide else []
    return render_template("people/index.html", page=paginate(stmt), q=q, org=org,
                           language=language, organizations=organizations)


@bp.route("/people/new", methods=["GET", "POST"])
@member_required
def create():
    form = PersonForm()
    form.organization_id.choices = _organization_choices()
    if request.method == "GET":
        form.preferred_language.data = "en"
        form.organization_id.data = scope_organization_id() or 0
    if form.validate_on_submit():
        org_id = scope_organization_id() or form.organization_id.data
        org = db.session.get(Organization, org_id) if org_id else None
        try:
            person = services.create_person(form.person_data(), organization=org,
                                            actor=current_user)
        except services.PersonError as exc:
            db.session.rollback()
            form.email.errors.append(str(exc))
            return render_template("people/form.html", form=form, person=None,
                                   existing=exc.existing), 400
        db.session.commit()
        flash(_("%(name)s saved.", name=person.full_name or person.email), "success")
        return redirect(url_for("people.detail", person_id=person.id))
    return render_template("people/form.html", form=form, person=None, existing=None)


@bp.route("/people/<int:person_id>")
@member_required
def detail(person_id: int):
    person = get_person_or_404(person_id)
    affiliations = person.affiliations
    org_id = scope_organization_id()
    if org_id is not None:  # a federation sees only its own tie to this person
        affiliations = [a for a in affiliations if a.organization_id == org_id]
    return render_template("people/detail.html", person=person, affiliations=affiliations,
                           erase_form=EraseForm(),
                           consent_source=services.describe_consent_source(
                               person.email_consent_source))


@bp.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
@member_required
def edit(person_id: int):
    person = get_person_or_404(person_id)
    if person.is_erased:
        flash(_("This person's data was erased and cannot be edited."), "error")
        return redirect(url_for("people.detail", person_id=person.id))
    form = PersonForm(obj=person)
    del form.organization_id
    if form.validate_on_submit():
        try:
            services.update_person(person, form.person_data(), actor=current_user)
        except services.PersonError as exc:
            db.session.rollback()
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("%(name)s saved.", name=person.full_name), "success")
            return redirect(url_for("people.detail", person_id=person.id))
    return render_template("people/form.html", form=form, person=person, existing=None)


def _json_download(data: dict, filename: str) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                 "Cache-Control": "no-store"},
    )


@bp.route("/people/<int:person_id>/export.json")
@coalition_required
def export(person_id: int):
    person = get_person_or_404(person_id)
    data = services.export_person_data(person, actor=current_user)
    db.session.commit()
    return _json_download(data, f"person-{person.id}.json")


@bp.route("/people/<int:person_id>/erase", methods=["POST"])
@coalition_required
def erase(person_id: int):
    person = get_person_or_404(person_id)
    form = EraseForm()
    if not form.validate_on_submit():
        flash(_("Tick the box to confirm the erasure."), "error")
        return redirect(url_for("people.detail", person_id=person.id))
    services.erase_person(person, actor=current_user)
    db.session.commit()
    flash(_("The person's data was erased. Their participation still counts, anonymously."),
          "success")
    return redirect(url_for("people.detail", person_id=person.id))


# --- a person's own requests, through an emailed link --------------------------------------

@bp.route("/my-data", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def request_my_data():
    form = DataRequestForm()
    if form.validate_on_submit():
        services.request_data_link(form.email.data)
        db.session.commit()
        return render_template("people/my_data_sent.html", email=form.email.data)
    return render_template("people/my_data_request.html", form=form)


def _person_from_token(token: str):
    try:
        return services.person_for_data_token(token), None
    except TokenError as exc:
        return None, (_("This link has expired. Ask for a new one.") if exc.expired
                      else _("This link is not valid or was already used. Ask for a new one."))


@bp.route("/my-data/<token>", methods=["GET"])
@private
def my_data(token: str):
    person, error = _person_from_token(token)
    if person is None:
        flash(error, "error")
        return redirect(url_for("people.request_my_data"))
    return render_template("people/my_data.html", person=person, token=token,
                           erase_form=EraseForm())


@bp.route("/my-data/<token>/download", methods=["POST"])
@private
def my_data_download(token: str):
    person, error = _person_from_token(token)
    if person is None:
        flash(error, "error")
        return redirect(url_for("people.request_my_data"))
    data = services.export_person_data(person, actor_label="self (emailed link)")
    db.session.commit()
    return _json_download(data, "my-data.json")


@bp.route("/my-data/<token>/erase", methods=["POST"])
@private
def my_data_erase(token: str):
    person, error = _person_from_token(token)
    if person is None:
        flash(error, "error")
        return redirect(url_for("people.request_my_data"))
    form = EraseForm()
    if not form.validate_on_submit():
        flash(_("Tick the box to confirm the erasure."), "error")
        return redirect(url_for("people.my_data", token=token))
    services.erase_person(person, actor_label="self (emailed link)")
    db.session.commit()
    return render_template("people/my_data_erased.html")
