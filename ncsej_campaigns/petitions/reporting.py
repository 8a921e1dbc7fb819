"""What coordinators learn about a petition, and what they may correct.

The dashboard's numbers (per day, per organization, per country), the latest signatures,
reversible invalidations, and the streamed CSV export. Every query on signatures starts from
``auth.policy.scoped_signatures`` so a federation representative only ever counts and exports
the signatures its own organization referred.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import selectinload

from ncsej_campaigns.audit import services as audit
from ncsej_campaigns.auth.policy import scoped_paper_batches, scoped_signatures
from ncsej_campaigns.db import utcnow
from ncsej_campaigns.extensions import db
from ncsej_campaigns.organizations.models import Organization
from ncsej_campaigns.people.models import Person
from ncsej_campaigns.petitions import counting
from ncsej_campaigns.petitions.models import (
    Invalidation,
    PaperBatch,
    Petition,
    Signature,
    SignatureStatus,
)
from ncsej_campaigns.text import like_pattern

COUNTED = (SignatureStatus.PENDING, SignatureStatus.CONFIRMED)


class ReportingError(ValueError):
    """A correction was refused; the message is shown to the user."""


# --- numbers ----------------------------------------------------------------------------------

def status_counts(petition: Petition) -> dict[str, int]:
    """Live counts by status (a coordinator page may count; the public page never does)."""
    stmt = scoped_signatures(select(Signature.status, func.count())
                             .where(Signature.petition_id == petition.id)
                             .group_by(Signature.status))
    counts = {s.value: 0 for s in SignatureStatus}
    for status, n in db.session.execute(stmt):
        counts[SignatureStatus(status).value] = n
    return counts


def _utc_day(column):
    # PostgreSQL's date() follows the session's time zone; days here are UTC days.
    if db.engine.dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def confirmed_per_day(petition: Petition) -> list[tuple[date, int]]:
    """Confirmed signatures per UTC day, every day from the first to the last (zeros kept)."""
    day = _utc_day(Signature.confirmed_at).label("day")
    stmt = scoped_signatures(
        select(day, func.count()).where(Signature.petition_id == petition.id,
                                        Signature.status == SignatureStatus.CONFIRMED)
        .group_by(day).order_by(day))
    rows = {}
    for value, n in db.session.execute(stmt):
        if value is None:
            continue
        rows[value if isinstance(value, date) else date.fromisoformat(str(value))] = n
    if not rows:
        return []
    first, last = min(rows), max(rows)
    return [(first + timedelta(days=i), rows.get(first + timedelta(days=i), 0))
            for i in range((last - first).days + 1)]


@dataclass
class Chart:
    """A bar chart laid out for an inline SVG: geometry only, the template draws it."""

    width: int
    height: int
    bars: list[dict]
    y_ticks: list[dict]
    x_labels: list[dict]
    plot_left: int
    plot_bottom: int
    plot_right: int
    total: int
    peak: int
    unit: str


def _nice_ceiling(value: int) -> int:
    if value <= 5:
        return 5
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        ceiling = int(step * magnitude)
        if ceiling >= value:
            return ceiling
    return value


def daily_chart(series: list[tuple[date, int]], *, width: int = 760,
                height: int = 240) -> Chart | None:
    """Lay out ``series`` as bars; long series are summed by week so bars stay readable."""
    if not series:
        return None
    unit = "day"
    if len(series) > 120:
        unit = "week"
        weeks: dict[date, int] = {}
        for day, n in series:
            start = day - timedelta(days=day.weekday())
            weeks[start] = weeks.get(start, 0) + n
        series = sorted(weeks.items())
    left, right, top, bottom = 48, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(n for _, n in series)
    ceiling = _nice_ceiling(max(peak, 1))
    slot = plot_w / len(series)
    gap = min(2.0, slot * 0.2)
    bars = []
    for i, (day, n) in enumerate(series):
        h = plot_h * n / ceiling
        bars.append({"x": round(left + i * slot + gap / 2, 2), "y": round(top + plot_h - h, 2),
                     "w": round(max(slot - gap, 0.5), 2), "h": round(h, 2), "day": day,
                     "value": n})
    y_ticks = [{"y": round(top + plot_h - plot_h * k / 4, 2), "value": ceiling * k // 4}
               for k in range(5)]
    every = max(1, round(len(series) / 8))
    x_labels = [{"x": round(b["x"] + b["w"] / 2, 2), "day": b["day"]}
                for i, b in enumerate(bars) if i % every == 0]
    return Chart(width=width, height=height, bars=bars, y_ticks=y_ticks, x_labels=x_labels,
                 plot_left=left, plot_bottom=top + plot_h, plot_right=width - right,
                 total=sum(n for _, n in series), peak=peak, unit=unit)


def per_organization(petition: Petition) -> list[dict]:
    """Confirmed and pending signatures by referring organization, most first."""
    confirmed = func.sum(case((Signature.status == SignatureStatus.CONFIRMED, 1), else_=0))
    pending = func.sum(case((Signature.status == SignatureStatus.PENDING, 1), else_=0))
    # Grouped on the signatures alone, then the few organizations named: joining every row
    # to its organization before grouping costs more than the grouping itself.
    stmt = scoped_signatures(
        select(Signature.referring_organization_id, confirmed.label("confirmed"),
               pending.label("pending"))
        .where(Signature.petition_id == petition.id, Signature.status.in_(COUNTED))
        .group_by(Signature.referring_organization_id))
    counted = db.session.execute(stmt).all()
    ids = [r[0] for r in counted if r[0] is not None]
    orgs = {o.id: o for o in db.session.scalars(
        select(Organization).where(Organization.id.in_(ids)))} if ids else {}
    rows = []
    for org_id, n_confirmed, n_pending in counted:
        org = orgs.get(org_id)
        rows.append({"organization_id": org_id, "name": org.name if org else None,
                     "slug": org.slug if org else None, "region": org.region if org else "",
                     "confirmed": int(n_confirmed or 0), "pending": int(n_pending or 0),
                     "paper": 0})
    by_id = {r["organization_id"]: r for r in rows}
    paper = db.session.execute(scoped_paper_batches(
        select(PaperBatch.organization_id, Organization.name, Organization.slug,
               Organization.region, func.sum(PaperBatch.signature_count))
        .outerjoin(Organization, Organization.id == PaperBatch.organization_id)
        .where(PaperBatch.petition_id == petition.id)
        .group_by(PaperBatch.organization_id, Organization.name, Organization.slug,
                  Organization.region)))
    for org_id, name, slug, region, n in paper:
        row = by_id.get(org_id)
        if row is None:
            row = {"organization_id": org_id, "name": name, "slug": slug, "region": region or "",
                   "confirmed": 0, "pending": 0, "paper": 0}
            rows.append(row)
            by_id[org_id] = row
        row["paper"] = int(n or 0)
    for row in rows:
        row["total"] = row["confirmed"] + row["paper"]
    rows.sort(key=lambda r: (-r["total"], -r["pending"], r["name"] or "\uffff"))
    return rows


def per_region(org_rows: list[dict]) -> list[dict]:
    """The organization totals summed by the organizations' regions."""
    regions: dict[str, dict] = {}
    for row in org_rows:
        key = row["region"] if row["organization_id"] else ""
        entry = regions.setdefault(key, {"region": key, "confirmed": 0, "paper": 0, "total": 0})
        for k in ("confirmed", "paper", "total"):
            entry[k] += row[k]
    return sorted(regions.values(), key=lambda r: (-r["total"], r["region"] or "\uffff"))


