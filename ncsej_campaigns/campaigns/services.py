"""Operations on campaigns: search, save with co-sponsors, and the public view of one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from ncsej_campaigns.audit import services as audit
from ncsej_campaigns.campaigns.models import Campaign
from ncsej_campaigns.editing import apply_changes, claim_slug, replace_sponsors
from ncsej_campaigns.extensions import db
from ncsej_campaigns.petitions.models import PUBLIC_STATES, Petition, PetitionStatus
from ncsej_campaigns.text import like_pattern

EDITABLE_FIELDS = (
    "slug", "name_en", "name_ru", "goal_en", "goal_ru", "description_en", "description_ru",
    "starts_on", "ends_on", "is_public",
)


class CampaignError(ValueError):
    """A rule about campaigns was broken; the message is shown to the user."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


def search_campaigns(stmt, *, q: str = "", visibility: str = ""):
    if q:
        pattern = like_pattern(q.strip())
        stmt = stmt.where(or_(
            Campaign.name_en.ilike(pattern, escape="\\"),
            Campaign.name_ru.ilike(pattern, escape="\\"),
            Campaign.slug.ilike(pattern, escape="\\"),
        ))
    if visibility == "public":
        stmt = stmt.where(Campaign.is_public.is_(True))
    elif visibility == "hidden":
        stmt = stmt.where(Campaign.is_public.is_(False))
    return stmt.order_by(Campaign.starts_on.desc().nulls_last(), Campaign.name_en)


def petition_counts(campaign_ids) -> dict[int, int]:
    if not campaign_ids:
        return {}
    return dict(db.session.execute(
        select(Petition.campaign_id, func.count()).where(Petition.campaign_id.in_(campaign_ids))
        .group_by(Petition.campaign_id)
    ).all())


def get_public_campaign(slug: str) -> Campaign | None:
    return db.session.scalar(
        select(Campaign).where(Campaign.slug == slug, Campaign.is_public.is_(True)))


def public_petitions(campaign: Campaign) -> list[Petition]:
    """The campaign's petitions the public may see: open ones first, then the finished."""
    open_first = (Petition.status != PetitionStatus.OPEN)
    return list(db.session.scalars(
        select(Petition).where(Petition.campaign_id == campaign.id,
                               Petition.status.in_(PUBLIC_STATES))
        .order_by(open_first, Petition.opens_at.desc().nulls_last(), Petition.id.desc())
    ))


def _check(campaign: Campaign, data: dict) -> None:
    claim_slug(campaign, data, "name_en", CampaignError,
               _l("Another campaign already uses this short name."))
    if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
        raise CampaignError(_l("The campaign cannot end before it starts."), "ends_on")


def save_campaign(campaign: Campaign | None, data: dict, *, sponsor_ids=(), actor) -> Campaign:
    created = campaign is None
    campaign = campaign or Campaign()
    data = {k: data[k] for k in EDITABLE_FIELDS if k in data}
    _check(campaign, data)
    changed = apply_changes(campaign, data)
    if replace_sponsors(campaign, sponsor_ids):
        changed.append("sponsors")
    if created:
        db.session.add(campaign)
    db.session.flush()
    if created or changed:
        audit.record(
            "campaign.created" if created else "campaign.updated",
            target=campaign, actor=actor, summary=campaign.name_en,
            details={"fields": changed},
        )
    return campaign
