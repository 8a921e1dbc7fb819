"""A person's own data, through an emailed link: see it, download it, erase it."""

from __future__ import annotations

import json
import time

from itsdangerous import TimestampSigner

from ncsej_campaigns.audit.models import AuditEntry
from ncsej_campaigns.notifications.models import OutboxEmail
from ncsej_campaigns.people.models import Affiliation, Person
from tests import factories
from tests.conftest import body_text, csrf_token, post_form
from tests.helpers import link_in


def ask_for_link(client, email):
    return post_form(client, "/my-data", {"email": email})


def data_link(client, mailbox, person) -> str:
    ask_for_link(client, person.email)
    (message,) = mailbox.wait_for(to=person.email)
    return link_in(message)


def test_link_arrives_and_shows_the_persons_data(client, mailbox):
    org = factories.OrganizationFactory(name="Jewish Federation of Cleveland")
    person = factories.person_in(org, first_name="Sarah", last_name="Cohen",
                                 email="sarah.cohen@example.com", phone="+1 216 555 0100")
    response = ask_for_link(client, "Sarah.Cohen@Example.com")
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)

    (message,) = mailbox.wait_for(to=person.email)
    assert message["Subject"] == "Your data held by the coalition"
    assert message["Content-Language"] == "en"
    assert "Hello Sarah Cohen," in body_text(message)
    response = client.get(link_in(message))
    # Personal data behind a secret link: no browser or proxy keeps a copy.
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    for shown in ("Sarah Cohen", "sarah.cohen@example.com", "+1 216 555 0100",
                  "Jewish Federation of Cleveland"):
        assert shown in page


def test_email_is_in_the_persons_language(client, mailbox, dbs):
    person = factories.PersonFactory(first_name="Ида", last_name="Нудель",
                                     email="ida@example.net", preferred_language="ru")
    ask_for_link(client, person.email)
    (message,) = mailbox.wait_for(to=person.email)
    assert message["Content-Language"] == "ru"
    assert dbs.query(OutboxEmail).one().locale == "ru"
    assert "Ида Нудель" in body_text(message)


def test_unknown_email_gets_the_same_page_and_no_mail(client, mailbox, dbs):
    response = ask_for_link(client, "nobody@example.com")
    assert response.status_code == 200
    assert "If we hold data about nobody@example.com" in response.get_data(as_text=True)
    assert dbs.query(OutboxEmail).count() == 0
    assert mailbox.messages() == []


def test_download_has_the_persons_data_and_is_audited(client, mailbox, dbs):
    org = factories.OrganizationFactory(name="Jewish Federation of Cleveland")
    person = factories.person_in(org, first_name="Sarah", last_name="Cohen",
                                 email="sarah.cohen@example.com", city="Cleveland")
    link = data_link(client, mailbox, person)
    response = post_form(client, link + "/download", {}, form_url=link)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="my-data.json"'
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["given_name"] == "Sarah" and data["family_name"] == "Cohen"
    assert data["email"] == "sarah.cohen@example.com"
    assert data["postal_address"]["locality"] == "Cleveland"
    assert data["affiliations"][0]["organization"] == "Jewish Federation of Cleveland"
    entry = dbs.query(AuditEntry).filter_by(action="person.exported").one()
    assert entry.actor_label == "self (emailed link)" and entry.target_id == person.id


def test_erase_anonymizes_and_the_link_stops_working(client, mailbox, dbs):
    org = factories.OrganizationFactory()
    other_org = factories.OrganizationFactory()
    person = factories.person_in(org, first_name="Sarah", last_name="Cohen",
                                 email="sarah.cohen@example.com", phone="+1 216 555 0100",
                                 street_address="1 Main St")
    factories.AffiliationFactory(person=person, organization=other_org)
    link = data_link(client, mailbox, person)
    response = post_form(client, link + "/erase", {"confirm": "y"}, form_url=link)
    assert response.status_code == 200
    assert "Your data was erased" in response.get_data(as_text=True)

    dbs.expire_all()
    erased = dbs.get(Person, person.id)
    assert (erased.first_name, erased.last_name, erased.email, erased.email_normalized,
            erased.phone, erased.street_address) == ("", "", None, None, "", "")
    assert erased.erased_at is not None
    assert dbs.query(Affiliation).filter_by(person_id=person.id).count() == 2
    entry = dbs.query(AuditEntry).filter_by(action="person.erased").one()
    assert entry.actor_label == "self (emailed link)"

    response = client.get(link)
    assert response.headers["Location"] == "/my-data"
    assert "This link is not valid or was already used." in client.get("/my-data").get_data(
        as_text=True)
    # The same email can be registered again later as a new person.
    assert dbs.query(Person).filter_by(email_normalized="sarah.cohen@example.com").count() == 0


def test_erase_without_the_box_changes_nothing(client, mailbox, dbs):
    person = factories.PersonFactory(first_name="Sarah")
    link = data_link(client, mailbox, person)
    response = post_form(client, link + "/erase", {}, form_url=link)
    assert response.headers["Location"] == link
    assert "Tick the box to confirm the erasure." in client.get(link).get_data(as_text=True)
    dbs.expire_all()
    assert dbs.get(Person, person.id).first_name == "Sarah"


def test_expired_link_says_so(client, mailbox, monkeypatch, app):
    person = factories.PersonFactory()
    link = data_link(client, mailbox, person)
    later = int(time.time()) + app.config["DATA_REQUEST_MAX_AGE"] + 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    response = client.get(link)
    assert response.headers["Location"] == "/my-data"
    assert "This link has expired. Ask for a new one." in client.get("/my-data").get_data(
        as_text=True)


def test_link_stops_working_when_the_email_changes(client, mailbox, dbs):
    person = factories.PersonFactory(email="old@example.com")
    link = data_link(client, mailbox, person)
    stored = dbs.get(Person, person.id)
    stored.email, stored.email_normalized = "new@example.com", "new@example.com"
    dbs.commit()
    assert client.get(link).headers["Location"] == "/my-data"


def test_download_and_erase_need_the_form_token(client, mailbox, dbs):
    person = factories.PersonFactory(first_name="Sarah")
    link = data_link(client, mailbox, person)
    assert client.post(link + "/erase", data={"confirm": "y"}).status_code == 400
    assert client.post(link + "/download").status_code == 400
    dbs.expire_all()
    assert dbs.get(Person, person.id).first_name == "Sarah"
    assert csrf_token(client, link)


def test_erasure_clears_the_persons_emails_from_the_outbox(client, mailbox, dbs, as_user):
    person = factories.PersonFactory(first_name="Sarah", last_name="Cohen",
                                     email="sarah.cohen@example.com")
    link = data_link(client, mailbox, person)
    post_form(client, link + "/erase", {"confirm": "y"}, form_url=link)
    row = dbs.query(OutboxEmail).one()
    assert (row.to_address, row.to_name, row.body_text, row.body_html) == ("", "", "", "")
    assert row.context is None  # the link it held is gone too
    as_user("admin")
    page = client.get(f"/admin/outbox/{row.id}").get_data(as_text=True)
    assert "sarah.cohen@example.com" not in page and "Sarah" not in page


def test_person_with_the_longest_allowed_names_gets_the_link(client, mailbox):
    # 100 characters each, the most the form takes: 201 with the space between them.
    person = factories.PersonFactory(first_name=("Anna Maria " * 10)[:100],
                                     last_name=("Goldberg Levy " * 10)[:100],
                                     email="long.names@example.com")
    response = ask_for_link(client, person.email)
    assert response.status_code == 200
    mailbox.wait_for(to="long.names@example.com")
