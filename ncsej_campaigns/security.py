"""Security headers on every response.

The Content-Security-Policy allows no inline script or style. Pages meant to be embedded
on member sites opt in with ``@embeddable``; every other page refuses to be framed. Pages
marked ``@private`` are never stored by browsers or proxies (``Cache-Control: no-store``).
"""

from __future__ import annotations

from functools import wraps

from flask import Flask, g

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors {frame_ancestors}"
)


def embeddable(view):
    """Mark a view as allowed inside an ``<iframe>`` on another site."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.embeddable = True
        return view(*args, **kwargs)

    return wrapper


def private(view):
    """Mark a view whose page holds personal data or a secret link (a person's own data, a
    password reset form): browsers and proxies must not keep a copy of it."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.private_page = True
        return view(*args, **kwargs)

    return wrapper


def init_security_headers(app: Flask) -> None:
    @app.after_request
    def set_security_headers(response):
        framed = g.get("embeddable", False)
        response.headers["Content-Security-Policy"] = CSP.format(
            frame_ancestors="*" if framed else "'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if not framed:
            response.headers["X-Frame-Options"] = "DENY"
        if g.get("private_page"):
            response.headers["Cache-Control"] = "no-store"
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response
