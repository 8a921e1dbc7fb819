"""Queue emails in the outbox and deliver them exactly once."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel.speaklater import LazyString
from sqlalchemy import or_, select, update

from ncsej_campaigns import kv
from ncsej_campaigns.after_commit import call_after_commit, enqueue_after_commit
from ncsej_campaigns.db import insert_new, utcnow
from ncsej_campaigns.extensions import db
from ncsej_campaigns.notifications import mailer
from ncsej_campaigns.notifications.models import OutboxEmail, OutboxStatus

log = logging.getLogger(__name__)

DELIVER_TASK = "ncsej_campaigns.notifications.tasks.deliver_outbox_email"
BATCH_TASK = "ncsej_campaigns.notifications.tasks.deliver_outbox_emails"
# With a real worker, each web (or worker) process gathers the ids of the emails its commits
# queued and hands them to Celery as one task per burst, at most this many seconds after the
# first of them: a surge of sign-ups costs an append to a list per email instead of a broker
# round trip per email, and the worker sends a burst over one SMTP connection.
HAND_OVER_SECONDS = 0.2
HAND_OVER_BATCH = 500

# A row still "sending" after this long belonged to a worker that died mid-send; it may or
# may not have gone out, so it is marked failed for a person to look at, never resent blindly.
STALE_SENDING_AFTER = timedelta(minutes=15)


def queue_email(
    template: str,
    *,
    to_address: str,
    subject,
    locale: str = "en",
    to_name: str = "",
    person_id: int | None = None,
    user_id: int | None = None,
    **context,
) -> OutboxEmail:
    """Add an outbox row for ``emails/<template>.txt`` and ``.html`` to the current
    transaction; delivery is enqueued only after the commit.

    The text is written when the email is sent, in the recipient's language, from ``context``
    (kept on the row as JSON: strings, numbers, datetimes, lists and dicts of them; lazy
    strings are translated here). A template with a context builder (``context_builder``) is
    queued with the little the builder needs, say a signature's id, and the builder supplies
    the rest at sending time. Writing the text then, not in the request, keeps rendering two
    templates out of a supporter's wait."""
    email = new_outbox_email(template, to_address=to_address, subject=subject, locale=locale,
                             to_name=to_name, person_id=person_id, user_id=user_id,
                             context=context)
    insert_new(db.session, email)
    deliver_after_commit(email.id)
    return email


def new_outbox_email(template: str, *, to_address: str, subject, locale: str, to_name: str,
                     context: dict, person_id: int | None = None,
                     user_id: int | None = None) -> OutboxEmail:
    """The row ``queue_email`` adds, not yet added: for callers that insert it themselves."""
    locale = locale if locale in current_app.config["LANGUAGES"] else "en"
    # A person's full name (first and last, 100 characters each) can be longer than the
    # column; the display name is only a courtesy in the To: header, so it is shortened.
    to_name = to_name[: OutboxEmail.to_name.type.length]
    with force_locale(locale):
        return OutboxEmail(
            to_address=to_address,
            to_name=to_name,
            subject=str(subject),
            template=template,
            context=_to_json(context),
            locale=locale,
            person_id=person_id,
            user_id=user_id,
        )


# --- writing the text -----------------------------------------------------------------------

_CONTEXT_BUILDERS: dict[str, Callable[[dict], dict | None]] = {}
_PRELOADERS: dict[str, Callable[[list[dict]], object]] = {}


class NothingToSend(Exception):
    """What the email was about is gone (a context builder found nothing)."""


def context_builder(template: str, preload: Callable[[list[dict]], object] | None = None):
    """Register ``fn(stored_context) -> template context`` for ``template``: called when the
    email is written, in the recipient's language, inside the app. Returning None means what
    the email was about no longer exists, and it is not sent.

    ``preload(stored_contexts)``, if given, is called once for a batch of such emails before
    they are written, to load what the builder reads in one query; what it returns is kept
    referenced while the batch is written (the session's identity map holds objects weakly)."""
    def register(fn):
        _CONTEXT_BUILDERS[template] = fn
        if preload is not None:
            _PRELOADERS[template] = preload
        return fn
    return register


def render_email(email: OutboxEmail) -> tuple[str, str]:
    """The text and HTML bodies of a queued email, from its template and context."""
    context = _from_json(email.context or {})
    with force_locale(email.locale):
        builder = _CONTEXT_BUILDERS.get(email.template)
        if builder is not None:
            context = builder(context)
            if context is None:
                raise NothingToSend(f"nothing to send for {email.template}")
        context = {"to_name": email.to_name, **context}
        return (render_template(f"emails/{email.template}.txt", **context),
                render_template(f"emails/{email.template}.html", subject=email.subject,
                                **context))


def _unwritten(email: OutboxEmail) -> bool:
    """Queued with a context and not yet written (rows from before the context column, and
    erased ones, have none)."""
    return email.context is not None and not email.body_text


