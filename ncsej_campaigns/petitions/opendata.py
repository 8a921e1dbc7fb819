"""A petition's open data: totals, per country, per referring organization, per hour.

Nothing personal: counts only, grouped by country (as signers gave it), by the member
organization that brought the signatures, and by UTC hour. The grouped queries run once per
change of the cached counts: the result is kept under ``(petition, counted_at)`` in Redis when
there is one, else in this process, and served with ``Cache-Control`` so browsers and proxies
keep it too.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import OrderedDict
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from ncsej_campaigns import kv
from ncsej_campaigns.db import utcnow
from ncsej_campaigns.extensions import db
from ncsej_campaigns.organizations.models import Organization
from ncsej_campaigns.petitions.links import share_url
from ncsej_campaigns.petitions.models import (
    PaperBatch,
    Petition,
    Signature,
    SignatureHour,
    SignatureStatus,
)
from ncsej_campaigns.urls import external_url

CACHE_SECONDS = 300
BROWSER_MAX_AGE = 60
_local_cache: OrderedDict[str, tuple[float, str]] = OrderedDict()
_local_lock = threading.Lock()
LOCAL_CACHE_SIZE = 64


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def cache_key(petition: Petition) -> str:
    stamp = petition.counted_at.timestamp() if petition.counted_at else 0
    return f"petition-data:{petition.id}:{stamp:.6f}:{petition.status.value}"


def build_open_data(petition: Petition) -> dict:
    counted = (Signature.petition_id == petition.id,
               Signature.status == SignatureStatus.CONFIRMED)
    by_country = db.session.execute(
        select(Signature.country, func.count()).where(*counted)
        .group_by(Signature.country).order_by(func.count().desc(), Signature.country)).all()
    by_org = db.session.execute(
        select(Organization.slug, Organization.name, func.count())
        .select_from(Signature)
        .join(Organization, Organization.id == Signature.referring_organization_id)
        .where(*counted)
        .group_by(Organization.slug, Organization.name)
        .order_by(func.count().desc(), Organization.name)).all()
    unattributed = db.session.scalar(
        select(func.count()).select_from(Signature)
        .where(*counted, Signature.referring_organization_id.is_(None)))
    paper_by_org = db.session.execute(
        select(Organization.slug, Organization.name,
               func.sum(PaperBatch.signature_count))
        .select_from(PaperBatch)
        .outerjoin(Organization, Organization.id == PaperBatch.organization_id)
        .where(PaperBatch.petition_id == petition.id)
        .group_by(Organization.slug, Organization.name)
        .order_by(func.sum(PaperBatch.signature_count).desc())).all()
    hours = db.session.execute(
        select(SignatureHour.hour, SignatureHour.confirmed)
        .where(SignatureHour.petition_id == petition.id, SignatureHour.confirmed > 0)
        .order_by(SignatureHour.hour)).all()
    return {
        "petition": {
            "slug": petition.slug,
            "title": {"en": petition.title_en, "ru": petition.title_ru or None},
            "target": {"en": petition.target_en, "ru": petition.target_ru or None},
            "status": petition.status.value,
            "url": share_url(petition),
            "goal": petition.goal,
            "milestones": sorted(int(m) for m in (petition.milestones or [])),
            "opens_at": _iso(petition.opens_at),
            "closes_at": _iso(petition.closes_at),
            "delivered_at": _iso(petition.delivered_at),
        },
        "totals": {
            "total": petition.total_count,
            "online_confirmed": petition.confirmed_count,
            "paper": petition.paper_count,
            "counted_at": _iso(petition.counted_at),
        },
        "by_country": [{"country": code or None, "count": n} for code, n in by_country],
        "by_referring_organization": [
            {"slug": slug, "name": name, "count": n} for slug, name, n in by_org],
        "without_referring_organization": unattributed or 0,
        "paper_by_organization": [
            {"slug": slug, "name": name, "count": int(n or 0)} for slug, name, n in paper_by_org],
        "per_hour": [{"hour": _iso(hour), "count": n} for hour, n in hours],
        "generated_at": _iso(utcnow()),
        "documentation": external_url("petitions_public.open_data_help"),
        "licence": "CC0-1.0",
    }


def _cache_get(key: str) -> str | None:
    client = _redis_or_none()
    if client is not None:
        try:
            value = client.get(_redis_key(key))
            return value.decode() if value is not None else None
        except Exception:  # noqa: BLE001 - a cache miss, not an error
            return None
    with _local_lock:
        entry = _local_cache.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        _local_cache.move_to_end(key)
        return entry[1]


def _cache_set(key: str, value: str) -> None:
    client = _redis_or_none()
    if client is not None:
        with contextlib.suppress(Exception):  # the cache is optional
            client.set(_redis_key(key), value, ex=CACHE_SECONDS)
        return
    with _local_lock:
        _local_cache[key] = (time.monotonic() + CACHE_SECONDS, value)
        _local_cache.move_to_end(key)
        while len(_local_cache) > LOCAL_CACHE_SIZE:
            _local_cache.popitem(last=False)


def _redis_key(key: str) -> str:
    return kv.key(key)


def _redis_or_none():
    if not current_app.config["REDIS_URL"]:
        return None
    return kv.redis_client()


def open_data_json(petition: Petition) -> str:
    """The open data as a JSON document, from the cache when the counts have not moved."""
    key = cache_key(petition)
    cached = _cache_get(key)
    if cached is not None:
        return cached
    body = json.dumps(build_open_data(petition), ensure_ascii=False, separators=(",", ":"))
    _cache_set(key, body)
    return body


RECENT_HOURS = 48


def recent_hours(petition: Petition, hours: int = RECENT_HOURS) -> list[tuple]:
    """Confirmed signatures in each of the last ``hours`` UTC hours, zeros included, oldest
    first: the series on the public page. Read from the hourly table (a primary-key range),
    kept per petition until its counts or the hour change."""
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    key = (petition.id, petition.counted_at, now, hours)
    cache = current_app.extensions.setdefault("petition_recent_hours", {})
    if key in cache:
        return cache[key]
    start = now - timedelta(hours=hours - 1)
    counts = dict(db.session.execute(
        select(SignatureHour.hour, SignatureHour.confirmed)
        .where(SignatureHour.petition_id == petition.id, SignatureHour.hour >= start)).all())
    series = [(start + timedelta(hours=i), counts.get(start + timedelta(hours=i), 0))
              for i in range(hours)]
    if len(cache) > 256:
        cache.clear()
    cache[key] = series
    return series

