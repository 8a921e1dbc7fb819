"""Baseline routes for the benchmarks in ``bench/``; registered only with BENCH_ROUTES=1."""

from __future__ import annotations

from flask import Blueprint, request
from sqlalchemy import text

from ncsej_campaigns.extensions import csrf, db, limiter

bp = Blueprint("bench", __name__, url_prefix="/bench")


@bp.route("/hello")
@limiter.exempt
@csrf.exempt
def hello():
    return "hello"


# The baseline of the petition benchmark (bench/bench_petitions.py): one bare INSERT of a
# pending signature row, with the columns the signing path writes, into the same table (so
# the same indexes, unique constraint, foreign keys and check constraints apply), taking the
# same form fields. Nothing else: no validation, no person, no outbox email, no template.
# Each row needs its own person; the benchmark's setup creates a pool of people and the
# ``bench_signer_ids`` sequence that hands them out.
INSERT_SIGNATURE = text(
    "INSERT INTO signatures (petition_id, person_id, status, comment, source,"
    " referring_organization_id, email_consent, country, postal_code, ip_hash, email_domain,"
    " locale, created_at)"
    " VALUES (:petition_id, nextval('bench_signer_ids'), 'pending', :comment, 'web', NULL,"
    " :email_consent, :country, :postal_code, :ip_hash, :email_domain, 'en', now())"
)


@bp.route("/insert-signature", methods=["POST"])
@limiter.exempt
@csrf.exempt
def insert_signature():
    form = request.form
    db.session.execute(INSERT_SIGNATURE, {
        "petition_id": int(form["petition_id"]),
        "comment": form.get("comment", ""),
        "email_consent": bool(form.get("email_consent")),
        "country": form.get("country", ""),
        "postal_code": form.get("postal_code", ""),
        "ip_hash": request.remote_addr or "",
        "email_domain": form.get("email", "").rpartition("@")[2],
    })
    db.session.commit()
    return "", 204
