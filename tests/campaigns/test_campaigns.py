"""Campaigns: coordinators list, create and edit them; the public sees a campaign's page with
its public petitions; federations and the public cannot reach the editor."""

from __future__ import annotations

from sqlalchemy import select

from ncsej_campaigns.audit.models import AuditEntry
from ncsej_campaigns.campaigns.models import Campaign
from tests import factories
from tests.conftest import post_form


def test_coordinator_creates_a_bilingual_campaign_with_cosponsors(client, dbs, as_user):
    as_user("coordinator")
    cleveland = factories.OrganizationFactory(name="Jewish Federation of Cleveland")
    boston = factories.OrganizationFactory(name="Combined Jewish Philanthropies of Boston")
    response = post_form(client, "/manage/campaigns/new", {
        "name_en": "Freedom Sunday", "name_ru": "Воскресенье свободы",
        "goal_en": "Let them go", "goal_ru": "Отпусти их",
        "description_en": "A rally in Washington.", "starts_on": "1987-11-01",
        "ends_on": "1987-12-31", "is_public": "y",
        "sponsor_ids": [str(cleveland.id), str(boston.id)],
    })
    assert response.status_code == 302
    campaign = dbs.scalar(select(Campaign))
    assert campaign.slug == "freedom-sunday"
    assert campaign.name_ru == "Воскресенье свободы"
    assert {o.name for o in campaign.sponsors} == {cleveland.name, boston.name}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Freedom Sunday saved." in page
    assert "Combined Jewish Philanthropies of Boston" in page
    assert dbs.scalar(select(AuditEntry.action).where(AuditEntry.target_type == "campaigns")) \
        == "campaign.created"


def test_campaign_form_says_what_to_fix(client, dbs, as_user):
    as_user("coordinator")
    factories.CampaignFactory(slug="taken")
    response = post_form(client, "/manage/campaigns/new", {
        "name_en": "", "slug": "taken", "starts_on": "1987-12-31", "ends_on": "1987-11-01"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter the name in English." in page
    response = post_form(client, "/manage/campaigns/new", {
        "name_en": "Another", "slug": "taken", "starts_on": "1987-12-31",
        "ends_on": "1987-11-01"})
    page = response.get_data(as_text=True)
    assert "Another campaign already uses this short name." in page
    assert dbs.scalar(select(Campaign).where(Campaign.name_en == "Another")) is None


def test_campaign_list_searches_and_paginates(client, as_user):
    as_user("coordinator")
    for i in range(30):
        factories.CampaignFactory(name_en=f"Campaign {i:02d}")
    factories.CampaignFactory(name_en="Solidarity Sunday")
    page = client.get("/manage/campaigns/?q=solidarity").get_data(as_text=True)
    assert "Solidarity Sunday" in page and "Campaign 01" not in page
    page = client.get("/manage/campaigns/").get_data(as_text=True)
    assert "31 campaigns" in page and "Page 1 of 2" in page
    assert "No campaign matches these filters." in client.get(
        "/manage/campaigns/?q=nothing-like-this").get_data(as_text=True)


def test_public_campaign_page_lists_only_public_petitions_in_the_visitors_language(client):
    campaign = factories.CampaignFactory(slug="freedom", name_en="Freedom Sunday",
                                         name_ru="Воскресенье свободы")
    factories.PetitionFactory(campaign=campaign, title_en="Open one", title_ru="Открытая")
    factories.DeliveredPetitionFactory(campaign=campaign, title_en="Delivered one")
    factories.DraftPetitionFactory(campaign=campaign, title_en="Secret draft")
    factories.ArchivedPetitionFactory(campaign=campaign, title_en="Old archived")
    page = client.get("/campaigns/freedom").get_data(as_text=True)
    assert "Freedom Sunday" in page
    assert "Open one" in page and "Delivered one" in page
    assert "Secret draft" not in page and "Old archived" not in page
    page = client.get("/campaigns/freedom", headers={"Accept-Language": "ru"}).get_data(
        as_text=True)
    assert "Воскресенье свободы" in page and "Открытая" in page


def test_hidden_or_unknown_campaign_is_404(client):
    factories.CampaignFactory(slug="hidden", is_public=False)
    assert client.get("/campaigns/hidden").status_code == 404
    assert client.get("/campaigns/nothing").status_code == 404


def test_federation_and_anonymous_cannot_reach_the_campaign_editor(client, as_user):
    campaign = factories.CampaignFactory()
    assert client.get("/manage/campaigns/").status_code == 302  # to sign in
    as_user("federation", organization=factories.OrganizationFactory())
    assert client.get("/manage/campaigns/").status_code == 404
    assert client.get(f"/manage/campaigns/{campaign.id}/edit").status_code == 404


def test_coordinator_edits_a_campaign(client, dbs, as_user):
    as_user("coordinator")
    org = factories.OrganizationFactory()
    campaign = factories.CampaignFactory(name_en="Old name")
    url = f"/manage/campaigns/{campaign.id}/edit"
    assert "Old name" in client.get(url).get_data(as_text=True)
    response = post_form(client, url, {"name_en": "New name", "slug": campaign.slug,
                                       "sponsor_ids": [str(org.id)]})
    assert response.status_code == 302
    dbs.expire_all()
    campaign = dbs.get(Campaign, campaign.id)
    assert campaign.name_en == "New name"
    assert [o.id for o in campaign.sponsors] == [org.id]
    assert campaign.is_public is False  # an unticked box means not public
