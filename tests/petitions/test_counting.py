"""Point 8: counts in batches, never ``+1`` per signature; the hourly series; milestone emails
to coordinators, once; the beat jobs that close petitions and reconcile the counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select

from ncsej_campaigns import kv
from ncsej_campaigns.audit.models import AuditEntry
from ncsej_campaigns.db import utcnow
from ncsej_campaigns.extensions import db
from ncsej_campaigns.petitions import counting
from ncsej_campaigns.petitions.models import PaperBatch, Petition, PetitionStatus, SignatureHour
from tests import factories
from tests.conftest import REAL_MODE
from tests.petitions.conftest import confirm_link, sign, wait_for_total

HOUR = datetime(2026, 11, 2, 14, tzinfo=UTC)


def reload(dbs, petition) -> Petition:
    dbs.expire_all()
    return dbs.get(Petition, petition.id)


def hours(dbs, petition) -> dict[datetime, int]:
    dbs.expire_all()
    rows = dbs.execute(select(SignatureHour.hour, SignatureHour.confirmed)
                       .where(SignatureHour.petition_id == petition.id)).all()
    return {hour: n for hour, n in rows if n}


def run(fn, app, *args, **kwargs):
    with app.app_context():
        result = fn(*args, **kwargs)
        db.session.commit()
        return result


def confirmed_at(petition, when, n=1, **kwargs):
    for _ in range(n):
        factories.ConfirmedSignatureFactory(petition=petition, confirmed_at=when,
                                            created_at=when - timedelta(minutes=3), **kwargs)


def test_signing_never_writes_the_petition_row(client, app, mailbox):
    petition = factories.PetitionFactory()
    statements = []

    def remember(conn, cursor, statement, params, context, executemany):
        statements.append(" ".join(statement.lower().split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        assert sign(client, petition).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    writes = [s for s in statements if s.startswith(("insert", "update", "delete", "with"))]
    assert not [s for s in writes if "update petitions" in s], writes
    assert re.findall(r"insert into (\w+)", " ".join(writes)) == [
        "people", "signatures", "outbox_emails"]
    if REAL_MODE:  # a newcomer's person, signature and email: one statement
        assert len(writes) == 1, writes
    else:
        assert not any("for update" in s for s in statements)


def test_one_job_counts_every_open_petition_with_one_grouped_query(app, dbs):
    first = factories.PetitionFactory()
    second = factories.PetitionFactory()
    closed = factories.ClosedPetitionFactory(confirmed_count=9)
    confirmed_at(first, HOUR, n=3)
    confirmed_at(second, HOUR, n=2)
    factories.SignatureFactory(petition=first)  # pending
    factories.ConfirmedSignatureFactory(petition=closed)
    before = reload(dbs, first).updated_at
    statements = []

    def remember(conn, cursor, statement, params, context, executemany):
        statements.append((" ".join(statement.lower().split()), executemany))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        changes = run(counting.update_counts, app)
    finally:
        event.remove(engine, "before_cursor_execute", remember)

    assert {c.petition_id: c.after for c in changes} == {first.id: (3, 1, 0),
                                                         second.id: (2, 0, 0)}
    grouped = [s for s, _ in statements if "from signatures" in s and "group by" in s
               and "status" in s.split("group by")[1]]
    assert len(grouped) == 1
    updates = [(s, many) for s, many in statements if s.startswith("update petitions")]
    assert len(updates) == 1 and updates[0][1] is True  # one executemany for both rows
    first, second, closed = (reload(dbs, p) for p in (first, second, closed))
    assert (first.confirmed_count, first.pending_count, first.total_count) == (3, 1, 3)
    assert second.confirmed_count == 2
    assert first.counted_at is not None
    assert first.updated_at == before  # counting is not an edit
    assert closed.confirmed_count == 9  # closed petitions wait for the reconciliation


def test_a_job_with_nothing_new_changes_nothing(app, dbs):
    petition = factories.PetitionFactory()
    confirmed_at(petition, HOUR)
    run(counting.update_counts, app)
    stamp = reload(dbs, petition).counted_at
    changes = run(counting.update_counts, app)
    assert [c.changed for c in changes] == [False]
    assert reload(dbs, petition).counted_at == stamp


def test_hourly_series_is_kept_for_the_hours_since_the_last_count(app, dbs):
    petition = factories.PetitionFactory()
    confirmed_at(petition, HOUR + timedelta(minutes=5), n=2)
    confirmed_at(petition, HOUR + timedelta(hours=1, minutes=59), n=1)
    run(counting.update_counts, app)
    assert hours(dbs, petition) == {HOUR: 2, HOUR + timedelta(hours=1): 1}

    now = utcnow()
    confirmed_at(petition, now, n=4)
    run(counting.update_counts, app)
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    assert hours(dbs, petition) == {HOUR: 2, HOUR + timedelta(hours=1): 1, this_hour: 4}
    assert reload(dbs, petition).confirmed_count == 7


def test_reconciliation_corrects_drifted_counts_paper_and_the_whole_series(app, dbs):
    petition = factories.PetitionFactory(confirmed_count=50, pending_count=3, paper_count=0)
    closed = factories.ClosedPetitionFactory(confirmed_count=1)
    confirmed_at(petition, HOUR, n=2)
    confirmed_at(closed, HOUR, n=4)
    for n in (120, 30):
        factories.Session.add(PaperBatch(petition_id=petition.id, signature_count=n,
                                         source="Shabbat tables", collected_on=HOUR.date()))
    stale = SignatureHour(petition_id=petition.id, hour=HOUR - timedelta(days=3), confirmed=8)
    factories.Session.add(stale)
    factories.Session.commit()

    changes = run(counting.reconcile_counts, app)
    assert {c.petition_id: c.after for c in changes if c.changed} == {
        petition.id: (2, 0, 150), closed.id: (4, 0, 0)}
    petition = reload(dbs, petition)
    assert (petition.confirmed_count, petition.paper_count, petition.total_count) == (2, 150, 152)
    assert hours(dbs, petition) == {HOUR: 2}
    assert hours(dbs, closed) == {HOUR: 4}


def test_recount_of_one_petition_for_coordinators_corrections(app, dbs):
    petition = factories.PetitionFactory()
    confirmed_at(petition, HOUR, n=3)
    with app.app_context():
        row = db.session.get(Petition, petition.id)
        counting.recount_petition(row)
        assert row.confirmed_count == 3
        db.session.commit()
    assert reload(dbs, petition).confirmed_count == 3


def test_milestones_are_announced_to_coordinators_once(app, dbs, mailbox):
    coordinator = factories.UserFactory(role="coordinator", email="lynn@coalition.example.org",
                                        locale="en")
    factories.UserFactory(role="coordinator", email="gone@coalition.example.org", active=False)
    factories.UserFactory(role="federation", email="fed@example.org",
                          organization=factories.OrganizationFactory())
    petition = factories.PetitionFactory(goal=50, milestones=[3, 10, 25])
    confirmed_at(petition, HOUR, n=4)

    changes = run(counting.update_counts, app)
    assert changes[0].milestone == 3
    [message] = mailbox.wait_for(coordinator.email)
    assert message["Subject"] == f"“{petition.title_en}” passed 3 signatures"
    assert "Count now: 4 (goal: 50)." in message.get_body(("plain",)).get_content()

    run(counting.update_counts, app)  # nothing new
    run(counting.reconcile_counts, app)
    # Jumping past two milestones at once says so once, for the higher one.
    confirmed_at(petition, HOUR, n=8)
    assert run(counting.update_counts, app)[0].milestone == 10
    messages = mailbox.wait_for(coordinator.email, count=2)
    assert len(messages) == 2
    assert reload(dbs, petition).last_milestone_notified == 10
    addressed = {str(m["To"]) for m in mailbox.messages()}
    assert not any("gone@" in a or "fed@" in a for a in addressed)


def test_reaching_the_goal_is_announced(app, dbs, mailbox):
    coordinator = factories.UserFactory(role="coordinator", locale="ru")
    petition = factories.PetitionFactory(goal=5, milestones=[])
    confirmed_at(petition, HOUR, n=5)
    assert run(counting.update_counts, app)[0].milestone == 5
    [message] = mailbox.wait_for(coordinator.email)
    assert message["Content-Language"] == "ru"
    assert petition.title_ru in message["Subject"]


def test_beat_closes_petitions_past_their_close_date(app, dbs, client):
    due = factories.PetitionFactory(closes_at=utcnow() - timedelta(minutes=1))
    later = factories.PetitionFactory(closes_at=utcnow() + timedelta(days=1))
    confirmed_at(due, HOUR, n=2)
    closed = run(counting.close_expired_petitions, app)
    assert closed == [due.id]
    due, later = reload(dbs, due), reload(dbs, later)
    assert due.status == PetitionStatus.CLOSED
    assert due.confirmed_count == 2  # its final count
    assert later.status == PetitionStatus.OPEN
    entry = dbs.scalar(select(AuditEntry).where(AuditEntry.action == "petition.closed"))
    assert entry.target_id == due.id and entry.actor_label == "system: close date"
    assert run(counting.close_expired_petitions, app) == []  # idempotent


def test_tasks_are_scheduled_by_beat(app):
    schedule = app.config["CELERY"]["beat_schedule"]
    tasks = {entry["task"]: entry["schedule"] for entry in schedule.values()}
    assert tasks["ncsej_campaigns.petitions.tasks.update_signature_counts"] <= 60
    assert tasks["ncsej_campaigns.petitions.tasks.close_expired_petitions"] <= 60
    assert tasks["ncsej_campaigns.petitions.tasks.reconcile_signature_counts"] == 3600
    registered = app.extensions["celery"].tasks
    assert set(tasks) <= set(registered)


def test_tasks_run_twice_without_harm(app, dbs):
    from ncsej_campaigns.petitions import tasks

    petition = factories.PetitionFactory()
    confirmed_at(petition, HOUR, n=2)
    with app.app_context():
        runs = [tasks.update_signature_counts.apply(args=[petition.id]),
                tasks.update_signature_counts.apply(args=[petition.id]),
                tasks.reconcile_signature_counts.apply(),
                tasks.close_expired_petitions.apply()]
    assert all(run.successful() for run in runs), [run.result for run in runs]
    assert [run.result for run in runs] == [1, 0, 0, 0]  # petitions whose counts changed
    assert reload(dbs, petition).confirmed_count == 2
    assert hours(dbs, petition) == {HOUR: 2}


def test_count_rises_after_confirmation_once_the_job_ran(client, dbs, mailbox):
    petition = factories.PetitionFactory()
    emails = [f"signer{n}@example.org" for n in range(3)]
    for address in emails:
        assert sign(client, petition, email=address).status_code == 200
    wait_for_total(client, petition.slug, 0)
    for address in emails:
        client.get(confirm_link(mailbox.wait_for(address)[0]))
    data = wait_for_total(client, petition.slug, 3)
    assert data["online_confirmed"] == 3
    # The series has the confirmations too.
    this_hour = utcnow().replace(minute=0, second=0, microsecond=0)
    assert sum(hours(dbs, petition).values()) == 3
    assert max(hours(dbs, petition)) >= this_hour - timedelta(hours=1)


if REAL_MODE:
    def test_confirmations_in_a_burst_enqueue_one_debounced_job(app):
        petition = factories.PetitionFactory()
        key = f"{app.config['RATELIMIT_KEY_PREFIX']}:petition-count:{petition.id}"
        with app.test_request_context(), app.app_context():
            kv.redis_client().delete(key)
            for _ in range(5):
                counting.schedule_count_update(petition.id)
            pending = db.session.info.get("tasks_to_enqueue_after_commit", [])
            assert len(pending) == 1
            task, args, options = pending[0]
            assert args == (petition.id,)
            assert options["countdown"] == counting.DEBOUNCE_SECONDS + 1
            assert kv.redis_client().ttl(key) > 0
            db.session.rollback()

    def test_a_count_job_that_finds_its_petition_busy_counts_again(client, dbs, mailbox):
        import time

        petition = factories.PetitionFactory()
        sign(client, petition)
        link = confirm_link(mailbox.wait_for("ida.nudel@example.net")[0])
        # Another counting job holds the petition's row (as a beat job would) ...
        dbs.execute(select(Petition).where(Petition.id == petition.id)
                    .with_for_update(key_share=True))
        assert client.get(link).status_code == 200
        time.sleep(counting.DEBOUNCE_SECONDS + 3)  # ... while the debounced job comes and goes
        dbs.rollback()
        wait_for_total(client, petition.slug, 1, timeout=20)
