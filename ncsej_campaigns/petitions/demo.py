"""Demo petitions for ``flask seed-demo``: the Freedom Sunday campaign with one open petition
carrying a few thousand confirmed signatures (spread over member organizations, countries and
six weeks, so the dashboard, the chart and the open data look real), one closed and delivered,
one draft. Idempotent: everything is found by its slug before it is created, and the
signatures are only added to a petition that has none.

The signatures go in as two multi-row inserts (people, then signatures) rather than one ORM
object each, so seeding stays fast; the counts and the hourly series are then set by the same
reconciliation the hourly beat job runs.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, insert, select

from ncsej_campaigns.campaigns.models import Campaign
from ncsej_campaigns.db import utcnow
from ncsej_campaigns.demo_names import english_name, russian_name
from ncsej_campaigns.extensions import db
from ncsej_campaigns.organizations.models import Organization
from ncsej_campaigns.people.models import Person
from ncsej_campaigns.petitions import counting
from ncsej_campaigns.petitions.models import (
    PaperBatch,
    Petition,
    PetitionStatus,
    Signature,
    SignatureSource,
    SignatureStatus,
)
from ncsej_campaigns.petitions.signing import hash_ip
from ncsej_campaigns.text import normalize_email

OPEN_SIGNATURES = 4200
DELIVERED_SIGNATURES = 900

CAMPAIGN = {
    "slug": "freedom-sunday",
    "name_en": "Freedom Sunday",
    "name_ru": "Воскресенье свободы",
    "goal_en": "Freedom of emigration and of religion for Soviet Jews",
    "goal_ru": "Свобода эмиграции и вероисповедания для советских евреев",
    "description_en": (
        "On the eve of the summit, the coalition brings the country to Washington: a rally on "
        "the Mall, delegations from every federation, missions to refuseniks, and petitions "
        "signed in every community."),
    "description_ru": (
        "Накануне встречи на высшем уровне коалиция приводит страну в Вашингтон: митинг на "
        "Национальной аллее, делегации всех федераций, поездки к отказникам и петиции, "
        "подписанные в каждой общине."),
}

OPEN_PETITION = {
    "slug": "freedom-of-emigration-at-the-summit",
    "title_en": "Make freedom of emigration a condition of the summit",
    "title_ru": "Сделайте свободу эмиграции условием встречи на высшем уровне",
    "target_en": "The President and the Congress of the United States",
    "target_ru": "Президенту и Конгрессу Соединённых Штатов",
    "text_en": (
        "Hundreds of thousands of Soviet Jews have asked to leave and been refused, some for "
        "more than fifteen years. Refuseniks lose their work, their teachers of Hebrew are "
        "imprisoned, and families are kept apart.\n\n"
        "We ask the President to raise freedom of emigration and of religion at the summit, and "
        "the Congress to make it a condition of any new agreement on trade.\n\n"
        "Let my people go."),
    "text_ru": (
        "Сотни тысяч советских евреев подали заявления на выезд и получили отказ, некоторые — "
        "более пятнадцати лет назад. Отказники теряют работу, преподавателей иврита сажают в "
        "тюрьму, семьи разлучены.\n\n"
        "Мы просим Президента поднять вопрос о свободе эмиграции и вероисповедания на встрече "
        "на высшем уровне, а Конгресс — сделать его условием любого нового торгового "
        "соглашения.\n\n"
        "Отпусти народ мой."),
    "goal": 10000,
    "milestones": [1000, 2500, 5000, 7500],
}

DELIVERED_PETITION = {
    "slug": "let-the-refuseniks-go",
    "title_en": "Let the refuseniks go",
    "title_ru": "Отпустите отказников",
    "target_en": "The Embassy of the USSR in Washington",
    "target_ru": "Посольству СССР в Вашингтоне",
    "text_en": (
        "We, members of Jewish communities across the United States, ask the Soviet "
        "government to grant exit visas to every refusenik family now waiting.\n\n"
        "No one should be held hostage for wishing to live as a Jew."),
    "text_ru": (
        "Мы, члены еврейских общин Соединённых Штатов, просим советское правительство выдать "
        "выездные визы всем семьям отказников, которые сейчас ждут.\n\n"
        "Никто не должен быть заложником своего желания жить евреем."),
    "goal": 1500,
    "milestones": [500, 1000],
    "delivered_to": "Embassy of the USSR, 1125 16th Street NW, Washington",
    "delivery_method": "Handed over in person by a delegation of rabbis and refuseniks' relatives",
}

DRAFT_PETITION = {
    "slug": "books-for-hebrew-teachers",
    "title_en": "Let Hebrew books through customs",
    "title_ru": "Пропустите книги на иврите через таможню",
    "target_en": "The State Customs Committee of the USSR",
    "target_ru": "Государственному таможенному комитету СССР",
    "text_en": ("Visitors bringing Hebrew primers and prayer books to teachers in Leningrad and "
                "Moscow have them confiscated at the border. We ask that they be let through."),
    "text_ru": ("У гостей, которые везут учителям в Ленинграде и Москве буквари на иврите и "
                "молитвенники, их отбирают на границе. Мы просим пропускать их."),
    "goal": 5000,
    "milestones": [1000],
}

COUNTRIES = [("US", 70), ("IL", 9), ("CA", 6), ("GB", 4), ("RU", 3), ("UA", 2), ("FR", 2),
             ("DE", 1), ("AU", 1), ("AR", 1), ("BR", 1)]
POSTAL = {"US": ["10024", "19103", "02116", "20016", "44122", "60645", "90035", "33180",
                 "30328", "77096", "98118"],
          "IL": ["9414301", "6473925"], "CA": ["M5V 2T6", "H3Z 1A1"], "GB": ["NW11 7HT"],
          "RU": ["119019", "190000"], "UA": ["01001"], "FR": ["75004"], "DE": ["10117"],
          "AU": ["2026"], "AR": ["C1041"], "BR": ["01310-100"]}
COMMENTS_EN = ["For my grandparents, who could not leave.", "Let them go!",
               "My cousin has waited eleven years.", "Never again silence."]
COMMENTS_RU = ["За моих родителей, которым отказали.", "Отпусти народ мой!",
               "Мы ждали девять лет."]


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _get_or_add(model, slug: str, **values):
    row = db.session.scalar(select(model).where(model.slug == slug))
    if row is None:
        row = model(slug=slug, **values)
        db.session.add(row)
        db.session.flush()
    return row


def _campaign(sponsors: list[Organization]) -> Campaign:
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == CAMPAIGN["slug"]))
    if campaign is None:
        today = utcnow().date()
        campaign = Campaign(**CAMPAIGN, starts_on=today - timedelta(days=60),
                            ends_on=today + timedelta(days=60), is_public=True)
        campaign.sponsors = sponsors
        db.session.add(campaign)
        db.session.flush()
    return campaign


def _person_rows(rng: random.Random, n: int, start: int):
    now = utcnow()
    for i in range(start, start + n):
        if rng.random() < 0.3:
            first, last, latin = russian_name(rng)
            email = f"{latin}.{i}@signers.example.net"
            language = "ru"
        else:
            first, last, latin = english_name(rng)
            email = f"{latin}.{i}@signers.example.org"
            language = "en"
        yield {"email": email, "email_normalized": normalize_email(email), "first_name": first,
               "last_name": last, "preferred_language": language, "created_at": now,
               "updated_at": now}


def _moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A signing time: more as the campaign gathers pace, more in the evening (US time)."""
    span = (end - start).total_seconds()
    at = start + timedelta(seconds=span * (rng.random() ** 0.6))
    evening = rng.random() < 0.55
    hour = rng.choice([23, 0, 1, 2, 3]) if evening else rng.randrange(12, 23)
    at = at.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))
    return min(max(at, start), end)


