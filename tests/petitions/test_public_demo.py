"""The demo data: a campaign with an open petition that looks real on every page (counts, the
hourly series, organizations, countries), one delivered, one draft; seeding twice adds nothing."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from ncsej_campaigns.campaigns.models import Campaign
from ncsej_campaigns.notifications.models import OutboxEmail
from ncsej_campaigns.petitions.demo import OPEN_PETITION, OPEN_SIGNATURES
from ncsej_campaigns.petitions.models import (
    Petition,
    PetitionStatus,
    Signature,
    SignatureHour,
    SignatureStatus,
)


def test_seed_demo_adds_realistic_petitions_once(runner, dbs, client):
    started = time.monotonic()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 20

    campaign = dbs.scalar(select(Campaign).where(Campaign.slug == "freedom-sunday"))
    assert campaign.name_ru == "Воскресенье свободы"
    petitions = {p.status: p for p in dbs.scalars(select(Petition))}
    assert set(petitions) == {PetitionStatus.OPEN, PetitionStatus.DELIVERED,
                              PetitionStatus.DRAFT}
    assert all(p.campaign_id == campaign.id for p in petitions.values())
    assert all(p.title_ru and p.text_ru and p.target_ru for p in petitions.values())
    open_petition = petitions[PetitionStatus.OPEN]
    delivered = petitions[PetitionStatus.DELIVERED]
    assert delivered.delivered_at is not None and delivered.delivered_to

    # The cached counts agree with the rows, and so does the hourly series.
    confirmed = dbs.scalar(select(func.count()).select_from(Signature).where(
        Signature.petition_id == open_petition.id,
        Signature.status == SignatureStatus.CONFIRMED))
    assert 3000 < confirmed <= OPEN_SIGNATURES
    assert open_petition.confirmed_count == confirmed
    assert open_petition.pending_count > 0
    assert open_petition.paper_count > 0
    per_hour = dbs.execute(select(func.sum(SignatureHour.confirmed), func.count(),
                                  func.min(SignatureHour.hour), func.max(SignatureHour.hour))
                           .where(SignatureHour.petition_id == open_petition.id)).one()
    assert per_hour[0] == confirmed
    assert (per_hour[3] - per_hour[2]).days >= 35  # spread over weeks
    # Seeding does not email the coordinators about milestones passed long ago.
    assert dbs.scalar(select(func.count()).select_from(OutboxEmail)) == 0

    data = json.loads(client.get(f"/petitions/{OPEN_PETITION['slug']}.json").get_data(
        as_text=True))
    assert len(data["by_referring_organization"]) > 20
    assert len(data["by_country"]) > 5
    assert data["totals"]["total"] == confirmed + open_petition.paper_count
    page = client.get(f"/petitions/{OPEN_PETITION['slug']}", headers={"Accept-Language": "ru"})
    assert "Сделайте свободу эмиграции условием" in page.get_data(as_text=True)
    assert client.get("/petitions/books-for-hebrew-teachers").status_code == 404

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    dbs.expire_all()
    assert dbs.scalar(select(func.count()).select_from(Petition)) == 3
    assert dbs.scalar(select(func.count()).select_from(Campaign)) == 1
    assert dbs.get(Petition, open_petition.id).confirmed_count == confirmed
