"""What the audit log's codes mean, in the reader's language.

Entries keep stable codes (``person.created``, target table ``people``) so they can be
filtered and compared across languages; the log shows these labels beside them. A code
without a label is shown as it is (a test keeps every code the application records listed).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ACTION_LABELS = {
    "account.created": _l("Account created"),
    "account.updated": _l("Account changed"),
    "account.password_changed": _l("Password changed"),
    "account.password_reset": _l("Password reset"),
    "account.password_reset_requested": _l("Password reset requested"),
    "campaign.created": _l("Campaign created"),
    "campaign.updated": _l("Campaign changed"),
    "organization.created": _l("Organization created"),
    "organization.updated": _l("Organization changed"),
    "outbox.retried": _l("Email sent again"),
    "paper_batch.added": _l("Paper signatures added"),
    "paper_batch.removed": _l("Paper signatures removed"),
    "person.affiliated": _l("Person linked to an organization"),
    "person.created": _l("Person added"),
    "person.erased": _l("Personal data erased"),
    "person.exported": _l("Personal data exported"),
    "person.updated": _l("Person changed"),
    "petition.closed": _l("Petition closed at its close date"),
    "petition.created": _l("Petition created"),
    "petition.delivered": _l("Petition delivered"),
    "petition.status_changed": _l("Petition status changed"),
    "petition.updated": _l("Petition changed"),
    "signatures.exported": _l("Signatures exported"),
    "signatures.invalidated": _l("Signatures invalidated"),
    "signatures.invalidation_reverted": _l("Invalidation reverted"),
}

TARGET_LABELS = {
    "users": _l("Account"),
    "outbox_emails": _l("Email"),
    "organizations": _l("Organization"),
    "campaigns": _l("Campaign"),
    "petitions": _l("Petition"),
    "invalidations": _l("Invalidation"),
    "signatures": _l("Signature"),
    "paper_batches": _l("Paper batch"),
    "people": _l("Person"),
    "affiliations": _l("Affiliation"),
}


def action_label(code: str) -> str:
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


def target_label(table: str) -> str:
    label = TARGET_LABELS.get(table)
    return str(label) if label is not None else table