def per_country(petition: Petition) -> list[dict]:
    stmt = scoped_signatures(
        select(Signature.country, func.count())
        .where(Signature.petition_id == petition.id,
               Signature.status == SignatureStatus.CONFIRMED)
        .group_by(Signature.country).order_by(func.count().desc(), Signature.country))
    return [{"country": c or "", "confirmed": n} for c, n in db.session.execute(stmt)]


def signatures_stmt(petition: Petition, *, q: str = "", status: str = "",
                    organization_id: int | None = None):
    """The petition's signatures, newest first, for the paginated list."""
    # Names and organizations load in two small queries for the page shown, and the count
    # behind the pager reads the signatures table alone unless a search needs the names.
    stmt = scoped_signatures(
        select(Signature).where(Signature.petition_id == petition.id)
        .options(selectinload(Signature.person), selectinload(Signature.referring_organization)))
    if status in {s.value for s in SignatureStatus}:
        stmt = stmt.where(Signature.status == SignatureStatus(status))
    if organization_id:
        stmt = stmt.where(Signature.referring_organization_id == organization_id)
    if q:
        pattern = like_pattern(q.strip())
        stmt = stmt.join(Person, Person.id == Signature.person_id).where(or_(
            Person.email.ilike(pattern, escape="\\"),
            Person.first_name.ilike(pattern, escape="\\"),
            Person.last_name.ilike(pattern, escape="\\"),
            Signature.postal_code.ilike(pattern, escape="\\"),
            Signature.ip_hash == q.strip(),
        ))
    return stmt.order_by(Signature.created_at.desc(), Signature.id.desc())


