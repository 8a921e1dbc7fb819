"""Test fixtures for both modes.

Embedded mode (no settings): a SQLite file, Celery tasks run eagerly, mail written as .eml files.
Real mode (``DATABASE_URL`` and ``REDIS_URL`` set): a private PostgreSQL database for this run,
Redis as broker, a real Celery worker process, and a real SMTP server (aiosmtpd) that receives
the mail the worker sends.

Tests see the database through ``dbs``, a session of their own; requests made with ``client``
use the app's sessions, exactly as in production. Every table is emptied after each test.
"""

from __future__ import annotations

import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from tests import factories

REAL_MODE = bool(os.environ.get("DATABASE_URL"))
ROOT = Path(__file__).resolve().parent.parent
RUN_ID = f"ncsej-test-{os.getpid()}"
TEST_SECRET = "test-secret-" + RUN_ID


def pytest_report_header(config):
    if REAL_MODE:
        return "mode: real (PostgreSQL, Redis, Celery worker, SMTP)"
    return "mode: embedded (SQLite, eager Celery, mail to files)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SMTPSink:
    """A real SMTP server on loopback that keeps what it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list[bytes] = []
        self.peers: list[tuple] = []  # the client address of each message's connection
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with sink.lock:
                    sink.messages.append(envelope.content)
                    sink.peers.append(tuple(session.peer))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def raw(self) -> list[bytes]:
        with self.lock:
            return list(self.messages)

    def clear(self):
        with self.lock:
            self.messages.clear()
            self.peers.clear()

    def stop(self):
        self.controller.stop()


class Mailbox:
    """What the app has sent, read back from wherever this mode delivers it."""

    def __init__(self, sink: SMTPSink | None, mail_dir: Path):
        self.sink, self.mail_dir = sink, mail_dir

    def _raw(self) -> list[bytes]:
        if self.sink is not None:
            return self.sink.raw()
        if not self.mail_dir.exists():
            return []
        files = sorted(self.mail_dir.glob("*.eml"), key=lambda p: int(p.stem))
        return [p.read_bytes() for p in files]

    def messages(self):
        return [email.message_from_bytes(raw, policy=email.policy.default) for raw in self._raw()]

    def wait_for(self, to: str, count: int = 1, timeout: float = 30.0):
        """The messages to ``to``, once at least ``count`` have arrived."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.messages() if to.lower() in str(m["To"]).lower()]
            if len(found) >= count or time.monotonic() > deadline:
                assert len(found) >= count, f"expected {count} email(s) to {to}, got {len(found)}"
                return found
            time.sleep(0.1)

    def clear(self):
        if self.sink is not None:
            self.sink.clear()
        elif self.mail_dir.exists():
            for p in self.mail_dir.glob("*.eml"):
                p.unlink()


def body_text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if not REAL_MODE:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
        return
    from ncsej_campaigns.testing import create_private_database, drop_private_database

    base = os.environ["DATABASE_URL"]
    url = create_private_database(base, "ncsej_test")
    yield url
    drop_private_database(base, url)


@pytest.fixture(scope="session")
def smtp_sink():
    if not REAL_MODE:
        yield None
        return
    sink = SMTPSink()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def mail_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mail")


@pytest.fixture(scope="session")
def app_env(database_url, smtp_sink, mail_dir) -> dict:
    """Settings as environment variables: the app and the worker process read the same."""
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET,
        "BASE_URL": "http://127.0.0.1:5000",
        "MAIL_FILE_DIR": str(mail_dir),
        "RATELIMIT_KEY_PREFIX": RUN_ID,
    }
    if REAL_MODE:
        env.update({
            "REDIS_URL": os.environ["REDIS_URL"],
            "CELERY_KEY_PREFIX": RUN_ID + ":",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(smtp_sink.port),
        })
    return env


