"""What people do in a real browser: sign in, create an organization, stay inside their scope,
and use the public pages on a phone in Russian."""

from __future__ import annotations

import functools

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser


def sign_in(browse, user, password=factories.PASSWORD, t=str):
    """Fill in and send the sign-in form; ``t`` translates its labels for the page's language."""
    page = browse.page
    page.get_by_label(t("Email")).fill(user.email)
    page.get_by_label(t("Password")).fill(password)
    page.locator("main").get_by_role("button", name=t("Sign in")).click()


def main_nav(page, t=str):
    return page.get_by_role("navigation", name=t("Main"))


def test_coordinator_signs_in_and_creates_an_organization(browse):
    coordinator = factories.UserFactory(role="coordinator", full_name="Lynn Singer")
    factories.OrganizationFactory(name="Jewish Federation of Cleveland", slug="cleveland")
    page = browse.page

    browse.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Let my people go")
    browse.shot("home")
    page.locator("header").get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(browse.base_url + "/login")
    browse.shot("login")

    sign_in(browse, coordinator)
    expect(page).to_have_url(browse.base_url + "/dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Lynn Singer")
    expect(main_nav(page).get_by_role("link", name="Dashboard")).to_have_attribute(
        "aria-current", "page")
    browse.shot("dashboard")

    main_nav(page).get_by_role("link", name="Organizations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Organizations")
    page.get_by_role("link", name="New organization").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New organization")

    # A mistake first: the form keeps what was typed and says what to fix.
    page.get_by_label("Name", exact=True).fill("Jewish Community Relations Council of Boston")
    page.get_by_label("Website").fill("jcrcboston.org")
    page.get_by_role("button", name="Save").click()
    website = page.get_by_label("Website")
    expect(website).to_have_attribute("aria-invalid", "true")
    expect(website).to_be_focused()
    expect(page.get_by_text("Enter a full address starting with https://.")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value(
        "Jewish Community Relations Council of Boston")
    browse.shot("organization-form-error")

    website.fill("https://www.jcrcboston.org")
    page.get_by_label("Kind").select_option(label="Community relations council")
    page.get_by_label("Part of").select_option(label="Jewish Federation of Cleveland")
    page.get_by_label("Region").fill("New England")
    page.get_by_label("Contact person").fill("Miriam Katz")
    page.get_by_label("Contact email").fill("miriam@jcrcboston.org")
    browse.shot("organization-form-filled")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Jewish Community Relations Council of Boston")
    expect(page.get_by_role("status")).to_contain_text(
        "Jewish Community Relations Council of Boston saved.")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Community relations council")
    expect(facts).to_contain_text("New England, US")
    expect(facts.get_by_role("link", name="Jewish Federation of Cleveland")).to_be_visible()
    expect(facts.get_by_role("link", name="miriam@jcrcboston.org")).to_be_visible()
    browse.shot("organization-detail")

    main_nav(page).get_by_role("link", name="Organizations").click()
    expect(main_nav(page).get_by_role("link", name="Organizations")).to_have_attribute(
        "aria-current", "page")
    row = page.get_by_role("row").filter(has_text="Jewish Community Relations Council of Boston")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Community relations council")
    expect(page.get_by_text("2 organizations")).to_be_visible()
    browse.shot("organization-list")
    row.get_by_role("link", name="Jewish Community Relations Council of Boston").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Jewish Community Relations Council of Boston")


def test_federation_representative_sees_only_their_organization(browse):
    own = factories.OrganizationFactory(name="Jewish Federation of Greater Pittsburgh")
    other = factories.OrganizationFactory(name="Jewish Federation of Metropolitan Chicago")
    factories.person_in(own, first_name="Rivka", last_name="Levin")
    stranger = factories.person_in(other, first_name="Boris", last_name="Feldman")
    rep = factories.UserFactory(role="federation", organization=own, full_name="Dana Roth")
    page = browse.page

    browse.goto("/login")
    sign_in(browse, rep)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Dana Roth")
    expect(page.locator("main")).to_contain_text(
        "You represent Jewish Federation of Greater Pittsburgh.")
    nav = main_nav(page)
    expect(nav.get_by_role("link", name="My organization")).to_be_visible()
    for coalition_only in ("Organizations", "Accounts", "Outbox", "Audit log"):
        expect(nav.get_by_role("link", name=coalition_only, exact=True)).to_have_count(0)
    browse.shot("dashboard")

    nav.get_by_role("link", name="My organization").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Jewish Federation of Greater Pittsburgh")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("link", name="Rivka Levin")).to_be_visible()
    expect(page.get_by_text("Boris Feldman")).to_have_count(0)
    browse.shot("my-organization")

    nav.get_by_role("link", name="People").click()
    expect(page.get_by_role("link", name="Rivka Levin")).to_be_visible()
    expect(page.get_by_text("Boris Feldman")).to_have_count(0)
    expect(page.get_by_text("1 person", exact=True)).to_be_visible()
    browse.shot("people")

    response = browse.goto(f"/people/{stranger.id}")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_text("Boris")).to_have_count(0)
    browse.shot("other-persons-page-is-404")

    response = browse.goto(f"/organizations/{other.id}")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    page.get_by_role("link", name="Go to the home page").click()
    expect(page).to_have_url(browse.base_url + "/")


