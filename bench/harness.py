"""What every benchmark is built from: a served app, a load run, a comparison.

A benchmark measures a route against a baseline route served by the same gunicorn in the
same run, so the figure that matters is the ratio, not the absolute req/s of this machine::

    from bench.harness import AppServer, Case, compare

    def run():
        with AppServer(setup=lambda server: server.flask("seed-demo")) as server:
            return [compare(server, Case("home", "/"), Case("hello", "/bench/hello"))]

A form that signs something, with a unique email per request and the form's CSRF token::

    sign = Case("sign", "/p/clean-air/sign", method="POST", csrf_from="/p/clean-air",
                body={"name": "Bench {n}", "email": "bench-{unique}@example.org"},
                expect_status=[302])
    compare(server, sign, Case("hello", "/bench/hello"), name="sign a petition")

- :class:`AppServer` creates a private PostgreSQL database, migrates it, runs ``setup``,
  starts gunicorn (and a Celery worker when asked) on a free loopback port, waits for
  ``/healthz``, and removes all of it on exit, the database included.
- :class:`Case` describes the requests of one route: method, path, a form body made unique
  per request, the page to take a CSRF token and session cookie from first, an account to
  sign in as.
- :func:`run_load` drives one case from separate load processes (:mod:`bench.load`).
- :func:`compare` warms both cases up, then runs baseline and route interleaved for a few
  rounds and returns a :class:`Comparison`: req/s, p50/p99 latency and their ratios.

Settings that apply to every benchmark come from :data:`SETTINGS` (``bench.run_all`` sets
them from its command line) or from the environment: ``BENCH_DATABASE_URL``,
``BENCH_REDIS_URL``, ``BENCH_DURATION``, ``BENCH_WARMUP``, ``BENCH_ROUNDS``,
``BENCH_CONCURRENCY``, ``BENCH_LOAD_PROCESSES``, ``BENCH_WORKERS``, ``BENCH_THREADS``.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS_DIR = ROOT / "bench" / ".runs"  # logs of the servers of each run (ignored by git)


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


@dataclass
class Settings:
    database_url: str = field(default_factory=lambda: os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    redis_url: str = field(default_factory=lambda: os.environ.get(
        "BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    # Seconds of load per round and case; every round is bounded by this.
    duration: float = field(default_factory=lambda: _env_float("BENCH_DURATION", 5.0))
    warmup: float = field(default_factory=lambda: _env_float("BENCH_WARMUP", 1.5))
    rounds: int = field(default_factory=lambda: _env_int("BENCH_ROUNDS", 2))
    concurrency: int = field(default_factory=lambda: _env_int("BENCH_CONCURRENCY", 16))
    load_processes: int = field(default_factory=lambda: _env_int("BENCH_LOAD_PROCESSES", 2))
    # gthread: a worker process per core, threads to overlap the waits on PostgreSQL and
    # Redis; it also keeps connections alive, as a proxy in front of gunicorn would.
    workers: int = field(default_factory=lambda: _env_int(
        "BENCH_WORKERS", max(2, os.cpu_count() or 2)))
    threads: int = field(default_factory=lambda: _env_int("BENCH_THREADS", 4))


SETTINGS = Settings()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _die_with_parent() -> None:
    """In a child before exec: on Linux, get SIGTERM if the harness dies without cleaning up."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _stop(proc: subprocess.Popen | None, timeout: float = 15.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


