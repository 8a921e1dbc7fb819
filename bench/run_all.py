"""Run every benchmark and write ``bench/results.md``.

    .venv/bin/python -m bench.run_all                      # all of bench/bench_*.py
    .venv/bin/python -m bench.run_all --only public_pages  # the modules whose name matches
    .venv/bin/python -m bench.run_all --duration 2 --rounds 2 --no-write   # a quick look

Each ``bench/bench_*.py`` module exposes ``run()`` returning a list of
:class:`bench.harness.Comparison`. Needs PostgreSQL and Redis (``BENCH_DATABASE_URL``,
``BENCH_REDIS_URL``; defaults on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as ``python bench/run_all.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402
from bench.harness import ROOT, SETTINGS, Comparison  # noqa: E402

BENCH_DIR = ROOT / "bench"
RESULTS = BENCH_DIR / "results.md"
LOAD_BEFORE = "unknown"


def discover(only: list[str] | None = None) -> list[str]:
    names = sorted(p.stem for p in BENCH_DIR.glob("bench_*.py"))
    if only:
        names = [n for n in names if any(o in n for o in only)]
    return [f"bench.{n}" for n in names]


def git_commit() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + (" (with uncommitted changes)" if dirty else "")


def table(results: list[Comparison]) -> str:
    lines = [
        "| benchmark | route | baseline | baseline req/s | route req/s | ratio "
        "| baseline p50 / p99 ms | route p50 / p99 ms | p50 ratio | errors |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in results:
        r = c.row()
        lines.append(
            f"| {r['benchmark']} | `{r['route']}` | `{r['baseline']}` "
            f"| {r['baseline_rps']:,.0f} | {r['route_rps']:,.0f} | {r['ratio']:.2f} "
            f"| {r['baseline_p50']:.1f} / {r['baseline_p99']:.1f} "
            f"| {r['route_p50']:.1f} / {r['route_p99']:.1f} | {r['p50_ratio']:.2f} "
            f"| {r['errors']} |"
        )
    return "\n".join(lines)


def markdown(results: list[Comparison], failures: list[str], started: dt.datetime,
             seconds: float) -> str:
    s = SETTINGS
    notes = [f"- **{c.benchmark}**: {c.note}" for c in results if c.note]
    parts = [
        "# Benchmark results",
        "",
        "Written by `python -m bench.run_all`; do not edit by hand.",
        "",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC ({seconds:.0f} s)",
        f"- Machine: {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}",
        f"- Commit: {git_commit()}",
        f"- Load average before the run: {LOAD_BEFORE} (other work on the machine skews "
        "absolute figures more than ratios)",
        f"- Server: gunicorn, {s.workers} workers x {s.threads} threads (gthread), "
        "PostgreSQL and Redis on the same machine",
        f"- Load: {s.concurrency} keep-alive clients in {s.load_processes} separate "
        f"processes on the same machine; {s.rounds} rounds of {s.duration:g} s per case, "
        f"baseline and route interleaved, after {s.warmup:g} s of warm-up each",
        "",
        "*ratio* is route req/s divided by baseline req/s, both measured against the same "
        "server in the same run; *p50 ratio* is route p50 latency over baseline p50. "
        "Absolute figures depend on the machine; compare ratios between runs.",
        "",
        table(results),
        "",
    ]
    if notes:
        parts += ["What each route does:", "", *notes, ""]
    if failures:
        parts += ["Failed benchmarks:", "", *[f"- {f}" for f in failures], ""]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", help="run modules whose name contains this")
    parser.add_argument("--duration", type=float, help="seconds per round and case")
    parser.add_argument("--rounds", type=int, help="rounds per case (at least 2)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up per case")
    parser.add_argument("--concurrency", type=int, help="concurrent clients")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    for name in ("duration", "rounds", "warmup", "concurrency"):
        if getattr(args, name) is not None:
            setattr(harness.SETTINGS, name, getattr(args, name))

    # A SIGTERM unwinds like Ctrl-C, so every AppServer stops its processes and drops its DB.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    modules = discover(args.only)
    if not modules:
        print("no benchmark matched", file=sys.stderr)
        return 2
    global LOAD_BEFORE
    LOAD_BEFORE = " / ".join(f"{x:.1f}" for x in os.getloadavg()) + " (1, 5, 15 min)"
    started, t0 = dt.datetime.now(dt.UTC), time.monotonic()
    results: list[Comparison] = []
    failures: list[str] = []
    for module_name in modules:
        print(f"== {module_name}", flush=True)
        try:
            results.extend(importlib.import_module(module_name).run())
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the rest
            failures.append(f"{module_name}: {type(exc).__name__}: {exc}")
            print(f"!! {module_name} failed: {exc}", file=sys.stderr, flush=True)
    print()
    print(table(results))
    for failure in failures:
        print("FAILED", failure)
    if not args.no_write and results:
        args.output.write_text(markdown(results, failures, started, time.monotonic() - t0))
        print(f"\nwritten to {args.output}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