def email_text(email: OutboxEmail) -> str:
    """What the email says (or will say when it is sent), for the outbox's detail page."""
    if not _unwritten(email):
        return email.body_text
    try:
        return render_email(email)[0]
    except Exception:  # noqa: BLE001 - a preview only; sending reports the error properly
        log.exception("outbox %s: could not write a preview", email.id)
        return ""


_DATETIME = "$datetime"


def _to_json(value):
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, LazyString):
        return str(value)
    raise TypeError(f"an email's context cannot hold {type(value).__name__}")


def _from_json(value):
    if isinstance(value, dict):
        if len(value) == 1 and _DATETIME in value:
            return datetime.fromisoformat(value[_DATETIME])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def deliver_after_commit(outbox_id: int) -> None:
    """Have the email sent once the current transaction commits; ``queue_email`` does this,
    a caller that inserted the row itself (``new_outbox_email``) calls it."""
    if kv.available():
        call_after_commit(_hand_over, outbox_id)
    else:  # embedded: delivered in-process straight after the commit
        enqueue_after_commit(DELIVER_TASK, outbox_id)


def _celery_task(name: str):
    return current_app.extensions["celery"].tasks[name]


class HandOver:
    """The per-process batcher behind ``_hand_over``: ids wait in a list, and a daemon thread
    sends them as one ``deliver_outbox_emails`` task a moment after the first arrives. Ids in
    the list when the process ends are picked up by the periodic sweep
    (``due_outbox_ids``), as any hand-over lost on the way is."""

    def __init__(self):
        self._lock = threading.Lock()
        self._ids: list[int] = []
        self._wake = threading.Event()
        self._pid: int | None = None
        self._app = None

    def add(self, outbox_id: int) -> None:
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked child: its own thread
                self._start()
            self._app = current_app._get_current_object()
            self._ids.append(outbox_id)
            if len(self._ids) == 1:
                self._wake.set()

    def _start(self) -> None:
        self._ids, self._pid = [], os.getpid()
        self._wake = threading.Event()
        threading.Thread(target=self._run, name="outbox-hand-over", daemon=True).start()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(HAND_OVER_SECONDS)  # the rest of the burst joins the first
            self._wake.clear()
            self.flush()

    def flush(self) -> int:
        """Send what is waiting now; returns how many ids were handed over."""
        with self._lock:
            ids, self._ids = self._ids, []
            app = self._app
        if not ids:
            return 0
        with app.app_context():
            for start in range(0, len(ids), HAND_OVER_BATCH):
                batch = ids[start:start + HAND_OVER_BATCH]
                try:
                    _celery_task(BATCH_TASK).apply_async((batch,))
                except Exception:  # broker down: the periodic sweep sends them later
                    log.exception("outbox: could not hand over %d emails", len(batch))
        return len(ids)


_hand_overs = HandOver()


def _hand_over(outbox_id: int) -> None:
    """After the commit: the id joins this process's next batch for the worker."""
    _hand_overs.add(outbox_id)


# A batch is claimed, sent and recorded this many rows at a time: should the worker die in
# the middle, at most these rows stay "sending" (and are failed for a person to check, never
# resent blindly; see STALE_SENDING_AFTER).
CLAIM_CHUNK = 50


def deliver_many(outbox_ids: list[int]) -> int:
    """Deliver a batch of ids over one SMTP connection; returns how many were sent.

    Rows are claimed a chunk at a time with one conditional UPDATE, so a duplicate id, or a
    row the periodic sweep or another task took, is skipped; a chunk's outcomes are recorded
    in one statement; a failure is retried by its own task after its backoff."""
    ids = list(dict.fromkeys(int(i) for i in outbox_ids))
    sent = 0
    with mailer.reused_connection():
        for start in range(0, len(ids), CLAIM_CHUNK):
            try:
                results = _deliver_claimed(_claim(ids[start:start + CLAIM_CHUNK]))
            except Exception:  # noqa: BLE001 - the other chunks still go out
                log.exception("outbox: a batch of %d emails failed; the periodic sweep will "
                              "see them", len(ids[start:start + CLAIM_CHUNK]))
                db.session.rollback()
                continue
            for outbox_id, result in results:
                sent += result.sent
                if result.retry_in is not None:
                    _celery_task(DELIVER_TASK).apply_async((outbox_id,),
                                                           countdown=result.retry_in)
    return sent


def backoff_for(attempts: int) -> int:
    """Seconds before the next try: 30 s, 1 min, 2 min, ... capped at one hour."""
    return min(30 * 2 ** max(attempts - 1, 0), 3600)


@dataclass
class DeliveryResult:
    sent: bool
    retry_in: int | None = None


def deliver(outbox_id: int) -> DeliveryResult:
    """Claim the row, send it, record the outcome. Safe to call any number of times.

    The claim is one conditional UPDATE, committed before the send: a second task for the same
    row finds nothing to claim, so a message is never handed to the mail server twice.
    """
    results = _deliver_claimed(_claim([outbox_id]))
    return results[0][1] if results else DeliveryResult(sent=False)


