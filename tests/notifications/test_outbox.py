"""Outbox mail: written with the change, delivered once, retried with backoff, visible to admins.

In real mode the worker is another process, so tests that break the transport call the
services directly inside ``ctx`` (against the same database) with the transport patched.
"""

from __future__ import annotations

import re
import smtplib
import time
from datetime import timedelta

import factory
import pytest
from sqlalchemy import select

from ncsej_campaigns.db import utcnow
from ncsej_campaigns.notifications import services
from ncsej_campaigns.notifications.models import OutboxEmail, OutboxStatus
from tests import factories
from tests.conftest import REAL_MODE, post_form


class OutboxEmailFactory(factories.BaseFactory):
    """A pending email nobody has enqueued yet (rows made here never reach the broker)."""

    class Meta:
        model = OutboxEmail

    to_address = factory.Sequence(lambda n: f"recipient{n}@example.org")
    to_name = "Sarah Cohen"
    subject = "Reset your password"
    body_text = "Hello Sarah Cohen,\n\nThe text part.\n"
    body_html = "<p>Hello Sarah Cohen,</p><p>The HTML part.</p>"
    template = "password_reset"
    locale = "en"
    status = OutboxStatus.PENDING
    attempts = 0


def wait_for_status(dbs, email_id, status, timeout=20.0) -> OutboxEmail:
    deadline = time.monotonic() + timeout
    while True:
        dbs.expire_all()
        row = dbs.get(OutboxEmail, email_id)
        if row.status == status or time.monotonic() > deadline:
            assert row.status == status
            return row
        time.sleep(0.05)


def failing_transport(monkeypatch, error=None):
    calls = []

    def send_message(message):
        calls.append(message)
        raise error or smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr("ncsej_campaigns.notifications.mailer.send_message", send_message)
    return calls


