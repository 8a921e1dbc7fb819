"""Administrators manage accounts in the UI; nobody else can reach /admin/."""

from __future__ import annotations

import pytest

from ncsej_campaigns.auth.models import Role, User
from tests import factories
from tests.conftest import post_form


def account_form(**overrides):
    data = {"email": "new.rep@example.org", "full_name": "New Rep", "role": "coordinator",
            "organization_id": "0", "locale": "", "active": "y",
            "password": "initial-password-1"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_creates_a_coordinator(client, as_user, dbs):
    as_user("admin")
    response = post_form(client, "/admin/accounts/new", account_form())
    assert response.headers["Location"] == "/admin/accounts/"
    page = client.get("/admin/accounts/").get_data(as_text=True)
    assert "Account new.rep@example.org created." in page
    assert "New Rep" in page
    user = dbs.query(User).filter_by(email="new.rep@example.org").one()
    assert user.role == Role.COORDINATOR and user.active
    assert user.password_hash.startswith("$argon2id$")


def test_admin_creates_a_federation_representative(client, as_user, dbs):
    org = factories.OrganizationFactory(name="Jewish Federation of Cleveland")
    as_user("admin")
    response = post_form(client, "/admin/accounts/new", account_form(
        role="federation", organization_id=str(org.id), email="Cleveland@Example.org"))
    assert response.status_code == 302
    user = dbs.query(User).filter_by(email="cleveland@example.org").one()
    assert user.organization_id == org.id
    page = client.get(f"/organizations/{org.id}").get_data(as_text=True)
    assert "cleveland@example.org" in page


def test_duplicate_email_gets_a_message_and_no_row(client, as_user, dbs):
    factories.UserFactory(email="taken@example.org")
    as_user("admin")
    response = post_form(client, "/admin/accounts/new",
                         account_form(email="Taken@Example.org"))
    assert response.status_code == 200
    assert "An account with this email already exists." in response.get_data(as_text=True)
    assert dbs.query(User).filter(User.email.ilike("taken@example.org")).count() == 1


def test_federation_role_without_organization_gets_a_message(client, as_user, dbs):
    as_user("admin")
    response = post_form(client, "/admin/accounts/new", account_form(role="federation"))
    assert response.status_code == 200
    assert ("A federation representative must belong to an organization."
            in response.get_data(as_text=True))
    assert dbs.query(User).filter_by(email="new.rep@example.org").count() == 0


def test_coordinator_with_organization_gets_a_message(client, as_user, dbs):
    org = factories.OrganizationFactory()
    as_user("admin")
    response = post_form(client, "/admin/accounts/new",
                         account_form(organization_id=str(org.id)))
    assert ("Only federation representatives are tied to an organization."
            in response.get_data(as_text=True))
    assert dbs.query(User).filter_by(email="new.rep@example.org").count() == 0


def test_short_initial_password_and_bad_email_are_refused(client, as_user, dbs):
    as_user("admin")
    page = post_form(client, "/admin/accounts/new",
                     account_form(password="short", email="not-an-email")).get_data(as_text=True)
    assert "Use at least 10 characters." in page
    assert "Enter a valid email address." in page
    assert dbs.query(User).count() == 1


def test_admin_edits_role_organization_and_active(client, as_user, dbs):
    org = factories.OrganizationFactory()
    user = factories.UserFactory(role=Role.COORDINATOR, full_name="Jerry Goodman")
    as_user("admin")
    url = f"/admin/accounts/{user.id}"
    assert "Jerry Goodman" in client.get(url).get_data(as_text=True)
    response = post_form(client, url, account_form(
        email=user.email, full_name="Jerry Goodman", role="federation",
        organization_id=str(org.id), active=None, password=None))
    assert response.headers["Location"] == "/admin/accounts/"
    assert f"Account {user.email} saved." in client.get("/admin/accounts/").get_data(as_text=True)
    dbs.expire_all()
    saved = dbs.get(User, user.id)
    assert saved.role == Role.FEDERATION
    assert saved.organization_id == org.id
    assert saved.active is False


def test_sign_in_email_cannot_be_changed(client, as_user, dbs):
    user = factories.UserFactory()
    as_user("admin")
    response = post_form(client, f"/admin/accounts/{user.id}",
                         account_form(email="other@example.org", password=None))
    assert "The sign-in email cannot be changed." in response.get_data(as_text=True)
    dbs.expire_all()
    assert dbs.get(User, user.id).email == user.email


@pytest.mark.parametrize("change", [{"role": "coordinator"}, {"active": None}])
def test_admin_cannot_remove_own_admin_access(client, as_user, dbs, change):
    me = as_user("admin")
    response = post_form(client, f"/admin/accounts/{me.id}", account_form(
        **{"email": me.email, "role": "admin", "password": None, **change}))
    assert response.status_code == 200
    assert "You cannot remove your own administrator access." in response.get_data(as_text=True)
    dbs.expire_all()
    mine = dbs.get(User, me.id)
    assert mine.role == Role.ADMIN and mine.active


def test_disabled_account_is_signed_out_and_cannot_sign_in(client, app, as_user, dbs):
    from tests.conftest import login

    user = factories.UserFactory()
    other = app.test_client()
    assert login(other, user.email).status_code == 302
    as_user("admin")
    post_form(client, f"/admin/accounts/{user.id}",
              account_form(email=user.email, active=None, password=None))
    assert other.get("/dashboard").status_code == 302
    assert login(app.test_client(), user.email).status_code == 401


def test_admin_sends_a_reset_link(client, as_user, mailbox):
    user = factories.UserFactory()
    as_user("admin")
    response = post_form(client, f"/admin/accounts/{user.id}/send-reset", {},
                         form_url=f"/admin/accounts/{user.id}")
    assert response.status_code == 302
    assert (f"A password reset link was sent to {user.email}."
            in client.get(response.headers["Location"]).get_data(as_text=True))
    mailbox.wait_for(to=user.email)


def test_admin_cannot_send_a_reset_link_to_a_disabled_account(client, as_user, mailbox, dbs):
    from ncsej_campaigns.notifications.models import OutboxEmail

    user = factories.UserFactory(active=False)
    as_user("admin")
    response = post_form(client, f"/admin/accounts/{user.id}/send-reset", {},
                         form_url=f"/admin/accounts/{user.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{user.email} is disabled: enable the account before sending a reset link." in page
    assert "A password reset link was sent" not in page
    assert dbs.query(OutboxEmail).count() == 0


def test_accounts_list_filters_by_role_and_search(client, as_user):
    factories.UserFactory(email="zelda@example.org", role=Role.COORDINATOR)
    org = factories.OrganizationFactory()
    factories.UserFactory(email="rep@example.org", role=Role.FEDERATION, organization=org)
    as_user("admin")
    page = client.get("/admin/accounts/?role=federation").get_data(as_text=True)
    assert "rep@example.org" in page and "zelda@example.org" not in page
    page = client.get("/admin/accounts/?q=zeld").get_data(as_text=True)
    assert "zelda@example.org" in page and "rep@example.org" not in page


ADMIN_PAGES = ["/admin/accounts/", "/admin/accounts/new", "/admin/accounts/1",
               "/admin/outbox/", "/admin/outbox/?status=failed", "/admin/audit/"]


@pytest.mark.parametrize("role", ["coordinator", "federation"])
def test_non_admins_get_404_on_admin_pages(client, as_user, role):
    org = factories.OrganizationFactory() if role == "federation" else None
    as_user(role, organization=org)
    for url in ADMIN_PAGES:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Page not found" in response.get_data(as_text=True)


def test_non_admin_cannot_post_to_admin_forms(client, as_user, dbs):
    target = factories.UserFactory(role=Role.COORDINATOR)
    as_user("coordinator")
    response = post_form(client, f"/admin/accounts/{target.id}",
                         account_form(email=target.email, role="admin", password=None),
                         form_url="/account/password")
    assert response.status_code == 404
    dbs.expire_all()
    assert dbs.get(User, target.id).role == Role.COORDINATOR


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/accounts/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
