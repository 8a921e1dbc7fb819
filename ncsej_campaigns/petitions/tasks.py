"""Celery tasks for petitions: thin, idempotent wrappers over ``petitions.counting``."""

from __future__ import annotations

from celery import shared_task

from ncsej_campaigns.extensions import db
from ncsej_campaigns.petitions import counting


@shared_task(bind=True, name="ncsej_campaigns.petitions.tasks.update_signature_counts",
             autoretry_for=(Exception,), retry_backoff=5, max_retries=5)
def update_signature_counts(self, petition_id: int | None = None) -> int:
    """Recount one petition (after a confirmation) or, from beat, every open one."""
    changes = counting.update_counts([petition_id] if petition_id is not None else None)
    db.session.commit()
    if (petition_id is not None and not changes and not self.request.is_eager
            and counting.petition_exists(petition_id)):
        # Another job held the petition and may have counted before this confirmation was
        # committed: count again in a moment rather than leave it to the next beat.
        raise self.retry(countdown=1, max_retries=10)
    return sum(1 for c in changes if c.changed)


@shared_task(name="ncsej_campaigns.petitions.tasks.close_expired_petitions")
def close_expired_petitions() -> int:
    closed = counting.close_expired_petitions()
    db.session.commit()
    return len(closed)


@shared_task(name="ncsej_campaigns.petitions.tasks.reconcile_signature_counts")
def reconcile_signature_counts() -> int:
    changes = counting.reconcile_counts()
    db.session.commit()
    return sum(1 for c in changes if c.changed)
