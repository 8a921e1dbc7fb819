"""Point 8: each public petition publishes its open data as JSON: totals, per country, per
referring organization, per hour; no personal data; cached; rate-limited as documented."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from ncsej_campaigns.extensions import db
from ncsej_campaigns.petitions import counting
from ncsej_campaigns.petitions.models import PaperBatch
from tests import factories

HOUR = datetime(2026, 11, 2, 9, tzinfo=UTC)


def counted_petition(app):
    cleveland = factories.OrganizationFactory(slug="cleveland", name="Cleveland Federation")
    boston = factories.OrganizationFactory(slug="boston", name="Boston JCRC")
    petition = factories.PetitionFactory(slug="let-them-go", goal=100)
    people = []
    for n, (org, country, when) in enumerate([
        (cleveland, "US", HOUR), (cleveland, "US", HOUR), (cleveland, "CA", HOUR),
        (boston, "IL", HOUR + timedelta(hours=2)), (None, "US", HOUR + timedelta(hours=2)),
    ]):
        person = factories.PersonFactory(email=f"secret{n}@example.com", first_name="Secretname",
                                         postal_code="99999")
        people.append(person)
        factories.ConfirmedSignatureFactory(petition=petition, person=person, country=country,
                                            referring_organization=org, confirmed_at=when,
                                            postal_code="99999")
    factories.SignatureFactory(petition=petition, country="FR")  # pending: not published
    factories.Session.add(PaperBatch(petition_id=petition.id, organization_id=boston.id,
                                     signature_count=40, source="Rally sheets",
                                     collected_on=HOUR.date()))
    factories.Session.commit()
    with app.app_context():
        counting.reconcile_counts()
        db.session.commit()
    return petition


def test_open_data_has_totals_countries_organizations_and_hours(client, app):
    petition = counted_petition(app)
    response = client.get(f"/petitions/{petition.slug}.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    data = json.loads(response.get_data(as_text=True))

    assert data["petition"]["slug"] == "let-them-go"
    assert data["petition"]["title"] == {"en": petition.title_en, "ru": petition.title_ru}
    assert data["petition"]["status"] == "open"
    assert data["petition"]["goal"] == 100
    assert data["totals"]["total"] == 45
    assert data["totals"]["online_confirmed"] == 5
    assert data["totals"]["paper"] == 40
    assert data["by_country"] == [{"country": "US", "count": 3}, {"country": "CA", "count": 1},
                                  {"country": "IL", "count": 1}]
    assert data["by_referring_organization"] == [
        {"slug": "cleveland", "name": "Cleveland Federation", "count": 3},
        {"slug": "boston", "name": "Boston JCRC", "count": 1}]
    assert data["without_referring_organization"] == 1
    assert data["paper_by_organization"] == [
        {"slug": "boston", "name": "Boston JCRC", "count": 40}]
    assert data["per_hour"] == [{"hour": "2026-11-02T09:00:00Z", "count": 3},
                                {"hour": "2026-11-02T11:00:00Z", "count": 2}]


def test_open_data_holds_no_personal_data(client, app):
    petition = counted_petition(app)
    body = client.get(f"/petitions/{petition.slug}.json").get_data(as_text=True)
    for secret in ("secret0@example.com", "example.com", "Secretname", "Cohen", "99999"):
        assert secret not in body


def test_open_data_is_cached_and_conditional(client, app):
    petition = counted_petition(app)
    response = client.get(f"/petitions/{petition.slug}.json")
    assert response.headers["Cache-Control"] == "public, max-age=60"
    etag = response.headers["ETag"]
    again = client.get(f"/petitions/{petition.slug}.json", headers={"If-None-Match": etag})
    assert again.status_code == 304

    # Served from the cache while the counts stand still, rebuilt once they move.
    first = json.loads(response.get_data(as_text=True))["generated_at"]
    assert json.loads(client.get(f"/petitions/{petition.slug}.json").get_data(
        as_text=True))["generated_at"] == first
    factories.ConfirmedSignatureFactory(petition=petition, country="UA")
    with app.app_context():
        counting.update_counts([petition.id])
        db.session.commit()
    fresh = client.get(f"/petitions/{petition.slug}.json", headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert json.loads(fresh.get_data(as_text=True))["totals"]["online_confirmed"] == 6


def test_open_data_is_rate_limited(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PETITION_DATA_LIMIT", "2 per minute")
    petition = factories.PetitionFactory()
    assert client.get(f"/petitions/{petition.slug}.json").status_code == 200
    assert client.get(f"/petitions/{petition.slug}.json").status_code == 200
    limited = client.get(f"/petitions/{petition.slug}.json")
    assert limited.status_code == 429
    assert "Retry-After" in limited.headers
    assert limited.get_json()["error"] == "too many requests"


def test_live_count_json(client, app):
    petition = counted_petition(app)
    data = client.get(f"/petitions/{petition.slug}/count.json").get_json()
    assert data["total"] == 45
    assert data["online_confirmed"] == 5 and data["paper"] == 40
    assert data["goal"] == 100 and data["next_milestone"] == 100
    assert data["milestone_text"] == "55 more to reach 100."
    assert data["unit"] == "signatures"
    ru = client.get(f"/petitions/{petition.slug}/count.json",
                    headers={"Accept-Language": "ru"}).get_json()
    assert ru["total_formatted"] == "45"
