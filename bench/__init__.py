"""Benchmarks: a route measured against a bare baseline route in the same run.

``python -m bench.run_all`` runs every ``bench/bench_*.py`` and writes ``bench/results.md``.
The pieces a benchmark uses live in :mod:`bench.harness`.
"""
