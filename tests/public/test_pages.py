"""The public home, the friendly error pages, and /healthz."""

from __future__ import annotations

from ncsej_campaigns.organizations.models import MembershipStatus
from tests import factories


def test_home_shows_member_count_and_sign_in(client):
    for _ in range(3):
        factories.OrganizationFactory()
    factories.OrganizationFactory(membership_status=MembershipStatus.ASSOCIATE)
    factories.OrganizationFactory(membership_status=MembershipStatus.FORMER)
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "4 member organizations" in page
    assert 'href="/login"' in page and "Sign in" in page


def test_home_for_signed_in_user_links_to_dashboard(client, as_user):
    as_user("coordinator")
    assert 'href="/dashboard"' in client.get("/").get_data(as_text=True)


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Page not found" in page
    assert "There is nothing at this address." in page
    assert "Go to the home page" in page


def test_wrong_method_is_a_friendly_405(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "This page does not accept that request." in response.get_data(as_text=True)


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    data = response.get_json()
    assert data["status"] == "ok"
    assert data["database"] == "ok"
    assert data["broker"] in ("ok", "in-process")


def test_dashboard_counts_for_coordinator_and_federation(client, app, as_user):
    org = factories.OrganizationFactory()
    factories.person_in(org)
    factories.PersonFactory()
    as_user("admin")
    page = client.get("/dashboard").get_data(as_text=True)
    assert '<span class="stat-value">2</span>' in page.replace("\n", "")
    rep = app.test_client()
    from tests.conftest import login

    user = factories.UserFactory(role="federation", organization=org)
    login(rep, user.email)
    page = rep.get("/dashboard").get_data(as_text=True)
    assert f"You represent {org.name}" in page
    assert '<span class="stat-value">1</span>' in page.replace("\n", "")


def test_language_switch(client):
    from tests.conftest import csrf_token

    token = csrf_token(client, "/")
    response = client.post("/language", data={"lang": "ru", "next": "/login",
                                               "csrf_token": token})
    assert response.headers["Location"] == "/login"
    assert '<html lang="ru">' in client.get("/login").get_data(as_text=True)
    response = client.post("/language", data={"lang": "en", "next": "https://evil.example/",
                                              "csrf_token": token})
    assert response.headers["Location"] == "/"
