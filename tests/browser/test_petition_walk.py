"""The petition walk in a real browser: a Russian speaker on a phone opens a petition through a
federation's link, signs it, opens the confirmation link from the email, sees the count rise;
then a coordinator's dashboard shows the signature under that federation."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import PHONE
from tests.petitions.conftest import confirm_link

pytestmark = pytest.mark.browser

EMAIL = "ida.nudel@example.net"


def wait_for_count(browse, path: str, total: str, timeout: float = 30.0):
    """Reload until the public count shows ``total`` (the batched counting job moves it)."""
    counter = browse.page.locator("[data-petition-total]").first
    deadline = time.monotonic() + timeout
    while True:
        browse.goto(path)
        if counter.inner_text().strip() == total or time.monotonic() > deadline:
            expect(counter).to_have_text(total)
            return
        time.sleep(0.5)


def test_russian_signer_on_a_phone_to_the_coordinators_dashboard(open_browser, mailbox):
    federation = factories.OrganizationFactory(name="Jewish Federation of Cleveland",
                                               slug="cleveland")
    petition = factories.PetitionFactory(
        title_en="Let Ida Nudel go", title_ru="Отпустите Иду Нудель", confirmed_count=0,
        goal=1000, milestones=[100])
    coordinator = factories.UserFactory(role="coordinator", full_name="Lynn Singer")
    path = f"/petitions/{petition.slug}"

    browse = open_browser(locale="ru-RU", viewport=PHONE)
    page = browse.page
    browse.goto(f"{path}?ref={federation.slug}")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", level=1)).to_have_text("Отпустите Иду Нудель")
    expect(page.get_by_text("Верховный Совет")).to_be_visible()
    expect(page.locator("[data-petition-total]")).to_have_text("0")
    browse.assert_fits_width()
    browse.shot("petition-in-russian")

    form = page.locator("form.sign-form")
    form.locator("#first_name").fill("Ида")
    form.locator("#last_name").fill("Нудель")
    form.locator("#email").fill(EMAIL)
    form.locator("#country").select_option("IL")
    form.locator("#postal_code").fill("9414301")
    expect(form.locator("#email_consent")).not_to_be_checked()
    expect(form.locator("input[name=ref]")).to_have_value("cleveland")
    # The honeypot is there for bots and out of sight for people.
    expect(form.locator("#homepage")).not_to_be_in_viewport()
    browse.shot("form-filled")
    form.locator("button[type=submit]").click()

    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text(EMAIL)
    browse.shot("check-your-email")

    [message] = mailbox.wait_for(EMAIL)
    assert message["Content-Language"] == "ru"
    assert "Отпустите Иду Нудель" in message["Subject"]
    browse.goto(confirm_link(message))
    expect(page.locator(".flash-success")).to_contain_text("Отпустите Иду Нудель")
    browse.shot("confirmed")

    wait_for_count(browse, path, "1")
    expect(page.locator("progress[data-petition-progress]")).to_have_attribute("value", "1")
    browse.shot("count-risen")

    staff = open_browser(locale="en-US")
    staff.goto("/login")
    staff.page.get_by_label("Email").fill(coordinator.email)
    staff.page.get_by_label("Password").fill(factories.PASSWORD)
    staff.page.locator("main").get_by_role("button", name="Sign in").click()
    expect(staff.page).to_have_url(re.compile(r"/dashboard$"))
    staff.goto(f"/manage/petitions/{petition.id}")
    expect(staff.page.get_by_role("heading", level=1)).to_contain_text("Let Ida Nudel go")
    by_org = staff.page.locator("section", has=staff.page.get_by_role(
        "heading", name="By referring organization"))
    row = by_org.locator("tr", has_text=federation.name)
    expect(row.locator("td.num").first).to_have_text("1")
    staff.shot("coordinator-dashboard")
