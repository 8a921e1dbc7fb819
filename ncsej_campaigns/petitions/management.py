"""Coordinator operations on petitions: search, save, and the guarded state transitions.

Services flush and record the audit entry; the request that calls them commits once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from ncsej_campaigns.audit import services as audit
from ncsej_campaigns.campaigns.models import Campaign
from ncsej_campaigns.db import utcnow
from ncsej_campaigns.editing import apply_changes, claim_slug, replace_sponsors
from ncsej_campaigns.extensions import db
from ncsej_campaigns.organizations.models import Organization
from ncsej_campaigns.petitions import links
from ncsej_campaigns.petitions.models import PETITION_TRANSITIONS, Petition, PetitionStatus
from ncsej_campaigns.text import like_pattern

EDITABLE_FIELDS = (
    "slug", "title_en", "title_ru", "target_en", "target_ru", "text_en", "text_ru",
    "campaign_id", "goal", "milestones", "opens_at", "closes_at",
)
# The wording people sign. Once a petition has opened it stays as signed; a translation that
# was missing may still be added.
WORDING_FIELDS = ("title_en", "title_ru", "target_en", "target_ru", "text_en", "text_ru")

# What a button says for each move; the keys are the target states.
TRANSITION_LABELS = {
    PetitionStatus.OPEN: _l("Open for signatures"),
    PetitionStatus.CLOSED: _l("Close"),
    PetitionStatus.DELIVERED: _l("Record delivery"),
    PetitionStatus.ARCHIVED: _l("Archive"),
}


class PetitionError(ValueError):
    """A rule about petitions was broken; the message is shown to the user."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- reading ----------------------------------------------------------------------------------

def search_petitions(stmt, *, q: str = "", status: str = "", campaign: int | None = None):
    if q:
        pattern = like_pattern(q.strip())
        stmt = stmt.where(or_(
            Petition.title_en.ilike(pattern, escape="\\"),
            Petition.title_ru.ilike(pattern, escape="\\"),
            Petition.slug.ilike(pattern, escape="\\"),
        ))
    if status in {s.value for s in PetitionStatus}:
        stmt = stmt.where(Petition.status == PetitionStatus(status))
    if campaign:
        stmt = stmt.where(Petition.campaign_id == campaign)
    return stmt.order_by(Petition.created_at.desc(), Petition.id.desc())


def petitions_of_campaign(campaign: Campaign) -> list[Petition]:
    return list(db.session.scalars(
        select(Petition).where(Petition.campaign_id == campaign.id)
        .order_by(Petition.created_at.desc())))


def campaign_choices(blank_label) -> list[tuple[int, str]]:
    rows = db.session.execute(select(Campaign.id, Campaign.name_en).order_by(Campaign.name_en))
    return [(0, blank_label)] + [(r.id, r.name_en) for r in rows]


def public_url(petition: Petition, org: Organization | None = None) -> str:
    """The public page of ``petition``, crediting ``org`` when given (the ``?ref=`` link)."""
    return links.share_url(petition, org)


def widget_code(petition: Petition, org: Organization | None = None) -> str:
    """The ``<iframe>`` a member site pastes to carry the signing form."""
    return links.widget_snippet(petition, org)


# --- saving -----------------------------------------------------------------------------------

def _check(petition: Petition, data: dict) -> None:
    slug = claim_slug(petition, data, "title_en", PetitionError,
                      _l("Another petition already uses this short name."))
    if petition.id and petition.slug != slug and petition.status != PetitionStatus.DRAFT:
        raise PetitionError(_l("The link of a published petition cannot change: it has "
                               "been shared."), "slug")
    if petition.id and petition.status != PetitionStatus.DRAFT:
        for field in WORDING_FIELDS:
            old = getattr(petition, field) or ""
            if old and data.get(field, old) != old:
                raise PetitionError(_l("The wording cannot change once the petition has "
                                       "opened: people signed this text."), field)
    if data.get("opens_at") and data.get("closes_at") and data["closes_at"] <= data["opens_at"]:
        raise PetitionError(_l("The petition must close after it opens."), "closes_at")
    if (petition.status == PetitionStatus.OPEN and data.get("closes_at")
            and data["closes_at"] <= utcnow()):
        raise PetitionError(_l("An open petition cannot get a close date in the past; "
                               "close it instead."), "closes_at")


def save_petition(petition: Petition | None, data: dict, *, sponsor_ids=(), actor) -> Petition:
    created = petition is None
    petition = petition or Petition(status=PetitionStatus.DRAFT, created_by=actor)
    data = {k: data[k] for k in EDITABLE_FIELDS if k in data}
    _check(petition, data)
    changed = apply_changes(petition, data)
    if replace_sponsors(petition, sponsor_ids):
        changed.append("sponsors")
    if created:
        db.session.add(petition)
    db.session.flush()
    if created or changed:
        audit.record("petition.created" if created else "petition.updated", target=petition,
                     actor=actor, summary=petition.title_en, details={"fields": changed})
    return petition


# --- states -----------------------------------------------------------------------------------

def allowed_transitions(petition: Petition) -> list[PetitionStatus]:
    order = list(PetitionStatus)
    return sorted(PETITION_TRANSITIONS[petition.status], key=order.index)


def transition_petition(petition: Petition, to: PetitionStatus, *, actor=None,
                        delivered_on: date | None = None, delivered_to: str = "",
                        delivery_method: str = "", delivery_notes: str = "",
                        now: datetime | None = None) -> Petition:
    """Move ``petition`` to ``to`` if PETITION_TRANSITIONS allows it, or raise PetitionError
    and change nothing."""
    now = now or utcnow()
    before = petition.status
    if to not in PETITION_TRANSITIONS[before]:
        raise PetitionError(_l("A petition that is %(before)s cannot become %(after)s.",
                               before=before.label.lower(), after=to.label.lower()))
    details: dict = {"from": before.value, "to": to.value}
    if to == PetitionStatus.OPEN:
        if not petition.text_en.strip() or not petition.target_en.strip():
            raise PetitionError(_l("Write the text and say to whom it is addressed first."))
        if petition.closes_at is not None and petition.closes_at <= now:
            raise PetitionError(_l("Its close date has passed. Move the close date later "
                                   "first, then open it."), "closes_at")
        if petition.opens_at is None or petition.opens_at > now:
            petition.opens_at = now
    elif to == PetitionStatus.CLOSED:
        if petition.closes_at is None or petition.closes_at > now:
            petition.closes_at = now
    elif to == PetitionStatus.DELIVERED:
        missing = [name for name, value in (("delivered_on", delivered_on),
                                            ("delivered_to", delivered_to),
                                            ("delivery_method", delivery_method)) if not value]
        if missing:
            raise PetitionError(_l("Say when, to whom and how it was delivered."), missing[0])
        if delivered_on > now.date():
            raise PetitionError(_l("The delivery date cannot be in the future."),
                                "delivered_on")
        # Noon UTC keeps the date the same in every time zone the coalition works in.
        petition.delivered_at = datetime.combine(delivered_on, time(12), tzinfo=UTC)
        petition.delivered_to = delivered_to
        petition.delivery_method = delivery_method
        petition.delivery_notes = delivery_notes
        details.update(delivered_on=delivered_on.isoformat(), delivered_to=delivered_to,
                       delivery_method=delivery_method)
    petition.status = to
    db.session.flush()
    audit.record("petition.delivered" if to == PetitionStatus.DELIVERED
                 else "petition.status_changed", target=petition, actor=actor,
                 summary=f"{petition.title_en}: {before.value} → {to.value}", details=details)
    return petition
