"""The access policy, in one place: who may open which views, and which rows they may see.

Views declare the roles they need with ``@roles_required``; queries go through the scope
helpers here. Anything outside a user's scope answers 404, never 403, so ids cannot be probed.
"""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, exists, select

from ncsej_campaigns.auth.models import Role
from ncsej_campaigns.extensions import db
from ncsej_campaigns.organizations.models import Organization
from ncsej_campaigns.people.models import Affiliation, Person

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
