"""Settings read from the environment, with embedded defaults that need no server.

With nothing set, the app runs on a SQLite file under ``instance/``, runs Celery tasks
in-process, writes mail to ``instance/mail/`` and keeps rate limits in memory. Setting
``DATABASE_URL``, ``REDIS_URL`` and ``MAIL_SERVER`` switches each part to its real service.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TRUE_WORDS = {"1", "true", "yes", "on"}


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in TRUE_WORDS


def load_or_create_secret_key(instance_path: str) -> str:
    """Return the instance's secret key, generating it once on first start.

    A fixed fallback key would let anyone forge sessions on every install that forgot to set
    one, so the key is random per install and kept in ``instance/secret_key`` (mode 0600).
    """
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        # The web process, the worker and beat may all start at once: the key is written to a
        # private temporary file and linked into place, which fails if another process got
        # there first. Either way every process then reads the one complete key.
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".secret_key.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def normalize_database_url(url: str) -> str:
    # Hosted PostgreSQL providers hand out postgres:// URLs; SQLAlchemy wants the driver named.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def build_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Collect every setting into one dict; ``overrides`` wins (tests use it)."""
    overrides = overrides or {}
    env = os.environ.get
    database_url = overrides.get("SQLALCHEMY_DATABASE_URI") or env("DATABASE_URL")
    if database_url:
        database_url = normalize_database_url(database_url)
    else:
        database_url = "sqlite:///" + str(Path(instance_path) / "ncsej.db")
    redis_url = overrides.get("REDIS_URL", env("REDIS_URL") or None)
    base_url = env("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    secure_cookies = base_url.startswith("https://")

    config: dict = {
        "SECRET_KEY": env("SECRET_KEY") or None,
        "BASE_URL": base_url,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REPORTS_DATABASE_URL": env("REPORTS_DATABASE_URL") or None,
        "REDIS_URL": redis_url,
        # Mail: a real SMTP server when MAIL_SERVER is set, else .eml files in instance/mail.
        "MAIL_SERVER": env("MAIL_SERVER") or None,
        "MAIL_PORT": int(env("MAIL_PORT", "25")),
        "MAIL_USE_TLS": env_flag("MAIL_USE_TLS"),
        "MAIL_USE_SSL": env_flag("MAIL_USE_SSL"),
        "MAIL_USERNAME": env("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": env(
            "MAIL_DEFAULT_SENDER", "National Coalition <no-reply@coalition.example.org>"
        ),
        "MAIL_FILE_DIR": env("MAIL_FILE_DIR") or str(Path(instance_path) / "mail"),
        "MAIL_TIMEOUT": float(env("MAIL_TIMEOUT", "20")),
        "OUTBOX_MAX_ATTEMPTS": int(env("OUTBOX_MAX_ATTEMPTS", "6")),
        # Rate limits: Redis when configured so every web process shares the counts.
        "RATELIMIT_STORAGE_URI": env("RATELIMIT_STORAGE_URI") or redis_url or "memory://",
        "RATELIMIT_KEY_PREFIX": env("RATELIMIT_KEY_PREFIX", "ncsej"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_ENABLED": not env_flag("RATELIMIT_DISABLED"),
        "LOGIN_LIMIT_PER_ACCOUNT": env("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes"),
        "LOGIN_LIMIT_PER_IP": env("LOGIN_LIMIT_PER_IP", "30 per 15 minutes"),
        # Petition signing: generous per address (a rally's Wi-Fi or a mobile carrier puts
        # many people behind one), tight per email address and petition.
        "PETITION_SIGN_LIMIT_PER_IP": env("PETITION_SIGN_LIMIT_PER_IP",
                                          "20 per minute;300 per hour"),
        "PETITION_SIGN_LIMIT_PER_EMAIL": env("PETITION_SIGN_LIMIT_PER_EMAIL", "5 per hour"),
        "PETITION_DATA_LIMIT": env("PETITION_DATA_LIMIT", "60 per minute"),
        "PASSWORD_RESET_MAX_AGE": int(env("PASSWORD_RESET_MAX_AGE", "3600")),
        "DATA_REQUEST_MAX_AGE": int(env("DATA_REQUEST_MAX_AGE", str(24 * 3600))),
        # Cookies: HttpOnly and SameSite=Lax always; Secure whenever served over HTTPS.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "PREFERRED_URL_SCHEME": "https" if secure_cookies else "http",
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": env("DEFAULT_TIMEZONE", "UTC"),
        "LANGUAGES": ("en", "ru"),
        "PER_PAGE": 25,
        # Public pages (home, petition, widget) rendered for visitors without a session are
        # served again for this many seconds; 0 renders every view.
        "PAGE_CACHE_SECONDS": float(env("PAGE_CACHE_SECONDS", "3")),
        "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
        "BENCH_ROUTES": env_flag("BENCH_ROUTES"),
        # How many reverse proxies (load balancer, nginx) stand in front of the app; their
        # X-Forwarded-* headers are trusted so rate limits see the real client address.
        "TRUSTED_PROXIES": int(env("TRUSTED_PROXIES", "0")),
        "CELERY": {},
    }
    config.update({k: v for k, v in overrides.items() if k != "CELERY"})

    celery = {
        "broker_url": redis_url or "memory://",
        "result_backend": redis_url or None,
        # Without a broker the tasks run in-process, so the embedded demo needs no worker.
        "task_always_eager": not redis_url,
        "task_eager_propagates": bool(overrides.get("TESTING")),
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        "timezone": "UTC",
        "task_default_queue": "default",
        # Separate queues so a big import or report never delays a confirmation email.
        "task_routes": {
            "ncsej_campaigns.notifications.tasks.*": {"queue": "mail"},
            "ncsej_campaigns.*.tasks.import_*": {"queue": "imports"},
            "ncsej_campaigns.*.tasks.compile_*": {"queue": "reports"},
        },
        "beat_schedule": {
            "retry-due-outbox-emails": {
                "task": "ncsej_campaigns.notifications.tasks.dispatch_due_outbox_emails",
                "schedule": 60.0,
            },
            # Petition counts: a safety net under the debounced per-confirmation job, the
            # close date, and an hourly full reconciliation of every cached count.
            "update-open-petition-counts": {
                "task": "ncsej_campaigns.petitions.tasks.update_signature_counts",
                "schedule": 30.0,
                "options": {"expires": 25},
            },
            "close-expired-petitions": {
                "task": "ncsej_campaigns.petitions.tasks.close_expired_petitions",
                "schedule": 60.0,
                "options": {"expires": 55},
            },
            "reconcile-petition-counts": {
                "task": "ncsej_campaigns.petitions.tasks.reconcile_signature_counts",
                "schedule": 3600.0,
            },
        },
    }
    if redis_url and env("CELERY_KEY_PREFIX"):
        celery["broker_transport_options"] = {"global_keyprefix": env("CELERY_KEY_PREFIX")}
    celery.update(overrides.get("CELERY", {}))
    config["CELERY"] = celery
    return config