def _add_signatures(rng: random.Random, petition: Petition, n: int, referrers, start: datetime,
                    end: datetime, pending_share: float = 0.05) -> int:
    """Bulk-insert ``n`` people and their signatures on ``petition``."""
    if db.session.scalar(select(func.count()).select_from(Signature)
                         .where(Signature.petition_id == petition.id)):
        return 0
    first_index = (db.session.scalar(select(func.count()).select_from(Person)) or 0) + 1
    people = list(_person_rows(rng, n, first_index))
    people_table = Person.__table__
    ids = db.session.execute(
        insert(people_table).returning(people_table.c.id, sort_by_parameter_order=True),
        people).scalars().all()
    signatures = []
    for person_id, person in zip(ids, people, strict=True):
        created = _moment(rng, start, end)
        status = SignatureStatus.CONFIRMED
        if created > end - timedelta(days=2) and rng.random() < pending_share * 8:
            status = SignatureStatus.PENDING
        elif rng.random() < 0.01:
            status = SignatureStatus.WITHDRAWN
        confirmed = created + timedelta(minutes=rng.randrange(1, 180))
        if confirmed > end:
            confirmed = end
        country = _weighted(rng, COUNTRIES)
        referrer = _weighted(rng, referrers)
        russian = person["preferred_language"] == "ru"
        comment = ""
        if rng.random() < 0.08:
            comment = rng.choice(COMMENTS_RU if russian else COMMENTS_EN)
        signatures.append({
            "petition_id": petition.id, "person_id": person_id, "status": status,
            "comment": comment,
            "source": SignatureSource.WIDGET if rng.random() < 0.15 else SignatureSource.WEB,
            "referring_organization_id": referrer,
            "email_consent": rng.random() < 0.4,
            "country": country, "postal_code": rng.choice(POSTAL[country]),
            "ip_hash": hash_ip(f"198.51.{rng.randrange(100)}.{rng.randrange(1, 255)}"),
            "email_domain": person["email"].rpartition("@")[2],
            "locale": "ru" if russian else "en",
            "created_at": created,
            "confirmed_at": confirmed if status != SignatureStatus.PENDING else None,
            "withdrawn_at": confirmed + timedelta(days=1)
            if status == SignatureStatus.WITHDRAWN else None,
        })
    db.session.execute(insert(Signature.__table__), signatures)
    return n


