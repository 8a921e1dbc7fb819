"""Deployment: docker-compose.yml and the Dockerfile name things that exist, and /healthz
tells a load balancer or an orchestrator when PostgreSQL or Redis is out of reach.

No Docker engine is needed: the compose file is read as YAML and every command it runs is
checked against the code (entry points import, queues match the routes).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ncsej_campaigns.config import build_config

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "web", "worker-mail", "worker", "beat")
WORKER_SERVICES = ("worker-mail", "worker")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def command_words(service: dict) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def healthcheck_text(service: dict) -> str:
    test = service["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(test)


# -- the compose file ---------------------------------------------------------------------


def test_compose_has_every_service_of_the_stack(services):
    assert set(services) >= {"postgres", "redis", "mailpit", *APP_SERVICES}


def test_compose_services_check_their_own_health(services):
    assert "pg_isready" in healthcheck_text(services["postgres"])
    assert "redis-cli ping" in healthcheck_text(services["redis"])
    assert "readyz" in healthcheck_text(services["mailpit"])
    assert "/healthz" in healthcheck_text(services["web"])
    for name in WORKER_SERVICES:
        assert "inspect ping" in healthcheck_text(services[name]), name
    # A one-shot migration has nothing to probe.
    assert "healthcheck" not in services["migrate"]


def test_web_starts_only_after_the_migrations_have_run(services):
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    assert command_words(services["migrate"]) == ["flask", "--app", "wsgi", "db", "upgrade"]
    for name in ("web", *WORKER_SERVICES):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name


def test_app_services_reach_postgres_redis_and_the_mail_catcher(services):
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://"), name
        assert "@postgres:5432/" in env["DATABASE_URL"], name
        assert env["REDIS_URL"] == "redis://redis:6379/0", name
        assert env["MAIL_SERVER"] == "mailpit", name
        assert str(env["MAIL_PORT"]) == "1025", name
        assert "BASE_URL" in env, name
    assert services["mailpit"]["image"].startswith("axllent/mailpit")


def test_no_secret_has_a_default(compose):
    """Every secret must be supplied: ``${VAR:?message}``, never a value or ``${VAR:-x}``."""
    secret_name = re.compile(r"SECRET|PASSWORD|TOKEN|KEY$")
    found = 0
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if secret_name.search(key):
                found += 1
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", str(value)), (name, key)
    assert found >= 6  # SECRET_KEY in every app service, the PostgreSQL password
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"\$\{(SECRET_KEY|POSTGRES_PASSWORD)(:?-)", text)
    assert "${POSTGRES_PASSWORD:?" in compose["services"]["web"]["environment"]["DATABASE_URL"]


def test_workers_consume_exactly_the_queues_the_app_routes_to(services, tmp_path):
    celery = build_config(str(tmp_path))["CELERY"]
    routed = {route["queue"] for route in celery["task_routes"].values()}
    routed.add(celery["task_default_queue"])
    consumed: list[str] = []
    for name in WORKER_SERVICES:
        words = command_words(services[name])
        assert words[:4] == ["celery", "-A", "ncsej_campaigns.worker", "worker"], name
        consumed += words[words.index("-Q") + 1].split(",")
    assert sorted(consumed) == sorted(set(consumed)), "a queue is consumed by two services"
    assert set(consumed) == routed
    # Mail has a worker of its own, so an import or a report never delays a confirmation.
    mail_words = command_words(services["worker-mail"])
    assert mail_words[mail_words.index("-Q") + 1] == "mail"
    assert command_words(services["beat"])[:4] == [
        "celery", "-A", "ncsej_campaigns.worker", "beat"]


ENTRY_POINT_PROBE = """
import json
from celery.app.utils import find_app
from flask import Flask

import wsgi