def russian(app, message: str) -> str:
    """``message`` as the app translates it for a Russian-speaking visitor."""
    from flask_babel import gettext

    with app.test_request_context(headers={"Accept-Language": "ru"}):
        return gettext(message)


def test_public_pages_on_a_phone_in_russian(open_browser, app):
    user = factories.UserFactory()
    browse = open_browser(locale="ru-RU", viewport=PHONE, is_mobile=True, has_touch=True)
    page = browse.page

    browse.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", level=1)).to_have_text(russian(app, "Let my people go"))
    expect(page.get_by_role("button", name="Русский")).to_have_attribute("aria-pressed", "true")
    browse.assert_fits_width()
    browse.shot("home")

    page.locator("header").get_by_role("link", name=russian(app, "Sign in")).tap()
    expect(page).to_have_url(browse.base_url + "/login")
    expect(page.get_by_role("heading", level=1)).to_have_text(russian(app, "Sign in"))
    browse.assert_fits_width()
    browse.shot("login")

    page.get_by_label(russian(app, "Email")).fill(user.email)
    page.get_by_label(russian(app, "Password")).fill("not-the-password")
    page.locator("main").get_by_role("button", name=russian(app, "Sign in")).tap()
    expect(page.get_by_text(russian(app, "The email or password is not correct."))).to_be_visible()
    expect(page.get_by_label(russian(app, "Password"))).to_have_attribute("aria-invalid", "true")
    browse.assert_fits_width()
    browse.shot("login-wrong-password")

    page.get_by_role("link", name=russian(app, "Forgot your password?")).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        russian(app, "Reset your password"))
    browse.assert_fits_width()
    browse.shot("forgot-password")


def test_keyboard_users_can_skip_to_the_content(browse):
    page = browse.page
    browse.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page).to_have_url(browse.base_url + "/#main")


def test_lists_fit_a_phone_screen(open_browser, app):
    org = factories.OrganizationFactory(name="Jewish Federation of Greater Pittsburgh")
    factories.person_in(org, first_name="Rivka", last_name="Levin",
                        email="rivka.levin.with.a.long.address@federation-pittsburgh.example.org")
    rep = factories.UserFactory(role="federation", organization=org, locale="ru")
    browse = open_browser(locale="ru-RU", viewport=PHONE, is_mobile=True, has_touch=True)
    page = browse.page
    ru = functools.partial(russian, app)

    browse.goto("/login")
    sign_in(browse, rep, t=ru)
    expect(page).to_have_url(browse.base_url + "/dashboard")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    browse.assert_fits_width()
    main_nav(page, ru).get_by_role("link", name=ru("People")).tap()
    card = page.get_by_role("row").filter(has_text="Rivka Levin")
    expect(card).to_contain_text("rivka.levin.with.a.long.address@federation-pittsburgh.example.org")
    browse.assert_fits_width()
    browse.shot("people")

    card.get_by_role("link", name="Rivka Levin").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rivka Levin")
    browse.assert_fits_width()
    browse.shot("person")


def test_a_visitor_switches_the_petition_page_to_russian_and_back(browse, app):
    petition = factories.PetitionFactory()
    page = browse.page
    browse.goto(f"/petitions/{petition.slug}")
    expect(page.get_by_role("heading", level=1)).to_have_text(petition.title_en)

    page.get_by_role("button", name="Русский").click()
    expect(page).to_have_url(f"{browse.base_url}/petitions/{petition.slug}")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", level=1)).to_have_text(petition.title_ru)
    expect(page.get_by_role("button", name=russian(app, "Sign the petition"))).to_be_visible()
    browse.shot("petition-in-russian")
    # The choice is a cookie of its own; a visitor gets no session.
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["lang"]["value"] == "ru" and cookies["lang"]["httpOnly"]
    assert "session" not in cookies

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(petition.title_en)