def _referrer_weights(federations: list[Organization], others: list[Organization]):
    # The big federations bring the most; a quarter of signers came straight to the page.
    weights = [(None, 25)]
    weights += [(org.id, max(12 - i // 2, 2)) for i, org in enumerate(federations)]
    weights += [(org.id, 3) for org in others]
    return weights


def _already_told(petition: Petition, total: int) -> None:
    # The milestones the seeded signatures passed were "announced" long ago: seeding must not
    # send the coordinators a burst of milestone emails.
    marks = [m for m in [*petition.milestones, petition.goal] if m <= total]
    petition.last_milestone_notified = max(marks, default=0)


def seed_petitions(rng: random.Random, national: Organization,
                   federations: list[Organization]) -> None:
    others = list(db.session.scalars(
        select(Organization).where(Organization.id.not_in([national.id] +
                                                          [f.id for f in federations]))
        .order_by(Organization.name)))
    campaign = _campaign([national, *federations[:6]])
    now = utcnow()
    referrers = _referrer_weights(federations, others)

    opens = now - timedelta(days=42)
    open_petition = _get_or_add(
        Petition, OPEN_PETITION["slug"],
        **{k: v for k, v in OPEN_PETITION.items() if k != "slug"},
        campaign_id=campaign.id, status=PetitionStatus.OPEN, opens_at=opens,
        closes_at=now + timedelta(days=28))
    open_petition.sponsors = [national, *federations[:4]]
    if _add_signatures(rng, open_petition, OPEN_SIGNATURES, referrers, opens,
                       now - timedelta(minutes=5)):
        _already_told(open_petition, OPEN_SIGNATURES)
        if not db.session.scalar(select(func.count()).select_from(PaperBatch)
                                 .where(PaperBatch.petition_id == open_petition.id)):
            for org, count, source in ((federations[0], 380, "Shabbat tables, Upper West Side"),
                                       (federations[6], 145, "Community seder, Beachwood")):
                db.session.add(PaperBatch(petition_id=open_petition.id,
                                          organization_id=org.id, signature_count=count,
                                          source=source, collected_on=(now - timedelta(
                                              days=rng.randrange(3, 30))).date()))

    delivered_opens = now - timedelta(days=160)
    delivered = _get_or_add(
        Petition, DELIVERED_PETITION["slug"],
        **{k: v for k, v in DELIVERED_PETITION.items() if k != "slug"},
        campaign_id=campaign.id, status=PetitionStatus.DELIVERED, opens_at=delivered_opens,
        closes_at=now - timedelta(days=70),
        delivered_at=datetime.combine(date.today() - timedelta(days=60),
                                      datetime.min.time(), tzinfo=UTC).replace(hour=12),
        delivery_notes="Received by the consular section; a copy went to the State Department.")
    delivered.sponsors = [national]
    if _add_signatures(rng, delivered, DELIVERED_SIGNATURES, referrers, delivered_opens,
                       now - timedelta(days=70), pending_share=0):
        _already_told(delivered, DELIVERED_SIGNATURES + 1250)
        db.session.add(PaperBatch(petition_id=delivered.id, organization_id=national.id,
                                  signature_count=1250, source="Petition sheets from 40 "
                                  "synagogues", collected_on=(now - timedelta(days=75)).date()))

    _get_or_add(Petition, DRAFT_PETITION["slug"],
                **{k: v for k, v in DRAFT_PETITION.items() if k != "slug"},
                campaign_id=campaign.id, status=PetitionStatus.DRAFT)
    db.session.flush()
    counting.reconcile_counts(report=False)  # new rows, not drift