def _claim(outbox_ids: list[int]) -> list[int]:
    """Mark the rows among ``outbox_ids`` that are due as being sent, and commit; returns
    their ids. A row someone else claimed first is not among them."""
    now = utcnow()
    claimed = db.session.scalars(
        update(OutboxEmail)
        .where(
            OutboxEmail.id.in_(outbox_ids),
            OutboxEmail.status == OutboxStatus.PENDING,
            or_(OutboxEmail.next_attempt_at.is_(None), OutboxEmail.next_attempt_at <= now),
        )
        .values(status=OutboxStatus.SENDING, claimed_at=now, attempts=OutboxEmail.attempts + 1)
        .returning(OutboxEmail.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return claimed


# What sending changes on a row, written back in one statement per chunk.
_OUTCOME = ("status", "sent_at", "message_id", "last_error", "next_attempt_at", "body_text",
            "body_html")


def _deliver_claimed(claimed: list[int]) -> list[tuple[int, DeliveryResult]]:
    """Write, send and record rows this process has claimed."""
    if not claimed:
        return []
    emails = db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.id.in_(claimed)).order_by(OutboxEmail.id)).all()
    # Detached: their outcomes are written below by primary key, whatever else changed on
    # the row meanwhile (an erasure, say), not flushed as changes of loaded objects.
    for email in emails:
        db.session.expunge(email)
    unwritten = [e for e in emails if _unwritten(e)]
    preloaded = [preload([e.context for e in unwritten if e.template == template])
                 for template, preload in _PRELOADERS.items()
                 if any(e.template == template for e in unwritten)]
    results = [(email.id, _send(email)) for email in emails]
    del preloaded
    db.session.execute(update(OutboxEmail), [
        {"id": email.id, **{name: getattr(email, name) for name in _OUTCOME}}
        for email in emails])
    db.session.commit()
    return results


def _send(email: OutboxEmail) -> DeliveryResult:
    """Write (if not yet written) and send one claimed email, noting the outcome on it."""
    try:
        if _unwritten(email):
            email.body_text, email.body_html = render_email(email)
        message = mailer.build_message(email)
        mailer.send_message(message)
    except Exception as exc:  # noqa: BLE001 - any transport failure is recorded, not raised
        log.warning("outbox %s: delivery failed: %s", email.id, exc)
        email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if (isinstance(exc, NothingToSend)
                or email.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]):
            email.status = OutboxStatus.FAILED
            email.next_attempt_at = None
            return DeliveryResult(sent=False)
        delay = backoff_for(email.attempts)
        email.status = OutboxStatus.PENDING
        email.next_attempt_at = utcnow() + timedelta(seconds=delay)
        return DeliveryResult(sent=False, retry_in=delay)
    email.status = OutboxStatus.SENT
    email.sent_at = utcnow()
    email.message_id = message["Message-ID"]
    email.last_error = ""
    return DeliveryResult(sent=True)


def due_outbox_ids(limit: int = 500) -> list[int]:
    """Pending rows whose retry time has come, or that were never picked up (broker down)."""
    now = utcnow()
    return list(
        db.session.scalars(
            select(OutboxEmail.id)
            .where(
                OutboxEmail.status == OutboxStatus.PENDING,
                or_(
                    OutboxEmail.next_attempt_at <= now,
                    (OutboxEmail.next_attempt_at.is_(None))
                    & (OutboxEmail.created_at <= now - timedelta(minutes=2)),
                ),
            )
            .order_by(OutboxEmail.id)
            .limit(limit)
        )
    )


def fail_stale_sending() -> int:
    cutoff = utcnow() - STALE_SENDING_AFTER
    count = db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.status == OutboxStatus.SENDING, OutboxEmail.claimed_at < cutoff)
        .values(
            status=OutboxStatus.FAILED,
            last_error="Interrupted while sending; not resent automatically to avoid a "
            "duplicate. Check the mail server's log, then retry by hand if it did not go out.",
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    return count


def requeue(email: OutboxEmail) -> None:
    """An admin asks for another try of a failed email."""
    if email.status not in (OutboxStatus.FAILED, OutboxStatus.PENDING):
        raise ValueError("only failed or pending emails can be retried")
    email.status = OutboxStatus.PENDING
    email.next_attempt_at = None
    email.attempts = 0
    db.session.flush()
    deliver_after_commit(email.id)


def forget_person_emails(person_id: int) -> int:
    """Erasure: clear the address, name and text of every email kept for this person.

    The outbox keeps what was sent so admins can see it; for an erased person that copy would
    outlive the erasure. Rows not yet sent are not sent any more.
    """
    stop_sending = {OutboxStatus.PENDING, OutboxStatus.FAILED}
    emails = db.session.scalars(select(OutboxEmail).where(OutboxEmail.person_id == person_id))
    count = 0
    for email in emails:
        count += 1
        email.to_address = email.to_name = ""
        email.subject = "(erased)"
        email.body_text = email.body_html = ""
        email.context = None
        if email.status in stop_sending:
            email.status = OutboxStatus.FAILED
            email.next_attempt_at = None
            email.last_error = "The recipient's data was erased; not sent."
    db.session.flush()
    return count
