"""Batched signature counting: the public count comes from the petition row, refreshed here.

A signature never updates the petition row in its own transaction (the UK petitions site went
down at about 2,000 signatures a minute because each one did ``+1`` on one hot row). Instead a
job counts: one grouped query over the ``(petition_id, status)`` index for all the petitions
it is asked about, then one ``UPDATE`` per petition whose numbers changed. It runs

- a few seconds after a confirmation (debounced: with Redis, at most one job per petition per
  ``DEBOUNCE_SECONDS``; with no broker, straight after the commit, in-process);
- from Celery beat every 30 seconds for every open petition, as a safety net;
- hourly as a full reconciliation of every petition, hours series included.

The job locks the petition rows it counts with ``FOR NO KEY UPDATE SKIP LOCKED``: two jobs never
count the same petition at once, and the lock does not conflict with the key-share lock a
signature's foreign key takes, so signers never wait for it.

``counted_at`` is when the cached numbers last changed; the hourly series is recomputed from a
little before it (``HOUR_GRACE`` covers transactions still in flight at the last count).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import force_locale, format_decimal
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update

from ncsej_campaigns import kv
from ncsej_campaigns.after_commit import enqueue_after_commit
from ncsej_campaigns.auth.models import Role, User
from ncsej_campaigns.db import UTCDateTime, utcnow
from ncsej_campaigns.extensions import db
from ncsej_campaigns.notifications.services import queue_email
from ncsej_campaigns.petitions.models import (
    PaperBatch,
    Petition,
    PetitionStatus,
    Signature,
    SignatureHour,
    SignatureStatus,
)
from ncsej_campaigns.urls import external_url

log = logging.getLogger(__name__)

COUNT_TASK = "ncsej_campaigns.petitions.tasks.update_signature_counts"
DEBOUNCE_SECONDS = 3
HOUR_GRACE = timedelta(minutes=5)


# --- scheduling -----------------------------------------------------------------------------

def schedule_count_update(petition_id: int) -> None:
    """Ask for ``petition_id`` to be recounted soon after the current transaction commits.

    With a broker, a Redis ``SET NX EX`` key lets one job through per petition per few seconds;
    every confirmation in between is counted by that job (it runs a second after the key
    expires, so a confirmation that saw the key has committed by then). The beat job every 30
    seconds catches anything a lost key or a failed enqueue missed.
    """
    if not kv.available():
        enqueue_after_commit(COUNT_TASK, petition_id)
        return
    try:
        if not kv.redis_client().set(kv.key(f"petition-count:{petition_id}"), "1", nx=True,
                                     ex=DEBOUNCE_SECONDS):
            return
    except Exception:  # noqa: BLE001 - Redis down: enqueue anyway, the count must not stall
        log.warning("petition %s: debounce key unavailable, enqueueing directly", petition_id)
    enqueue_after_commit(COUNT_TASK, petition_id, countdown=DEBOUNCE_SECONDS + 1)


# --- hour buckets ---------------------------------------------------------------------------

def hour_bucket(column):
    """``column`` truncated to its UTC hour, as an aware datetime, on either database."""
    if db.engine.dialect.name == "postgresql":
        # AT TIME ZONE 'UTC' first: date_trunc on a timestamptz would use the session's zone.
        return func.date_trunc("hour", func.timezone("UTC", column), type_=UTCDateTime())
    return func.strftime("%Y-%m-%d %H:00:00", column, type_=UTCDateTime())


def floor_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


# --- counting -------------------------------------------------------------------------------

@dataclass
class CountChange:
    petition_id: int
    before: tuple[int, int, int]
    after: tuple[int, int, int]
    milestone: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _lock_petitions(stmt, *, skip_locked: bool = True) -> list:
    stmt = stmt.with_for_update(skip_locked=skip_locked, key_share=True).order_by(Petition.id)
    return list(db.session.execute(stmt).all())


def _petition_rows(petition_ids: Iterable[int] | None, *, every: bool = False,
                   skip_locked: bool = True) -> list:
    stmt = select(Petition.id, Petition.confirmed_count, Petition.pending_count,
                  Petition.paper_count, Petition.counted_at, Petition.goal,
                  Petition.milestones, Petition.last_milestone_notified)
    if petition_ids is not None:
        ids = sorted(set(petition_ids))
        if not ids:
            return []
        stmt = stmt.where(Petition.id.in_(ids))
    elif not every:
        stmt = stmt.where(Petition.status == PetitionStatus.OPEN)
    return _lock_petitions(stmt, skip_locked=skip_locked)


def _status_counts(ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = db.session.execute(
        select(Signature.petition_id, Signature.status, func.count())
        .where(Signature.petition_id.in_(ids),
               Signature.status.in_((SignatureStatus.CONFIRMED, SignatureStatus.PENDING)))
        .group_by(Signature.petition_id, Signature.status))
    for petition_id, status, n in rows:
        counts[petition_id][SignatureStatus(status)] = n
    return counts


def _paper_counts(ids: list[int]) -> dict[int, int]:
    return dict(db.session.execute(
        select(PaperBatch.petition_id, func.coalesce(func.sum(PaperBatch.signature_count), 0))
        .where(PaperBatch.petition_id.in_(ids)).group_by(PaperBatch.petition_id)).all())


def _refresh_hours(windows: dict[int, datetime | None]) -> None:
    """Recompute the hourly series of each petition from its window start (None: all hours)."""
    if not windows:
        return
    bucket = hour_bucket(Signature.confirmed_at)
    conditions, deletes = [], []
    for petition_id, start in windows.items():
        if start is None:
            conditions.append(Signature.petition_id == petition_id)
            deletes.append(SignatureHour.petition_id == petition_id)
        else:
            conditions.append(and_(Signature.petition_id == petition_id,
                                   Signature.confirmed_at >= start))
            deletes.append(and_(SignatureHour.petition_id == petition_id,
                                SignatureHour.hour >= start))
    rows = db.session.execute(
        select(Signature.petition_id, bucket.label("hour"), func.count())
        .where(Signature.status == SignatureStatus.CONFIRMED, or_(*conditions))
        .group_by(Signature.petition_id, bucket)).all()
    db.session.execute(delete(SignatureHour).where(or_(*deletes)),
                       execution_options={"synchronize_session": False})
    if rows:
        db.session.execute(insert(SignatureHour), [
            {"petition_id": pid, "hour": hour, "confirmed": n} for pid, hour, n in rows])


def _count(rows: list, *, full: bool, now: datetime) -> list[CountChange]:
    if not rows:
        return []
    ids = [r.id for r in rows]
    statuses = _status_counts(ids)
    paper = _paper_counts(ids)
    changes, updates, windows = [], [], {}
    for r in rows:
        after = (statuses[r.id].get(SignatureStatus.CONFIRMED, 0),
                 statuses[r.id].get(SignatureStatus.PENDING, 0), int(paper.get(r.id, 0)))
        change = CountChange(r.id, (r.confirmed_count, r.pending_count, r.paper_count), after)
        changes.append(change)
        if full or r.counted_at is None:
            windows[r.id] = None
        elif after[0] != r.confirmed_count:
            windows[r.id] = floor_hour(r.counted_at - HOUR_GRACE)
        if change.changed or r.counted_at is None:
            updates.append({"pid": r.id, "confirmed": after[0], "pending": after[1],
                            "paper": after[2], "at": now})
    if updates:
        table = Petition.__table__
        db.session.execute(
            update(table).where(table.c.id == bindparam("pid")).values(
                confirmed_count=bindparam("confirmed"), pending_count=bindparam("pending"),
                paper_count=bindparam("paper"), counted_at=bindparam("at"),
                # Counting is not an edit: keep the editorial timestamp as it was.
                updated_at=table.c.updated_at),
            updates)
    _refresh_hours(windows)
    for r, change in zip(rows, changes, strict=True):
        change.milestone = _check_milestone(r, change.after[0] + change.after[2])
    return changes


def petition_exists(petition_id: int) -> bool:
    return db.session.get(Petition, petition_id) is not None


def update_counts(petition_ids: Iterable[int] | None = None,
                  now: datetime | None = None) -> list[CountChange]:
    """Recount the given petitions (default: every open one); flushes, the caller commits."""
    return _count(_petition_rows(petition_ids), full=False, now=now or utcnow())


def reconcile_counts(now: datetime | None = None, *, report: bool = True) -> list[CountChange]:
    """Recount every petition from scratch, paper batches and the whole hourly series
    included; reports any cached number that had drifted from the rows."""
    changes = _count(_petition_rows(None, every=True), full=True, now=now or utcnow())
    for change in changes if report else ():
        if change.changed:
            log.warning("petition %s: cached counts %s corrected to %s",
                        change.petition_id, change.before, change.after)
    return changes


def recount_petition(petition: Petition) -> Petition:
    """Recount one petition now (after a coordinator's invalidation or paper batch), and give
    the caller's object its new numbers."""
    db.session.flush()
    # Waits for a counting job busy with this petition (milliseconds) rather than skipping
    # it: the coordinator's correction must show in the numbers they see next.
    _count(_petition_rows([petition.id], skip_locked=False), full=True, now=utcnow())
    db.session.refresh(petition, ["confirmed_count", "pending_count", "paper_count",
                                  "counted_at", "last_milestone_notified"])
    return petition


# --- milestones -----------------------------------------------------------------------------

def _check_milestone(row, total: int) -> int | None:
    """Tell the coordinators once when the total passes a milestone (or the goal)."""
    marks = {int(m) for m in (row.milestones or []) if str(m).isdigit()} | {int(row.goal)}
    reached = [m for m in marks if row.last_milestone_notified < m <= total]
    if not reached:
        return None
    milestone = max(reached)
    # Conditional, so a concurrent job that got there first wins and nobody is told twice.
    won = db.session.execute(
        update(Petition.__table__)
        .where(Petition.__table__.c.id == row.id,
               Petition.__table__.c.last_milestone_notified < milestone)
        .values(last_milestone_notified=milestone,
                updated_at=Petition.__table__.c.updated_at)).rowcount
    if won:
        _notify_milestone(row.id, milestone, total)
    return milestone if won else None


def milestone_recipients(petition: Petition) -> list[User]:
    users = list(db.session.scalars(
        select(User).where(User.active.is_(True), User.role == Role.COORDINATOR)
        .order_by(User.id)))
    creator = petition.created_by
    if creator is not None and creator.active and creator not in users:
        users.append(creator)
    return users


def _notify_milestone(petition_id: int, milestone: int, total: int) -> None:
    petition = db.session.get(Petition, petition_id)
    db.session.refresh(petition)
    for user in milestone_recipients(petition):
        locale = user.locale or "en"
        title = petition.localized("title", locale)
        with force_locale(locale):
            subject = _("“%(title)s” passed %(count)s signatures", title=title,
                        count=format_decimal(milestone))
        queue_email(
            "petition_milestone",
            to_address=user.email,
            to_name=user.full_name,
            subject=subject,
            locale=locale,
            user_id=user.id,
            petition_title=title,
            milestone=milestone,
            total=total,
            goal=petition.goal,
            is_goal=milestone == petition.goal,
            petition_url=external_url("petitions_public.petition", slug=petition.slug),
        )


# --- closing --------------------------------------------------------------------------------

def close_expired_petitions(now: datetime | None = None) -> list[int]:
    """Close every open petition whose close date has passed, then count it one last time."""
    from ncsej_campaigns.audit import services as audit

    now = now or utcnow()
    table = Petition.__table__
    closed = list(db.session.scalars(
        update(table)
        .where(table.c.status == PetitionStatus.OPEN.value, table.c.closes_at <= now)
        .values(status=PetitionStatus.CLOSED.value, updated_at=now)
        .returning(table.c.id)))
    for petition_id in closed:
        petition = db.session.get(Petition, petition_id)
        audit.record("petition.closed", target=petition, actor_label="system: close date",
                     summary=petition.title_en, details={"from": "open", "to": "closed"})
    if closed:
        update_counts(closed, now=now)
    return closed
