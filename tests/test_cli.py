"""The command line: creating accounts and loading the demo coalition."""

from __future__ import annotations

import pytest
from sqlalchemy import func

from ncsej_campaigns.auth.models import Role, User
from ncsej_campaigns.organizations.models import Organization, OrganizationKind
from ncsej_campaigns.people.models import Affiliation, Person
from ncsej_campaigns.petitions.demo import DELIVERED_SIGNATURES, OPEN_SIGNATURES
from tests import factories
from tests.conftest import login


def create(runner, *args):
    return runner.invoke(args=["users", "create", *args])


def test_create_admin_who_can_then_sign_in(runner, client, dbs):
    result = create(runner, "Admin@Example.org", "--role", "admin",
                    "--password", "long-enough-pw", "--name", "Coalition Admin")
    assert result.exit_code == 0, result.output
    assert "Created admin account admin@example.org" in result.output
    user = dbs.query(User).one()
    assert (user.email, user.role, user.full_name) == ("admin@example.org", Role.ADMIN,
                                                       "Coalition Admin")
    assert user.password_hash.startswith("$argon2id$")
    assert login(client, "admin@example.org", "long-enough-pw").status_code == 302


def test_create_coordinator(runner, dbs):
    result = create(runner, "coord@example.org", "--role", "coordinator",
                    "--password", "long-enough-pw")
    assert result.exit_code == 0, result.output
    assert dbs.query(User).one().role == Role.COORDINATOR


def test_create_federation_representative(runner, dbs):
    org = factories.OrganizationFactory(slug="cleveland")
    result = create(runner, "rep@example.org", "--role", "federation", "--org", "cleveland",
                    "--password", "long-enough-pw")
    assert result.exit_code == 0, result.output
    assert "for cleveland" in result.output
    assert dbs.query(User).one().organization_id == org.id


@pytest.mark.parametrize("args, message", [
    (["--role", "federation", "--org", "nowhere", "--password", "long-enough-pw"],
     "No organization with slug 'nowhere'."),
    (["--role", "admin", "--password", "short"], "The password needs at least 10 characters."),
    (["--role", "federation", "--password", "long-enough-pw"],
     "A federation representative must belong to an organization."),
    (["--role", "coordinator", "--org", "cleveland", "--password", "long-enough-pw"],
     "Only federation representatives are tied to an organization."),
    (["--role", "superuser", "--password", "long-enough-pw"], "Invalid value for '--role'"),
])
def test_create_refuses_bad_input(runner, dbs, args, message):
    factories.OrganizationFactory(slug="cleveland")
    result = create(runner, "someone@example.org", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert dbs.query(User).count() == 0


def test_create_refuses_a_duplicate_email(runner, dbs):
    factories.UserFactory(email="taken@example.org")
    result = create(runner, "TAKEN@example.org", "--role", "admin", "--password",
                    "long-enough-pw")
    assert result.exit_code != 0
    assert "An account with this email already exists." in result.output
    assert dbs.query(User).count() == 1


def demo_counts(dbs):
    dbs.expire_all()
    kinds = dict(dbs.query(Organization.kind, func.count()).group_by(Organization.kind).all())
    roles = dict(dbs.query(User.role, func.count()).group_by(User.role).all())
    return {
        "organizations": dbs.query(Organization).count(),
        "national": kinds.get(OrganizationKind.NATIONAL_AGENCY, 0),
        "federations": kinds.get(OrganizationKind.FEDERATION, 0),
        "people": dbs.query(Person).count(),
        "affiliations": dbs.query(Affiliation).count(),
        "roles": roles,
    }


def test_seed_demo_loads_the_coalition_once(runner, dbs, client):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "admin@coalition.example.org" in result.output
    counts = demo_counts(dbs)
    assert counts["national"] == 1
    assert counts["federations"] == 24
    # The 320 of the members' directory, and the public who signed the demo petitions.
    assert counts["people"] == 320 + OPEN_SIGNATURES + DELIVERED_SIGNATURES
    assert counts["affiliations"] == 320
    assert all(counts["roles"].get(role, 0) >= 1 for role in Role)
    cyrillic = [p for p in dbs.query(Person) if any("а" <= ch <= "я" or "А" <= ch <= "Я"
                                                    for ch in p.first_name + p.last_name)]
    assert len(cyrillic) > 50
    assert all(p.preferred_language == "ru" for p in cyrillic)
    reps = dbs.query(User).filter_by(role=Role.FEDERATION).all()
    assert all(r.organization.kind == OrganizationKind.FEDERATION for r in reps)

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert demo_counts(dbs) == counts

    # The printed logins work.
    assert login(client, "admin@coalition.example.org", "freedom-sunday-1987").status_code == 302
