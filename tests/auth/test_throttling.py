"""Failed sign-ins are limited per IP address as well as per account."""

from __future__ import annotations

from tests import factories
from tests.conftest import login


def test_login_is_throttled_per_ip_across_accounts(client, monkeypatch, app):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_IP", "4 per 15 minutes")
    users = [factories.UserFactory() for _ in range(5)]
    for user in users[:4]:  # one failure per account: the per-account limit is far away
        assert login(client, user.email, "wrong-password-x").status_code == 401
    response = login(client, users[4].email)  # even the right password waits now
    assert response.status_code == 429
    assert "Too many requests" in response.get_data(as_text=True)


def test_ip_limit_is_per_address(client, monkeypatch, app):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_IP", "2 per 15 minutes")
    user = factories.UserFactory()
    for _ in range(2):
        assert login(client, user.email, "wrong-password-x").status_code == 401
    assert login(client, user.email).status_code == 429

    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert login(other, user.email).status_code == 302


def test_successful_sign_ins_do_not_count(client, monkeypatch, app):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_IP", "2 per 15 minutes")
    user = factories.UserFactory()
    for _ in range(3):  # each time from a fresh browser on the same address
        assert login(app.test_client(), user.email).status_code == 302
