"""People: one record per human (normalized email), coordinators' search and edits, consent."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from ncsej_campaigns.people.models import Person
from tests import factories
from tests.conftest import post_form


def person_form(**overrides):
    data = {"first_name": "Sarah", "last_name": "Cohen", "email": "sarah.cohen@example.com",
            "phone": "", "street_address": "", "postal_code": "", "city": "Cleveland",
            "region": "OH", "country": "US", "preferred_language": "en",
            "organization_id": "0"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def coordinator(as_user):
    return as_user("coordinator")


def test_coordinator_adds_a_person(client, coordinator, dbs):
    org = factories.OrganizationFactory(name="Jewish Federation of Cleveland")
    response = post_form(client, "/people/new", person_form(organization_id=str(org.id)))
    person = dbs.query(Person).one()
    assert response.headers["Location"] == f"/people/{person.id}"
    page = client.get(f"/people/{person.id}").get_data(as_text=True)
    assert "Sarah Cohen saved." in page
    assert "Jewish Federation of Cleveland" in page
    assert person.email_normalized == "sarah.cohen@example.com"


@pytest.mark.parametrize("variant", [
    "Sarah.Cohen@Example.COM",
    "  sarah.cohen@example.com ",
    "ｓａｒａｈ.ｃｏｈｅｎ@ｅｘａｍｐｌｅ.ｃｏｍ",  # fullwidth letters, NFKC-equal
])
def test_same_address_written_differently_is_the_same_person(client, coordinator, dbs,
                                                             variant):
    existing = factories.PersonFactory(email="sarah.cohen@example.com", first_name="Sarah")
    response = post_form(client, "/people/new", person_form(email=variant, first_name="Sally"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "A person with this email is already on record." in page
    assert f'href="/people/{existing.id}"' in page
    assert dbs.query(Person).count() == 1


def test_plus_tagged_address_is_a_different_person(client, coordinator, dbs):
    factories.PersonFactory(email="sarah.cohen@example.com")
    response = post_form(client, "/people/new",
                         person_form(email="sarah.cohen+rally@example.com"))
    assert response.status_code == 302
    assert dbs.query(Person).count() == 2


def test_database_refuses_two_people_with_one_normalized_email(dbs):
    dbs.add(Person(first_name="A", email="dup@example.com", email_normalized="dup@example.com"))
    dbs.commit()
    dbs.add(Person(first_name="B", email="DUP@example.com", email_normalized="dup@example.com"))
    with pytest.raises(IntegrityError):
        dbs.commit()
    dbs.rollback()
    assert dbs.query(Person).count() == 1


def test_normalize_email():
    from ncsej_campaigns.text import normalize_email

    assert normalize_email("Sarah.Cohen@Example.COM") == "sarah.cohen@example.com"
    assert normalize_email("ｓａｒａｈ@ｅｘａｍｐｌｅ.ｃｏｍ") == "sarah@example.com"
    assert normalize_email("sarah+tag@example.com") == "sarah+tag@example.com"


SEARCHES = [
    ("Cohen", ["Sarah Cohen"]),
    ("sarah cohen", ["Sarah Cohen"]),
    ("Sarah Cohen", ["Sarah Cohen"]),
    ("DAVID.LEVY@", ["David Levy"]),
    ("boston", ["David Levy"]),
    ("02116", ["David Levy"]),
    ("Анатолий", ["Анатолий Щаранский"]),
    ("анатолий щаранский", ["Анатолий Щаранский"]),
    ("nobody", []),
    ("%", []),
]


def test_coordinator_search(client, coordinator):
    factories.PersonFactory(first_name="Sarah", last_name="Cohen", email="s.c@example.com",
                            city="Cleveland")
    factories.PersonFactory(first_name="David", last_name="Levy", email="david.levy@example.com",
                            city="Boston", postal_code="02116")
    factories.PersonFactory(first_name="Анатолий", last_name="Щаранский",
                            email="anatoly@example.net", city="Moscow")
    for query, found in SEARCHES:
        page = client.get("/people/", query_string={"q": query}).get_data(as_text=True)
        for name in ("Sarah Cohen", "David Levy", "Анатолий Щаранский"):
            assert (name in page) == (name in found), (query, name)


def test_people_list_pages(client, coordinator):
    for i in range(26):
        factories.PersonFactory(first_name=f"P{i:02d}", last_name="Levy")
    page = client.get("/people/").get_data(as_text=True)
    assert "26 people" in page and "Page 1 of 2" in page
    page = client.get("/people/?page=2").get_data(as_text=True)
    assert "P25 Levy" in page and "P00 Levy" not in page


def test_coordinator_edits_a_person(client, coordinator, dbs):
    person = factories.PersonFactory(first_name="Sarah", last_name="Cohen",
                                     email="sarah.cohen@example.com")
    url = f"/people/{person.id}/edit"
    assert 'value="sarah.cohen@example.com"' in client.get(url).get_data(as_text=True)
    response = post_form(client, url, person_form(
        email="Sarah.Levy@Example.com", last_name="Levy", phone="+1 216 555 0199",
        organization_id=None))
    assert response.headers["Location"] == f"/people/{person.id}"
    dbs.expire_all()
    saved = dbs.get(Person, person.id)
    assert (saved.last_name, saved.email, saved.email_normalized, saved.phone) == (
        "Levy", "Sarah.Levy@Example.com", "sarah.levy@example.com", "+1 216 555 0199")


def test_edit_to_another_persons_email_is_refused(client, coordinator, dbs):
    factories.PersonFactory(email="taken@example.com")
    person = factories.PersonFactory(email="mine@example.com")
    response = post_form(client, f"/people/{person.id}/edit",
                         person_form(email="TAKEN@example.com", organization_id=None))
    assert "Another person already has this email." in response.get_data(as_text=True)
    dbs.expire_all()
    assert dbs.get(Person, person.id).email == "mine@example.com"


def test_consent_is_recorded_with_time_and_source(client, coordinator, dbs):
    response = post_form(client, "/people/new", person_form(email_consent="y"))
    assert response.status_code == 302
    person = dbs.query(Person).one()
    assert person.email_consent is True
    assert person.email_consent_at is not None
    assert person.email_consent_source == f"entered by {coordinator.email}"
    page = client.get(f"/people/{person.id}").get_data(as_text=True)
    assert "Given on" in page and coordinator.email in page


def test_consent_withdrawn_keeps_when_it_was_given(client, coordinator, dbs):
    person = factories.PersonFactory()
    post_form(client, f"/people/{person.id}/edit",
              person_form(email=person.email, email_consent="y", organization_id=None))
    dbs.expire_all()
    given_at = dbs.get(Person, person.id).email_consent_at
    assert given_at is not None
    post_form(client, f"/people/{person.id}/edit",
              person_form(email=person.email, organization_id=None))
    dbs.expire_all()
    saved = dbs.get(Person, person.id)
    assert saved.email_consent is False
    assert "Not given" in client.get(f"/people/{person.id}").get_data(as_text=True)


INVALID_PEOPLE = [
    ({"first_name": ""}, "Enter the first name."),
    ({"first_name": "S" * 101}, "Keep this under 100 characters."),
    ({"email": ""}, "Enter the email address."),
    ({"email": "sarah-at-example.com"}, "Enter a valid email address."),
    ({"email": "a" * 250 + "@example.com"}, "Keep this under 254 characters."),
    ({"country": "USA"}, "Use a two-letter country code, like US or IL."),
    ({"phone": "5" * 41}, "Keep this under 40 characters."),
    ({"postal_code": "1" * 21}, "Keep this under 20 characters."),
    ({"preferred_language": "de"}, "Not a valid choice"),
]


def test_invalid_person_gets_a_message_and_is_not_saved(client, coordinator, dbs):
    for fields, message in INVALID_PEOPLE:
        response = post_form(client, "/people/new", person_form(**fields))
        assert response.status_code == 200, fields
        assert message in response.get_data(as_text=True), fields
    assert dbs.query(Person).count() == 0


def test_nul_characters_are_dropped_not_a_server_error(client, coordinator, dbs):
    response = post_form(client, "/people/new", person_form(first_name="Sa\x00rah"))
    assert response.status_code == 302
    assert dbs.query(Person).one().first_name == "Sarah"
    response = client.get("/people/", query_string={"q": "Sa\x00rah"})
    assert response.status_code == 200
    assert "Sarah Cohen" in response.get_data(as_text=True)


def test_consent_source_fits_even_for_a_long_sign_in_email(ctx, dbs):
    from ncsej_campaigns.extensions import db
    from ncsej_campaigns.people import services

    long_email = "coordinator." + "x" * 50 + "@" + ".".join(["federation" * 5] * 3) + ".org"
    actor = factories.UserFactory(email=long_email)
    actor = db.session.get(type(actor), actor.id)
    person = services.create_person(
        {"first_name": "Sarah", "email": "sarah@example.com", "email_consent": True},
        organization=None, actor=actor)
    db.session.commit()
    dbs.expire_all()
    stored = dbs.get(Person, person.id)
    assert stored.email_consent and stored.email_consent_source.startswith("entered by ")
