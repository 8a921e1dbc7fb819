"""Enqueue Celery tasks only once the transaction that asked for them has committed.

A task enqueued inside a transaction could run before the commit (and find nothing) or after
a rollback (and act on a change that never happened). ``enqueue_after_commit`` keeps the
request in the session and hands it to Celery from the ``after_commit`` event; a rollback
forgets it. With no broker the tasks run in-process right after the commit.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from ncsej_campaigns.extensions import db

log = logging.getLogger(__name__)

PENDING_KEY = "tasks_to_enqueue_after_commit"
CALLBACKS_KEY = "calls_after_commit"


def enqueue_after_commit(task, *args, **options) -> None:
    """Send ``task(*args)`` once the current transaction commits (``options`` go to
    ``apply_async``, e.g. ``countdown``). ``task`` is a task or its registered name; services
    pass names so they need not import the task modules that import them."""
    if isinstance(task, str):
        task = current_app.extensions["celery"].tasks[task]
    db.session.info.setdefault(PENDING_KEY, []).append((task, args, options))


def call_after_commit(fn, *args) -> None:
    """Call ``fn(*args)`` once the current transaction commits (a rollback forgets it); for
    hand-overs that are not a plain task, like the outbox's. Errors are logged, not raised:
    the change is committed by then."""
    db.session.info.setdefault(CALLBACKS_KEY, []).append((fn, args))


def init_after_commit(app: Flask) -> None:
    # The listeners are on the Session class, so they are installed once per process however
    # many apps are created (tests create several).
    if event.contains(Session, "after_commit", _enqueue):
        return
    event.listen(Session, "after_commit", _enqueue)
    event.listen(Session, "after_rollback", _forget)


def _enqueue(session) -> None:
    pending = session.info.pop(PENDING_KEY, None)
    for task, args, options in pending or ():
        try:
            task.apply_async(args, **options)
        except Exception:  # broker down: the periodic sweeps pick the work up later
            log.exception("could not enqueue %s%r", task.name, args)
    for fn, args in session.info.pop(CALLBACKS_KEY, None) or ():
        try:
            fn(*args)
        except Exception:  # the periodic sweeps pick the work up later
            log.exception("after-commit call %s%r failed", fn.__name__, args)


def _forget(session) -> None:
    session.info.pop(PENDING_KEY, None)
    session.info.pop(CALLBACKS_KEY, None)
