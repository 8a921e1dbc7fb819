"""Demo coalition for ``flask seed-demo``: realistic, deterministic and idempotent.

Every record is looked up by its natural key (slug, email) before it is created, so running the
command again adds nothing twice.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from ncsej_campaigns.auth.models import Role
from ncsej_campaigns.auth.services import create_user, find_user_by_email
from ncsej_campaigns.db import utcnow
from ncsej_campaigns.demo_names import english_name, russian_name
from ncsej_campaigns.extensions import db
from ncsej_campaigns.organizations.models import MembershipStatus, Organization, OrganizationKind
from ncsej_campaigns.people.models import Person
from ncsej_campaigns.people.services import affiliate, get_or_create_person
from ncsej_campaigns.text import slugify

DEMO_PASSWORD = "freedom-sunday-1987"  # noqa: S105 - printed demo login, demo data only

NATIONAL = ("National Conference on Soviet Jewry", "National", "US")

# (name, region, state) — federations across the country's regions.
FEDERATIONS = [
    ("UJA-Federation of New York", "Northeast", "NY"),
    ("Jewish Federation of Greater Philadelphia", "Northeast", "PA"),
    ("Combined Jewish Philanthropies of Greater Boston", "Northeast", "MA"),
    ("Jewish Federation of Greater Washington", "Mid-Atlantic", "DC"),
    ("The Associated: Jewish Federation of Baltimore", "Mid-Atlantic", "MD"),
    ("Jewish Federation of Greater Pittsburgh", "Northeast", "PA"),
    ("Jewish Federation of Cleveland", "Midwest", "OH"),
    ("Jewish United Fund of Metropolitan Chicago", "Midwest", "IL"),
    ("Jewish Federation of Metropolitan Detroit", "Midwest", "MI"),
    ("Minneapolis Jewish Federation", "Midwest", "MN"),
    ("Jewish Federation of St. Louis", "Midwest", "MO"),
    ("Jewish Federation of Cincinnati", "Midwest", "OH"),
    ("Greater Miami Jewish Federation", "South", "FL"),
    ("Jewish Federation of Greater Atlanta", "South", "GA"),
    ("Jewish Federation of Greater Houston", "South", "TX"),
    ("Jewish Federation of Greater Dallas", "South", "TX"),
    ("Jewish Federation of Greater New Orleans", "South", "LA"),
    ("Jewish Federation of Greater Los Angeles", "West", "CA"),
    ("Jewish Community Federation of San Francisco", "West", "CA"),
    ("Jewish Federation of Greater Seattle", "West", "WA"),
    ("Jewish Federation of Greater Phoenix", "West", "AZ"),
    ("Jewish Federation of Greater Denver", "West", "CO"),
    ("Jewish Federation of Greater Hartford", "Northeast", "CT"),
    ("Jewish Federation of Northern New Jersey", "Northeast", "NJ"),
]

OTHERS = [
    ("Greater New York Conference on Soviet Jewry", OrganizationKind.COMMUNITY_RELATIONS_COUNCIL,
     "Northeast", "US"),
    ("Jewish Community Relations Council of Greater Boston",
     OrganizationKind.COMMUNITY_RELATIONS_COUNCIL, "Northeast", "US"),
    ("Bay Area Council for Soviet Jews", OrganizationKind.COMMUNITY_RELATIONS_COUNCIL,
     "West", "US"),
    # A union of local councils, not a second national agency: the coalition has one.
    ("Union of Councils for Soviet Jews", OrganizationKind.COMMUNITY_RELATIONS_COUNCIL,
     "National", "US"),
    ("Rabbinical Assembly", OrganizationKind.RELIGIOUS_MOVEMENT, "National", "US"),
    ("Union for Reform Judaism", OrganizationKind.RELIGIOUS_MOVEMENT, "National", "US"),
    ("Orthodox Union", OrganizationKind.RELIGIOUS_MOVEMENT, "National", "US"),
    ("Student Struggle for Soviet Jewry", OrganizationKind.STUDENT_GROUP, "Northeast", "US"),
    ("Hillel Students for Soviet Jewry", OrganizationKind.STUDENT_GROUP, "National", "US"),
    ("Moscow Jewish Community Refusenik Circle", OrganizationKind.PARTNER_ABROAD,
     "Moscow", "RU"),
    ("Leningrad Hebrew Teachers Seminar", OrganizationKind.PARTNER_ABROAD, "Leningrad", "RU"),
    ("Kiev Jewish Cultural Association", OrganizationKind.PARTNER_ABROAD, "Kiev", "UA"),
]

CITIES = {"NY": ("New York", "10024"), "PA": ("Philadelphia", "19103"), "MA": ("Boston", "02116"),
          "DC": ("Washington", "20016"), "MD": ("Baltimore", "21209"), "OH": ("Cleveland", "44122"),
          "IL": ("Chicago", "60645"), "MI": ("Southfield", "48075"), "MN": ("Minneapolis", "55416"),
          "MO": ("St. Louis", "63141"), "FL": ("Miami", "33180"), "GA": ("Atlanta", "30328"),
          "TX": ("Houston", "77096"), "LA": ("New Orleans", "70115"),
          "CA": ("Los Angeles", "90035"),
          "WA": ("Seattle", "98118"), "AZ": ("Phoenix", "85028"), "CO": ("Denver", "80246"),
          "CT": ("West Hartford", "06117"), "NJ": ("Paramus", "07652")}


def _org(name, kind, region, country, parent=None, status=MembershipStatus.MEMBER,
         contact=("", "")) -> Organization:
    slug = slugify(name)
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        org = Organization(name=name, slug=slug, kind=kind, region=region, country=country,
                           parent=parent, membership_status=status,
                           contact_name=contact[0], contact_email=contact[1],
                           website=f"https://www.{slug[:40]}.example.org")
        db.session.add(org)
        db.session.flush()
    return org


def seed_organizations(rng: random.Random) -> tuple[Organization, list[Organization]]:
    national = _org(NATIONAL[0], OrganizationKind.NATIONAL_AGENCY, NATIONAL[1], NATIONAL[2],
                    contact=("Myrna Shinbaum", "office@ncsj.example.org"))
    federations = []
    for name, region, _state in FEDERATIONS:
        first, last, _latin = english_name(rng)
        org = _org(name, OrganizationKind.FEDERATION, region, "US", parent=national,
                   contact=(f"{first} {last}", f"{first.lower()}@{slugify(name)[:30]}.example.org"))
        federations.append(org)
    for name, kind, region, country in OTHERS:
        status = MembershipStatus.ASSOCIATE if kind == OrganizationKind.PARTNER_ABROAD else (
            MembershipStatus.MEMBER)
        _org(name, kind, region, country,
             parent=national if kind == OrganizationKind.COMMUNITY_RELATIONS_COUNCIL else None,
             status=status)
    return national, federations


def seed_people(rng: random.Random, federations: list[Organization], count: int = 320) -> None:
    now = utcnow()
    for i in range(count):
        org = federations[i % len(federations)]
        state = next(s for n, _r, s in FEDERATIONS if n == org.name)
        city, postal = CITIES.get(state, ("", ""))
        if i % 3 == 0:  # émigrés and refuseniks' relatives, writing in Russian
            first, last, latin = russian_name(rng)
            email = f"{latin}{i}@example.net"
            language = "ru"
        else:
            first, last, latin = english_name(rng)
            email = f"{latin}{i}@example.com"
            language = "en"
        person, created = get_or_create_person(
            email, first_name=first, last_name=last, city=city, postal_code=postal,
            region=state, country="US", preferred_language=language,
            phone=f"+1 555 01{i % 100:02d}",
        )
        if created and rng.random() < 0.6:
            person.email_consent = True
            person.email_consent_at = now - timedelta(days=rng.randint(1, 400))
            person.email_consent_source = "demo: federation sign-up sheet"
        affiliate(person, org)
    db.session.flush()


def seed_accounts(federations: list[Organization]) -> list[tuple[str, str, str]]:
    wanted = [
        ("admin@coalition.example.org", Role.ADMIN, None, "Coalition Administrator", "en"),
        ("coordinator@coalition.example.org", Role.COORDINATOR, None, "Jerry Goodman", "en"),
        ("koordinator@coalition.example.org", Role.COORDINATOR, None, "Лев Улановский", "ru"),
    ]
    for org in federations[:4]:
        place = org.slug.split("-of-")[-1][:30]
        wanted.append((f"{place}@federations.example.org", Role.FEDERATION, org,
                       f"{org.name} representative", "en"))
    logins = []
    for email, role, org, name, locale in wanted:
        if find_user_by_email(email) is None:
            create_user(email=email, password=DEMO_PASSWORD, role=role, organization=org,
                        full_name=name, locale=locale)
        logins.append((email, role.value, DEMO_PASSWORD))
    return logins


def seed_demo() -> list[tuple[str, str, str]]:
    rng = random.Random(1987)  # the same demo every time
    national, federations = seed_organizations(rng)
    if db.session.scalar(select(Person.id).limit(1)) is None:
        seed_people(rng, federations)
    logins = seed_accounts(federations)
    from ncsej_campaigns.petitions.demo import seed_petitions

    seed_petitions(rng, national, federations)
    db.session.flush()
    return logins
