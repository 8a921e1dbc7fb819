"""Celery tasks for the outbox: thin wrappers that call the services by id."""

from __future__ import annotations

from celery import shared_task

from ncsej_campaigns.extensions import db
from ncsej_campaigns.notifications import services


@shared_task(bind=True, name="ncsej_campaigns.notifications.tasks.deliver_outbox_email")
def deliver_outbox_email(self, outbox_id: int) -> bool:
    result = services.deliver(outbox_id)
    if result.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=result.retry_in, max_retries=None)
    return result.sent


@shared_task(name="ncsej_campaigns.notifications.tasks.deliver_outbox_emails")
def deliver_outbox_emails(outbox_ids: list[int]) -> int:
    return services.deliver_many(outbox_ids)


@shared_task(name="ncsej_campaigns.notifications.tasks.dispatch_due_outbox_emails")
def dispatch_due_outbox_emails() -> int:
    services.fail_stale_sending()
    db.session.commit()
    ids = services.due_outbox_ids()
    if ids:  # one batch, sent as the hand-over's are
        deliver_outbox_emails.delay(ids)
    return len(ids)