def invalidations(petition: Petition) -> list[Invalidation]:
    return list(db.session.scalars(
        select(Invalidation).where(Invalidation.petition_id == petition.id)
        .order_by(Invalidation.created_at.desc())))


# --- counts -----------------------------------------------------------------------------------

def refresh_counts(petition: Petition) -> Petition:
    """Recount the petition's cached numbers now, after a coordinator's correction, so the
    public count moves with it (the counting job would otherwise catch up on its schedule)."""
    db.session.flush()
    return counting.recount_petition(petition)


# --- invalidation -----------------------------------------------------------------------------

def _iso(value):
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


def batch_filter(petition: Petition, criteria: dict) -> list:
    conditions = [Signature.petition_id == petition.id, Signature.status.in_(COUNTED)]
    if criteria.get("email_domain"):
        conditions.append(Signature.email_domain == criteria["email_domain"].lower())
    if criteria.get("ip_hash"):
        conditions.append(Signature.ip_hash == criteria["ip_hash"])
    if criteria.get("created_from"):
        conditions.append(Signature.created_at >= criteria["created_from"])
    if criteria.get("created_to"):
        conditions.append(Signature.created_at < criteria["created_to"])
    return conditions


def preview_batch(petition: Petition, criteria: dict) -> dict:
    """How many signatures a batch rule would invalidate, and a few of them to look at."""
    conditions = batch_filter(petition, criteria)
    count = db.session.scalar(select(func.count()).select_from(Signature).where(*conditions))
    sample = list(db.session.scalars(
        select(Signature).where(*conditions).order_by(Signature.created_at.desc()).limit(10)))
    return {"count": count, "sample": sample}


def invalidate_signature(petition: Petition, signature: Signature, reason: str, *,
                         actor) -> Invalidation:
    if signature.petition_id != petition.id or signature.status not in COUNTED:
        raise ReportingError(_l("Only a pending or confirmed signature can be invalidated."))
    invalidation = Invalidation(petition_id=petition.id, reason=reason, created_by=actor,
                                criteria={"signature_ids": [signature.id]}, signature_count=1)
    db.session.add(invalidation)
    db.session.flush()
    signature.status = SignatureStatus.INVALIDATED
    signature.invalidation_id = invalidation.id
    db.session.flush()
    refresh_counts(petition)
    audit.record("signatures.invalidated", target=invalidation, actor=actor,
                 summary=f"{petition.title_en}: 1 — {reason}",
                 details={"petition_id": petition.id, "signature_ids": [signature.id]})
    return invalidation


