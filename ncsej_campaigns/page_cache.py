"""A few seconds of cache for public pages, per web process, for visitors without a session.

The public petition page, its widget and the home page are the same for every anonymous
visitor in a language: their forms carry signed tokens that need no session, and their counts
come from counters the counting job refreshes every few seconds anyway. Rendering each view
anew was the whole cost of a surge of visitors; serving the bytes rendered a moment ago is not.

Only ``GET`` answers with status 200 that set no cookie are kept, for ``PAGE_CACHE_SECONDS``
(0 turns the cache off). A request that carries a session or a remember-me cookie (someone
signed in, or with a message waiting for them) is always rendered. The key is the path with
its query string and the chosen language; the number of keys is bounded, so query strings
made up to fill the memory only push older pages out.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from functools import wraps

from flask import current_app, g, make_response, request
from flask_babel import get_locale

MAX_PAGES = 512
_KEPT_HEADERS = ("Content-Type", "Content-Language")


class _Store:
    def __init__(self):
        self.lock = threading.Lock()
        self.pages: OrderedDict = OrderedDict()

    def get(self, key):
        with self.lock:
            hit = self.pages.get(key)
            if hit is None or hit[0] <= time.monotonic():
                return None
            return hit

    def put(self, key, seconds: float, body: bytes, headers: list, framed: bool):
        with self.lock:
            self.pages[key] = (time.monotonic() + seconds, body, headers, framed)
            self.pages.move_to_end(key)
            while len(self.pages) > MAX_PAGES:
                self.pages.popitem(last=False)

    def clear(self):
        with self.lock:
            self.pages.clear()


def _store() -> _Store:
    return current_app.extensions.setdefault("page_cache", _Store())


def clear() -> None:
    _store().clear()


def visitor_without_session() -> bool:
    """No session or remember-me cookie: nobody signed in, no message waiting."""
    config = current_app.config
    return (config["SESSION_COOKIE_NAME"] not in request.cookies
            and config.get("REMEMBER_COOKIE_NAME", "remember_token") not in request.cookies)


def _cacheable_request() -> bool:
    return (request.method == "GET" and current_app.config["PAGE_CACHE_SECONDS"] > 0
            and visitor_without_session())


def cached_for_visitors(view):
    """Serve a view's page from the short cache to visitors without a session."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not _cacheable_request():
            return view(*args, **kwargs)
        key = (request.endpoint, request.full_path, str(get_locale() or ""))
        store = _store()
        hit = store.get(key)
        if hit is not None:
            _expires, body, headers, framed = hit
            if framed:
                g.embeddable = True
            response = current_app.response_class(body, headers=headers)
            response.headers["X-Page-Cache"] = "hit"
            response.vary.update(("Accept-Language", "Cookie"))
            return response
        response = make_response(view(*args, **kwargs))
        response.vary.update(("Accept-Language", "Cookie"))
        if (response.status_code == 200 and not response.direct_passthrough
                and "Set-Cookie" not in response.headers):
            headers = [(k, v) for k, v in response.headers.items() if k in _KEPT_HEADERS]
            store.put(key, current_app.config["PAGE_CACHE_SECONDS"], response.get_data(),
                      headers, bool(g.get("embeddable")))
        return response

    return wrapper
