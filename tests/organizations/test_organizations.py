"""Coordinators create, edit, find and open organizations."""

from __future__ import annotations

import pytest

from ncsej_campaigns.organizations.models import MembershipStatus, Organization, OrganizationKind
from tests import factories
from tests.conftest import post_form


def org_form(**overrides):
    data = {"name": "Jewish Federation of Cleveland", "slug": "", "kind": "federation",
            "parent_id": "0", "region": "Midwest", "country": "US",
            "membership_status": "member", "contact_name": "", "contact_email": "",
            "contact_phone": "", "website": "", "description": ""}
    data.update(overrides)
    return data


@pytest.fixture
def coordinator(as_user):
    return as_user("coordinator")


def test_coordinator_creates_an_organization(client, coordinator, dbs):
    response = post_form(client, "/organizations/new", org_form(
        website="https://www.jewishcleveland.example.org", country="us",
        contact_email="office@jewishcleveland.example.org"))
    org = dbs.query(Organization).one()
    assert response.headers["Location"] == f"/organizations/{org.id}"
    assert org.slug == "jewish-federation-of-cleveland"  # made from the name
    assert org.country == "US"
    page = client.get(f"/organizations/{org.id}").get_data(as_text=True)
    assert "Jewish Federation of Cleveland saved." in page
    assert "https://www.jewishcleveland.example.org" in page


INVALID_ORGANIZATIONS = [
    ({"name": ""}, "Enter the name."),
    ({"slug": "Not A Slug!"}, "Use lowercase letters, digits and dashes."),
    ({"slug": "-leading-dash"}, "Use lowercase letters, digits and dashes."),
    ({"website": "not a web address"}, "Enter a full address starting with https://."),
    ({"website": "javascript://example.org/%0Aalert(1)"},
     "Enter a full address starting with https://."),
    ({"website": "ftp://files.example.org/"}, "Enter a full address starting with https://."),
    ({"country": "USA"}, "Use a two-letter country code, like US or IL."),
    ({"country": "1A"}, "Use a two-letter country code, like US or IL."),
    ({"contact_email": "office-at-example"}, "Enter a valid email address."),
    ({"name": "x" * 201}, "Keep this under 200 characters."),
    ({"name": "!!!"}, "Choose a short name made of letters and digits."),
]


def test_invalid_organization_gets_a_message_and_is_not_saved(client, coordinator, dbs):
    # One sign-in for all the cases: each one is a separate submission of the form.
    for fields, message in INVALID_ORGANIZATIONS:
        response = post_form(client, "/organizations/new", org_form(**fields))
        assert response.status_code == 200, fields
        assert message in response.get_data(as_text=True), fields
    assert dbs.query(Organization).count() == 0


def test_duplicate_slug_is_refused(client, coordinator, dbs):
    factories.OrganizationFactory(slug="jewish-federation-of-cleveland")
    response = post_form(client, "/organizations/new", org_form())
    assert "Another organization already uses this short name." in response.get_data(
        as_text=True)
    response = post_form(client, "/organizations/new",
                         org_form(slug="jewish-federation-of-cleveland"))
    assert "Another organization already uses this short name." in response.get_data(
        as_text=True)
    assert dbs.query(Organization).count() == 1


def test_edit_saves_changes(client, coordinator, dbs):
    org = factories.OrganizationFactory(name="Federation of Testville", slug="testville")
    url = f"/organizations/{org.id}/edit"
    assert 'value="testville"' in client.get(url).get_data(as_text=True)
    response = post_form(client, url, org_form(
        name="Federation of Testville", slug="testville", kind="community_relations_council",
        membership_status="suspended", region="Northeast"))
    assert response.headers["Location"] == f"/organizations/{org.id}"
    dbs.expire_all()
    saved = dbs.get(Organization, org.id)
    assert saved.kind == OrganizationKind.COMMUNITY_RELATIONS_COUNCIL
    assert saved.membership_status == MembershipStatus.SUSPENDED
    assert saved.region == "Northeast"


def test_editing_keeps_own_slug(client, coordinator, dbs):
    org = factories.OrganizationFactory(slug="testville")
    response = post_form(client, f"/organizations/{org.id}/edit",
                         org_form(name=org.name, slug="testville"))
    assert response.status_code == 302


