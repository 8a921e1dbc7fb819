"""Points 5 to 7 as a signer sees them: sign, confirm by email, count once, withdraw; the
referral and the widget; honeypot, rate limits and the hashed IP address."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import func, select

from ncsej_campaigns.notifications.models import OutboxEmail
from ncsej_campaigns.people.models import Person
from ncsej_campaigns.petitions.models import Signature, SignatureSource, SignatureStatus
from tests import factories
from tests.conftest import REAL_MODE, TEST_SECRET
from tests.petitions.conftest import (
    SIGNER,
    confirm_link,
    public_count,
    sign,
    wait_for_total,
    withdraw_link,
)

RU = {"Accept-Language": "ru"}
EMAIL = SIGNER["email"]


def signatures(dbs, petition) -> list[Signature]:
    dbs.expire_all()
    return list(dbs.scalars(select(Signature).where(Signature.petition_id == petition.id)))


def count_rows(dbs, model) -> int:
    dbs.expire_all()
    return dbs.scalar(select(func.count()).select_from(model))


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_signing_records_a_pending_signature_and_emails_a_confirmation(client, dbs, mailbox):
    petition = factories.PetitionFactory()
    response = sign(client, petition, comment="For my grandparents in Kiev",
                    email_consent="y")
    assert response.status_code == 200
    assert "Check your email" in text_of(response)
    assert f"We sent a message to {EMAIL}" in text_of(response)

    [signature] = signatures(dbs, petition)
    assert signature.status == SignatureStatus.PENDING
    assert signature.confirmed_at is None
    assert (signature.country, signature.postal_code) == ("US", "10024")
    assert signature.comment == "For my grandparents in Kiev"
    assert signature.email_consent is True
    assert signature.source == SignatureSource.WEB
    assert signature.email_domain == "example.net"
    person = signature.person
    assert (person.first_name, person.last_name, person.email) == ("Ida", "Nudel", EMAIL)
    # Consent counts once the address is proven, not before.
    assert person.email_consent is False

    [message] = mailbox.wait_for(EMAIL)
    assert message["Subject"] == f"Please confirm your signature: {petition.title_en}"
    assert "/confirm/" in confirm_link(message) and "/withdraw/" in withdraw_link(message)
    # Nothing counts before confirmation.
    assert public_count(client, petition.slug)["total"] == 0


def test_a_form_sent_without_its_optional_fields_still_signs(client, dbs, mailbox):
    """A script or an old browser may leave out the comment and the consent box entirely."""
    petition = factories.PetitionFactory()
    response = sign(client, petition, comment=None, postal_code="10024")
    assert response.status_code == 200
    (signature,) = signatures(dbs, petition)
    assert signature.comment == "" and signature.email_consent is False
    assert signature.status == SignatureStatus.PENDING
    mailbox.wait_for(to=EMAIL)


def test_each_signer_sees_their_own_address_on_the_check_your_email_page(client, dbs,
                                                                        mailbox):
    """The page is rendered once per petition and language and the address put in for each
    signer (escaped), so nobody ever sees someone else's."""
    petition = factories.PetitionFactory()
    first = text_of(sign(client, petition, email="first.signer@example.org"))
    second = text_of(sign(client, petition, email="o'brien@example.org"))
    assert "first.signer@example.org" in first
    assert "o&#39;brien@example.org" in second and "first.signer" not in second
    russian = text_of(sign(client, petition, email="tretiy@example.org", headers=RU))
    assert "Проверьте почту" in russian and "tretiy@example.org" in russian
    assert len(signatures(dbs, petition)) == 3


