"""The petition editor and its guarded states, as coordinators and federations see them."""

from __future__ import annotations

import re

from sqlalchemy import select

from ncsej_campaigns.audit.models import AuditEntry
from ncsej_campaigns.petitions.models import Petition, PetitionStatus
from tests import factories
from tests.conftest import post_form

FORM = {
    "title_en": "Let Ida Nudel go", "title_ru": "Отпустите Иду Нудель",
    "target_en": "The Supreme Soviet", "target_ru": "Верховный Совет",
    "text_en": "Ida Nudel has waited sixteen years.", "text_ru": "Ида Нудель ждёт шестнадцать лет.",
    "goal": "25000", "milestones": "5 000, 1000; 10000, 1000",
    "opens_at": "", "closes_at": "2099-12-31T18:00",
}


def flashes(client) -> str:
    """The page a redirect lands on, as text (where flashed messages show)."""
    return client.get("/dashboard").get_data(as_text=True)


def test_coordinator_creates_a_draft_with_sorted_milestones_and_sponsors(client, dbs, as_user):
    as_user("coordinator")
    campaign = factories.CampaignFactory(name_en="Freedom Sunday")
    org = factories.OrganizationFactory(name="Jewish Federation of Cleveland")
    response = post_form(client, "/manage/petitions/new", {
        **FORM, "campaign_id": str(campaign.id), "sponsor_ids": [str(org.id)]})
    assert response.status_code == 302, response.get_data(as_text=True)
    petition = dbs.scalar(select(Petition))
    assert petition.status == PetitionStatus.DRAFT
    assert petition.slug == "let-ida-nudel-go"
    assert petition.milestones == [1000, 5000, 10000]
    assert petition.campaign_id == campaign.id
    assert [o.name for o in petition.sponsors] == ["Jewish Federation of Cleveland"]
    assert petition.closes_at.year == 2099 and petition.closes_at.tzinfo is not None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Let Ida Nudel go saved." in page
    assert "Open for signatures" in page  # the one move a draft allows
    edit = client.get(f"/manage/petitions/{petition.id}/edit").get_data(as_text=True)
    assert 'value="1000, 5000, 10000"' in edit


def test_editor_says_what_to_fix_and_saves_nothing(client, dbs, as_user):
    as_user("coordinator")
    response = post_form(client, "/manage/petitions/new", {
        **FORM, "title_en": "", "milestones": "1000, lots", "goal": "0",
        "opens_at": "2099-12-31T18:00", "closes_at": "2099-01-01T10:00"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter the title in English." in page
    assert "is not a whole number" in page
    assert "Enter a whole number above zero." in page
    assert "The petition must close after it opens." in page
    assert dbs.scalar(select(Petition)) is None


def test_wording_of_an_opened_petition_cannot_change_but_a_translation_can_be_added(
        client, dbs, as_user):
    as_user("coordinator")
    petition = factories.PetitionFactory(title_en="Original", title_ru="")
    url = f"/manage/petitions/{petition.id}/edit"
    data = {"title_en": "Changed", "target_en": petition.target_en, "text_en": petition.text_en,
            "text_ru": petition.text_ru, "target_ru": petition.target_ru, "slug": petition.slug,
            "goal": "1000", "campaign_id": "0"}
    response = post_form(client, url, data)
    assert response.status_code == 400
    assert "people signed this text" in response.get_data(as_text=True)
    response = post_form(client, url, {**data, "title_en": "Original",
                                       "title_ru": "Оригинал"})
    assert response.status_code == 302
    dbs.expire_all()
    petition = dbs.get(Petition, petition.id)
    assert (petition.title_en, petition.title_ru) == ("Original", "Оригинал")


def test_open_then_close_then_deliver_then_archive(client, dbs, as_user):
    as_user("coordinator")
    petition = factories.DraftPetitionFactory(closes_at=None)
    base = f"/manage/petitions/{petition.id}/state"

    page = client.get(f"{base}/open").get_data(as_text=True)
    assert "Open this petition for signatures?" in page
    # Without the tick nothing happens.
    response = post_form(client, f"{base}/open", {})
    assert response.status_code == 400
    assert "Tick the box to confirm." in response.get_data(as_text=True)
    dbs.expire_all()
    assert dbs.get(Petition, petition.id).status == PetitionStatus.DRAFT

    assert post_form(client, f"{base}/open", {"confirm": "y"}).status_code == 302
    dbs.expire_all()
    opened = dbs.get(Petition, petition.id)
    assert opened.status == PetitionStatus.OPEN and opened.opens_at is not None

    assert post_form(client, f"{base}/closed", {"confirm": "y"}).status_code == 302
    dbs.expire_all()
    closed = dbs.get(Petition, petition.id)
    assert closed.status == PetitionStatus.CLOSED and closed.closes_at is not None

    # Delivery needs when, to whom and how.
    response = post_form(client, f"{base}/delivered", {"confirm": "y", "delivered_on": "2020-05-01",
                                                       "delivered_to": "", "delivery_method": ""})
    assert response.status_code == 400
    assert "Say when, to whom and how it was delivered." in response.get_data(as_text=True)
    response = post_form(client, f"{base}/delivered", {
        "confirm": "y", "delivered_on": "2020-05-01",
        "delivered_to": "Office of Senator Jackson", "delivery_method": "Handed over in person",
        "delivery_notes": "With 12 boxes of paper signatures."})
    assert response.status_code == 302
    dbs.expire_all()
    delivered = dbs.get(Petition, petition.id)
    assert delivered.status == PetitionStatus.DELIVERED
    assert delivered.delivered_at.date().isoformat() == "2020-05-01"
    assert delivered.delivered_to == "Office of Senator Jackson"
    assert delivered.delivery_method == "Handed over in person"
    page = client.get(f"/manage/petitions/{petition.id}").get_data(as_text=True)
    assert "Delivered on" in page and "Office of Senator Jackson" in page

    assert post_form(client, f"{base}/archived", {"confirm": "y"}).status_code == 302
    dbs.expire_all()
    assert dbs.get(Petition, petition.id).status == PetitionStatus.ARCHIVED
    actions = dbs.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "petitions")
                          .order_by(AuditEntry.id)).all()
    assert actions == ["petition.status_changed", "petition.status_changed",
                       "petition.delivered", "petition.status_changed"]


