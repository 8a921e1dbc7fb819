"""The app's own Redis connection, for debounce keys and caches.

Separate from Celery's broker connection and from Flask-Limiter's storage; keys carry the
deployment's prefix (``RATELIMIT_KEY_PREFIX``) so several deployments or test runs can share
one Redis.
"""

from __future__ import annotations

from flask import current_app


def available() -> bool:
    """True when work goes to a real worker through Redis; False in the embedded mode (no
    ``REDIS_URL``, or Celery running tasks in-process)."""
    config = current_app.config
    return bool(config["REDIS_URL"]) and not config["CELERY"].get("task_always_eager")


def redis_client():
    client = current_app.extensions.get("app_redis")
    if client is None:
        import redis

        client = redis.Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=2,
                                      socket_connect_timeout=2)
        current_app.extensions["app_redis"] = client
    return client


def key(name: str) -> str:
    return f"{current_app.config['RATELIMIT_KEY_PREFIX']}:{name}"
