"""Browser fixtures: the app served on a real port, driven by Chromium through Playwright.

The live server serves the session's ``app`` (so it talks to the same database as the tests,
SQLite or PostgreSQL) from a thread, with werkzeug on 127.0.0.1 and a free port. Each test
gets a fresh browser context; ``browse.shot(name)`` saves a full-page screenshot under
``tests/artifacts/browser/<test>/``, and a failing test leaves one behind as well.

Chromium is Debian's (``scripts/run-tests`` installs it); Playwright's own download is never
used. Without Chromium these tests fail with a message saying so, rather than being skipped.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import ROOT

ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str:
    candidates = [os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "Chromium is needed for the browser tests and was not found (looked for "
        "$CHROMIUM_PATH, /usr/bin/chromium and `chromium` on PATH). Install Debian's "
        "package (`apt-get install chromium`) or run `bash scripts/run-tests`, which does.",
        pytrace=False,
    )


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@dataclass
class LiveServer:
    url: str
    server: object
    thread: threading.Thread


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", server, thread)
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium():
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - a broken install, not a test outcome
        pytest.fail("Playwright for Python is not installed: pip install -e '.[dev]'",
                    pytrace=False)
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Exception as exc:
            pytest.fail(f"Chromium at {executable} did not start: {exc}", pytrace=False)
        yield browser
        browser.close()


@dataclass
class Browse:
    """One browser tab for one test, with screenshots numbered in the order they are taken."""

    page: object
    shots_dir: Path
    base_url: str
    problems: list[str] = field(default_factory=list)
    count: int = 0

    def shot(self, name: str) -> Path:
        self.count += 1
        path = self.shots_dir / f"{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def goto(self, path: str):
        return self.page.goto(self.base_url + path)

    def assert_fits_width(self):
        """Nothing on the page is wider than the window: no sideways scrolling on a phone."""
        overflow = self.page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{self.page.url} scrolls sideways by {overflow}px"


def _slug(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::")[-1])


@pytest.fixture
def open_browser(chromium, live_server, request):
    """``open_browser(locale="en-US", viewport=DESKTOP)`` gives a fresh :class:`Browse`."""
    shots_dir = ARTIFACTS / _slug(request.node.nodeid)
    if shots_dir.exists():
        shutil.rmtree(shots_dir)
    shots_dir.mkdir(parents=True)
    opened: list[tuple[object, Browse]] = []

    def open_(locale: str = "en-US", viewport: dict | None = None, **options) -> Browse:
        language = locale.split("-")[0]
        context = chromium.new_context(
            base_url=live_server.url, locale=locale, viewport=viewport or DESKTOP,
            extra_http_headers={"Accept-Language": f"{locale},{language};q=0.9"}, **options)
        context.set_default_timeout(10_000)
        page = context.new_page()
        browse = Browse(page, shots_dir, live_server.url)
        # The CSP forbids inline scripts and styles; the browser reports any it refused.
        page.on("console", lambda msg: browse.problems.append(msg.text)
                if msg.type == "error" and "Content Security Policy" in msg.text else None)
        page.on("pageerror", lambda exc: browse.problems.append(f"uncaught: {exc}"))
        opened.append((context, browse))
        return browse

    yield open_

    report = getattr(request.node, "report_call", None)
    failed = report is not None and report.failed
    problems = []
    for context, browse in opened:
        if failed:
            # The page may be gone; the failure itself is what matters.
            with contextlib.suppress(Exception):
                browse.page.screenshot(path=str(shots_dir / "failure.png"), full_page=True)
        problems += browse.problems
        context.close()
    assert not problems, "the browser reported:\n" + "\n".join(problems)


@pytest.fixture
def browse(open_browser) -> Browse:
    """A desktop-sized tab in English."""
    return open_browser()
