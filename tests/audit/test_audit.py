"""The audit log records who changed what and when, and admins read it on /admin/audit/."""

from __future__ import annotations

from ncsej_campaigns.audit.models import AuditEntry
from ncsej_campaigns.people.models import Person
from tests import factories
from tests.conftest import post_form
from tests.helpers import link_in


def entries(dbs, action):
    dbs.expire_all()
    return dbs.query(AuditEntry).filter_by(action=action).all()


def test_account_creation_and_role_change_are_recorded(client, as_user, dbs):
    admin = as_user("admin")
    org = factories.OrganizationFactory(slug="cleveland")
    post_form(client, "/admin/accounts/new", {
        "email": "rep@example.org", "full_name": "", "role": "coordinator",
        "organization_id": "0", "locale": "", "active": "y", "password": "initial-password-1"})
    (created,) = entries(dbs, "account.created")
    assert created.actor_id == admin.id and created.actor_label == admin.email
    assert created.target_type == "users" and created.details["role"] == "coordinator"
    assert created.created_at is not None

    post_form(client, f"/admin/accounts/{created.target_id}", {
        "email": "rep@example.org", "full_name": "", "role": "federation",
        "organization_id": str(org.id), "locale": "", "active": "y"})
    (updated,) = entries(dbs, "account.updated")
    assert updated.details == {"role": ["coordinator", "federation"],
                               "organization": [None, "cleveland"]}
    assert updated.actor_id == admin.id


def test_password_change_and_reset_are_recorded_without_the_password(client, as_user, dbs,
                                                                      mailbox, app):
    user = as_user("coordinator")
    post_form(client, "/account/password", {"current_password": factories.PASSWORD,
                                            "password": "a-brand-new-password",
                                            "confirm": "a-brand-new-password"})
    (changed,) = entries(dbs, "account.password_changed")
    assert changed.actor_id == user.id and changed.target_id == user.id

    other = factories.UserFactory()
    anonymous = app.test_client()
    post_form(anonymous, "/password/forgot", {"email": other.email})
    link = link_in(mailbox.wait_for(to=other.email)[0])
    post_form(anonymous, link, {"password": "another-new-password",
                                "confirm": "another-new-password"})
    assert entries(dbs, "account.password_reset_requested")[0].target_id == other.id
    (reset,) = entries(dbs, "account.password_reset")
    assert reset.actor_label == other.email and reset.target_id == other.id
    for entry in dbs.query(AuditEntry):
        assert "new-password" not in f"{entry.summary} {entry.details}"


def test_person_create_and_update_record_field_names_only(client, as_user, dbs):
    coordinator = as_user("coordinator")
    post_form(client, "/people/new", {
        "first_name": "Sarah", "last_name": "Cohen", "email": "sarah.cohen@example.com",
        "phone": "+1 216 555 0100", "preferred_language": "en", "organization_id": "0"})
    person = dbs.query(Person).one()
    (created,) = entries(dbs, "person.created")
    assert created.actor_id == coordinator.id and created.target_id == person.id

    post_form(client, f"/people/{person.id}/edit", {
        "first_name": "Sarah", "last_name": "Levy", "email": "sarah.cohen@example.com",
        "phone": "+1 216 555 0199", "preferred_language": "en"})
    (updated,) = entries(dbs, "person.updated")
    assert updated.details == {"fields": ["last_name", "phone"]}
    for entry in (created, updated):
        text = f"{entry.summary} {entry.details}"
        for personal in ("Sarah", "Cohen", "Levy", "sarah.cohen@example.com", "555"):
            assert personal not in text


def test_export_and_erasure_are_recorded(client, as_user, dbs):
    coordinator = as_user("coordinator")
    person = factories.PersonFactory()
    client.get(f"/people/{person.id}/export.json")
    post_form(client, f"/people/{person.id}/erase", {"confirm": "y"},
              form_url=f"/people/{person.id}")
    for action in ("person.exported", "person.erased"):
        (entry,) = entries(dbs, action)
        assert entry.actor_id == coordinator.id and entry.target_id == person.id


def test_admin_reads_and_filters_the_log(client, as_user, dbs):
    admin = as_user("admin")
    person = factories.PersonFactory()
    client.get(f"/people/{person.id}/export.json")
    post_form(client, "/admin/accounts/new", {
        "email": "rep@example.org", "full_name": "", "role": "coordinator",
        "organization_id": "0", "locale": "", "active": "y", "password": "initial-password-1"})
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert "person.exported" in page and "account.created" in page
    assert admin.email in page
    page = client.get("/admin/audit/?action=person.exported").get_data(as_text=True)
    assert '<code class="hint">person.exported</code>' in page
    assert "Personal data exported" in page
    assert "account.created</code>" not in page
    page = client.get("/admin/audit/?actor=nobody-like-this").get_data(as_text=True)
    assert "Nothing recorded yet." in page
