"""Petitions under load (issue point 10), on PostgreSQL and Redis, against a bare baseline
served by the same gunicorn in the same run.

- **Signing**: ``POST /petitions/<slug>/sign``, a new email per request: form validation, then
  a new person, a pending signature and the confirmation email's outbox row in one INSERT
  statement guarded by the petition's state (the email's text is written by the worker when
  it sends it), the commit, the hand-over of the email to the worker, and the "check your
  email" page.
- **Confirmation**: ``GET /petitions/<slug>/confirm/<token>``, each request a different
  pending signature: token check, the signature confirmed, the debounced count job scheduled
  (Redis ``SET NX``, and a Celery message when the key was free), the thank-you page.
- **Baseline**: ``POST /bench/insert-signature`` with the same form: one bare ``INSERT`` of a
  pending row with the same columns into the same ``signatures`` table (same indexes,
  constraints and foreign keys), nothing else.
- **Public page**: ``GET /petitions/<slug>`` (count from the cached counter, the form, the
  country list, share links) against ``GET /bench/hello``, twice: as visitors get it (from
  the few seconds' page cache, ``ncsej_campaigns.page_cache``), and rendered for every
  request (a session cookie skips the cache), which is what a cache miss costs.
- **Sustained signing**: signing for ``BENCH_SUSTAINED`` seconds (default 30) on a second
  server with a Celery worker sending every confirmation email and running the counting jobs
  on the same machine; the signatures per minute it held.

The comparisons run without a worker, so the deliveries the signatures cause (queued in Redis)
do not take CPU from the requests being compared; the sustained run has it.

Rate limits are off in benchmarks (``RATELIMIT_DISABLED``); with them on, each signature adds
two Redis round trips. Each confirmation link is a different URL, which the shared load
generator (``bench.load``) cannot send, so confirmations are driven by the small generator
below, in separate processes with keep-alive connections like ``bench.load``.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import threading
import time
from types import SimpleNamespace

from bench.harness import SETTINGS, AppServer, Case, Comparison, LoadResult, compare, run_load

HELLO = Case("hello", "/bench/hello")
BASELINE_POOL = 150_000
CONFIRM_POOL = 60_000
SUSTAINED = float(os.environ.get("BENCH_SUSTAINED") or 30.0)
PAGE_CACHE_SECONDS = 3  # the app's default

STATE: dict = {}


def seed(server: AppServer) -> None:
    """The demo coalition, then pools for the runs: people for the baseline's rows (handed
    out by a sequence) and pending signatures with their confirmation links."""
    server.flask("seed-demo")
    from sqlalchemy import select, text

    from ncsej_campaigns.extensions import db
    from ncsej_campaigns.petitions.demo import OPEN_PETITION
    from ncsej_campaigns.petitions.models import Petition
    from ncsej_campaigns.petitions.signing import confirm_token

    app = server.make_app()
    with app.app_context():
        petition = db.session.scalar(select(Petition).where(
            Petition.slug == OPEN_PETITION["slug"]))
        people = text(
            "INSERT INTO people (email_normalized, email, first_name, last_name, phone,"
            " street_address, postal_code, city, region, country, preferred_language,"
            " email_consent, email_consent_source, created_at, updated_at)"
            " SELECT :prefix || g || '@example.org', :prefix || g || '@example.org', 'Pool',"
            " 'Signer', '', '', '10024', '', '', 'US', 'en', false, '', now(), now()"
            " FROM generate_series(1, :n) g")
        db.session.execute(people, {"prefix": "bench-pool-", "n": BASELINE_POOL})
        first, last = db.session.execute(text(
            "SELECT min(id), max(id) FROM people WHERE email_normalized LIKE 'bench-pool-%'"
        )).one()
        db.session.execute(text(
            f"CREATE SEQUENCE bench_signer_ids START WITH {int(first)} MINVALUE {int(first)}"
            f" MAXVALUE {int(last)}"))
        db.session.execute(people, {"prefix": "bench-confirm-", "n": CONFIRM_POOL})
        ids = db.session.execute(text(
            "INSERT INTO signatures (petition_id, person_id, status, comment, source,"
            " email_consent, country, postal_code, ip_hash, email_domain, locale, created_at)"
            " SELECT :petition, id, 'pending', '', 'web', true, 'US', '10024', '',"
            " 'example.org', 'en', now() FROM people"
            " WHERE email_normalized LIKE 'bench-confirm-%' RETURNING id"),
            {"petition": petition.id}).scalars().all()
        db.session.commit()
        tokens = [confirm_token(SimpleNamespace(id=i, withdrawn_at=None)) for i in ids]
        STATE.update(petition_id=petition.id, slug=petition.slug, tokens=tokens)


# --- the confirmation load generator ----------------------------------------------------------

def _confirm_process(host: str, port: int, paths: list[str], threads: int, go, stop_at_box,
                     results):
    lock = threading.Lock()
    queue = iter(paths)
    latencies: list[float] = []
    counts = {"ok": 0, "bad": 0, "errors": 0}
    samples: list[str] = []
    conns = []
    for _ in range(threads):
        conn = http.client.HTTPConnection(host, port, timeout=30)
        conn.connect()
        conns.append(conn)
    go.wait()
    stop_at = stop_at_box.value

    def client(conn):
        while time.time() < stop_at:
            with lock:
                path = next(queue, None)
            if path is None:
                return
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Host": f"{host}:{port}"})
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    counts["errors"] += 1
                    samples.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
                continue
            took = (time.perf_counter() - started) * 1000
            with lock:
                if response.status == 200 and b"flash-success" in body:
                    counts["ok"] += 1
                    latencies.append(took)
                else:
                    counts["bad"] += 1
                    samples.append(f"{response.status}: {body[:200]!r}")

    workers = [threading.Thread(target=client, args=(c,)) for c in conns]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    results.put({**counts, "latencies": latencies, "samples": samples[:3]})


def run_confirmations(server: AppServer, duration: float, concurrency: int) -> LoadResult:
    """Open ``concurrency`` confirmation links at a time, each link once, for ``duration``."""
    host, port = "127.0.0.1", server.port
    processes = max(1, min(SETTINGS.load_processes, concurrency))
    tokens = STATE["tokens"]
    ctx = multiprocessing.get_context("fork")
    go, results = ctx.Event(), ctx.Queue()
    stop_at = ctx.Value("d", 0.0)
    # A budget of links sized for the run; every link is used once over the whole benchmark.
    budget = min(len(tokens), int(5000 * duration))
    batch, STATE["tokens"] = tokens[:budget], tokens[budget:]
    if len(batch) < budget:
        raise RuntimeError("the benchmark ran out of confirmation links; raise CONFIRM_POOL")
    slug = STATE["slug"]
    paths = [f"/petitions/{slug}/confirm/{t}" for t in batch]
    shares = [concurrency // processes + (1 if i < concurrency % processes else 0)
              for i in range(processes)]
    children = []
    for i, share in enumerate(shares):
        part = paths[i::processes]
        child = ctx.Process(target=_confirm_process,
                            args=(host, port, part, share, go, stop_at, results))
        child.start()
        children.append(child)
    time.sleep(0.5)  # connections opened
    started = time.time()
    stop_at.value = started + duration
    go.set()
    result = LoadResult("confirm")
    for _ in children:
        reply = results.get(timeout=duration + 120)
        result.ok += reply["ok"]
        result.bad_status += reply["bad"]
        result.conn_errors += reply["errors"]
        result.latencies_ms.extend(reply["latencies"])
        result.error_samples = (result.error_samples + reply["samples"])[:5]
    for child in children:
        child.join(timeout=30)
    result.elapsed = min(time.time() - started, duration + 30)
    result.requests = result.ok + result.bad_status + result.conn_errors
    result.status_counts = {"200": result.ok}
    result.rounds_rps = [result.rps]
    return result


def compare_confirmations(server: AppServer, baseline: Case) -> Comparison:
    rounds = max(2, SETTINGS.rounds)
    concurrency = SETTINGS.concurrency
    run_confirmations(server, SETTINGS.warmup, concurrency)
    route, base = LoadResult("confirm"), LoadResult(baseline.name)
    for _ in range(rounds):
        base.add(run_load(server, baseline, duration=SETTINGS.duration, concurrency=concurrency))
        route.add(run_confirmations(server, SETTINGS.duration, concurrency))
    result = Comparison(
        benchmark="confirm a signature (emailed link)", route=route, baseline=base,
        route_case=Case("confirm", f"/petitions/{STATE['slug']}/confirm/<token>"),
        baseline_case=baseline, concurrency=concurrency, rounds=rounds,
        duration=SETTINGS.duration,
        note="token + UPDATE + debounced count job (Redis SET NX, Celery) + page")
    print(result.summary(), flush=True)
    return result


# --- the run ----------------------------------------------------------------------------------

FORM = {"first_name": "Bench", "last_name": "Signer {n}", "email": "bench-{unique}@example.org",
        "country": "US", "postal_code": "10024", "email_consent": "y"}


def run() -> list[Comparison]:
    # The request paths alone first: the mail the signatures cause waits in Redis, so the
    # worker's deliveries do not take CPU from the requests being compared.
    with AppServer(setup=seed) as server:
        slug = STATE["slug"]
        sign = Case("sign", f"/petitions/{slug}/sign", method="POST",
                    csrf_from=f"/petitions/{slug}/widget", body=FORM, expect_status=[200])
        baseline = Case("bare INSERT", "/bench/insert-signature", method="POST",
                        body={**FORM, "petition_id": str(STATE["petition_id"])},
                        expect_status=[204])
        results = [
            compare(server, sign, baseline, name="sign a petition (form POST)",
                    note="form + person, pending signature and outbox email in one guarded "
                         "INSERT + commit + page"),
            compare_confirmations(server, baseline),
            compare(server, Case("petition page", f"/petitions/{slug}", expect_status=[200]),
                    HELLO, name="public petition page",
                    note=f"what a visitor without a session gets: the page rendered at most "
                         f"{PAGE_CACHE_SECONDS:g} s ago (PAGE_CACHE_SECONDS), count included"),
            compare(server, Case("petition page, rendered", f"/petitions/{slug}",
                                 headers={"Cookie": "session=bench"}, expect_status=[200]),
                    HELLO, name="public petition page, rendered for each request",
                    note="a session cookie skips the page cache: cached counter + hourly "
                         "series + form + share links, no COUNT(*)"),
        ]
    # Then the whole system on this one machine: signing while a Celery worker sends every
    # confirmation email and the counting jobs run.
    with AppServer(setup=seed, celery=True) as server:
        slug = STATE["slug"]
        sign = Case("sign", f"/petitions/{slug}/sign", method="POST",
                    csrf_from=f"/petitions/{slug}/widget", body=FORM, expect_status=[200])
        run_load(server, sign, duration=SETTINGS.warmup)
        sustained = run_load(server, sign, duration=SUSTAINED)
        per_minute = sustained.rps * 60
        print(f"sustained signing for {SUSTAINED:.0f} s at concurrency "
              f"{SETTINGS.concurrency}, with the worker sending the mail: {per_minute:,.0f} "
              f"signatures/minute (p50 {sustained.p50:.1f} ms, p99 {sustained.p99:.1f} ms, "
              f"{sustained.errors} errors); the 2019 peak that broke the UK site was about "
              "2,000 a minute", flush=True)
        results[0].note += (f"; sustained for {SUSTAINED:.0f} s with the worker sending the "
                            f"mail: {per_minute:,.0f} signatures/minute (p50 "
                            f"{sustained.p50:.1f} ms, p99 {sustained.p99:.1f} ms, "
                            f"{sustained.errors} errors)")
        status, body = server.get(f"/petitions/{slug}/count.json")
        print(f"count.json after the run: {status} {body[:300]}", flush=True)
        return results


if __name__ == "__main__":
    from bench.run_all import main

    raise SystemExit(main(["--only", "petitions"]))
