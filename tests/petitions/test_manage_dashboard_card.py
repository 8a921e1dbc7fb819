"""The petitions card on the signed-in dashboard."""

from __future__ import annotations

from tests import factories


def test_coordinator_dashboard_lists_open_petitions(client, as_user):
    as_user("coordinator")
    factories.PetitionFactory(title_en="Let Ida Nudel go", confirmed_count=120, goal=1000)
    factories.DraftPetitionFactory(title_en="Still a draft")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Let Ida Nudel go" in page and "120 of 1,000" in page
    assert "Still a draft" not in page


def test_federation_dashboard_card_shows_what_it_brought_in(client, as_user):
    org = factories.OrganizationFactory()
    petition = factories.PetitionFactory(title_en="Let them go")
    factories.ConfirmedSignatureFactory.create_batch(2, petition=petition,
                                                     referring_organization=org)
    factories.ConfirmedSignatureFactory(petition=petition)
    as_user("federation", organization=org)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Let them go" in page and "2 confirmed through us" in page


def test_dashboard_without_open_petitions_says_so(client, as_user):
    as_user("coordinator")
    assert "No petition is open right now." in client.get("/dashboard").get_data(as_text=True)