worker_app = find_app("ncsej_campaigns.worker")
print(json.dumps({
    "wsgi_app_is_flask": isinstance(wsgi.app, Flask),
    "celery_main": type(worker_app).__name__,
    "worker_has_celery_app": hasattr(__import__("ncsej_campaigns.worker").worker, "celery_app"),
    "db_commands": sorted(wsgi.app.cli.commands["db"].commands),
    "tasks": sorted(t for t in worker_app.tasks if t.startswith("ncsej_campaigns.")),
    "beat_tasks": sorted(e["task"] for e in worker_app.conf.beat_schedule.values()),
}))
"""


def test_every_command_in_compose_names_a_real_entry_point(services, tmp_path):
    # In a process of its own: importing the worker module builds another app and makes its
    # Celery instance the default, which must not leak into this test session.
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'probe.db'}",
                "SECRET_KEY": "entry-point-probe", "MAIL_FILE_DIR": str(tmp_path / "mail")})
    done = subprocess.run([sys.executable, "-c", ENTRY_POINT_PROBE], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert probe["wsgi_app_is_flask"]
    assert probe["celery_main"] == "Celery" and probe["worker_has_celery_app"]
    assert "upgrade" in probe["db_commands"]
    assert "ncsej_campaigns.notifications.tasks.deliver_outbox_email" in probe["tasks"]
    assert set(probe["beat_tasks"]) <= set(probe["tasks"])

    assert "wsgi:app" in command_words(services["web"])
    for name in ("worker-mail", "worker", "beat"):
        words = command_words(services[name])
        assert words[words.index("-A") + 1] == "ncsej_campaigns.worker", name


# -- the Dockerfile -------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            rows.append((keyword.upper(), rest.strip()))
    return rows


def test_dockerfile_builds_from_files_that_exist():
    rows = dockerfile_instructions()
    assert rows[0] == ("FROM", "python:3.11-slim")
    for keyword, rest in rows:
        if keyword == "COPY" and "--from" not in rest:
            *sources, _dest = rest.split()
            for source in sources:
                assert (ROOT / source).exists(), source
    run = " ".join(rest for keyword, rest in rows if keyword == "RUN")
    assert "pybabel compile" in run
    assert (ROOT / "ncsej_campaigns" / "translations").is_dir()
    assert (ROOT / "wsgi.py").is_file()
    # The image runs as an unprivileged user.
    users = [rest for keyword, rest in rows if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    cmd = json.loads(next(rest for keyword, rest in rows if keyword == "CMD"))
    assert cmd[:2] == ["gunicorn", "wsgi:app"]


def test_dockerfile_compiles_the_translations_with_options_pybabel_has(tmp_path):
    """The image build runs this exact command: it must work on the catalogs as committed."""
    steps = [step.strip(" ()") for keyword, rest in dockerfile_instructions()
             if keyword == "RUN" for step in re.split(r"&&|\|\||;", rest)]
    command = next(step for step in steps if step.startswith("pybabel compile")).split()
    target = tmp_path / "translations"
    shutil.copytree(ROOT / "ncsej_campaigns" / "translations", target,
                    ignore=shutil.ignore_patterns("*.mo"))
    directory = command.index("-d") + 1
    command[directory] = str(target)
    pybabel = Path(sys.executable).with_name("pybabel")
    done = subprocess.run([str(pybabel), *command[1:]], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(target.glob("*/LC_MESSAGES/messages.mo"))


def test_dockerignore_keeps_what_the_image_needs():
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text()
               .splitlines() if line.strip() and not line.startswith("#")}
    for needed in ("ncsej_campaigns", "templates", "migrations", "wsgi.py", "pyproject.toml",
                   "README.md", "babel.cfg"):
        assert needed not in ignored, needed
    assert {".git", ".venv", "instance"} <= ignored


# -- /healthz when a service is out of reach -------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture
def make_isolated_app(app, tmp_path):
    """Build another app with some settings changed; restore the suite's Celery afterwards."""
    from ncsej_campaigns import create_app
    from ncsej_campaigns.extensions import limiter

    # init_app points the one shared Limiter at the new app's storage: put the suite's back.
    limiter_state = dict(limiter.__dict__)

    def make(**overrides):
        return create_app({"SECRET_KEY": "healthz-test", "TESTING": True,
                           "MAIL_FILE_DIR": str(tmp_path / "mail"), **overrides})

    yield make
    # create_app made the new app's Celery the current and the default one: tasks the rest
    # of the suite enqueues must go through the suite's app again.
    app.extensions["celery"].set_current()
    app.extensions["celery"].set_default()
    limiter.__dict__.clear()
    limiter.__dict__.update(limiter_state)


def test_healthz_answers_503_when_the_broker_is_unreachable(make_isolated_app, database_url):
    broken = make_isolated_app(SQLALCHEMY_DATABASE_URI=database_url,
                               REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0",
                               RATELIMIT_STORAGE_URI="memory://")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.is_json
    assert response.json["status"] == "unavailable"
    assert response.json["database"] == "ok"
    assert response.json["broker"].startswith("error")


def test_healthz_answers_503_when_the_database_is_unreachable(make_isolated_app):
    broken = make_isolated_app(
        SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/nope",
        REDIS_URL=None,
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.is_json
    assert response.json["status"] == "unavailable"
    assert response.json["database"].startswith("error")
    assert response.json["broker"] == "in-process"