def test_thank_you_pages_are_shared_for_a_few_seconds_but_not_across_referrers(
        app, client, dbs, mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_CACHE_SECONDS", 60)
    petition = factories.PetitionFactory()
    org = factories.OrganizationFactory()
    pages = {}
    for email, ref in (("a@example.org", None), ("b@example.org", None),
                       ("c@example.org", org.slug)):
        sign(client, petition, email=email, ref=ref)
        link = confirm_link(mailbox.wait_for(to=email)[0])
        first = client.get(link)
        assert first.status_code == 200 and "is confirmed" in text_of(first)
        pages[email] = first.get_data(as_text=True)
        again = client.get(link)  # a second click: its own page, not the first one's
        assert "was already confirmed" in text_of(again)
    assert pages["a@example.org"] == pages["b@example.org"]  # nothing personal on it
    assert f"ref={org.slug}" in pages["c@example.org"]
    assert f"ref={org.slug}" not in pages["a@example.org"]
    assert {s.status for s in signatures(dbs, petition)} == {SignatureStatus.CONFIRMED}


def test_a_confirmation_after_the_petition_closed_is_not_counted(app, client, dbs, mailbox,
                                                                   monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_CACHE_SECONDS", 60)  # a copy of it open, cached
    petition = factories.PetitionFactory()
    sign(client, petition)
    link = confirm_link(mailbox.wait_for(EMAIL)[0])
    petition.status = "closed"
    factories.Session.commit()
    response = client.get(link)
    assert response.status_code == 409
    assert "closed before your signature was confirmed" in text_of(response)
    [signature] = signatures(dbs, petition)
    assert signature.status == SignatureStatus.PENDING and signature.confirmed_at is None


def test_confirmation_email_is_in_the_language_the_signer_signed_in(client, dbs, mailbox):
    petition = factories.PetitionFactory()
    response = sign(client, petition, headers=RU)
    assert response.status_code == 200
    [message] = mailbox.wait_for(EMAIL)
    assert message["Content-Language"] == "ru"
    assert petition.title_ru in message["Subject"]
    [signature] = signatures(dbs, petition)
    assert signature.locale == "ru"
    assert signature.person.preferred_language == "ru"


def test_confirming_counts_the_signature_once(client, dbs, mailbox):
    petition = factories.PetitionFactory()
    sign(client, petition, email_consent="y")
    link = confirm_link(mailbox.wait_for(EMAIL)[0])

    response = client.get(link)
    assert response.status_code == 200
    assert "Thank you for signing" in text_of(response)
    assert "is confirmed" in text_of(response)
    [signature] = signatures(dbs, petition)
    assert signature.status == SignatureStatus.CONFIRMED
    assert signature.confirmed_at is not None
    assert signature.person.email_consent is True
    assert signature.person.email_consent_source == f"petition {petition.slug}"
    wait_for_total(client, petition.slug, 1)

    again = client.get(link)
    assert again.status_code == 200
    assert "was already confirmed" in text_of(again)
    assert len(signatures(dbs, petition)) == 1
    wait_for_total(client, petition.slug, 1)


def test_signing_twice_with_the_same_email_never_makes_a_second_signature(client, dbs,
                                                                          mailbox):
    petition = factories.PetitionFactory()
    assert sign(client, petition, email=" Ida.Nudel@Example.NET ").status_code == 200
    # Pending: the second attempt sends the confirmation link again.
    assert sign(client, petition, email="ida.nudel@example.net").status_code == 200
    first, second = mailbox.wait_for(EMAIL, count=2)
    assert "/confirm/" in confirm_link(first) and "/confirm/" in confirm_link(second)
    assert len(signatures(dbs, petition)) == 1
    assert count_rows(dbs, Person) == 1

    client.get(confirm_link(second))
    wait_for_total(client, petition.slug, 1)
    # Confirmed: the third attempt says (by email) that it is already counted.
    response = sign(client, petition, email="IDA.NUDEL@example.net")
    assert response.status_code == 200
    assert "Check your email" in text_of(response)
    third = mailbox.wait_for(EMAIL, count=3)[2]
    assert third["Subject"] == f"You have already signed: {petition.title_en}"
    assert "is already counted" in third.get_body(("plain",)).get_content()
    assert len(signatures(dbs, petition)) == 1
    wait_for_total(client, petition.slug, 1)


def test_a_known_person_signing_does_not_overwrite_their_record(client, dbs, mailbox):
    factories.PersonFactory(email=EMAIL, first_name="Ida", last_name="Nudel", country="IL",
                            postal_code="")
    petition = factories.PetitionFactory()
    sign(client, petition, first_name="Somebody", last_name="Else", country="US",
         postal_code="10024")
    dbs.expire_all()
    person = dbs.scalar(select(Person))
    assert (person.first_name, person.last_name, person.country) == ("Ida", "Nudel", "IL")
    assert person.postal_code == "10024"  # empty before, so completed
    [signature] = signatures(dbs, petition)
    assert (signature.country, signature.postal_code) == ("US", "10024")


def test_withdrawing_takes_the_signature_out_of_the_count_and_signing_again_works(
        client, dbs, mailbox):
    petition = factories.PetitionFactory()
    sign(client, petition)
    message = mailbox.wait_for(EMAIL)[0]
    client.get(confirm_link(message))
    wait_for_total(client, petition.slug, 1)

    page = client.get(withdraw_link(message))
    assert page.status_code == 200
    assert "Withdraw my signature" in text_of(page)
    token = page.get_data(as_text=True).split('id="csrf_token" name="csrf_token" type="hidden" '
                                              'value="')[1].split('"')[0]
    response = client.post(withdraw_link(message), data={"csrf_token": token})
    assert response.status_code == 200
    assert "Your signature was withdrawn" in text_of(response)
    [signature] = signatures(dbs, petition)
    assert signature.status == SignatureStatus.WITHDRAWN
    wait_for_total(client, petition.slug, 0)
    # The old confirmation link cannot undo the withdrawal; the withdraw link says it is done.
    assert client.get(confirm_link(message)).status_code == 400
    assert "Your signature was withdrawn" in text_of(client.get(withdraw_link(message)))

    sign(client, petition)
    newest = mailbox.wait_for(EMAIL, count=2)[1]
    assert signatures(dbs, petition)[0].status == SignatureStatus.PENDING
    client.get(confirm_link(newest))
    wait_for_total(client, petition.slug, 1)
    assert len(signatures(dbs, petition)) == 1


def test_signing_a_closed_petition_writes_nothing(client, dbs, mailbox):
    open_petition = factories.PetitionFactory()
    token_page = f"/petitions/{open_petition.slug}"
    closed = factories.ClosedPetitionFactory()
    # The form of an open petition, sent after it closed (the page was open in a tab).
    from tests.petitions.conftest import form_token

    data = {**SIGNER, "csrf_token": form_token(client, token_page)}
    open_petition.status = "closed"
    factories.Session.commit()
    response = client.post(f"/petitions/{open_petition.slug}/sign", data=data)
    assert response.status_code == 409
    assert "This petition is closed and no longer accepts signatures." in text_of(response)
    assert "Nothing was recorded." in text_of(response)
    response = client.post(f"/petitions/{closed.slug}/sign", data=data)
    assert response.status_code == 409
    assert count_rows(dbs, Signature) == 0
    assert count_rows(dbs, Person) == 0
    assert count_rows(dbs, OutboxEmail) == 0


def test_a_petition_closed_while_signing_remembers_it_open_writes_nothing(app, client, dbs,
                                                                           monkeypatch):
    """Signing reads the petition from a copy kept for a few seconds; one that closed in
    those seconds still refuses: the INSERT checks the state itself."""
    from tests.petitions.conftest import form_token

    monkeypatch.setitem(app.config, "PAGE_CACHE_SECONDS", 60)
    petition = factories.PetitionFactory()
    assert sign(client, petition, email="first@example.org").status_code == 200  # remembered
    token = form_token(client, f"/petitions/{petition.slug}")
    petition.status = "closed"
    factories.Session.commit()
    response = client.post(f"/petitions/{petition.slug}/sign",
                           data={**SIGNER, "email": "second@example.org", "csrf_token": token})
    assert response.status_code == 409
    assert "This petition is closed and no longer accepts signatures." in text_of(response)
    assert count_rows(dbs, Signature) == 1
    assert count_rows(dbs, Person) == 1
    assert count_rows(dbs, OutboxEmail) == 1


def test_a_close_date_moved_later_takes_signatures_at_once(app, client, dbs, monkeypatch):
    from datetime import timedelta

    from ncsej_campaigns.db import utcnow
    from tests.petitions.conftest import form_token

    monkeypatch.setitem(app.config, "PAGE_CACHE_SECONDS", 60)
    petition = factories.PetitionFactory(closes_at=utcnow() + timedelta(days=1))
    token = form_token(client, f"/petitions/{petition.slug}")
    petition.closes_at = utcnow() - timedelta(minutes=1)
    factories.Session.commit()
    data = {**SIGNER, "csrf_token": token}
    assert client.post(f"/petitions/{petition.slug}/sign", data=data).status_code == 409
    petition.closes_at = utcnow() + timedelta(days=7)  # the coordinator extends it
    factories.Session.commit()
    assert client.post(f"/petitions/{petition.slug}/sign", data=data).status_code == 200
    assert count_rows(dbs, Signature) == 1


def test_an_open_petition_past_its_close_date_refuses_signatures(client, dbs):
    from datetime import timedelta

    from ncsej_campaigns.db import utcnow

    petition = factories.PetitionFactory()
    from tests.petitions.conftest import form_token

    token = form_token(client, f"/petitions/{petition.slug}")
    petition.closes_at = utcnow() - timedelta(minutes=1)
    factories.Session.commit()
    response = client.post(f"/petitions/{petition.slug}/sign",
                           data={**SIGNER, "csrf_token": token})
    assert response.status_code == 409
    assert count_rows(dbs, Signature) == 0
    assert 'class="sign-form"' not in text_of(client.get(f"/petitions/{petition.slug}"))


def test_mistakes_are_shown_next_to_the_fields_and_nothing_is_written(client, dbs):
    petition = factories.PetitionFactory()
    response = sign(client, petition, first_name="", email="not-an-email", country="",
                    postal_code="")
    assert response.status_code == 400
    html = text_of(response)
    assert "Please correct the fields marked below." in html
    assert "Enter your first name." in html
    assert "Enter a valid email address, like name@example.org." in html
    assert "Choose your country." in html
    assert 'aria-invalid="true"' in html
    assert 'value="Nudel"' in html  # what was typed stays
    assert count_rows(dbs, Signature) == 0


def test_postal_code_is_needed_only_where_countries_use_them(client, dbs):
    petition = factories.PetitionFactory()
    response = sign(client, petition, postal_code="")
    assert response.status_code == 400
    assert "Enter your postal code." in text_of(response)
    assert '<option value="US" selected>' in text_of(response)  # the choice stays
    assert sign(client, petition, country="AE", postal_code="").status_code == 200
    assert len(signatures(dbs, petition)) == 1


def test_the_form_needs_its_token(client, dbs):
    petition = factories.PetitionFactory()
    other = factories.PetitionFactory()
    response = client.post(f"/petitions/{petition.slug}/sign", data=SIGNER)
    assert response.status_code == 400
    assert "This form has expired. Reload the page and sign again." in text_of(response)
    from tests.petitions.conftest import form_token

    wrong = form_token(client, f"/petitions/{other.slug}")
    response = client.post(f"/petitions/{petition.slug}/sign",
                           data={**SIGNER, "csrf_token": wrong})
    assert response.status_code == 400
    assert count_rows(dbs, Signature) == 0


def test_the_form_works_without_cookies(app, dbs, mailbox):
    """Inside a member site's frame the browser keeps our cookies back; signing still works."""
    petition = factories.PetitionFactory()
    client = app.test_client(use_cookies=False)
    response = sign(client, petition, form_url=f"/petitions/{petition.slug}/widget")
    assert response.status_code == 200
    assert len(signatures(dbs, petition)) == 1


def test_honeypot_submissions_look_fine_and_are_dropped(client, dbs, mailbox):
    petition = factories.PetitionFactory()
    response = sign(client, petition, homepage="http://cheap-pills.example")
    assert response.status_code == 200
    assert "Check your email" in text_of(response)
    assert count_rows(dbs, Signature) == 0
    assert count_rows(dbs, OutboxEmail) == 0


def test_referring_organization_is_recorded(client, dbs, mailbox):
    org = factories.OrganizationFactory(slug="cleveland")
    petition = factories.PetitionFactory()
    sign(client, petition, form_url=f"/petitions/{petition.slug}?ref=cleveland",
         ref="cleveland")
    [signature] = signatures(dbs, petition)
    assert signature.referring_organization_id == org.id
    # The confirmation page offers the same referral link to pass on.
    response = client.get(confirm_link(mailbox.wait_for(EMAIL)[0]))
    assert f"/petitions/{petition.slug}?ref=cleveland" in text_of(response)

    sign(client, petition, email="someone@example.org", ref="no-such-org")
    assert {s.referring_organization_id for s in signatures(dbs, petition)} == {org.id, None}


def test_signing_through_the_widget(client, dbs, mailbox):
    org = factories.OrganizationFactory(slug="boston")
    petition = factories.PetitionFactory()
    widget = f"/petitions/{petition.slug}/widget?ref=boston&lang=ru"
    response = sign(client, petition, form_url=widget, source="widget", ref="boston",
                    lang="ru")
    assert response.status_code == 200
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert 'class="site-header"' not in text_of(response)
    [signature] = signatures(dbs, petition)
    assert signature.source == SignatureSource.WIDGET
    assert signature.referring_organization_id == org.id
    assert signature.locale == "ru"
    assert mailbox.wait_for(EMAIL)[0]["Content-Language"] == "ru"


def test_ip_address_is_kept_only_as_a_keyed_hash(client, dbs):
    petition = factories.PetitionFactory()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.77"
    sign(client, petition)
    [signature] = signatures(dbs, petition)
    salt = hmac.new(TEST_SECRET.encode(), b"ncsej.signature-ip", hashlib.sha256).digest()
    assert signature.ip_hash == hmac.new(salt, b"203.0.113.77", hashlib.sha256).hexdigest()
    assert signature.ip_hash != hashlib.sha256(b"203.0.113.77").hexdigest()
    row = {c.name: getattr(signature, c.key) for c in Signature.__table__.columns}
    assert "203.0.113.77" not in repr(row)


def test_rate_limit_per_email_and_a_clear_message(client, dbs, mailbox, monkeypatch, app):
    monkeypatch.setitem(app.config, "PETITION_SIGN_LIMIT_PER_EMAIL", "2 per hour")
    petition = factories.PetitionFactory()
    email = "limited@example.net"  # an address no other test mails, however late it arrives
    # Mistakes do not use up the limit.
    assert sign(client, petition, email=email, first_name="").status_code == 400
    assert sign(client, petition, email=email).status_code == 200
    assert sign(client, petition, email=email).status_code == 200
    response = sign(client, petition, email=email)
    assert response.status_code == 429
    assert "Please wait a moment" in text_of(response)
    assert "protects the petition against automated signing" in text_of(response)
    assert len(mailbox.wait_for(email, count=2)) == 2
    # Another address from the same place is not held back.
    assert sign(client, petition, email="other@example.org").status_code == 200


def test_rate_limit_per_ip_address(client, dbs, monkeypatch, app):
    monkeypatch.setitem(app.config, "PETITION_SIGN_LIMIT_PER_IP", "3 per minute")
    petition = factories.PetitionFactory()
    for n in range(3):
        assert sign(client, petition, email=f"signer{n}@example.org").status_code == 200
    response = sign(client, petition, email="signer9@example.org")
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert len(signatures(dbs, petition)) == 3


if REAL_MODE:
    def test_a_newcomers_signature_is_one_statement_psycopg_can_prepare(app, client, dbs):
        """The person, signature and email go in with one statement, which stays under the
        length and number of parameters psycopg prepares on the server and caches the
        parsing of (4 kB, 50): above them, every signature is parsed and planned anew."""
        from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH, MAX_CACHED_STATEMENT_PARAMS

        from ncsej_campaigns.db import _CHAINS
        from ncsej_campaigns.extensions import db

        petition = factories.PetitionFactory()
        assert sign(client, petition, email="newcomer@example.org").status_code == 200
        variants = [v for k, v in _CHAINS.items() if k[0] == "petition-sign-newcomer"]
        assert variants
        with app.app_context():
            for stmt in variants:  # one per set of columns left NULL
                compiled = stmt.compile(dialect=db.engine.dialect)
                assert len(str(compiled)) < MAX_CACHED_STATEMENT_LENGTH
                assert len(compiled.params) < MAX_CACHED_STATEMENT_PARAMS
        signature = dbs.scalars(select(Signature)).one()
        email = dbs.scalars(select(OutboxEmail)).one()
        assert (email.person_id, email.context) == (signature.person_id,
                                                    {"signature_id": signature.id})
        assert email.template == "petition_confirm"
