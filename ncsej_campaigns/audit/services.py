"""Record who did what. Entries are added to the caller's transaction, never committed here,
so an audited change and its entry land together or not at all."""

from __future__ import annotations

from flask import has_request_context
from flask_login import current_user

from ncsej_campaigns.audit.models import AuditEntry
from ncsej_campaigns.extensions import db


def record(
    action: str,
    *,
    target=None,
    summary: str = "",
    details: dict | None = None,
    actor=None,
    actor_label: str | None = None,
) -> AuditEntry:
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    entry = AuditEntry(
        action=action,
        actor_id=actor.id if actor is not None else None,
        actor_label=actor_label or (actor.email if actor is not None else "system"),
        target_type=type(target).__tablename__ if target is not None else "",
        target_id=getattr(target, "id", None),
        summary=summary[:500],
        details=details or {},
    )
    db.session.add(entry)
    return entry
