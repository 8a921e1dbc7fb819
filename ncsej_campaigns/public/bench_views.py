"""Baseline routes for the benchmarks in ``bench/``; registered only with BENCH_ROUTES=1."""

from __future__ import annotations

from flask import Blueprint

from ncsej_campaigns.extensions import csrf, limiter

bp = Blueprint("bench", __name__, url_prefix="/bench")


@bp.route("/hello")
@limiter.exempt
@csrf.exempt
def hello():
    return "hello"
