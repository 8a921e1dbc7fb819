"""Hand outbox rows to Celery once, and only once, their transaction has committed."""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from ncsej_campaigns.notifications.services import PENDING_IDS_KEY

log = logging.getLogger(__name__)


def init_outbox_dispatch(app: Flask) -> None:
    # The listeners are on the Session class, so they are installed once per process however
    # many apps are created (tests create several).
    if event.contains(Session, "after_commit", enqueue_after_commit):
        return
    event.listen(Session, "after_commit", enqueue_after_commit)
    event.listen(Session, "after_rollback", forget_after_rollback)


def enqueue_after_commit(session) -> None:
    ids = session.info.pop(PENDING_IDS_KEY, None)
    if not ids:
        return
    from ncsej_campaigns.notifications.tasks import deliver_outbox_email

    for outbox_id in ids:
        try:
            deliver_outbox_email.delay(outbox_id)
        except Exception:  # broker down: the periodic sweep picks the row up later
            log.exception("could not enqueue outbox email %s", outbox_id)


def forget_after_rollback(session) -> None:
    session.info.pop(PENDING_IDS_KEY, None)
