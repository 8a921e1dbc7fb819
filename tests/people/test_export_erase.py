"""Coordinators export a person's data as JSON and erase it, with a confirmation box."""

from __future__ import annotations

import json

import pytest

from ncsej_campaigns.audit.models import AuditEntry
from ncsej_campaigns.people.models import Affiliation, Person
from tests import factories
from tests.conftest import post_form


@pytest.fixture
def coordinator(as_user):
    return as_user("coordinator")


@pytest.fixture
def person():
    org = factories.OrganizationFactory(name="Jewish Federation of Cleveland")
    return factories.person_in(org, first_name="Sarah", last_name="Cohen",
                               email="sarah.cohen@example.com", phone="+1 216 555 0100",
                               street_address="1 Main St", postal_code="44122")


def test_export_downloads_json_and_is_audited(client, coordinator, person, dbs):
    response = client.get(f"/people/{person.id}/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert (response.headers["Content-Disposition"]
            == f'attachment; filename="person-{person.id}.json"')
    data = json.loads(response.get_data(as_text=True))
    assert data["email"] == "sarah.cohen@example.com"
    assert data["phone"] == "+1 216 555 0100"
    assert data["affiliations"] == [{"organization": "Jewish Federation of Cleveland",
                                     "title": "", "board_seat": False}]
    entry = dbs.query(AuditEntry).filter_by(action="person.exported").one()
    assert entry.actor_id == coordinator.id and entry.target_id == person.id


def test_erase_without_confirmation_changes_nothing(client, coordinator, person, dbs):
    response = post_form(client, f"/people/{person.id}/erase", {},
                         form_url=f"/people/{person.id}")
    assert response.headers["Location"] == f"/people/{person.id}"
    assert "Tick the box to confirm the erasure." in client.get(
        f"/people/{person.id}").get_data(as_text=True)
    dbs.expire_all()
    assert dbs.get(Person, person.id).email == "sarah.cohen@example.com"
    assert dbs.query(AuditEntry).filter_by(action="person.erased").count() == 0


def test_erase_with_confirmation_anonymizes_and_keeps_counts(client, coordinator, person, dbs):
    org_id = person.affiliations[0].organization_id
    response = post_form(client, f"/people/{person.id}/erase", {"confirm": "y"},
                         form_url=f"/people/{person.id}")
    assert response.headers["Location"] == f"/people/{person.id}"
    page = client.get(f"/people/{person.id}").get_data(as_text=True)
    assert "The person&#39;s data was erased." in page or "The person's data was erased." in page
    assert "sarah.cohen@example.com" not in page and "Sarah" not in page
    dbs.expire_all()
    erased = dbs.get(Person, person.id)
    assert erased.is_erased and erased.email is None and erased.phone == ""
    assert erased.region == "OH" and erased.country == "US"  # counts by place stay true
    assert dbs.query(Affiliation).filter_by(organization_id=org_id).count() == 1
    org_page = client.get(f"/organizations/{org_id}").get_data(as_text=True)
    assert "(erased)" in org_page
    entry = dbs.query(AuditEntry).filter_by(action="person.erased").one()
    assert entry.actor_id == coordinator.id
    # An erased person can no longer be edited.
    response = client.get(f"/people/{person.id}/edit")
    assert response.headers["Location"] == f"/people/{person.id}"


def test_erasure_leaves_no_name_in_the_audit_log(client, as_user, person, dbs):
    as_user("admin")
    post_form(client, f"/people/{person.id}/edit", {
        "first_name": "Sarah", "last_name": "Cohen-Levy", "email": person.email,
        "preferred_language": "en"})
    post_form(client, f"/people/{person.id}/erase", {"confirm": "y"},
              form_url=f"/people/{person.id}")
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert "person.erased" in page
    assert "Cohen" not in page and "sarah.cohen@example.com" not in page
