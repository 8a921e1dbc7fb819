"""Operations on organizations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from ncsej_campaigns.audit import services as audit
from ncsej_campaigns.editing import apply_changes, claim_slug
from ncsej_campaigns.extensions import db
from ncsej_campaigns.organizations.models import MembershipStatus, Organization, OrganizationKind
from ncsej_campaigns.text import like_pattern

EDITABLE_FIELDS = (
    "name", "slug", "kind", "parent_id", "region", "country", "membership_status",
    "contact_name", "contact_email", "contact_phone", "website", "description",
)


class OrganizationError(ValueError):
    """A rule about organizations was broken; the message is shown to the user."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


def get_by_slug(slug: str) -> Organization | None:
    return db.session.scalar(select(Organization).where(Organization.slug == slug))


def search_organizations(stmt, *, q: str = "", kind: str = "", region: str = "",
                         status: str = ""):
    if q:
        pattern = like_pattern(q.strip())
        stmt = stmt.where(or_(
            Organization.name.ilike(pattern, escape="\\"),
            Organization.slug.ilike(pattern, escape="\\"),
            Organization.region.ilike(pattern, escape="\\"),
        ))
    # Filters come from the query string: a value the enums do not know would fail in the
    # database driver, so it is ignored like an empty filter.
    if kind in {k.value for k in OrganizationKind}:
        stmt = stmt.where(Organization.kind == kind)
    if region:
        stmt = stmt.where(Organization.region == region)
    if status in {s.value for s in MembershipStatus}:
        stmt = stmt.where(Organization.membership_status == status)
    return stmt.order_by(Organization.name)


def known_regions() -> list[str]:
    return list(db.session.scalars(
        select(Organization.region).where(Organization.region != "").distinct()
        .order_by(Organization.region)
    ))


def _check(org: Organization, data: dict) -> None:
    claim_slug(org, data, "name", OrganizationError,
               _l("Another organization already uses this short name."))
    parent_id = data.get("parent_id")
    # Walk up from the chosen parent: reaching this organization would make a cycle.
    seen = set()
    while parent_id and org.id:
        if parent_id == org.id:
            raise OrganizationError(
                _l("An organization cannot be placed under itself or its own members."),
                "parent_id",
            )
        if parent_id in seen:
            break
        seen.add(parent_id)
        parent_id = db.session.scalar(
            select(Organization.parent_id).where(Organization.id == parent_id)
        )


def save_organization(org: Organization | None, data: dict, *, actor) -> Organization:
    created = org is None
    org = org or Organization()
    data = {k: data[k] for k in EDITABLE_FIELDS if k in data}
    _check(org, data)
    changed = apply_changes(org, data)
    if created:
        db.session.add(org)
    db.session.flush()
    if created or changed:
        audit.record(
            "organization.created" if created else "organization.updated",
            target=org, actor=actor, summary=org.name, details={"fields": changed},
        )
    return org
