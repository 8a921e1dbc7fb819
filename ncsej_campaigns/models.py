"""Imports every model so metadata (and so Alembic) knows every table."""

from ncsej_campaigns.audit.models import AuditEntry
from ncsej_campaigns.auth.models import User
from ncsej_campaigns.notifications.models import OutboxEmail
from ncsej_campaigns.organizations.models import Organization
from ncsej_campaigns.people.models import Affiliation, Person

__all__ = ["AuditEntry", "User", "OutboxEmail", "Organization", "Affiliation", "Person"]
