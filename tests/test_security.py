"""Security headers, cookies, the secret key, CSRF and malformed input."""

from __future__ import annotations

import os
import stat

import pytest

from ncsej_campaigns.config import load_or_create_secret_key
from ncsej_campaigns.people.models import Person
from tests import factories
from tests.conftest import login, post_form
from tests.helpers import other_app


@pytest.mark.parametrize("url", ["/", "/login", "/no-such-page", "/healthz"])
def test_security_headers_on_every_response(client, url):
    response = client.get(url)
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # plain http here


def test_session_cookie_is_httponly_and_lax(client):
    user = factories.UserFactory()
    response = login(client, user.email)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_https_base_url_makes_cookies_secure_and_sends_hsts(app, app_env):
    with other_app(app, app_env, BASE_URL="https://campaigns.example.org") as https_app:
        assert https_app.config["SESSION_COOKIE_SECURE"] is True
        assert https_app.config["REMEMBER_COOKIE_SECURE"] is True
        client = https_app.test_client()
        response = client.get("/login", base_url="https://campaigns.example.org")
        cookie = next(c for c in response.headers.getlist("Set-Cookie")
                      if c.startswith("session="))
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_secret_key_is_generated_once_with_private_permissions(tmp_path):
    key = load_or_create_secret_key(str(tmp_path))
    path = tmp_path / "secret_key"
    assert len(key) >= 64
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_secret_key(str(tmp_path)) == key  # kept, not regenerated
    other = tmp_path / "other"
    assert load_or_create_secret_key(str(other)) != key  # random per install


def test_no_default_secret_key_in_config(tmp_path, monkeypatch):
    from ncsej_campaigns.config import build_config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    assert build_config(str(tmp_path))["SECRET_KEY"] is None


def test_form_without_csrf_token_is_refused_and_changes_nothing(client, as_user, dbs):
    as_user("coordinator")
    response = client.post("/people/new", data={
        "first_name": "Sarah", "email": "sarah@example.com", "preferred_language": "en",
        "organization_id": "0"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Form expired" in page
    assert "Go back, reload the page and try again." in page
    assert dbs.query(Person).count() == 0


def test_form_with_a_forged_csrf_token_is_refused(client, as_user, dbs):
    as_user("coordinator")
    response = client.post("/people/new", data={
        "first_name": "Sarah", "email": "sarah@example.com", "preferred_language": "en",
        "organization_id": "0", "csrf_token": "forged"})
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    assert dbs.query(Person).count() == 0


BIG = "99999999999999999999"


def test_out_of_range_ids_are_404_not_500(client, as_user):
    as_user("admin")
    for url in (f"/people/{BIG}", f"/organizations/{BIG}", f"/organizations/{BIG}/edit",
                f"/admin/accounts/{BIG}", f"/admin/outbox/{BIG}"):
        assert client.get(url).status_code == 404, url


def test_malformed_query_parameters_are_ignored(client, as_user):
    factories.PersonFactory(first_name="Sarah", last_name="Cohen")
    as_user("admin")
    for url in (f"/people/?page={BIG}", f"/people/?org={BIG}", "/people/?org=-1",
                "/people/?page=x", f"/organizations/?page={BIG}", f"/admin/audit/?page={BIG}",
                "/people/?language=xx"):
        assert client.get(url).status_code == 200, url


def test_overlong_fields_get_a_message_and_nothing_is_saved(client, as_user, dbs):
    as_user("coordinator")
    response = post_form(client, "/people/new", {
        "first_name": "S" * 5000, "email": "sarah@example.com", "preferred_language": "en",
        "organization_id": "0", "city": "C" * 101})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Keep this under 100 characters." in page
    assert dbs.query(Person).count() == 0


def test_secret_key_race_between_two_starting_processes(tmp_path, monkeypatch):
    """The web process and the worker start together: the one that loses the race to create
    the key must use the winner's key, not crash or read a half-written file."""
    from pathlib import Path

    winner = load_or_create_secret_key(str(tmp_path))
    # The loser checked before the winner's file appeared.
    monkeypatch.setattr(Path, "exists", lambda self: False)
    assert load_or_create_secret_key(str(tmp_path)) == winner
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]
