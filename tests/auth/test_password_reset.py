"""Password reset by emailed link: the email arrives, the link works once, then never again."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner

from ncsej_campaigns.auth.models import User
from ncsej_campaigns.notifications.models import OutboxEmail
from tests import factories
from tests.conftest import body_text, login, post_form
from tests.helpers import link_in

NEW_PASSWORD = "a-brand-new-password"


def ask_for_reset(client, email):
    return post_form(client, "/password/forgot", {"email": email})


def reset_link(client, mailbox, user) -> str:
    response = ask_for_reset(client, user.email)
    assert response.status_code == 302
    (message,) = mailbox.wait_for(to=user.email)
    return link_in(message)


def choose_password(client, link, password=NEW_PASSWORD, confirm=None):
    return post_form(client, link, {"password": password, "confirm": confirm or password})


def test_reset_email_arrives_with_a_working_link(client, mailbox, dbs):
    user = factories.UserFactory(full_name="Jerry Goodman")
    response = ask_for_reset(client, user.email)
    assert response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert f"If an account exists for {user.email}" in page
    assert "It is valid for 60 minutes." in page

    (message,) = mailbox.wait_for(to=user.email)
    assert message["Subject"] == "Reset your password"
    text = body_text(message)
    assert "Hello Jerry Goodman," in text
    assert "60 minutes" in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Choose a new password" in html

    link = link_in(message)
    assert link.startswith("/password/reset/")
    form = client.get(link)
    assert "Choose a new password" in form.get_data(as_text=True)
    assert form.headers["Cache-Control"] == "no-store"

    response = choose_password(client, link)
    assert response.headers["Location"] == "/login"
    assert "Your password was changed" in client.get("/login").get_data(as_text=True)
    assert login(client, user.email, NEW_PASSWORD).status_code == 302


def test_old_password_stops_working_after_reset(client, mailbox):
    user = factories.UserFactory()
    choose_password(client, reset_link(client, mailbox, user))
    assert login(client, user.email).status_code == 401


def test_used_link_is_refused_and_changes_nothing(client, mailbox, dbs):
    user = factories.UserFactory()
    link = reset_link(client, mailbox, user)
    choose_password(client, link)
    dbs.expire_all()
    hash_after_first_use = dbs.get(User, user.id).password_hash
    assert hash_after_first_use != factories.PASSWORD_HASH

    response = client.get(link)
    assert response.headers["Location"] == "/password/forgot"
    page = client.get("/password/forgot").get_data(as_text=True)
    assert "This reset link is not valid or was already used." in page

    response = post_form(client, link, {"password": "yet-another-password",
                                        "confirm": "yet-another-password"},
                         form_url="/password/forgot")
    assert response.headers["Location"] == "/password/forgot"
    dbs.expire_all()
    assert dbs.get(User, user.id).password_hash == hash_after_first_use
    assert login(client, user.email, "yet-another-password").status_code == 401


def test_expired_link_gives_a_clear_message_and_changes_nothing(client, mailbox, dbs,
                                                                 monkeypatch, app):
    user = factories.UserFactory()
    link = reset_link(client, mailbox, user)
    max_age = app.config["PASSWORD_RESET_MAX_AGE"]
    # An hour and a bit later:
    later = int(time.time()) + max_age + 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)

    response = client.get(link)
    assert response.headers["Location"] == "/password/forgot"
    page = client.get("/password/forgot").get_data(as_text=True)
    assert "This reset link has expired. Ask for a new one below." in page

    monkeypatch.undo()
    # Still valid when time has not passed: the link itself is fine, only its age is not.
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    response = post_form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                         form_url="/login")
    assert response.headers["Location"] == "/password/forgot"
    dbs.expire_all()
    assert dbs.get(User, user.id).password_hash == factories.PASSWORD_HASH


def test_tampered_link_is_refused(client, mailbox):
    user = factories.UserFactory()
    link = reset_link(client, mailbox, user)
    client.get(link[:-3] + "xyz")
    page = client.get("/password/forgot").get_data(as_text=True)
    assert "This reset link is not valid or was already used." in page


def test_unknown_email_gets_the_same_answer_and_no_mail(client, mailbox, dbs):
    known = factories.UserFactory()
    response = ask_for_reset(client, "nobody@example.org")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert "If an account exists for nobody@example.org" in page

    # A real request afterwards arrives; the unknown one never produced a message.
    ask_for_reset(client, known.email)
    mailbox.wait_for(to=known.email)
    assert [str(m["To"]) for m in mailbox.messages()] == [f"{known.full_name} <{known.email}>"]
    assert dbs.query(OutboxEmail).count() == 1


def test_disabled_account_gets_no_reset_mail(client, mailbox, dbs):
    user = factories.UserFactory(active=False)
    assert ask_for_reset(client, user.email).status_code == 302
    assert dbs.query(OutboxEmail).count() == 0


def test_mismatched_passwords_are_refused(client, mailbox, dbs):
    user = factories.UserFactory()
    link = reset_link(client, mailbox, user)
    response = choose_password(client, link, NEW_PASSWORD, "something-different")
    assert response.status_code == 200
    assert "The two passwords differ." in response.get_data(as_text=True)
    dbs.expire_all()
    assert dbs.get(User, user.id).password_hash == factories.PASSWORD_HASH
    # The link was not used up by the failed attempt.
    assert choose_password(client, link).headers["Location"] == "/login"


def test_short_new_password_is_refused(client, mailbox):
    user = factories.UserFactory()
    link = reset_link(client, mailbox, user)
    response = choose_password(client, link, "short")
    assert "Use at least 10 characters." in response.get_data(as_text=True)


def test_email_lookup_ignores_case(client, mailbox):
    user = factories.UserFactory(email="jerry.goodman@example.org")
    ask_for_reset(client, "Jerry.Goodman@EXAMPLE.org")
    mailbox.wait_for(to=user.email)


@pytest.mark.parametrize("locale, subject", [("en", "Reset your password")])
def test_reset_email_language_follows_the_account(client, mailbox, dbs, locale, subject):
    user = factories.UserFactory(locale=locale)
    ask_for_reset(client, user.email)
    (message,) = mailbox.wait_for(to=user.email)
    assert message["Content-Language"] == locale
    assert message["Subject"] == subject


def test_russian_speaker_gets_the_reset_email_in_russian(client, mailbox, dbs):
    user = factories.UserFactory(locale="ru", full_name="Лев Улановский")
    ask_for_reset(client, user.email)
    (message,) = mailbox.wait_for(to=user.email)
    assert message["Content-Language"] == "ru"
    row = dbs.query(OutboxEmail).one()
    assert row.locale == "ru"
    assert "Лев Улановский" in body_text(message)
    # Once the Russian catalog has this text, the email is in Russian, not English.
    from babel.support import Translations

    from ncsej_campaigns import PROJECT_ROOT

    catalog = Translations.load(str(PROJECT_ROOT / "ncsej_campaigns" / "translations"), ["ru"])
    translated = catalog.gettext("Reset your password")
    if translated != "Reset your password":
        assert message["Subject"] == translated
