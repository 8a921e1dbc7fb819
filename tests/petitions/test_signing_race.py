"""Point 5, the race: many requests sign with the same email at the same moment, each from
its own client on its own thread and its own database connection. Exactly one person and one
signature come out of it, and every request gets the normal answer."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from ncsej_campaigns.people.models import Person
from ncsej_campaigns.petitions.models import Signature, SignatureStatus
from tests import factories
from tests.petitions.conftest import SIGNER, confirm_link, form_token, wait_for_total

RACERS = 8

# On PostgreSQL (real mode) the inserts truly collide on the unique indexes and the losers take
# the savepoint path; SQLite (embedded mode) lets one writer in at a time, so there the same
# requests queue on its lock, and the answer must be the same.


def race(app, petition, email: str) -> list[int]:
    clients = [app.test_client() for _ in range(RACERS)]
    tokens = [form_token(c, f"/petitions/{petition.slug}") for c in clients]
    start = threading.Barrier(RACERS)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def sign(client, token):
        try:
            start.wait(timeout=10)
            response = client.post(f"/petitions/{petition.slug}/sign",
                                   data={**SIGNER, "email": email, "csrf_token": token})
            statuses.append(response.status_code)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sign, args=pair) for pair in zip(clients, tokens,
                                                                        strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return statuses


@pytest.mark.parametrize("known_person", [False, True], ids=["new-person", "known-person"])
def test_racing_requests_with_one_email_make_exactly_one_signature(
        app, dbs, client, mailbox, monkeypatch, known_person):
    monkeypatch.setitem(app.config, "PETITION_SIGN_LIMIT_PER_EMAIL", "1000 per hour")
    petition = factories.PetitionFactory()
    email = "racer@example.org"
    if known_person:
        factories.PersonFactory(email=email)

    statuses = race(app, petition, email.upper())
    assert statuses == [200] * RACERS

    dbs.expire_all()
    assert dbs.scalar(select(func.count()).select_from(Person)) == 1
    rows = dbs.scalars(select(Signature).where(Signature.petition_id == petition.id)).all()
    assert len(rows) == 1
    assert rows[0].status == SignatureStatus.PENDING
    # Each attempt got its confirmation email, all for the one signature.
    messages = mailbox.wait_for(email, count=RACERS)
    links = {confirm_link(m) for m in messages}
    client.get(sorted(links)[0])
    wait_for_total(client, petition.slug, 1)
