"""Petitions for coordinators and federations: list, editor, dashboard, state changes,
invalidations, CSV export, paper batches and the delivery document.

Every view loads what it shows through ``auth.policy``; a federation representative reaches
only public petitions and, inside them, only what its own organization brought in.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ncsej_campaigns.auth.policy import (
    coalition_required,
    get_paper_batch_or_404,
    get_petition_or_404,
    member_required,
    organization_in_scope_or_404,
    scope_organization_id,
    scoped_paper_batches,
    scoped_petitions,
    scoped_signatures,
)
from ncsej_campaigns.extensions import db
from ncsej_campaigns.organizations.models import Organization
from ncsej_campaigns.pagination import paginate
from ncsej_campaigns.petitions import management, paper, pdf, reporting
from ncsej_campaigns.petitions.forms import (
    InvalidateBatchForm,
    InvalidateSignatureForm,
    PaperBatchForm,
    PetitionForm,
    RemoveBatchForm,
    RevertForm,
    TransitionForm,
)
from ncsej_campaigns.petitions.models import (
    PUBLIC_STATES,
    Invalidation,
    PaperBatch,
    Petition,
    PetitionStatus,
    Signature,
    SignatureStatus,
)

bp = Blueprint("petitions_manage", __name__, url_prefix="/manage/petitions")


@bp.app_template_filter("num")
def number(value) -> str:
    """A count as the reader writes numbers: 12,500 in English, 12 500 in Russian."""
    return format_decimal(int(value or 0))


@bp.app_template_filter("country_name")
def country_name(code: str) -> str:
    if not code:
        return _("Not given")
    locale = get_locale()
    return (locale.territories.get(code.upper()) if locale else None) or code


@bp.app_template_global("open_petitions_summary")
def open_petitions_summary(limit: int = 5) -> list[dict]:
    """The dashboard's petitions card: the open petitions, and for a federation how many
    signatures its own organization brought to each."""
    petitions = list(db.session.scalars(scoped_petitions().where(
        Petition.status == PetitionStatus.OPEN).order_by(Petition.opens_at.desc()).limit(limit)))
    ours = {}
    if petitions and not current_user.is_coalition_wide:
        ours = dict(db.session.execute(scoped_signatures(
            select(Signature.petition_id, func.count())
            .where(Signature.petition_id.in_([p.id for p in petitions]),
                   Signature.status == SignatureStatus.CONFIRMED)
            .group_by(Signature.petition_id))).all())
    return [{"petition": p, "ours": ours.get(p.id, 0)} for p in petitions]


def _locale() -> str:
    return str(get_locale() or "en")


# --- list -------------------------------------------------------------------------------------

@bp.route("/")
@member_required
def index():
    if not current_user.is_coalition_wide:
        return _federation_index()
    filters = {k: request.args.get(k, "").strip() for k in ("q", "status")}
    campaign = request.args.get("campaign", 0, type=int)
    stmt = management.search_petitions(scoped_petitions(), campaign=campaign, **filters)
    return render_template(
        "petitions/manage/index.html", page=paginate(stmt), filters=filters,
        campaign=campaign, statuses=list(PetitionStatus),
        campaigns=management.campaign_choices(_("All campaigns"))[1:],
    )


def _federation_index():
    """A federation's own view: each public petition, what its organization brought in, and
    the links to share."""
    org = current_user.organization
    stmt = scoped_petitions().order_by(
        (Petition.status != PetitionStatus.OPEN), Petition.created_at.desc())
    page = paginate(stmt)
    ids = [p.id for p in page.items]
    referred = {}
    if ids:
        referred = {
            (pid, status): n for pid, status, n in db.session.execute(scoped_signatures(
                select(Signature.petition_id, Signature.status, func.count())
                .where(Signature.petition_id.in_(ids),
                       Signature.status.in_(reporting.COUNTED))
                .group_by(Signature.petition_id, Signature.status)))
        }
        paper_rows = db.session.execute(scoped_paper_batches(
            select(PaperBatch.petition_id, func.sum(PaperBatch.signature_count))
            .where(PaperBatch.petition_id.in_(ids))
            .group_by(PaperBatch.petition_id)))
        for pid, n in paper_rows:
            referred[(pid, "paper")] = int(n or 0)
    rows = [{
        "petition": p,
        "confirmed": referred.get((p.id, SignatureStatus.CONFIRMED), 0),
        "pending": referred.get((p.id, SignatureStatus.PENDING), 0),
        "paper": referred.get((p.id, "paper"), 0),
        "share_url": management.public_url(p, org),
        "widget": management.widget_code(p, org),
    } for p in page.items]
    return render_template("petitions/manage/mine.html", page=page, rows=rows, org=org,
                           locale=_locale())


# --- editor -----------------------------------------------------------------------------------

def _edit(petition: Petition | None):
    form = PetitionForm(obj=petition)
    form.campaign_id.choices = management.campaign_choices(_("— none —"))
    form.sponsor_ids.load_choices()
    if request.method == "GET":
        if petition is not None:
            form.load(petition)
        else:
            form.campaign_id.data = request.args.get("campaign", 0, type=int)
    form.sponsor_ids.chosen_first()
    locked = petition is not None and petition.status != PetitionStatus.DRAFT
    if locked:  # what people signed stays as they signed it; an empty translation may be added
        for name in (*management.WORDING_FIELDS, "slug"):
            if getattr(petition, name):
                getattr(form, name).render_kw = {"readonly": True}
    if form.validate_on_submit():
        try:
            petition = management.save_petition(
                petition, form.petition_data(), sponsor_ids=form.sponsor_ids.data or [],
                actor=current_user)
        except management.PetitionError as exc:
            db.session.rollback()
            getattr(form, exc.field or "title_en").errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("%(title)s saved.", title=petition.title_en), "success")
            return redirect(url_for("petitions_manage.dashboard", petition_id=petition.id))
    status = 400 if request.method == "POST" else 200
    return render_template("petitions/manage/form.html", form=form, petition=petition,
                           locked=locked), status


@bp.route("/new", methods=["GET", "POST"])
@coalition_required
def create():
    return _edit(None)


@bp.route("/<int:petition_id>/edit", methods=["GET", "POST"])
@coalition_required
def edit(petition_id: int):
    petition = get_petition_or_404(petition_id)
    if petition.status == PetitionStatus.ARCHIVED:
        flash(_("An archived petition cannot be edited."), "error")
        return redirect(url_for("petitions_manage.dashboard", petition_id=petition.id))
    return _edit(petition)


# --- dashboard --------------------------------------------------------------------------------

@bp.route("/<int:petition_id>")
@member_required
def dashboard(petition_id: int):
    petition = get_petition_or_404(petition_id)
    filters = {k: request.args.get(k, "").strip() for k in ("q", "status")}
    org_filter = organization_in_scope_or_404(request.args.get("org", type=int))
    if not current_user.is_coalition_wide:
        org_filter = None  # the scope already narrows everything to their organization
    organizations = reporting.per_organization(petition)
    signatures = paginate(reporting.signatures_stmt(petition, organization_id=org_filter,
                                                    **filters))
    series = reporting.confirmed_per_day(petition)
    return render_template(
        "petitions/manage/dashboard.html", petition=petition, locale=_locale(),
        counts=reporting.status_counts(petition), chart=reporting.daily_chart(series),
        series=series, organizations=organizations,
        regions=reporting.per_region(organizations),
        countries=reporting.per_country(petition), signatures=signatures,
        filters=filters, org_filter=org_filter, statuses=list(SignatureStatus),
        invalidations=(reporting.invalidations(petition)
                       if current_user.is_coalition_wide else []),
        transitions=(management.allowed_transitions(petition)
                     if current_user.is_coalition_wide else []),
        transition_labels=management.TRANSITION_LABELS,
        revert_form=RevertForm(), public_url=management.public_url(petition),
        scoped=not current_user.is_coalition_wide,
    )


# --- state changes ----------------------------------------------------------------------------

@bp.route("/<int:petition_id>/state/<to>", methods=["GET", "POST"])
@coalition_required
def transition(petition_id: int, to: str):
    petition = get_petition_or_404(petition_id)
    try:
        target = PetitionStatus(to)
    except ValueError:
        abort(404)
    form = TransitionForm()
    if request.method == "GET":
        form.delivered_on.data = datetime.now(UTC).date()
    if target not in management.allowed_transitions(petition):
        flash(_("A petition that is %(before)s cannot become %(after)s.",
                before=petition.status.label.lower(), after=target.label.lower()), "error")
        return redirect(url_for("petitions_manage.dashboard", petition_id=petition.id))
    if form.validate_on_submit():
        try:
            management.transition_petition(
                petition, target, actor=current_user, delivered_on=form.delivered_on.data,
                delivered_to=form.delivered_to.data or "",
                delivery_method=form.delivery_method.data or "",
                delivery_notes=form.delivery_notes.data or "")
        except management.PetitionError as exc:
            db.session.rollback()
            field = getattr(form, exc.field or "", None)
            if field is not None and exc.field.startswith("deliver"):
                field.errors.append(str(exc))
            else:
                flash(str(exc), "error")
                return redirect(url_for("petitions_manage.dashboard", petition_id=petition_id))
        else:
            db.session.commit()
            flash(_("%(title)s is now %(state)s.", title=petition.title_en,
                    state=petition.status.label.lower()), "success")
            return redirect(url_for("petitions_manage.dashboard", petition_id=petition.id))
    status = 400 if request.method == "POST" else 200
    return render_template("petitions/manage/transition.html", petition=petition,
                           target=target, form=form,
                           button_label=management.TRANSITION_LABELS[target]), status


# --- invalidation -----------------------------------------------------------------------------

@bp.route("/<int:petition_id>/signatures/<int:signature_id>/invalidate",
          methods=["GET", "POST"])
@coalition_required
def invalidate_signature(petition_id: int, signature_id: int):
    petition = get_petition_or_404(petition_id)
    signature = db.session.scalar(scoped_signatures().where(
        Signature.id == signature_id, Signature.petition_id == petition.id))
    if signature is None:
        abort(404)
    form = InvalidateSignatureForm()
    if form.validate_on_submit():
        try:
            reporting.invalidate_signature(petition, signature, form.reason.data,
                                           actor=current_user)
        except reporting.ReportingError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("The signature was invalidated. You can revert this below."), "success")
        return redirect(url_for("petitions_manage.dashboard", petition_id=petition.id))
    status = 400 if request.method == "POST" else 200
    return render_template("petitions/manage/invalidate_one.html", petition=petition,
                           signature=signature, form=form), status


@bp.route("/<int:petition_id>/invalidate", methods=["GET", "POST"])
@coalition_required
def invalidate_batch(petition_id: int):
    petition = get_petition_or_404(petition_id)
    form = InvalidateBatchForm()
    preview = None
    if request.method == "GET":
        form.email_domain.data = request.args.get("email_domain", "")
        form.ip_hash.data = request.args.get("ip_hash", "")
    if form.validate_on_submit():
        criteria = form.criteria()
        preview = reporting.preview_batch(petition, criteria)
        if form.confirm.data and form.previewed.data != str(preview["count"]):
            form.form_errors.append(_("The rule now matches other signatures than the ones "
                                      "you saw. Check them again, then confirm."))
        elif form.confirm.data:
            try:
                invalidation = reporting.invalidate_batch(petition, criteria, form.reason.data,
                                                          actor=current_user)
            except reporting.ReportingError as exc:
                db.session.rollback()
                form.form_errors.append(str(exc))
            else:
                db.session.commit()
                flash(_("%(count)d signatures were invalidated. You can revert this below.",
                        count=invalidation.signature_count), "success")
                return redirect(url_for("petitions_manage.dashboard", petition_id=petition.id))
        form.previewed.data = str(preview["count"])
        form.confirm.data = False
    status = 400 if request.method == "POST" and form.errors else 200
    return render_template("petitions/manage/invalidate_batch.html", petition=petition,
                           form=form, preview=preview), status


@bp.route("/<int:petition_id>/invalidations/<int:invalidation_id>/revert", methods=["POST"])
@coalition_required
def revert_invalidation(petition_id: int, invalidation_id: int):
    petition = get_petition_or_404(petition_id)
    invalidation = db.session.scalar(select(Invalidation).where(
        Invalidation.id == invalidation_id, Invalidation.petition_id == petition.id))
    if invalidation is None:
        abort(404)
    form = RevertForm()
    if not form.validate_on_submit():
        flash(_("Tick the box to confirm."), "error")
        return redirect(url_for("petitions_manage.dashboard", petition_id=petition.id,
                                _anchor="invalidations"))
    try:
        restored = reporting.revert_invalidation(invalidation, actor=current_user)
    except reporting.ReportingError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("%(count)d signatures count again.", count=restored), "success")
    return redirect(url_for("petitions_manage.dashboard", petition_id=petition.id,
                            _anchor="invalidations"))


# --- export -----------------------------------------------------------------------------------

@bp.route("/<int:petition_id>/export.csv")
@member_required
def export(petition_id: int):
    petition = get_petition_or_404(petition_id)
    organization_id = organization_in_scope_or_404(request.args.get("org", type=int))
    status = request.args.get("status", "")
    reporting.record_export(petition, organization_id=organization_id, status=status,
                            actor=current_user)
    db.session.commit()  # the audit entry stands even if the download is interrupted
    stmt = reporting.export_stmt(petition, organization_id=organization_id, status=status)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    filename = f"{petition.slug}-signatures-{stamp}.csv"
    return Response(
        stream_with_context(reporting.export_csv(stmt)), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                 "Cache-Control": "no-store", "X-Accel-Buffering": "no"})


# --- paper ------------------------------------------------------------------------------------

def _paper_org_choices():
    org_id = scope_organization_id()
    stmt = select(Organization.id, Organization.name).order_by(Organization.name)
    if org_id is not None:
        return [(r.id, r.name) for r in db.session.execute(stmt.where(Organization.id == org_id))]
    return [(0, _("— the coalition —"))] + [(r.id, r.name) for r in db.session.execute(stmt)]


@bp.route("/<int:petition_id>/paper", methods=["GET", "POST"])
@member_required
def paper_batches(petition_id: int):
    petition = get_petition_or_404(petition_id)
    form = PaperBatchForm()
    form.organization_id.choices = _paper_org_choices()
    if request.method == "GET":
        form.organization_id.data = scope_organization_id() or 0
        form.collected_on.data = datetime.now(UTC).date()
    if form.validate_on_submit():
        org_id = scope_organization_id() or form.organization_id.data or None
        try:
            paper.add_paper_batch(
                petition, signature_count=form.signature_count.data, source=form.source.data,
                collected_on=form.collected_on.data, organization_id=org_id,
                scan=form.scan.data, actor=current_user)
        except paper.PaperError as exc:
            db.session.rollback()
            target = getattr(form, exc.field or "", None)
            (target.errors if target is not None else form.form_errors).append(str(exc))
        else:
            db.session.commit()
            flash(_("%(count)d paper signatures added.", count=form.signature_count.data),
                  "success")
            return redirect(url_for("petitions_manage.paper_batches", petition_id=petition.id))
    batches = paginate(paper.paper_batches_stmt(petition, scoped_paper_batches()))
    status = 400 if request.method == "POST" else 200
    return render_template("petitions/manage/paper.html", petition=petition, form=form,
                           batches=batches, remove_form=RemoveBatchForm(),
                           accepts=petition.status in paper.PAPER_STATES,
                           max_mb=paper.MAX_SCAN_BYTES // (1024 * 1024)), status


@bp.route("/<int:petition_id>/paper/<int:batch_id>/scan")
@member_required
def paper_scan(petition_id: int, batch_id: int):
    petition = get_petition_or_404(petition_id)
    batch = get_paper_batch_or_404(petition, batch_id)
    path = paper.scan_path(batch)
    if path is None:
        abort(404)
    ext = batch.scan_filename.rsplit(".", 1)[-1]
    return send_file(path, mimetype=paper.scan_mimetype(batch), as_attachment=True,
                     download_name=f"{petition.slug}-paper-{batch.id}.{ext}", max_age=0)


@bp.route("/<int:petition_id>/paper/<int:batch_id>/remove", methods=["POST"])
@member_required
def remove_paper_batch(petition_id: int, batch_id: int):
    petition = get_petition_or_404(petition_id)
    batch = get_paper_batch_or_404(petition, batch_id)
    form = RemoveBatchForm()
    if not form.validate_on_submit():
        flash(_("Tick the box to confirm."), "error")
    else:
        try:
            paper.remove_paper_batch(batch, actor=current_user)
        except paper.PaperError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("The batch was removed from the total."), "success")
    return redirect(url_for("petitions_manage.paper_batches", petition_id=petition.id))


# --- delivery document ------------------------------------------------------------------------

@bp.route("/<int:petition_id>/delivery.pdf")
@coalition_required
def delivery_document(petition_id: int):
    petition = get_petition_or_404(petition_id)
    if petition.status not in PUBLIC_STATES and petition.status != PetitionStatus.ARCHIVED:
        flash(_("A draft has no delivery document yet."), "error")
        return redirect(url_for("petitions_manage.dashboard", petition_id=petition.id))
    lang = request.args.get("lang", "")
    lang = lang if lang in current_app.config["LANGUAGES"] else _locale()
    document = pdf.delivery_document_pdf(petition, lang)
    return Response(document, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{petition.slug}-delivery-{lang}.pdf"',
        "Cache-Control": "no-store"})

