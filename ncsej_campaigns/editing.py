"""What saving an organization, a campaign or a petition has in common: a unique short name
(the slug in its public address), applying the edited fields, replacing the sponsors."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ncsej_campaigns.extensions import db
from ncsej_campaigns.organizations.models import Organization
from ncsej_campaigns.text import slugify


def claim_slug(obj, data: dict, source_field: str, error, taken_message) -> str:
    """Set ``data["slug"]`` (the one typed, else made from ``source_field``) and check that no
    other row of ``obj``'s kind has it; ``error(message, field)`` is raised otherwise."""
    model = type(obj)
    slug = data.get("slug") or slugify(data[source_field])
    if not slug:
        raise error(_l("Choose a short name made of letters and digits."), "slug")
    data["slug"] = slug
    taken = db.session.scalar(
        select(func.count()).select_from(model)
        .where(model.slug == slug, model.id != (obj.id or 0)))
    if taken:
        raise error(taken_message, "slug")
    return slug


def apply_changes(obj, data: dict) -> list[str]:
    """Set every field of ``data`` on ``obj``; the names of those whose value changed."""
    changed = sorted(k for k, v in data.items() if getattr(obj, k, None) != v)
    for key, value in data.items():
        setattr(obj, key, value)
    return changed


def replace_sponsors(obj, sponsor_ids) -> bool:
    """Make the organizations with ``sponsor_ids`` the sponsors of ``obj``; True if they
    changed."""
    sponsors = list(db.session.scalars(
        select(Organization).where(Organization.id.in_(list(sponsor_ids)))
        .order_by(Organization.name))) if sponsor_ids else []
    changed = {o.id for o in sponsors} != {o.id for o in obj.sponsors}
    obj.sponsors = sponsors
    return changed
