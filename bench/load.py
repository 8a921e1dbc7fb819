"""The load generator: concurrent HTTP clients in a process of its own.

The harness starts ``python -m bench.load`` and talks to it over stdin/stdout, one JSON line
each way, so the clients never share an interpreter (or its GIL) with the harness:

1. the harness writes the job (see :func:`bench.harness.run_load` for its fields);
2. this process opens one keep-alive connection per client, fetches a CSRF token and session
   cookie per client when the case asks for one, and answers ``{"ready": true}``;
3. the harness writes ``go`` (to every load process at once), and this process sends requests
   until the duration is over or the request budget is spent, then answers with its counts
   and the latency of every successful response.

Only 127.0.0.1 is accepted as the target: load never leaves this machine.
"""

from __future__ import annotations

import http.client
import importlib
import json
import re
import sys
import threading
import time
import uuid
from http.cookies import SimpleCookie
from urllib.parse import urlencode

# A benchmark round never runs longer than this, whatever the job asks for.
MAX_DURATION = 300.0
REQUEST_TIMEOUT = 30.0
LOGIN_PATH = "/login"
CSRF_PATTERNS = (
    re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"'),
    re.compile(r'value="([^"]+)"[^>]*?name="csrf_token"'),
    re.compile(r'<meta name="csrf-token" content="([^"]+)"'),
)


def extract_csrf_token(html: str) -> str | None:
    """The CSRF token of the first form in the page's ``<main>`` (the header's language switch
    has a token of its own), else of the first form, else the csrf-token meta tag."""
    main = html.find("<main")
    if main >= 0:
        token = extract_csrf_token(html[main + 1:])
        if token:
            return token
    for pattern in CSRF_PATTERNS:
        match = pattern.search(html)
        if match:
            return match.group(1)
    return None


def load_factory(spec: str):
    """``"package.module:function"`` -> the function."""
    module_name, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module_name), attr)


