"""A federation representative sees and changes only their own organization and its people.

Anything outside their scope answers 404, never 403, so ids cannot be probed.
"""

from __future__ import annotations

import pytest

from ncsej_campaigns.organizations.models import Organization
from ncsej_campaigns.people.models import Affiliation, Person
from tests import factories
from tests.conftest import post_form


@pytest.fixture
def two_federations():
    mine = factories.OrganizationFactory(name="Jewish Federation of Cleveland")
    theirs = factories.OrganizationFactory(name="Jewish Federation of Greater Boston")
    own_person = factories.person_in(mine, first_name="Rachel", last_name="Klein",
                                     email="rachel.klein@example.com", city="Cleveland")
    other_person = factories.person_in(theirs, first_name="Miriam", last_name="Shapiro",
                                       email="miriam.shapiro@example.com", city="Boston",
                                       phone="+1 617 555 0100")
    return mine, theirs, own_person, other_person


@pytest.fixture
def federation_rep(as_user, two_federations):
    mine = two_federations[0]
    return as_user("federation", organization=mine)


def test_people_list_shows_only_own_people(client, two_federations, federation_rep):
    page = client.get("/people/").get_data(as_text=True)
    assert "Rachel Klein" in page
    assert "Miriam Shapiro" not in page
    assert "1 person" in page


def test_search_finds_only_own_people(client, two_federations, federation_rep):
    _mine, theirs, *_ = two_federations
    page = client.get("/people/?q=Shapiro").get_data(as_text=True)
    assert "Miriam Shapiro" not in page
    assert "No one matches" in page
    page = client.get("/people/?q=example.com").get_data(as_text=True)
    assert "Rachel Klein" in page and "Miriam Shapiro" not in page
    # Naming the other organization in the filter reveals nothing either.
    page = client.get(f"/people/?org={theirs.id}").get_data(as_text=True)
    assert "Miriam Shapiro" not in page


def test_filtering_by_another_organization_reveals_no_ties(client, two_federations,
                                                         federation_rep):
    mine, theirs, own, _other = two_federations
    shared = factories.person_in(mine, first_name="Ida", last_name="Nudel")
    factories.AffiliationFactory(person=shared, organization=theirs)
    page = client.get(f"/people/?org={theirs.id}").get_data(as_text=True)
    # The filter is not applied: both own people show, so nothing tells who is shared.
    assert "Ida Nudel" in page and "Rachel Klein" in page