class AppServer:
    """gunicorn serving the app on a private PostgreSQL database, for one benchmark.

    ``setup(server)`` runs after the migrations and before gunicorn starts: seed data there
    with ``server.flask("seed-demo")`` or in-process with ``server.make_app()``. With
    ``celery=True`` a worker consumes every queue, so requests that enqueue tasks are
    measured with their real broker round trip.
    """

    def __init__(
        self,
        *,
        setup: Callable[[AppServer], None] | None = None,
        celery: bool = False,
        celery_queues: str = "mail,default,imports,reports",
        workers: int | None = None,
        threads: int | None = None,
        env: dict[str, str] | None = None,
        label: str = "ncsej_bench",
    ):
        self.setup = setup
        self.celery = celery
        self.celery_queues = celery_queues
        self.workers = workers or SETTINGS.workers
        self.threads = threads or SETTINGS.threads
        self.extra_env = env or {}
        self.label = label
        self.run_id = f"{label}-{os.getpid()}-{secrets.token_hex(3)}"
        self.run_dir = RUNS_DIR / self.run_id
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.database_url: str | None = None
        self.env: dict[str, str] = {}
        self.gunicorn: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> AppServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        from ncsej_campaigns.testing import create_private_database

        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.database_url = create_private_database(SETTINGS.database_url, self.label)
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": SETTINGS.redis_url,
            "CELERY_KEY_PREFIX": f"{self.run_id}:",
            "RATELIMIT_KEY_PREFIX": self.run_id,
            "RATELIMIT_DISABLED": "1",
            "BENCH_ROUTES": "1",
            "SECRET_KEY": secrets.token_hex(32),
            "BASE_URL": self.base_url,
            "MAIL_FILE_DIR": str(self.run_dir / "mail"),
            **self.extra_env,
        }
        for name in ("MAIL_SERVER", "REPORTS_DATABASE_URL"):
            if name not in self.extra_env:
                self.env.pop(name, None)
        self.flask("db", "upgrade")
        if self.setup is not None:
            self.setup(self)
        if self.celery:
            self._start_worker()
        self._start_gunicorn()

    def stop(self) -> None:
        _stop(self.gunicorn)
        _stop(self.worker)
        self.gunicorn = self.worker = None
        if self.database_url:
            from ncsej_campaigns.testing import drop_private_database

            drop_private_database(SETTINGS.database_url, self.database_url)
            self.database_url = None
        self._forget_redis_keys()

    def _start_gunicorn(self) -> None:
        log = self.run_dir / "gunicorn.log"
        self.gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "wsgi:app",
             "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers),
             "--worker-class", "gthread", "--threads", str(self.threads),
             "--keep-alive", "5", "--backlog", "2048",
             "--error-logfile", str(log), "--log-level", "warning"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.gunicorn.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + _tail(log))
            try:
                # noqa below: the URL is always http://127.0.0.1:<port>, built here.
                with urllib.request.urlopen(self.url("/healthz"), timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError) as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"/healthz never answered 200 ({exc}):\n"
                                       + _tail(log)) from exc
            time.sleep(0.2)

    def _start_worker(self) -> None:
        log = self.run_dir / "celery.log"
        with open(log, "wb") as out:
            self.worker = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "ncsej_campaigns.worker", "worker",
                 "-Q", self.celery_queues, "--concurrency", "2", "--loglevel", "INFO",
                 "--without-gossip", "--without-mingle", "--without-heartbeat",
                 "-n", f"{self.run_id}@%h"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        # "ready." is logged once the worker consumes from its queues.
        deadline = time.monotonic() + 60
        while b"ready." not in log.read_bytes():
            if self.worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Celery worker did not start:\n" + _tail(log))
            time.sleep(0.2)

    def _forget_redis_keys(self) -> None:
        try:
            import redis

            client = redis.Redis.from_url(SETTINGS.redis_url, socket_connect_timeout=2)
            for prefix in (f"{self.run_id}:", f"LIMITS:{self.run_id}"):
                keys = list(client.scan_iter(match=prefix + "*", count=1000))
                if keys:
                    client.delete(*keys)
            client.close()
        except Exception as exc:  # noqa: BLE001 - leftovers in Redis are not worth a crash
            print(f"bench: could not remove this run's Redis keys: {exc}", file=sys.stderr)

    # -- helpers for benchmarks -----------------------------------------------------------

    def url(self, path: str) -> str:
        return self.base_url + path

    def flask(self, *args: str, timeout: float = 300) -> str:
        """Run ``flask --app wsgi ARGS`` against this server's database; return its output."""
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def make_app(self):
        """A Flask app on this server's database, for seeding through the services."""
        from ncsej_campaigns import create_app

        saved = dict(os.environ)
        os.environ.update(self.env)
        try:
            return create_app()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def get(self, path: str, timeout: float = 10) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url(path), timeout=timeout) as response:  # noqa: S310
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")


