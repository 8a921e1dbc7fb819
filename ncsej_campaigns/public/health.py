"""Reachability of the database and the broker, for ``/healthz``."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import text

from ncsej_campaigns.extensions import db


def check_database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        db.session.rollback()
        return f"error: {type(exc).__name__}"


def check_broker() -> str:
    url = current_app.config["REDIS_URL"]
    if not url:
        return "in-process"
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        client.close()
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"error: {type(exc).__name__}"
