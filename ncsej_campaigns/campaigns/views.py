"""Campaigns: the coordinators' list and editor, and the public campaign page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ncsej_campaigns.auth.policy import coalition_required, get_campaign_or_404, scoped_campaigns
from ncsej_campaigns.campaigns import services
from ncsej_campaigns.campaigns.forms import CampaignForm
from ncsej_campaigns.campaigns.models import Campaign
from ncsej_campaigns.extensions import db
from ncsej_campaigns.pagination import paginate
from ncsej_campaigns.petitions.management import petitions_of_campaign, public_url

bp = Blueprint("campaigns", __name__)


@bp.route("/manage/campaigns/")
@coalition_required
def index():
    filters = {k: request.args.get(k, "").strip() for k in ("q", "visibility")}
    page = paginate(services.search_campaigns(scoped_campaigns(), **filters))
    counts = services.petition_counts([c.id for c in page.items])
    return render_template("campaigns/index.html", page=page, filters=filters,
                           petition_counts=counts)


def _edit(campaign: Campaign | None):
    form = CampaignForm(obj=campaign)
    form.sponsor_ids.load_choices()
    if request.method == "GET":
        form.sponsor_ids.data = [o.id for o in campaign.sponsors] if campaign else []
    form.sponsor_ids.chosen_first()
    if form.validate_on_submit():
        try:
            campaign = services.save_campaign(campaign, form.campaign_data(),
                                              sponsor_ids=form.sponsor_ids.data or [],
                                              actor=current_user)
        except services.CampaignError as exc:
            db.session.rollback()
            getattr(form, exc.field or "name_en").errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("%(name)s saved.", name=campaign.name_en), "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    status = 400 if request.method == "POST" else 200
    return render_template("campaigns/form.html", form=form, campaign=campaign), status


@bp.route("/manage/campaigns/new", methods=["GET", "POST"])
@coalition_required
def create():
    return _edit(None)


@bp.route("/manage/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@coalition_required
def edit(campaign_id: int):
    return _edit(get_campaign_or_404(campaign_id))


@bp.route("/manage/campaigns/<int:campaign_id>")
@coalition_required
def detail(campaign_id: int):
    campaign = get_campaign_or_404(campaign_id)
    return render_template("campaigns/detail.html", campaign=campaign,
                           petitions=petitions_of_campaign(campaign))


@bp.route("/campaigns/<slug>")
def public(slug: str):
    campaign = services.get_public_campaign(slug)
    if campaign is None:
        abort(404)
    locale = str(get_locale() or "en")
    return render_template("campaigns/public.html", campaign=campaign, locale=locale,
                           petitions=services.public_petitions(campaign),
                           petition_url=public_url)