def test_illegal_transition_is_refused_with_a_message_and_changes_nothing(client, dbs, as_user):
    as_user("coordinator")
    petition = factories.DraftPetitionFactory()
    url = f"/manage/petitions/{petition.id}/state/delivered"
    response = client.get(url)
    assert response.status_code == 302
    assert "A petition that is draft cannot become delivered." in flashes(client)
    # A forged POST is refused the same way.
    token_page = client.get(f"/manage/petitions/{petition.id}/state/open").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', token_page).group(1)
    response = client.post(url, data={"csrf_token": token, "confirm": "y",
                                      "delivered_on": "2020-01-01", "delivered_to": "x",
                                      "delivery_method": "y"})
    assert response.status_code == 302
    assert "cannot become delivered" in flashes(client)
    dbs.expire_all()
    unchanged = dbs.get(Petition, petition.id)
    assert unchanged.status == PetitionStatus.DRAFT and unchanged.delivered_at is None
    assert dbs.scalar(select(AuditEntry).where(AuditEntry.target_type == "petitions")) is None
    assert client.get(f"/manage/petitions/{petition.id}/state/nonsense").status_code == 404


def test_opening_with_a_past_close_date_is_refused(client, dbs, as_user):
    from datetime import timedelta

    from ncsej_campaigns.db import utcnow

    as_user("coordinator")
    petition = factories.ClosedPetitionFactory(closes_at=utcnow() - timedelta(days=1))
    response = post_form(client, f"/manage/petitions/{petition.id}/state/open", {"confirm": "y"})
    assert response.status_code == 302
    assert "Move the close date later" in flashes(client)
    dbs.expire_all()
    assert dbs.get(Petition, petition.id).status == PetitionStatus.CLOSED


def test_petition_list_filters_by_state_and_search(client, as_user):
    as_user("coordinator")
    factories.PetitionFactory(title_en="Open for Ida")
    factories.DraftPetitionFactory(title_en="Draft for Natan")
    page = client.get("/manage/petitions/?status=draft").get_data(as_text=True)
    assert "Draft for Natan" in page and "Open for Ida" not in page
    page = client.get("/manage/petitions/?q=ida").get_data(as_text=True)
    assert "Open for Ida" in page and "Draft for Natan" not in page
    assert "No petition matches these filters." in client.get(
        "/manage/petitions/?q=zzz").get_data(as_text=True)


def test_a_russian_coordinator_sees_petitions_and_campaigns_under_their_russian_names(
        client, as_user):
    as_user("coordinator", locale="ru")
    campaign = factories.CampaignFactory(name_en="Freedom Sunday", name_ru="Воскресенье свободы")
    petition = factories.PetitionFactory(campaign=campaign, title_en="Let Ida go",
                                         title_ru="Отпустите Иду")
    untranslated = factories.PetitionFactory(title_en="Only in English", title_ru="")
    listing = client.get("/manage/petitions/").get_data(as_text=True)
    assert "Отпустите Иду" in listing and "Let Ida go" not in listing
    assert "Воскресенье свободы" in listing
    assert "Only in English" in listing  # no Russian title written: the English one
    dashboard = client.get(f"/manage/petitions/{petition.id}").get_data(as_text=True)
    assert "<title>Отпустите Иду" in dashboard
    assert untranslated.title_en in client.get(
        f"/manage/petitions/{untranslated.id}").get_data(as_text=True)


def test_federation_sees_its_share_links_and_referred_counts_only(client, as_user):
    org = factories.OrganizationFactory(slug="cleveland", name="Jewish Federation of Cleveland")
    other = factories.OrganizationFactory()
    petition = factories.PetitionFactory(title_en="Let them go now")
    draft = factories.DraftPetitionFactory(title_en="Not yet public")
    for _ in range(3):
        factories.ConfirmedSignatureFactory(petition=petition, referring_organization=org)
    factories.ConfirmedSignatureFactory(petition=petition, referring_organization=other)
    as_user("federation", organization=org)
    page = client.get("/manage/petitions/").get_data(as_text=True)
    assert "Let them go now" in page and "Not yet public" not in page
    assert f"/petitions/{petition.slug}?ref=cleveland" in page
    assert "&lt;iframe" in page  # the widget snippet, shown as text to copy
    assert re.search(r'stat-value">3</span><span class="stat-label">confirmed through us', page)
    assert client.get(f"/manage/petitions/{draft.id}").status_code == 404
    assert client.get("/manage/petitions/new").status_code == 404
    assert client.get(f"/manage/petitions/{petition.id}/edit").status_code == 404
    assert client.get(f"/manage/petitions/{petition.id}/state/closed").status_code == 404
