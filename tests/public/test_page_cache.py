"""The short cache of public pages: visitors without a session get the page rendered a moment
ago; signed-in people, other languages and other paths never get someone else's page."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from ncsej_campaigns import page_cache
from ncsej_campaigns.petitions.models import Petition
from tests import factories

RU = {"Accept-Language": "ru"}


@pytest.fixture
def cache_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_CACHE_SECONDS", 30)
    with app.app_context():
        page_cache.clear()
    yield
    with app.app_context():
        page_cache.clear()


def set_count(dbs, petition, count):
    dbs.execute(update(Petition).where(Petition.id == petition.id)
                .values(confirmed_count=count))
    dbs.commit()


def test_a_visitor_gets_the_page_rendered_a_moment_ago(client, dbs, cache_on):
    petition = factories.PetitionFactory(confirmed_count=120)
    first = client.get(f"/petitions/{petition.slug}")
    assert first.status_code == 200 and "X-Page-Cache" not in first.headers
    assert "Set-Cookie" not in first.headers
    set_count(dbs, petition, 121)

    again = client.get(f"/petitions/{petition.slug}")
    assert again.headers["X-Page-Cache"] == "hit"
    assert again.get_data() == first.get_data()
    assert "Accept-Language" in again.headers["Vary"]
    # The security headers are those of a fresh page.
    assert "frame-ancestors 'none'" in again.headers["Content-Security-Policy"]

    # Once the moment has passed (here: the cache emptied), the new count shows.
    with client.application.app_context():
        page_cache.clear()
    assert "data-petition-total>121<" in client.get(f"/petitions/{petition.slug}").get_data(
        as_text=True)


def test_each_language_and_referral_has_its_own_page(client, cache_on):
    petition = factories.PetitionFactory()
    org = factories.OrganizationFactory()
    english = client.get(f"/petitions/{petition.slug}").get_data(as_text=True)
    russian = client.get(f"/petitions/{petition.slug}", headers=RU).get_data(as_text=True)
    assert petition.title_ru in russian and petition.title_ru not in english
    referred = client.get(f"/petitions/{petition.slug}?ref={org.slug}")
    assert "X-Page-Cache" not in referred.headers
    assert f'value="{org.slug}"' in referred.get_data(as_text=True)


def test_signed_in_people_always_get_a_fresh_page(client, as_user, dbs, cache_on):
    petition = factories.PetitionFactory(confirmed_count=5)
    client.get(f"/petitions/{petition.slug}")  # cached for visitors
    as_user("coordinator")
    response = client.get(f"/petitions/{petition.slug}")
    assert "X-Page-Cache" not in response.headers
    set_count(dbs, petition, 6)
    assert "data-petition-total>6<" in client.get(f"/petitions/{petition.slug}").get_data(
        as_text=True)


def test_the_cached_widget_may_still_be_framed(client, cache_on):
    petition = factories.PetitionFactory()
    client.get(f"/petitions/{petition.slug}/widget")
    again = client.get(f"/petitions/{petition.slug}/widget")
    assert again.headers["X-Page-Cache"] == "hit"
    assert "frame-ancestors *" in again.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in again.headers


def test_errors_are_not_kept(client, cache_on):
    client.get("/petitions/no-such-petition")
    again = client.get("/petitions/no-such-petition")
    assert again.status_code == 404 and "X-Page-Cache" not in again.headers


def test_home_page_is_cached_too(client, cache_on):
    client.get("/")
    assert client.get("/").headers["X-Page-Cache"] == "hit"
