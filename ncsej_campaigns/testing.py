"""Helpers the test suite and the benchmarks share: a private PostgreSQL database per run."""

from __future__ import annotations

import os

from sqlalchemy.engine import make_url

from ncsej_campaigns.config import normalize_database_url


def _admin_connect(url):
    import psycopg

    return psycopg.connect(
        host=url.host or None, port=url.port or None, user=url.username or None,
        password=url.password or None, dbname=url.database or "postgres", autocommit=True,
    )


def create_private_database(base_url: str, label: str) -> str:
    """Create ``<label>_<pid>`` beside the database in ``base_url``; return its URL."""
    url = make_url(normalize_database_url(base_url))
    name = f"{label}_{os.getpid()}"
    with _admin_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def drop_private_database(base_url: str, private_url: str) -> None:
    url = make_url(normalize_database_url(base_url))
    name = make_url(private_url).database
    with _admin_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