def invalidate_batch(petition: Petition, criteria: dict, reason: str, *,
                     actor) -> Invalidation:
    """Invalidate every pending or confirmed signature the rule matches, in one UPDATE."""
    conditions = batch_filter(petition, criteria)
    if len(conditions) <= 2:
        raise ReportingError(_l("Choose at least one rule: an email domain, an IP hash or a "
                                "time window."))
    invalidation = Invalidation(
        petition_id=petition.id, reason=reason, created_by=actor,
        criteria={k: _iso(v) for k, v in criteria.items() if v})
    db.session.add(invalidation)
    db.session.flush()
    result = db.session.execute(
        update(Signature).where(*conditions)
        .values(status=SignatureStatus.INVALIDATED, invalidation_id=invalidation.id)
        .execution_options(synchronize_session=False))
    if not result.rowcount:
        raise ReportingError(_l("No pending or confirmed signature matches this rule."))
    invalidation.signature_count = result.rowcount
    db.session.flush()
    db.session.expire_all()
    refresh_counts(petition)
    audit.record("signatures.invalidated", target=invalidation, actor=actor,
                 summary=f"{petition.title_en}: {result.rowcount} — {reason}",
                 details={"petition_id": petition.id, **invalidation.criteria})
    return invalidation


def revert_invalidation(invalidation: Invalidation, *, actor) -> int:
    """Count an invalidation's signatures again, as they were: confirmed if they had been
    confirmed, pending otherwise. Returns how many came back."""
    if invalidation.reverted_at is not None:
        raise ReportingError(_l("This invalidation was already reverted."))
    restored = case((Signature.confirmed_at.is_not(None), SignatureStatus.CONFIRMED.value),
                    else_=SignatureStatus.PENDING.value)
    result = db.session.execute(
        update(Signature).where(Signature.invalidation_id == invalidation.id,
                                Signature.status == SignatureStatus.INVALIDATED)
        .values(status=restored, invalidation_id=None)
        .execution_options(synchronize_session=False))
    invalidation.reverted_at = utcnow()
    invalidation.reverted_by_id = actor.id if actor is not None else None
    db.session.flush()
    db.session.expire_all()
    refresh_counts(invalidation.petition)
    audit.record("signatures.invalidation_reverted", target=invalidation, actor=actor,
                 summary=f"{invalidation.petition.title_en}: {result.rowcount}",
                 details={"petition_id": invalidation.petition_id,
                          "restored": result.rowcount})
    return result.rowcount


# --- export -----------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "signature_id", "status", "signed_at", "confirmed_at", "first_name", "last_name", "email",
    "postal_code", "country", "referring_organization", "source", "language",
    "email_consent", "comment",
)


def export_stmt(petition: Petition, *, organization_id: int | None = None,
                status: str = ""):
    """Plain columns, not ORM objects, so a million rows cost a million small tuples read in
    chunks rather than a million objects in the session's identity map."""
    stmt = scoped_signatures(
        select(Signature.id, Signature.status, Signature.created_at, Signature.confirmed_at,
               Person.first_name, Person.last_name, Person.email, Signature.postal_code,
               Signature.country, Organization.slug, Signature.source, Signature.locale,
               Signature.email_consent, Signature.comment)
        .join(Person, Person.id == Signature.person_id)
        .outerjoin(Organization, Organization.id == Signature.referring_organization_id)
        .where(Signature.petition_id == petition.id))
    if organization_id:
        stmt = stmt.where(Signature.referring_organization_id == organization_id)
    if status in {s.value for s in SignatureStatus}:
        stmt = stmt.where(Signature.status == SignatureStatus(status))
    return stmt.order_by(Signature.id)


def record_export(petition: Petition, *, organization_id: int | None, status: str,
                  actor) -> None:
    audit.record("signatures.exported", target=petition, actor=actor,
                 summary=petition.title_en,
                 details={"organization_id": organization_id, "status": status or "all"})


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(getattr(value, "value", value))
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def export_csv(stmt, *, chunk_rows: int = 1000) -> Iterator[str]:
    """Yield the CSV in pieces while the rows stream from a server-side cursor."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # The byte order mark makes spreadsheet programs read the Cyrillic names as UTF-8.
    buffer.write("\ufeff")
    writer.writerow(EXPORT_COLUMNS)
    result = db.session.execute(stmt.execution_options(yield_per=chunk_rows))
    for partition in result.partitions():
        for row in partition:
            writer.writerow([_cell(v) for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    result.close()
    if buffer.tell():
        yield buffer.getvalue()
