"""Changing one's own password, and how passwords are stored."""

from __future__ import annotations

from ncsej_campaigns.auth.models import User
from tests import factories
from tests.conftest import login, post_form


def change(client, current, new, confirm=None):
    return post_form(client, "/account/password", {
        "current_password": current, "password": new, "confirm": confirm or new})


def test_change_password_needs_the_right_current_one(client, as_user, dbs):
    user = as_user("coordinator")
    response = change(client, "not-my-password", "a-brand-new-password")
    assert response.status_code == 200
    assert "Your current password is not correct." in response.get_data(as_text=True)
    dbs.expire_all()
    assert dbs.get(User, user.id).password_hash == factories.PASSWORD_HASH


def test_change_password_succeeds_and_the_new_one_signs_in(client, as_user):
    user = as_user("federation", organization=factories.OrganizationFactory())
    response = change(client, factories.PASSWORD, "a-brand-new-password")
    assert response.headers["Location"] == "/dashboard"
    assert "Your password was changed." in client.get("/dashboard").get_data(as_text=True)

    client.post("/logout", data={"csrf_token": _token(client)})
    assert login(client, user.email).status_code == 401
    assert login(client, user.email, "a-brand-new-password").status_code == 302


def test_change_password_refuses_short_and_mismatched(client, as_user):
    as_user("admin")
    page = change(client, factories.PASSWORD, "short").get_data(as_text=True)
    assert "Use at least 10 characters." in page
    page = change(client, factories.PASSWORD, "a-brand-new-password",
                  "another-new-password").get_data(as_text=True)
    assert "The two passwords differ." in page


def test_change_password_needs_sign_in(client):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_passwords_are_stored_as_argon2id_hashes(client, as_user, dbs):
    user = as_user("coordinator")
    change(client, factories.PASSWORD, "a-brand-new-password")
    dbs.expire_all()
    stored = dbs.get(User, user.id).password_hash
    assert stored.startswith("$argon2id$")
    assert "a-brand-new-password" not in stored


def _token(client):
    from tests.conftest import csrf_token

    return csrf_token(client, "/dashboard")


def test_changing_the_password_signs_out_other_browsers(client, app, as_user):
    user = as_user("coordinator")
    elsewhere = app.test_client()
    assert login(elsewhere, user.email).status_code == 302
    assert elsewhere.get("/dashboard").status_code == 200

    change(client, factories.PASSWORD, "a-brand-new-password")
    assert client.get("/dashboard").status_code == 200  # this browser stays signed in
    assert elsewhere.get("/dashboard").status_code == 302


def test_password_reset_signs_out_every_browser(client, app, mailbox):
    from tests.helpers import link_in

    user = factories.UserFactory()
    stolen = app.test_client()
    assert login(stolen, user.email).status_code == 302
    post_form(client, "/password/forgot", {"email": user.email})
    link = link_in(mailbox.wait_for(to=user.email)[0])
    post_form(client, link, {"password": "a-brand-new-password",
                             "confirm": "a-brand-new-password"})
    assert stolen.get("/dashboard").status_code == 302