@pytest.fixture(scope="session")
def app(app_env):
    from flask_migrate import upgrade

    from ncsej_campaigns import create_app

    saved = {k: os.environ.get(k) for k in app_env}
    os.environ.update(app_env)
    try:
        # The rate-limit storage's own prefix too: limiter.reset() after each test deletes
        # every key under it, which would wipe the counters of another run sharing this Redis.
        # Pages are rendered for every request (tests see each change at once); the short
        # cache of public pages has tests of its own.
        app = create_app({"TESTING": True, "PAGE_CACHE_SECONDS": 0,
                          "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": RUN_ID}})
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    with app.app_context():
        upgrade()  # the real migrations, so the suite also proves they build the schema
        from ncsej_campaigns.extensions import db

        engine = db.engine
    factories.Session.configure(bind=engine)
    yield app
    factories.Session.remove()


@pytest.fixture(scope="session")
def celery_worker(app, app_env):
    """A real worker process in real mode; nothing in embedded mode (tasks run eagerly)."""
    if not REAL_MODE:
        yield None
        return
    env = {**os.environ, **app_env}
    log_path = ROOT / "tests" / "artifacts" / f"celery-worker-{RUN_ID}.log"
    log = open(log_path, "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ncsej_campaigns.worker", "worker",
         "-Q", "mail,default,imports,reports", "--concurrency", "2", "--loglevel", "INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-n", f"{RUN_ID}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while b"ready." not in log_path.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the Celery worker did not start:\n" + log_path.read_text())
        time.sleep(0.2)
    yield proc
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def pytest_configure(config):
    (ROOT / "tests" / "artifacts").mkdir(exist_ok=True)


@pytest.fixture(autouse=True)
def _clean_state(app, celery_worker, mailbox):
    yield
    from celery._state import _set_task_join_will_block

    from ncsej_campaigns.extensions import db, limiter

    # Celery's "running inside a task" flag is one process-wide global that each eager task
    # sets and restores; eager tasks on two threads at once (the signing race test) can
    # restore it out of order and leave it set, and a later test's result.get() is refused.
    _set_task_join_will_block(False)

    factories.Session.remove()
    with app.app_context():
        tables = list(reversed(db.metadata.sorted_tables))
        # DELETE, children first, rather than TRUNCATE: on tables this small a TRUNCATE of every
        # table costs about a third of a second per test on PostgreSQL, a DELETE a hundredth.
        with db.engine.begin() as conn:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table.name}"))
            if db.engine.dialect.name == "postgresql":
                # Ids start again at 1, as SQLite's do once its tables are empty.
                for table in tables:
                    if "id" in table.c and table.c.id.autoincrement in (True, "auto"):
                        conn.execute(text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), 1, "
                            "false)"))
        limiter.reset()
        if REAL_MODE:
            # The app's own keys too (count debounce keys, cached open data): ids start
            # again at 1, so a key left by the test before would name this test's rows (a
            # live debounce key would swallow this test's count job).
            from ncsej_campaigns import kv

            # Named one by one: Celery's own keys share this run's prefix.
            client = kv.redis_client()
            for pattern in ("petition-count:*", "petition-data:*"):
                keys = list(client.scan_iter(match=kv.key(pattern), count=500))
                if keys:
                    client.delete(*keys)
    mailbox.clear()


@pytest.fixture(scope="session")
def mailbox(smtp_sink, mail_dir) -> Mailbox:
    return Mailbox(smtp_sink, mail_dir)


@pytest.fixture
def dbs():
    """The test's own database session (what a person would see in the database)."""
    session = factories.Session()
    yield session
    session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An application context, for calling services directly."""
    with app.app_context():
        yield


def csrf_token(client, url: str) -> str:
    """The CSRF token of the form on ``url`` (forms are tested with CSRF on, as in production)."""
    import re

    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def login(client, email: str, password: str = factories.PASSWORD):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token})


def post_form(client, url: str, data: dict, form_url: str | None = None, **kwargs):
    """POST ``data`` to ``url`` with the CSRF token read from ``form_url`` (default ``url``)."""
    token = csrf_token(client, form_url or url)
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


@pytest.fixture
def as_user(client):
    """Sign ``client`` in as a new user of the given role: ``as_user('coordinator')``."""

    def sign_in(role: str = "coordinator", organization=None, **kwargs):
        user = factories.UserFactory(role=role, organization=organization, **kwargs)
        response = login(client, user.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return sign_in
