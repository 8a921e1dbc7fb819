"""Helpers for the public petition tests: fill in and send the signing form as a browser
would, read the links back from the emails, and wait for the batched count to move.

In embedded mode the counting job runs in-process right after the commit, so the count has
moved by the time the confirmation page answers; in real mode the Celery worker counts a few
seconds later, so tests poll the public count with a timeout.
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import urlsplit

from tests.conftest import body_text

SIGNER = {
    "first_name": "Ida",
    "last_name": "Nudel",
    "email": "ida.nudel@example.net",
    "country": "US",
    "postal_code": "10024",
    "comment": "",
}


def form_token(client, url: str) -> str:
    """The signed token of the signing form on ``url`` (the petition page or the widget)."""
    page = client.get(url).get_data(as_text=True)
    form = re.search(r'<form class="sign-form".*?</form>', page, re.S)
    assert form, f"no signing form on {url}"
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form.group(0))
    assert match, "the signing form has no token"
    return match.group(1)


def sign(client, petition, *, form_url: str | None = None, headers=None, **fields):
    """POST the signing form of ``petition`` with ``fields`` over the defaults in SIGNER."""
    slug = petition if isinstance(petition, str) else petition.slug
    url = form_url or f"/petitions/{slug}"
    data = {**SIGNER, **fields, "csrf_token": form_token(client, url)}
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"/petitions/{slug}/sign", data=data, headers=headers or {})


def links_in(message) -> list[str]:
    """Every link in an email's text part, as path (and query)."""
    found = []
    for url in re.findall(r"https?://\S+", body_text(message)):
        parts = urlsplit(url)
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def confirm_link(message) -> str:
    return next(link for link in links_in(message) if "/confirm/" in link)


def withdraw_link(message) -> str:
    return next(link for link in links_in(message) if "/withdraw/" in link)


def public_count(client, slug: str) -> dict:
    response = client.get(f"/petitions/{slug}/count.json")
    assert response.status_code == 200
    return json.loads(response.get_data(as_text=True))


def wait_for_total(client, slug: str, total: int, timeout: float = 30.0) -> dict:
    """The public count once it shows ``total`` (the batched counting job runs it)."""
    deadline = time.monotonic() + timeout
    while True:
        data = public_count(client, slug)
        if data["total"] == total or time.monotonic() > deadline:
            assert data["total"] == total, f"the count stayed at {data['total']}, not {total}"
            return data
        time.sleep(0.2)
