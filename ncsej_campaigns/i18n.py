"""Language choice: the account's own, else the visitor's switch, else ``Accept-Language``.

A visitor's switch lives in its own ``lang`` cookie, not in the session: an anonymous page view
then never creates or rewrites a session, so public pages stay cheap and cacheable, and the
choice outlives signing out.
"""

from __future__ import annotations

from flask import current_app, has_request_context, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms.validators import ValidationError

from ncsej_campaigns.tokens import TokenError, make_token, read_token

LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
SWITCH_PURPOSE = "language-switch"
SWITCH_TOKEN_MAX_AGE = 24 * 3600


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the command line, a Celery task: no browser to ask
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def switch_token() -> str:
    """The language switch's anti-forgery token. Signed-in people get the session's CSRF token
    (the switch changes their account); visitors get a signed, expiring token that needs no
    session, like the public signing form's."""
    if current_user.is_authenticated:
        return generate_csrf()
    return make_token(SWITCH_PURPOSE, {})


def check_switch_token(token: str | None) -> None:
    """Raise ``CSRFError`` (the "form has expired" page) unless ``token`` is valid: the
    session's CSRF token, or, for a visitor who is not signed in, a switch token."""
    if not current_user.is_authenticated:
        try:
            read_token(SWITCH_PURPOSE, token or "", SWITCH_TOKEN_MAX_AGE)
            return
        except TokenError:
            pass  # perhaps a session token from a page rendered with a form of its own
    try:
        validate_csrf(token)
    except ValidationError as exc:
        raise CSRFError(str(exc)) from exc


def remember_choice(response, lang: str):
    config = current_app.config
    response.set_cookie(LANG_COOKIE, lang, max_age=LANG_COOKIE_MAX_AGE, httponly=True,
                        samesite="Lax", secure=config["SESSION_COOKIE_SECURE"])
    return response