class Client:
    """One simulated user: a keep-alive connection, its cookies, its CSRF token."""

    def __init__(self, job: dict, index: int, stop_at_count, next_path=None):
        self.job, self.case = job, job["case"]
        self.index = index
        self.stop_at_count = stop_at_count
        self.next_path = next_path
        self.cookies: dict[str, str] = dict(self.case.get("cookies") or {})
        self.csrf_token: str | None = None
        self.conn: http.client.HTTPConnection | None = None
        self.fresh = True
        self.sent = 0
        self.latencies: list[float] = []
        self.status_counts: dict[str, int] = {}
        self.bad_status = 0
        self.conn_errors = 0
        self.error_samples: list[str] = []
        expect = self.case.get("expect_status")
        self.expect = set(expect) if expect else None
        factory = self.case.get("body_factory")
        self.factory = load_factory(factory) if factory else None

    # -- connection and cookies ---------------------------------------------------------

    def connect(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = http.client.HTTPConnection(
            self.job["host"], self.job["port"], timeout=REQUEST_TIMEOUT)
        self.conn.connect()
        self.fresh = True

    def remember_cookies(self, response: http.client.HTTPResponse):
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def headers(self) -> dict[str, str]:
        headers = {"Host": f"{self.job['host']}:{self.job['port']}",
                   **(self.case.get("headers") or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.csrf_token:
            headers["X-CSRFToken"] = self.csrf_token
        return headers

    def fetch(self, method: str, path: str, body: bytes | None, headers: dict):
        """One request on the kept-alive connection; reconnects once if the server closed it."""
        for attempt in (1, 2):
            if self.conn is None:
                self.connect()
            reused = not self.fresh
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A keep-alive connection the server closed while idle is not an error
                # of the route: reconnect and send again, once.
                self.conn.close()
                self.conn = None
                if reused and attempt == 1:
                    continue
                raise
            self.fresh = False
            if response.will_close:
                self.conn.close()
                self.conn = None
            return response, data
        raise RuntimeError("unreachable")

    def sign_in(self, email: str, password: str):
        """Sign in through the real form, so the session cookie is the one a browser gets."""
        response, data = self.fetch("GET", LOGIN_PATH, None, self.headers())
        self.remember_cookies(response)
        token = extract_csrf_token(data.decode("utf-8", "replace"))
        body = urlencode({"email": email, "password": password, "csrf_token": token or ""})
        headers = {**self.headers(), "Content-Type": "application/x-www-form-urlencoded"}
        response, _data = self.fetch("POST", LOGIN_PATH, body.encode(), headers)
        self.remember_cookies(response)
        if response.status != 302:
            raise RuntimeError(f"signing in as {email} answered {response.status}")

    def prime(self):
        """Before the clock starts: sign in if asked, then fetch the form page once; its
        session cookie and CSRF token serve every request of this client."""
        if self.case.get("login"):
            self.sign_in(*self.case["login"])
        path = self.case.get("csrf_from")
        if not path:
            return
        response, data = self.fetch("GET", path, None, self.headers())
        self.remember_cookies(response)
        if response.status != 200:
            raise RuntimeError(f"GET {path} for a CSRF token answered {response.status}")
        self.csrf_token = extract_csrf_token(data.decode("utf-8", "replace"))
        if not self.csrf_token:
            raise RuntimeError(f"no csrf_token field on {path}")

    # -- requests -----------------------------------------------------------------------

    def body(self, n: int) -> tuple[bytes | None, str | None]:
        case = self.case
        fields = {
            "n": n, "client": self.index, "run": self.job["run_id"],
            "uid": uuid.uuid4().hex, "unique": f"{self.job['run_id']}-{self.index}-{n}",
        }
        if self.factory is not None:
            made = self.factory(n=n, client=self.index, unique=fields["unique"])
        elif case.get("body") is not None:
            made = case["body"]
            if isinstance(made, dict):
                made = {k: str(v).format_map(fields) for k, v in made.items()}
            else:
                made = str(made).format_map(fields)
        else:
            return None, None
        content_type = case.get("content_type") or "application/x-www-form-urlencoded"
        if isinstance(made, dict):
            if self.csrf_token and "csrf_token" not in made:
                made = {**made, "csrf_token": self.csrf_token}
            if content_type == "application/json":
                return json.dumps(made).encode(), content_type
            return urlencode(made).encode(), content_type
        if isinstance(made, str):
            if self.csrf_token and content_type.startswith("application/x-www-form"):
                made += ("&" if made else "") + urlencode({"csrf_token": self.csrf_token})
            made = made.encode()
        return made, content_type

    def run(self, stop_at: float):
        method, path = self.case.get("method", "GET").upper(), self.case["path"]
        n = 0
        while time.monotonic() < stop_at and self.stop_at_count():
            if self.next_path is not None:
                path = self.next_path()
                if path is None:  # the pool of paths is used up
                    break
            body, content_type = self.body(n)
            headers = self.headers()
            if content_type:
                headers["Content-Type"] = content_type
            n += 1
            started = time.perf_counter()
            try:
                response, _data = self.fetch(method, path, body, headers)
            except (OSError, http.client.HTTPException) as exc:
                self.conn_errors += 1
                if len(self.error_samples) < 3:
                    self.error_samples.append(f"{type(exc).__name__}: {exc}")
                self.conn = None
                time.sleep(0.05)  # do not spin on a refused connection
                continue
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            if self.case.get("keep_response_cookies"):
                self.remember_cookies(response)
            status = response.status
            self.status_counts[str(status)] = self.status_counts.get(str(status), 0) + 1
            good = status in self.expect if self.expect else 200 <= status < 400
            if good:
                self.latencies.append(round(elapsed_ms, 3))
            else:
                self.bad_status += 1
                if len(self.error_samples) < 3:
                    self.error_samples.append(f"HTTP {status} on {method} {path}")
        self.sent = n
        if self.conn is not None:
            self.conn.close()


def run_job(job: dict, wait_for_go) -> dict:
    if job["host"] != "127.0.0.1":
        raise SystemExit("bench.load only sends load to 127.0.0.1")
    duration = min(float(job.get("duration") or MAX_DURATION), MAX_DURATION)
    budget = job.get("max_requests")
    lock = threading.Lock()
    issued = [0]

    def may_send() -> bool:
        if budget is None:
            return True
        with lock:
            if issued[0] >= budget:
                return False
            issued[0] += 1
            return True

    # A pool of paths (one per request, each used once) is shared by this process's clients.
    pool = iter(job["paths"]) if job.get("paths") is not None else None
    used = [0]

    def next_path() -> str | None:
        with lock:
            path = next(pool, None)
            if path is not None:
                used[0] += 1
            return path

    offset = int(job.get("client_offset", 0))
    clients = [Client(job, offset + i, may_send, next_path if pool is not None else None)
               for i in range(int(job["concurrency"]))]
    for client in clients:
        client.connect()
        client.prime()
    wait_for_go()
    started = time.monotonic()
    stop_at = started + duration
    threads = [threading.Thread(target=c.run, args=(stop_at,), daemon=True) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + REQUEST_TIMEOUT + 5)
    elapsed = time.monotonic() - started

    status_counts: dict[str, int] = {}
    for c in clients:
        for status, count in c.status_counts.items():
            status_counts[status] = status_counts.get(status, 0) + count
    return {
        "requests": sum(c.sent for c in clients),
        "ok": sum(len(c.latencies) for c in clients),
        "bad_status": sum(c.bad_status for c in clients),
        "conn_errors": sum(c.conn_errors for c in clients),
        "elapsed": elapsed,
        "status_counts": status_counts,
        "error_samples": [s for c in clients for s in c.error_samples][:5],
        "paths_used": used[0],
        "latencies_ms": [x for c in clients for x in c.latencies],
    }


def main() -> int:
    job = json.loads(sys.stdin.readline())

    def wait_for_go():
        print(json.dumps({"ready": True}), flush=True)
        if sys.stdin.readline().strip() != "go":
            raise SystemExit("bench.load: no go from the harness")

    try:
        result = run_job(job, wait_for_go)
    except Exception as exc:  # reported to the harness, which raises it there
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
