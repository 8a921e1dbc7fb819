"""A coordinator's petition work in a real browser: write a petition in both languages, open
it, read the dashboard's chart, invalidate a batch of bot signatures after seeing them, revert
it, and enter a paper batch; a federation then finds its share link and widget."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from ncsej_campaigns.db import utcnow
from tests import factories
from tests.browser.test_walks import main_nav, sign_in

pytestmark = pytest.mark.browser


def test_coordinator_writes_opens_and_cleans_up_a_petition(browse):
    coordinator = factories.UserFactory(role="coordinator", full_name="Lynn Singer")
    cleveland = factories.OrganizationFactory(name="Jewish Federation of Cleveland",
                                              slug="cleveland", region="Midwest")
    campaign = factories.CampaignFactory(name_en="Freedom Sunday")
    page = browse.page
    browse.goto("/login")
    sign_in(browse, coordinator)
    main_nav(page).get_by_role("link", name="Petitions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Petitions")
    expect(page.get_by_text("No petition yet.")).to_be_visible()
    page.get_by_role("link", name="New petition").click()

    page.get_by_label("Title (English)").fill("Let Ida Nudel go")
    page.get_by_label("Title (Russian)").fill("Отпустите Иду Нудель")
    page.get_by_label("Addressed to (English)").fill("The Supreme Soviet")
    page.get_by_label("Text (English)").fill("Ida Nudel has waited sixteen years to leave.")
    page.get_by_label("Campaign").select_option(label="Freedom Sunday")
    page.get_by_label("Goal (signatures)").fill("1000")
    page.get_by_label("Milestones").fill("500, 100, lots")
    page.get_by_label("Jewish Federation of Cleveland").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("is not a whole number")).to_be_visible()
    expect(page.get_by_label("Title (Russian)")).to_have_value("Отпустите Иду Нудель")
    browse.shot("editor-error")
    page.get_by_label("Milestones").fill("500, 100")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-success")).to_contain_text("Let Ida Nudel go saved.")
    expect(page.locator("h1 .badge")).to_have_text("Draft")
    browse.shot("draft-dashboard")

    page.get_by_role("link", name="Open for signatures…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Open this petition for signatures?")
    page.get_by_label("Yes, change the state").check()
    page.get_by_role("button", name="Open for signatures").click()
    expect(page.locator("h1 .badge")).to_have_text("Open")

    # Signatures arrive over a few days, some of them from one bot domain.
    from sqlalchemy import select

    from ncsej_campaigns.petitions.models import Petition

    petition = factories.Session().scalar(select(Petition).where(Petition.campaign_id
                                                                 == campaign.id))
    now = utcnow()
    for day in (4, 3, 3, 2, 2, 2, 1, 0):
        at = now - timedelta(days=day)
        factories.ConfirmedSignatureFactory(petition=petition, referring_organization=cleveland,
                                            created_at=at, confirmed_at=at)
    for i in range(3):
        factories.ConfirmedSignatureFactory(
            petition=petition, person=factories.PersonFactory(email=f"bot{i}@spam.test"),
            email_domain="spam.test")
    browse.goto(f"/manage/petitions/{petition.id}")
    chart = page.get_by_role("img", name="Confirmed signatures per day")
    expect(chart).to_be_visible()
    expect(page.locator("rect.chart-bar")).to_have_count(5)
    browse.shot("dashboard-with-chart")

    page.get_by_role("link", name="Invalidate a batch…").click()
    page.get_by_label("Email domain").fill("spam.test")
    page.get_by_label("Reason").fill("Signed by a script")
    page.get_by_role("button", name="Show the matching signatures").click()
    expect(page.get_by_role("heading", name="This rule matches 3 signatures.")).to_be_visible()
    page.get_by_label("Yes, invalidate the signatures shown above").check()
    browse.shot("batch-preview")
    page.get_by_role("button", name="Invalidate 3 signatures").click()
    expect(page.locator(".flash-success")).to_contain_text("3 signatures were invalidated.")
    expect(page.locator("#invalidations")).to_contain_text("Signed by a script")
    expect(page.locator(".stat").first).to_contain_text("8")
    page.locator("#invalidations summary").click()
    page.locator("#invalidations").get_by_label("Yes, count these signatures again").check()
    page.locator("#invalidations").get_by_role("button", name="Revert").click()
    expect(page.locator(".flash-success")).to_contain_text("3 signatures count again.")
    expect(page.locator(".stat").first).to_contain_text("11")

    page.get_by_role("link", name="Paper signatures").first.click()
    page.get_by_label("Number of signatures").fill("250")
    page.get_by_label("Where they were collected").fill("Shabbat tables at Temple Beth El")
    page.get_by_label("Organization").select_option(label="Jewish Federation of Cleveland")
    page.get_by_role("button", name="Add to the total").click()
    expect(page.locator(".flash-success")).to_contain_text("250 paper signatures added.")
    browse.shot("paper-batch")
    browse.assert_fits_width()


def test_federation_finds_its_share_link_and_widget(open_browser):
    org = factories.OrganizationFactory(name="Jewish Federation of Cleveland", slug="cleveland")
    rep = factories.UserFactory(role="federation", organization=org)
    petition = factories.PetitionFactory(title_en="Let them go")
    factories.ConfirmedSignatureFactory.create_batch(3, petition=petition,
                                                     referring_organization=org)
    browse = open_browser()
    page = browse.page
    browse.goto("/login")
    sign_in(browse, rep)
    main_nav(page).get_by_role("link", name="Petitions").click()
    expect(page.get_by_label("Your share link")).to_have_value(
        f"{page.get_by_label('Your share link').input_value().split('/petitions/')[0]}"
        f"/petitions/{petition.slug}?ref=cleveland")
    expect(page.get_by_label("Widget for your website")).to_contain_text("<iframe")
    expect(page.locator(".stat").first).to_contain_text("3")
    browse.shot("federation-petitions")