def test_failed_request_leaves_no_outbox_row(client, monkeypatch, dbs, mailbox):
    user = factories.UserFactory()

    def broken_audit(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    # request_password_reset queues the email, then records the audit entry, which fails.
    monkeypatch.setattr("ncsej_campaigns.auth.services.audit.record", broken_audit)
    with pytest.raises(RuntimeError):
        post_form(client, "/password/forgot", {"email": user.email})
    assert dbs.query(OutboxEmail).count() == 0
    time.sleep(0.3)  # give a (wrongly) enqueued task time to show itself
    assert mailbox.messages() == []


def test_queued_email_is_sent_after_commit_as_text_and_html(client, dbs, mailbox):
    user = factories.UserFactory()
    post_form(client, "/password/forgot", {"email": user.email})
    (message,) = mailbox.wait_for(to=user.email)
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(preferencelist=("plain",)) is not None
    assert message.get_body(preferencelist=("html",)) is not None
    assert message["From"] == "National Coalition <no-reply@coalition.example.org>"
    row = wait_for_status(dbs, dbs.query(OutboxEmail).one().id, OutboxStatus.SENT)
    assert row.attempts == 1 and row.sent_at is not None
    assert row.message_id == str(message["Message-ID"]).strip()


def test_delivering_twice_sends_one_message(ctx, dbs, mailbox):
    from ncsej_campaigns.notifications.tasks import deliver_outbox_email

    email = OutboxEmailFactory(to_address="once@example.org")
    assert deliver_outbox_email.apply(args=[email.id]).get() is True
    assert deliver_outbox_email.apply(args=[email.id]).get() is False
    assert services.deliver(email.id).sent is False
    assert len(mailbox.wait_for(to="once@example.org")) == 1
    time.sleep(0.2)
    assert len(mailbox.wait_for(to="once@example.org")) == 1
    row = wait_for_status(dbs, email.id, OutboxStatus.SENT)
    assert row.attempts == 1


def test_a_name_with_an_overlong_word_keeps_the_headers_whole(ctx, dbs, mailbox):
    """A typed name like "AAAA...(90) BBBB...(90)" once made the To: header fold with an
    empty line, which ended the headers early and pushed the rest into the body."""
    email = OutboxEmailFactory(to_address="long@example.org", to_name="A" * 90 + " " + "B" * 90)
    assert services.deliver(email.id).sent is True
    (message,) = mailbox.wait_for(to="long@example.org")
    assert message["Subject"] == "Reset your password"
    assert message["X-Outbox-Id"] == str(email.id)
    assert str(message["To"]) == f"{'A' * 60} {'B' * 60} <long@example.org>"


def test_headers_in_russian_are_encoded_and_read_back_whole(app, ctx, dbs, mailbox,
                                                            monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_DEFAULT_SENDER",
                        "Национальная коалиция <no-reply@coalition.example.org>")
    email = OutboxEmailFactory(to_address="ida@example.org", to_name="Ида  Нудель",
                               subject="Подтвердите\nподпись: «Отпусти народ мой»")
    assert services.deliver(email.id).sent is True
    (message,) = mailbox.wait_for(to="ida@example.org")
    assert message["Subject"] == "Подтвердите подпись: «Отпусти народ мой»"  # one line
    assert str(message["From"]) == "Национальная коалиция <no-reply@coalition.example.org>"
    assert str(message["To"]) == "Ида Нудель <ida@example.org>"
    assert message["Content-Language"] == "en"
    assert "The text part." in message.get_body(preferencelist=("plain",)).get_content()


def test_transport_failure_is_recorded_and_retried_later(ctx, dbs, monkeypatch):
    email = OutboxEmailFactory()
    failing_transport(monkeypatch)
    before = utcnow()
    result = services.deliver(email.id)
    assert result.sent is False and result.retry_in == 30
    dbs.expire_all()
    row = dbs.get(OutboxEmail, email.id)
    assert row.status == OutboxStatus.PENDING
    assert row.attempts == 1
    assert row.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert before + timedelta(seconds=29) <= row.next_attempt_at <= utcnow() + timedelta(
        seconds=31)
    # Not due yet: another delivery now does nothing.
    assert services.deliver(email.id).retry_in is None
    dbs.expire_all()
    assert dbs.get(OutboxEmail, email.id).attempts == 1


def test_backoff_grows_and_is_capped():
    assert [services.backoff_for(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert services.backoff_for(50) == 3600


def _make_due(dbs, email_id):
    row = dbs.get(OutboxEmail, email_id)
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    dbs.commit()


def test_after_max_attempts_the_email_fails_and_admins_see_it(ctx, app, client, as_user, dbs,
                                                               monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 3)
    email = OutboxEmailFactory(to_address="bounces@example.org")
    calls = failing_transport(monkeypatch)
    for attempt in (1, 2, 3):
        result = services.deliver(email.id)
        assert result.sent is False
        dbs.expire_all()
        row = dbs.get(OutboxEmail, email.id)
        assert row.attempts == attempt
        if attempt < 3:
            assert row.status == OutboxStatus.PENDING
            _make_due(dbs, email.id)
    assert row.status == OutboxStatus.FAILED and row.next_attempt_at is None
    assert len(calls) == 3

    as_user("admin")
    page = client.get("/admin/outbox/?status=failed").get_data(as_text=True)
    assert "bounces@example.org" in page
    assert "SMTPServerDisconnected" in page
    assert "bounces@example.org" not in client.get("/admin/outbox/?status=sent").get_data(
        as_text=True)
    detail = client.get(f"/admin/outbox/{email.id}").get_data(as_text=True)
    assert "Try again" in detail and "Connection unexpectedly closed" in detail
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert re.search(r"stat-value\">1</span><span class=\"stat-label\">failed email<", dashboard)


def test_admin_try_again_requeues_and_sends(client, as_user, dbs, mailbox):
    email = OutboxEmailFactory(to_address="retry@example.org", status=OutboxStatus.FAILED,
                               attempts=6, last_error="SMTPServerDisconnected: gone")
    as_user("admin")
    response = post_form(client, f"/admin/outbox/{email.id}/retry", {},
                         form_url=f"/admin/outbox/{email.id}")
    assert response.headers["Location"] == f"/admin/outbox/{email.id}"
    assert "The email was queued for another try." in client.get(
        f"/admin/outbox/{email.id}").get_data(as_text=True)
    mailbox.wait_for(to="retry@example.org")
    row = wait_for_status(dbs, email.id, OutboxStatus.SENT)
    assert row.attempts == 1 and row.last_error == ""


def test_sent_email_cannot_be_retried(client, as_user, dbs, mailbox):
    email = OutboxEmailFactory(to_address="sent@example.org", status=OutboxStatus.SENT,
                               attempts=1)
    as_user("admin")
    response = post_form(client, f"/admin/outbox/{email.id}/retry", {},
                         form_url=f"/admin/outbox/{email.id}")
    assert "Only failed or pending emails can be retried." in client.get(
        response.headers["Location"]).get_data(as_text=True)
    dbs.expire_all()
    assert dbs.get(OutboxEmail, email.id).status == OutboxStatus.SENT
    assert mailbox.messages() == []


def test_dispatch_picks_up_due_rows_and_fails_stale_sending_ones(ctx, dbs, mailbox):
    from ncsej_campaigns.notifications.tasks import dispatch_due_outbox_emails

    now = utcnow()
    due_retry = OutboxEmailFactory(to_address="due-retry@example.org", attempts=1,
                                   next_attempt_at=now - timedelta(seconds=5))
    never_enqueued = OutboxEmailFactory(to_address="lost@example.org",
                                        created_at=now - timedelta(minutes=5))
    OutboxEmailFactory(to_address="later@example.org", attempts=1,
                       next_attempt_at=now + timedelta(minutes=10))
    OutboxEmailFactory(to_address="fresh@example.org")  # its own task is still on its way
    stale = OutboxEmailFactory(to_address="stale@example.org", status=OutboxStatus.SENDING,
                               attempts=1, claimed_at=now - timedelta(minutes=20))
    busy = OutboxEmailFactory(to_address="busy@example.org", status=OutboxStatus.SENDING,
                              attempts=1, claimed_at=now - timedelta(minutes=1))

    assert sorted(services.due_outbox_ids()) == sorted([due_retry.id, never_enqueued.id])
    assert dispatch_due_outbox_emails.apply().get() == 2

    mailbox.wait_for(to="due-retry@example.org")
    mailbox.wait_for(to="lost@example.org")
    wait_for_status(dbs, due_retry.id, OutboxStatus.SENT)
    wait_for_status(dbs, never_enqueued.id, OutboxStatus.SENT)
    dbs.expire_all()
    stale_row = dbs.get(OutboxEmail, stale.id)
    assert stale_row.status == OutboxStatus.FAILED
    assert "not resent automatically" in stale_row.last_error
    assert dbs.get(OutboxEmail, busy.id).status == OutboxStatus.SENDING
    sent_to = {str(m["To"]) for m in mailbox.messages()}
    assert not any(a in " ".join(sent_to) for a in ("later@", "fresh@", "stale@", "busy@"))


def test_outbox_search_by_recipient(client, as_user):
    OutboxEmailFactory(to_address="findme@example.org", status=OutboxStatus.SENT)
    OutboxEmailFactory(to_address="other@example.org", status=OutboxStatus.SENT)
    as_user("admin")
    page = client.get("/admin/outbox/?q=findme").get_data(as_text=True)
    assert "findme@example.org" in page and "other@example.org" not in page


def test_two_deliveries_racing_for_one_row_send_it_once(app, dbs, monkeypatch):
    import threading

    email = OutboxEmailFactory()
    sent = []
    monkeypatch.setattr("ncsej_campaigns.notifications.mailer.send_message",
                        lambda message: sent.append(message["X-Outbox-Id"]))
    start = threading.Barrier(2)
    results = []

    def deliver():
        with app.app_context():
            start.wait()
            results.append(services.deliver(email.id).sent)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == [False, True]
    assert sent == [str(email.id)]
    assert wait_for_status(dbs, email.id, OutboxStatus.SENT).attempts == 1


def test_failed_request_shows_the_friendly_error_page(client, app, monkeypatch, dbs):
    user = factories.UserFactory()
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)

    def broken_audit(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr("ncsej_campaigns.auth.services.audit.record", broken_audit)
    response = post_form(client, "/password/forgot", {"email": user.email})
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page
    assert "nothing was changed" in page
    assert dbs.query(OutboxEmail).count() == 0


def test_a_callback_runs_after_commit_and_is_forgotten_on_rollback(ctx):
    from ncsej_campaigns.after_commit import call_after_commit
    from ncsej_campaigns.extensions import db

    calls = []
    db.session.execute(select(1))  # inside a transaction, as after a flush
    call_after_commit(calls.append, "rolled back")
    db.session.rollback()
    db.session.execute(select(1))
    call_after_commit(calls.append, "committed")
    assert calls == []
    db.session.commit()
    assert calls == ["committed"]


def test_a_batch_is_sent_once_over_one_connection(ctx, dbs, mailbox, smtp_sink):
    """The worker's batch task: every id once, even when an id is listed twice, over one SMTP
    connection when a server is configured."""
    emails = [OutboxEmailFactory(to_address=f"burst{i}@example.org") for i in range(5)]
    assert services.deliver_many([*[e.id for e in emails], emails[0].id]) == 5
    for email in emails:
        assert wait_for_status(dbs, email.id, OutboxStatus.SENT).attempts == 1
    assert sorted(str(m["To"]) for m in mailbox.messages()) == sorted(
        f"Sarah Cohen <burst{i}@example.org>" for i in range(5))
    if REAL_MODE:
        assert len(set(smtp_sink.peers)) == 1


def test_a_row_that_fails_to_deliver_does_not_strand_the_rest_of_the_batch(
        ctx, dbs, mailbox, monkeypatch):
    broken, fine = (OutboxEmailFactory(to_address=f"{n}@example.org") for n in ("broken", "fine"))
    from ncsej_campaigns.notifications import mailer

    real_build = mailer.build_message

    def build_message(email):
        if email.id == broken.id:
            raise RuntimeError("cannot write this one")
        return real_build(email)

    monkeypatch.setattr(mailer, "build_message", build_message)
    retries = []
    monkeypatch.setattr(services, "_celery_task", lambda name: type(
        "Task", (), {"apply_async": staticmethod(lambda args, countdown: retries.append(
            (args, countdown)))}))
    assert services.deliver_many([broken.id, fine.id]) == 1
    mailbox.wait_for(to="fine@example.org")
    row = wait_for_status(dbs, broken.id, OutboxStatus.PENDING)
    assert row.attempts == 1 and row.last_error == "RuntimeError: cannot write this one"
    assert retries == [((broken.id,), 30)]


def test_a_batch_claims_and_records_its_rows_a_chunk_at_a_time(ctx, dbs, mailbox,
                                                                monkeypatch):
    """Few statements for many emails: one claim and one record per chunk, each row still
    claimed once (a row another task holds is skipped)."""
    from sqlalchemy import event

    from ncsej_campaigns.extensions import db

    monkeypatch.setattr(services, "CLAIM_CHUNK", 4)
    emails = [OutboxEmailFactory(to_address=f"chunk{i}@example.org") for i in range(10)]
    taken = emails[3]
    taken.status = OutboxStatus.SENDING  # another task has it
    factories.Session.commit()
    statements = []
    engine = db.engine
    listener = lambda *a: statements.append(a[2].split()[0].upper())  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert services.deliver_many([e.id for e in emails]) == 9
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert statements.count("UPDATE") == 3 * 2  # three chunks: a claim and a record each
    assert len(mailbox.messages()) == 9
    dbs.expire_all()
    assert dbs.get(OutboxEmail, taken.id).status == OutboxStatus.SENDING


if REAL_MODE:
    def test_commits_hand_their_emails_over_in_one_batch(app, monkeypatch):
        """With a worker, committed emails' ids are gathered per process and handed to Celery
        as one task a moment later; nothing is handed over before the commit."""
        from ncsej_campaigns.extensions import db

        batches = []
        with app.app_context():
            monkeypatch.setattr(app.extensions["celery"].tasks[services.BATCH_TASK],
                                "apply_async", lambda args, **k: batches.append(args[0]))
            ids = [services.queue_email("password_reset", to_address=f"h{i}@example.org",
                                        subject="Reset", reset_url="https://example.org/r",
                                        valid_minutes=60).id for i in range(3)]
            time.sleep(services.HAND_OVER_SECONDS * 3)
            assert batches == []  # nothing before the commit
            db.session.commit()
            deadline = time.monotonic() + 5
            while not batches and time.monotonic() < deadline:
                time.sleep(0.02)
            assert batches == [ids]  # one task for the burst
            db.session.rollback()


def test_an_email_is_written_when_it_is_sent_from_its_stored_context(ctx, dbs, mailbox,
                                                                       monkeypatch):
    from flask_babel import lazy_gettext

    from ncsej_campaigns.extensions import db

    # Kept from sending after the commit, so the row can be read before it is written.
    monkeypatch.setattr(services, "deliver_after_commit", lambda outbox_id: None)
    email = services.queue_email(
        "petition_milestone", to_address="ida@example.org", to_name="Ида Нудель",
        subject=lazy_gettext("Reset your password"), locale="ru", user_id=None,
        petition_title=lazy_gettext("Petitions"), milestone=5000, total=5012, goal=10000,
        is_goal=False, petition_url="https://coalition.example.org/p",
        when=utcnow())
    db.session.commit()
    row = dbs.get(OutboxEmail, email.id)
    assert (row.body_text, row.body_html) == ("", "")
    # Lazy strings were translated into the recipient's language when queued; the
    # datetime survives the JSON column.
    assert row.subject == "Сброс пароля"
    assert row.context["petition_title"] == "Петиции"
    assert services._from_json(row.context)["when"].tzinfo is not None

    assert services.deliver(email.id).sent is True
    (message,) = mailbox.wait_for(to="ida@example.org")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert text.startswith("Здравствуйте, Ида Нудель!")
    assert "«Петиции» превысило 5\xa0000" in text
    dbs.expire_all()
    row = dbs.get(OutboxEmail, email.id)
    assert row.body_text == text.rstrip("\n")  # what went out is kept for admins
    assert row.body_html.startswith("<")


def test_an_email_about_something_gone_is_failed_not_retried(ctx, dbs, monkeypatch):
    from ncsej_campaigns.extensions import db

    monkeypatch.setattr(services, "deliver_after_commit", lambda outbox_id: None)
    monkeypatch.setitem(services._CONTEXT_BUILDERS, "password_reset", lambda stored: None)
    email = services.queue_email("password_reset", to_address="gone@example.org",
                                 subject="Reset your password", thing_id=12)
    db.session.commit()
    result = services.deliver(email.id)
    assert result.sent is False and result.retry_in is None
    dbs.expire_all()
    row = dbs.get(OutboxEmail, email.id)
    assert row.status == OutboxStatus.FAILED
    assert row.last_error.startswith("NothingToSend")


def test_a_context_that_cannot_be_stored_is_refused_at_once(ctx):
    with pytest.raises(TypeError, match="cannot hold object"):
        services.queue_email("password_reset", to_address="x@example.org", subject="S",
                             thing=object())


def test_admins_read_a_pending_email_before_it_is_written(client, as_user, dbs, monkeypatch):
    monkeypatch.setattr(services, "deliver_after_commit", lambda outbox_id: None)
    email = OutboxEmailFactory(body_text="", body_html="", context={
        "reset_url": "https://coalition.example.org/password/reset/abc", "valid_minutes": 30})
    as_user("admin")
    page = client.get(f"/admin/outbox/{email.id}").get_data(as_text=True)
    assert "Written when the email is sent" in page
    assert "https://coalition.example.org/password/reset/abc" in page
    assert "30 minutes" in page