def test_parent_cycle_is_refused(client, coordinator, dbs):
    national = factories.OrganizationFactory(name="National Conference",
                                             kind=OrganizationKind.NATIONAL_AGENCY)
    region = factories.OrganizationFactory(name="Regional Council", parent=national)
    local = factories.OrganizationFactory(name="Local Federation", parent=region)
    response = post_form(client, f"/organizations/{national.id}/edit", org_form(
        name=national.name, slug=national.slug, kind="national_agency",
        parent_id=str(local.id)))
    assert response.status_code == 200
    assert ("An organization cannot be placed under itself or its own members."
            in response.get_data(as_text=True))
    dbs.expire_all()
    assert dbs.get(Organization, national.id).parent_id is None


def test_organization_cannot_be_its_own_parent(client, coordinator, dbs):
    org = factories.OrganizationFactory()
    response = post_form(client, f"/organizations/{org.id}/edit",
                         org_form(name=org.name, slug=org.slug, parent_id=str(org.id)))
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    dbs.expire_all()
    assert dbs.get(Organization, org.id).parent_id is None


def test_list_search_and_filters(client, coordinator):
    factories.OrganizationFactory(name="Jewish Federation of Cleveland", region="Midwest")
    factories.OrganizationFactory(name="Orthodox Union", region="National",
                                  kind=OrganizationKind.RELIGIOUS_MOVEMENT)
    factories.OrganizationFactory(name="Kiev Jewish Cultural Association", region="Kiev",
                                  country="UA", kind=OrganizationKind.PARTNER_ABROAD,
                                  membership_status=MembershipStatus.ASSOCIATE)
    page = client.get("/organizations/?q=cleveland").get_data(as_text=True)
    assert "Jewish Federation of Cleveland" in page and "Orthodox Union" not in page
    page = client.get("/organizations/?kind=religious_movement").get_data(as_text=True)
    assert "Orthodox Union" in page and "Cleveland" not in page
    page = client.get("/organizations/?region=Kiev").get_data(as_text=True)
    assert "Kiev Jewish Cultural Association" in page and "Orthodox Union" not in page
    page = client.get("/organizations/?status=associate").get_data(as_text=True)
    assert "Kiev Jewish Cultural Association" in page and "Cleveland" not in page
    page = client.get("/organizations/?q=100%25").get_data(as_text=True)
    assert "No organization matches these filters." in page


def test_unknown_filter_values_are_ignored_not_an_error(client, coordinator):
    factories.OrganizationFactory(name="Orthodox Union")
    for query in ("kind=bogus", "status=bogus", "page=abc", "page=-3"):
        response = client.get(f"/organizations/?{query}")
        assert response.status_code == 200, query
        assert "Orthodox Union" in response.get_data(as_text=True), query


def test_list_has_pages_of_25(client, coordinator):
    for i in range(27):
        factories.OrganizationFactory(name=f"Federation {i:02d}", slug=f"federation-{i:02d}")
    page = client.get("/organizations/").get_data(as_text=True)
    assert "27 organizations" in page
    assert "Federation 24" in page and "Federation 25" not in page
    assert "Page 1 of 2" in page
    page = client.get("/organizations/?page=2").get_data(as_text=True)
    assert "Federation 25" in page and "Federation 26" in page and "Federation 00" not in page
    assert "Page 2 of 2" in page


def test_detail_shows_people_and_representatives(client, coordinator):
    org = factories.OrganizationFactory(name="Jewish Federation of Cleveland")
    factories.person_in(org, first_name="Rachel", last_name="Klein")
    factories.UserFactory(role="federation", organization=org, email="rep@cleveland.example.org",
                          full_name="Cleveland Rep")
    other = factories.OrganizationFactory()
    factories.person_in(other, first_name="Miriam", last_name="Shapiro")
    page = client.get(f"/organizations/{org.id}").get_data(as_text=True)
    assert "Rachel Klein" in page
    assert "Miriam Shapiro" not in page
    assert "Cleveland Rep" in page and "rep@cleveland.example.org" in page


def test_detail_without_representatives_says_so(client, coordinator):
    org = factories.OrganizationFactory()
    page = client.get(f"/organizations/{org.id}").get_data(as_text=True)
    assert "No representative has an account yet." in page
    assert "No one is registered with this organization yet." in page


def test_missing_organization_is_404(client, coordinator):
    assert client.get("/organizations/999999").status_code == 404
    assert client.get("/organizations/999999/edit").status_code == 404