@dataclass
class Case:
    """The requests of one route.

    ``body`` is a form as a dict (or a urlencoded string) whose values may hold the
    placeholders ``{unique}`` (different for every request of the run, e.g.
    ``"bench-{unique}@example.org"``), ``{uid}``, ``{n}``, ``{client}`` and ``{run}``.
    ``body_factory`` names a function instead, ``"bench.bench_x:make_body"``, called as
    ``f(n=..., client=..., unique=...)`` in the load process and returning a dict.

    ``csrf_from`` is the path of a page holding the form: each client GETs it once before
    the clock starts, keeps the session cookie it sets and sends its ``csrf_token`` (as the
    form field and the ``X-CSRFToken`` header) with every request.

    ``login`` is ``(email, password)``: each client signs in through ``/login`` first and
    sends that session cookie with every request (rate limits are off in benchmarks).

    During the timed run every request carries the cookies primed before the clock started;
    cookies set by responses are ignored unless ``keep_response_cookies`` is true (a form
    that flashes a message and redirects would otherwise grow the session cookie with every
    unread flash).

    ``paths`` is a pool of paths for cases where every request needs a URL of its own (an
    emailed confirmation link, say): each request takes the next one and each is sent once;
    :func:`run_load` removes the paths it used from the list, so the next round goes on with
    fresh ones, and a round ends early when the pool is empty. ``path`` then only names the
    case in reports, e.g. ``"/petitions/x/confirm/<token>"``.

    A response counts as good when its status is in ``expect_status`` (by default any 2xx
    or 3xx); throughput and latency are computed over good responses only.
    """

    name: str
    path: str
    method: str = "GET"
    body: dict[str, str] | str | None = None
    body_factory: str | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    csrf_from: str | None = None
    login: tuple[str, str] | None = None
    keep_response_cookies: bool = False
    paths: list[str] | None = field(default=None, repr=False)
    expect_status: list[int] | None = None
    concurrency: int | None = None


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list (0.0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), math.ceil(pct * len(sorted_values) / 100.0 - 1e-9)))
    return sorted_values[rank - 1]


@dataclass
class LoadResult:
    name: str
    requests: int = 0
    ok: int = 0
    bad_status: int = 0
    conn_errors: int = 0
    elapsed: float = 0.0
    status_counts: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    rounds_rps: list[float] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return self.bad_status + self.conn_errors

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    @property
    def p50(self) -> float:
        return percentile(sorted(self.latencies_ms), 50)

    @property
    def p99(self) -> float:
        return percentile(sorted(self.latencies_ms), 99)

    def add(self, other: LoadResult) -> None:
        """Fold in another round of the same case."""
        self.requests += other.requests
        self.ok += other.ok
        self.bad_status += other.bad_status
        self.conn_errors += other.conn_errors
        self.elapsed += other.elapsed
        for status, count in other.status_counts.items():
            self.status_counts[status] = self.status_counts.get(status, 0) + count
        self.error_samples = (self.error_samples + other.error_samples)[:5]
        self.latencies_ms.extend(other.latencies_ms)
        self.rounds_rps.append(other.rps)

    def summary(self) -> str:
        text = (f"{self.name}: {self.rps:,.0f} req/s, p50 {self.p50:.1f} ms, "
                f"p99 {self.p99:.1f} ms, {self.ok} ok")
        if self.errors:
            text += f", {self.bad_status} bad status, {self.conn_errors} connection errors"
        return text


