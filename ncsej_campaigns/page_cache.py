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


class TimedCache:
    """Values kept for a given number of seconds, the least recently stored dropped first
    beyond ``size``; safe to share between a web process's threads."""

    def __init__(self, size: int):
        self.size = size
        self.lock = threading.Lock()
        self.items: OrderedDict = OrderedDict()

    def get(self, key):
        with self.lock:
            hit = self.items.get(key)
            if hit is None or hit[0] <= time.monotonic():
                return None
            return hit[1]

    def put(self, key, value, seconds: float):
        with self.lock:
            self.items[key] = (time.monotonic() + seconds, value)
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def remember(self, key, seconds: float, make, refresh: bool = False):
        """The value kept under ``key``, else (or with ``refresh``) ``make()``'s, kept for
        ``seconds``; with no seconds, or when ``make`` gives None, nothing is kept."""
        value = self.get(key) if seconds > 0 and not refresh else None
        if value is None:
            value = make()
            if seconds > 0 and value is not None:
                self.put(key, value, seconds)
        return value

    def clear(self):
        with self.lock:
            self.items.clear()


def timed_cache(name: str, size: int) -> TimedCache:
    """The application's cache called ``name`` (one per web process)."""
    return current_app.extensions.setdefault(name, TimedCache(size))


def _store() -> TimedCache:
    return timed_cache("page_cache", MAX_PAGES)


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
            body, headers, framed = hit
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
            store.put(key, (response.get_data(), headers, bool(g.get("embeddable"))),
                      current_app.config["PAGE_CACHE_SECONDS"])
        return response

    return wrapper
