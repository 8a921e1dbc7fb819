"""Small helpers shared by the domain tests: links in emails, building extra apps."""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from urllib.parse import urlsplit

from tests.conftest import body_text


def link_in(message) -> str:
    """The path (and query) of the first link in an email's text part."""
    match = re.search(r"https?://\S+", body_text(message))
    assert match, "no link in the email"
    parts = urlsplit(match.group(0))
    return parts.path + (f"?{parts.query}" if parts.query else "")


@contextmanager
def other_app(main_app, app_env: dict, **env):
    """A second app built by ``create_app`` with ``env`` on top of the tests' settings.

    Building an app rebinds the shared extensions' process-wide defaults (Celery's default app,
    the rate limiter's storage), so they are pointed back at the suite's app afterwards.
    """
    from ncsej_campaigns import create_app
    from ncsej_campaigns.extensions import limiter

    saved_limiter = (limiter._storage, limiter._limiter)
    wanted = {**app_env, **env}
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update({k: v for k, v in wanted.items() if v is not None})
    for k, v in wanted.items():
        if v is None:
            os.environ.pop(k, None)
    try:
        app = create_app({"TESTING": True})
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        yield app
    finally:
        main_app.extensions["celery"].set_default()
        limiter._storage, limiter._limiter = saved_limiter
