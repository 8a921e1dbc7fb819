"""List pages: one place that reads ``page`` from the request and paginates a select."""

from __future__ import annotations

from flask import current_app, request

from ncsej_campaigns.extensions import db

MAX_PAGE = 100_000


def paginate(stmt):
    # Clamped: an absurd page number would overflow the database's OFFSET (a 500).
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    return db.paginate(stmt, page=page, per_page=current_app.config["PER_PAGE"],
                       error_out=False, max_per_page=100)