def test_other_organizations_person_is_404(client, two_federations, federation_rep, dbs):
    *_, other_person = two_federations
    for url in (f"/people/{other_person.id}", f"/people/{other_person.id}/edit",
                f"/people/{other_person.id}/export.json"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Miriam" not in response.get_data(as_text=True)

    response = post_form(client, f"/people/{other_person.id}/edit", {
        "first_name": "Hacked", "email": "hacked@example.com", "preferred_language": "en"},
        form_url="/people/new")
    assert response.status_code == 404
    response = post_form(client, f"/people/{other_person.id}/erase", {"confirm": "y"},
                         form_url="/people/new")
    assert response.status_code == 404
    dbs.expire_all()
    person = dbs.get(Person, other_person.id)
    assert person.first_name == "Miriam" and person.erased_at is None


def test_missing_person_is_404_too(client, two_federations, federation_rep):
    assert client.get("/people/999999").status_code == 404


def test_own_organization_only(client, two_federations, federation_rep):
    mine, theirs, *_ = two_federations
    response = client.get("/organizations/")
    assert response.headers["Location"] == f"/organizations/{mine.id}"
    page = client.get(f"/organizations/{mine.id}").get_data(as_text=True)
    assert "Jewish Federation of Cleveland" in page and "Rachel Klein" in page
    assert client.get(f"/organizations/{theirs.id}").status_code == 404


COORDINATOR_ONLY = [
    ("GET", "/organizations/new"),
    ("POST", "/organizations/new"),
    ("GET", "/organizations/{mine}/edit"),
    ("POST", "/organizations/{mine}/edit"),
    ("GET", "/organizations/{theirs}/edit"),
    ("GET", "/people/{own}/export.json"),
    ("POST", "/people/{own}/erase"),
]


def test_coordinator_only_views_are_404(client, two_federations, federation_rep, dbs):
    mine, theirs, own, _other = two_federations
    for method, path in COORDINATOR_ONLY:
        url = path.format(mine=mine.id, theirs=theirs.id, own=own.id)
        if method == "GET":
            response = client.get(url)
        else:
            response = post_form(client, url, {
                "name": "Renamed", "confirm": "y", "kind": "federation",
                "membership_status": "member", "parent_id": "0"}, form_url="/people/new")
        assert response.status_code == 404, (method, url)
    dbs.expire_all()
    assert dbs.get(Organization, mine.id).name == "Jewish Federation of Cleveland"
    assert dbs.get(Person, own.id).erased_at is None
    assert dbs.query(Organization).count() == 2


def test_federation_edits_own_person(client, two_federations, federation_rep, dbs):
    _mine, _theirs, own, _other = two_federations
    response = post_form(client, f"/people/{own.id}/edit", {
        "first_name": "Rachel", "last_name": "Klein-Adler", "email": own.email,
        "city": "Beachwood", "preferred_language": "en"})
    assert response.headers["Location"] == f"/people/{own.id}"
    dbs.expire_all()
    assert dbs.get(Person, own.id).last_name == "Klein-Adler"


def test_federation_adds_a_person_to_its_own_organization(client, two_federations,
                                                          federation_rep, dbs):
    mine, theirs, *_ = two_federations
    # Even when the form names another organization, the person joins the rep's own.
    response = post_form(client, "/people/new", {
        "first_name": "Ida", "last_name": "Nudel", "email": "ida.nudel@example.net",
        "preferred_language": "ru", "organization_id": str(mine.id)})
    assert response.status_code == 302
    person = dbs.query(Person).filter_by(email_normalized="ida.nudel@example.net").one()
    assert [a.organization_id for a in person.affiliations] == [mine.id]


def test_federation_adding_a_known_email_affiliates_without_overwriting(
        client, two_federations, federation_rep, dbs):
    mine, theirs, _own, other = two_federations
    response = post_form(client, "/people/new", {
        "first_name": "Someone", "last_name": "Else", "email": "Miriam.Shapiro@Example.com",
        "phone": "000", "city": "Nowhere", "preferred_language": "ru",
        "organization_id": str(mine.id)})
    assert response.status_code == 302
    assert "already on record" not in client.get("/people/").get_data(as_text=True)
    dbs.expire_all()
    person = dbs.get(Person, other.id)
    # Nothing typed overwrote what is on file...
    assert (person.first_name, person.last_name, person.phone, person.city,
            person.preferred_language) == ("Miriam", "Shapiro", "+1 617 555 0100", "Boston",
                                           "en")
    # ...the person is now also with the rep's organization, and still one person.
    assert sorted(a.organization_id for a in person.affiliations) == sorted([mine.id, theirs.id])
    assert dbs.query(Person).filter_by(email_normalized="miriam.shapiro@example.com").count() == 1
    # The rep sees only their own organization's tie, not the other one's.
    page = client.get(f"/people/{other.id}").get_data(as_text=True)
    assert "Jewish Federation of Cleveland" in page
    assert "Jewish Federation of Greater Boston" not in page


def test_coordinator_sees_everyone(client, two_federations, as_user):
    as_user("coordinator")
    page = client.get("/people/").get_data(as_text=True)
    assert "Rachel Klein" in page and "Miriam Shapiro" in page
    _mine, theirs, *_ = two_federations
    page = client.get(f"/people/?org={theirs.id}").get_data(as_text=True)
    assert "Miriam Shapiro" in page and "Rachel Klein" not in page


def test_affiliation_count_is_one_per_pair(dbs, two_federations):
    mine, *_ = two_federations
    assert dbs.query(Affiliation).filter_by(organization_id=mine.id).count() == 1
