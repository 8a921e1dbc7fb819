"""factory_boy factories, one per model and state, committing through the tests' own session."""

from __future__ import annotations

import factory
from sqlalchemy.orm import scoped_session, sessionmaker

from ncsej_campaigns.auth.models import Role, User
from ncsej_campaigns.auth.passwords import hash_password
from ncsej_campaigns.organizations.models import MembershipStatus, Organization, OrganizationKind
from ncsej_campaigns.people.models import Affiliation, Person
from ncsej_campaigns.text import normalize_email

Session = scoped_session(sessionmaker(expire_on_commit=False))

PASSWORD = "correct-horse-battery"
PASSWORD_HASH = hash_password(PASSWORD)  # hashing once keeps the suite fast


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = Session
        sqlalchemy_session_persistence = "commit"


class OrganizationFactory(BaseFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Jewish Federation of Testville {n}")
    slug = factory.Sequence(lambda n: f"federation-testville-{n}")
    kind = OrganizationKind.FEDERATION
    region = "Midwest"
    country = "US"
    membership_status = MembershipStatus.MEMBER


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Sequence(lambda n: f"Test User {n}")
    password_hash = PASSWORD_HASH
    role = Role.COORDINATOR
    organization = None
    active = True
    locale = ""

    @factory.post_generation
    def _role_from_string(obj, create, extracted, **kwargs):
        if isinstance(obj.role, str):
            obj.role = Role(obj.role)


class PersonFactory(BaseFactory):
    class Meta:
        model = Person

    first_name = factory.Sequence(lambda n: f"Sarah{n}")
    last_name = "Cohen"
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    email_normalized = factory.LazyAttribute(lambda o: normalize_email(o.email))
    city = "Cleveland"
    region = "OH"
    country = "US"
    preferred_language = "en"


class AffiliationFactory(BaseFactory):
    class Meta:
        model = Affiliation

    person = factory.SubFactory(PersonFactory)
    organization = factory.SubFactory(OrganizationFactory)


def person_in(organization, **kwargs) -> Person:
    """A person affiliated with ``organization``."""
    person = PersonFactory(**kwargs)
    AffiliationFactory(person=person, organization=organization)
    return person
