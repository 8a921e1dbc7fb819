"""The access policy, in one place: who may open which views, and which rows they may see.

Views declare the roles they need with ``@roles_required``; queries go through the scope
helpers here. Anything outside a user's scope answers 404, never 403, so ids cannot be probed.
"""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, exists, false, select

from ncsej_campaigns.auth.models import Role
from ncsej_campaigns.campaigns.models import Campaign
from ncsej_campaigns.extensions import db
from ncsej_campaigns.organizations.models import Organization
from ncsej_campaigns.people.models import Affiliation, Person
from ncsej_campaigns.petitions.models import PUBLIC_STATES, PaperBatch, Petition, Signature

ALL_ROLES = (Role.ADMIN, Role.COORDINATOR, Role.FEDERATION)
COALITION_ROLES = (Role.ADMIN, Role.COORDINATOR)


def roles_required(*roles: Role):
    """Sign-in required; a signed-in user without one of ``roles`` gets 404."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return wrapper

    return decorator


admin_required = roles_required(Role.ADMIN)
coalition_required = roles_required(*COALITION_ROLES)
member_required = roles_required(*ALL_ROLES)


def scope_organization_id() -> int | None:
    """The one organization a federation representative is limited to; None for coalition-wide."""
    if current_user.is_coalition_wide:
        return None
    return current_user.organization_id


def scoped_people(stmt: Select | None = None) -> Select:
    stmt = stmt if stmt is not None else select(Person)
    org_id = scope_organization_id()
    if org_id is not None:
        stmt = stmt.where(
            exists().where(
                Affiliation.person_id == Person.id, Affiliation.organization_id == org_id
            )
        )
    return stmt


def scoped_organizations(stmt: Select | None = None) -> Select:
    stmt = stmt if stmt is not None else select(Organization)
    org_id = scope_organization_id()
    if org_id is not None:
        stmt = stmt.where(Organization.id == org_id)
    return stmt


def get_person_or_404(person_id: int) -> Person:
    person = db.session.scalar(scoped_people().where(Person.id == person_id))
    if person is None:
        abort(404)
    return person


def get_organization_or_404(organization_id: int) -> Organization:
    org = db.session.scalar(scoped_organizations().where(Organization.id == organization_id))
    if org is None:
        abort(404)
    return org


# --- campaigns and petitions -----------------------------------------------------------------

def scoped_campaigns(stmt: Select | None = None) -> Select:
    """Campaigns are coalition work; a federation representative sees none of the editor."""
    stmt = stmt if stmt is not None else select(Campaign)
    if scope_organization_id() is not None:
        stmt = stmt.where(false())
    return stmt


def get_campaign_or_404(campaign_id: int):
    campaign = db.session.scalar(scoped_campaigns().where(Campaign.id == campaign_id))
    if campaign is None:
        abort(404)
    return campaign


def scoped_petitions(stmt: Select | None = None) -> Select:
    """Coordinators see every petition; a federation only those the public can see."""
    stmt = stmt if stmt is not None else select(Petition)
    if scope_organization_id() is not None:
        stmt = stmt.where(Petition.status.in_(PUBLIC_STATES))
    return stmt


def get_petition_or_404(petition_id: int):
    petition = db.session.scalar(scoped_petitions().where(Petition.id == petition_id))
    if petition is None:
        abort(404)
    return petition


def scoped_signatures(stmt: Select | None = None) -> Select:
    """A federation representative sees only the signatures its own organization referred."""
    stmt = stmt if stmt is not None else select(Signature)
    org_id = scope_organization_id()
    if org_id is not None:
        stmt = stmt.where(Signature.referring_organization_id == org_id)
    return stmt


def scoped_paper_batches(stmt: Select | None = None) -> Select:
    """A federation representative sees only the paper batches of its own organization."""
    stmt = stmt if stmt is not None else select(PaperBatch)
    org_id = scope_organization_id()
    if org_id is not None:
        stmt = stmt.where(PaperBatch.organization_id == org_id)
    return stmt


def get_paper_batch_or_404(petition, batch_id: int):
    batch = db.session.scalar(scoped_paper_batches().where(
        PaperBatch.id == batch_id, PaperBatch.petition_id == petition.id))
    if batch is None:
        abort(404)
    return batch


def organization_in_scope_or_404(organization_id: int | None) -> int | None:
    """An organization a report may be narrowed to: a federation may name only its own."""
    org_id = scope_organization_id()
    if org_id is not None and organization_id not in (None, org_id):
        abort(404)
    return organization_id if organization_id is not None else org_id