def run_load(
    server: AppServer | str,
    case: Case,
    *,
    duration: float | None = None,
    concurrency: int | None = None,
    processes: int | None = None,
    max_requests: int | None = None,
) -> LoadResult:
    """Drive ``case`` for ``duration`` seconds (or ``max_requests``) from load processes.

    ``concurrency`` clients in all, spread over ``processes`` separate Python processes so
    the generator is not one GIL-bound interpreter. The clock starts when every client is
    connected (and holds its CSRF token), at the same moment in every process.
    """
    base_url = server.base_url if isinstance(server, AppServer) else server
    host_port = base_url.split("://", 1)[1].rstrip("/")
    host, _, port = host_port.partition(":")
    if host != "127.0.0.1":
        raise ValueError("benchmarks only send load to 127.0.0.1")
    if duration is None:
        # A request budget alone still ends: bench.load stops any round after 300 s.
        duration = 300.0 if max_requests is not None else SETTINGS.duration
    concurrency = concurrency or case.concurrency or SETTINGS.concurrency
    processes = max(1, min(processes or SETTINGS.load_processes, concurrency))
    run = secrets.token_hex(4)

    shares = [concurrency // processes + (1 if i < concurrency % processes else 0)
              for i in range(processes)]
    budgets: list[int | None] = [None] * processes
    if max_requests is not None:
        budgets = [max_requests * s // concurrency for s in shares]
        budgets[0] += max_requests - sum(budgets)
    case_fields = {k: v for k, v in asdict(case).items() if k != "paths"}
    children = []
    try:
        offset = 0
        for index, (share, budget) in enumerate(zip(shares, budgets, strict=True)):
            job = {
                "host": host, "port": int(port), "case": case_fields, "run_id": run,
                "duration": duration, "concurrency": share, "client_offset": offset,
                "max_requests": budget,
                "paths": None if case.paths is None else case.paths[index::processes],
            }
            offset += share
            child = subprocess.Popen(
                [sys.executable, "-m", "bench.load"], cwd=ROOT,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                preexec_fn=_die_with_parent,
            )
            child.stdin.write(json.dumps(job) + "\n")
            child.stdin.flush()
            children.append(child)
        for child in children:
            reply = json.loads(child.stdout.readline() or '{"error": "no reply"}')
            if "error" in reply:
                raise RuntimeError(f"load for {case.name} could not start: {reply['error']}")
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        result = LoadResult(case.name)
        replies = []
        for child in children:
            line = child.stdout.readline()
            reply = json.loads(line or '{"error": "no result"}')
            if "error" in reply:
                raise RuntimeError(f"load for {case.name} failed: {reply['error']}")
            replies.append(reply)
            child.wait(timeout=30)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait(timeout=5)
    # The processes ran side by side: their counts add up over the longest wall time.
    result.elapsed = max(r["elapsed"] for r in replies)
    for r in replies:
        result.requests += r["requests"]
        result.ok += r["ok"]
        result.bad_status += r["bad_status"]
        result.conn_errors += r["conn_errors"]
        for status, count in r["status_counts"].items():
            result.status_counts[status] = result.status_counts.get(status, 0) + count
        result.error_samples.extend(r["error_samples"])
        result.latencies_ms.extend(r["latencies_ms"])
    result.error_samples = result.error_samples[:5]
    if case.paths is not None:
        # Process i was given paths[i::processes] and used the first paths_used of them.
        spent = {i + processes * k for i, r in enumerate(replies) for k in range(r["paths_used"])}
        case.paths[:] = [p for j, p in enumerate(case.paths) if j not in spent]
    return result


@dataclass
class Comparison:
    """A route against its baseline, both measured against the same server in one run."""

    benchmark: str
    route: LoadResult
    baseline: LoadResult
    route_case: Case
    baseline_case: Case
    concurrency: int
    rounds: int
    duration: float
    note: str = ""

    @property
    def throughput_ratio(self) -> float:
        return self.route.rps / self.baseline.rps if self.baseline.rps else 0.0

    @property
    def p50_ratio(self) -> float:
        return self.route.p50 / self.baseline.p50 if self.baseline.p50 else 0.0

    @property
    def p99_ratio(self) -> float:
        return self.route.p99 / self.baseline.p99 if self.baseline.p99 else 0.0

    def row(self) -> dict:
        return {
            "benchmark": self.benchmark,
            "route": f"{self.route_case.method} {self.route_case.path}",
            "baseline": f"{self.baseline_case.method} {self.baseline_case.path}",
            "baseline_rps": self.baseline.rps,
            "route_rps": self.route.rps,
            "ratio": self.throughput_ratio,
            "baseline_p50": self.baseline.p50,
            "baseline_p99": self.baseline.p99,
            "route_p50": self.route.p50,
            "route_p99": self.route.p99,
            "p50_ratio": self.p50_ratio,
            "errors": self.route.errors + self.baseline.errors,
            "concurrency": self.concurrency,
            "note": self.note,
        }

    def summary(self) -> str:
        return (f"{self.benchmark}\n  baseline {self.baseline.summary()}\n"
                f"  route    {self.route.summary()}\n"
                f"  route/baseline: throughput x{self.throughput_ratio:.2f}, "
                f"p50 x{self.p50_ratio:.2f}, p99 x{self.p99_ratio:.2f}")


def compare(
    server: AppServer | str,
    route: Case,
    baseline: Case,
    *,
    name: str | None = None,
    rounds: int | None = None,
    duration: float | None = None,
    warmup: float | None = None,
    concurrency: int | None = None,
    note: str = "",
) -> Comparison:
    """Warm both cases up, then run baseline, route, baseline, route... and compare.

    Interleaving spreads whatever else the machine does over both cases alike; the ratio
    route/baseline is what a benchmark reports.
    """
    rounds = max(2, rounds or SETTINGS.rounds)
    duration = SETTINGS.duration if duration is None else duration
    warmup = SETTINGS.warmup if warmup is None else warmup
    concurrency = concurrency or route.concurrency or SETTINGS.concurrency
    if warmup > 0:
        for case in (baseline, route):
            warm = run_load(server, case, duration=warmup, concurrency=concurrency)
            if warm.ok == 0:
                raise RuntimeError(f"warm-up of {case.name} got no good response: "
                                   f"{warm.status_counts} {warm.error_samples}")
    route_total, baseline_total = LoadResult(route.name), LoadResult(baseline.name)
    for _ in range(rounds):
        baseline_total.add(run_load(server, baseline, duration=duration, concurrency=concurrency))
        route_total.add(run_load(server, route, duration=duration, concurrency=concurrency))
    result = Comparison(
        benchmark=name or f"{route.name} vs {baseline.name}",
        route=route_total, baseline=baseline_total, route_case=route,
        baseline_case=baseline, concurrency=concurrency, rounds=rounds, duration=duration,
        note=note,
    )
    print(result.summary(), flush=True)
    return result
