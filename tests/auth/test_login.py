"""Sign-in, sign-out, and what anonymous visitors are allowed to see."""

from tests import factories
from tests.conftest import csrf_token, login


def test_dashboard_sends_anonymous_visitors_to_login(client):
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fdashboard"


def test_login_with_right_password_opens_dashboard(client):
    user = factories.UserFactory(full_name="Jerry Goodman")
    response = login(client, user.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Welcome, Jerry Goodman" in page


def test_login_follows_safe_next_only(client):
    user = factories.UserFactory()
    token = csrf_token(client, "/login")
    response = client.post("/login?next=https://evil.example/", data={
        "email": user.email, "password": factories.PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/dashboard"


def test_wrong_password_is_refused_with_a_clear_message(client, dbs):
    user = factories.UserFactory()
    response = login(client, user.email, "not-the-password")
    assert response.status_code == 401
    assert "The email or password is not correct." in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_disabled_account_cannot_sign_in(client):
    user = factories.UserFactory(active=False)
    assert login(client, user.email).status_code == 401


def test_login_without_csrf_token_is_refused(client):
    user = factories.UserFactory()
    response = client.post("/login", data={"email": user.email,
                                           "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_logout_ends_the_session(client):
    user = factories.UserFactory()
    login(client, user.email)
    token = csrf_token(client, "/dashboard")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_login_is_throttled_per_account(client):
    user = factories.UserFactory()
    for _ in range(5):
        assert login(client, user.email, "wrong-password-x").status_code == 401
    response = login(client, user.email)  # even the right password waits now
    assert response.status_code == 429
    assert "Too many requests" in response.get_data(as_text=True)


def test_overlong_email_gets_a_message(client):
    response = login(client, "a" * 300 + "@example.org")
    assert response.status_code == 400
    assert "under 254 characters" in response.get_data(as_text=True)
