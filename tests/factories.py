"""factory_boy factories, one per model and state, committing through the tests' own session."""

from __future__ import annotations

from datetime import timedelta

import factory
from sqlalchemy.orm import scoped_session, sessionmaker

from ncsej_campaigns.auth.models import Role, User
from ncsej_campaigns.auth.passwords import hash_password
from ncsej_campaigns.campaigns.models import Campaign
from ncsej_campaigns.db import utcnow
from ncsej_campaigns.organizations.models import MembershipStatus, Organization, OrganizationKind
from ncsej_campaigns.people.models import Affiliation, Person
from ncsej_campaigns.petitions.models import (
    PaperBatch,
    Petition,
    PetitionStatus,
    Signature,
    SignatureStatus,
)
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


# --- petitions (one factory per state, as e-petitions does) -----------------------------------

class PetitionFactory(BaseFactory):
    """An open petition, open since yesterday, with English and Russian wording."""

    class Meta:
        model = Petition

    slug = factory.Sequence(lambda n: f"let-them-go-{n}")
    title_en = factory.Sequence(lambda n: f"Let them go {n}")
    title_ru = factory.Sequence(lambda n: f"Отпусти их {n}")
    text_en = ("We call on the government to let every refusenik emigrate.\n\n"
               "Families have waited for years.")
    text_ru = ("Мы призываем правительство разрешить выезд всем отказникам.\n\n"
               "Семьи ждут годами.")
    target_en = "The Supreme Soviet"
    target_ru = "Верховный Совет"
    goal = 1000
    milestones = factory.LazyFunction(lambda: [10, 100, 500])
    status = PetitionStatus.OPEN
    opens_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=1))
    closes_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=30))


class DraftPetitionFactory(PetitionFactory):
    status = PetitionStatus.DRAFT
    opens_at = None


class ClosedPetitionFactory(PetitionFactory):
    status = PetitionStatus.CLOSED
    opens_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=40))
    closes_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=1))


class SignatureFactory(BaseFactory):
    """A pending signature by a new person."""

    class Meta:
        model = Signature

    petition = factory.SubFactory(PetitionFactory)
    person = factory.SubFactory(PersonFactory)
    status = SignatureStatus.PENDING
    country = "US"
    postal_code = "44122"
    email_domain = "example.com"
    locale = "en"
    created_at = factory.LazyFunction(utcnow)


class ConfirmedSignatureFactory(SignatureFactory):
    status = SignatureStatus.CONFIRMED
    confirmed_at = factory.LazyFunction(utcnow)


class DeliveredPetitionFactory(ClosedPetitionFactory):
    status = PetitionStatus.DELIVERED
    delivered_at = factory.LazyFunction(utcnow)
    delivered_to = "Office of Senator Jackson"
    delivery_method = "Handed over in person"


class ArchivedPetitionFactory(DeliveredPetitionFactory):
    status = PetitionStatus.ARCHIVED


class CampaignFactory(BaseFactory):
    class Meta:
        model = Campaign

    slug = factory.Sequence(lambda n: f"freedom-sunday-{n}")
    name_en = factory.Sequence(lambda n: f"Freedom Sunday {n}")
    name_ru = factory.Sequence(lambda n: f"Воскресенье свободы {n}")
    goal_en = "Freedom of emigration for Soviet Jews"
    goal_ru = "Свобода эмиграции для советских евреев"
    is_public = True


class PaperBatchFactory(BaseFactory):
    class Meta:
        model = PaperBatch

    petition = factory.SubFactory(PetitionFactory)
    signature_count = 250
    source = "Shabbat tables at Temple Beth El"
    collected_on = factory.LazyFunction(lambda: utcnow().date())
