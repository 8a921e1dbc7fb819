"""Imports every model so metadata (and so Alembic) knows every table."""

from ncsej_campaigns.audit.models import AuditEntry
from ncsej_campaigns.auth.models import User
from ncsej_campaigns.campaigns.models import Campaign
from ncsej_campaigns.notifications.models import OutboxEmail
from ncsej_campaigns.organizations.models import Organization
from ncsej_campaigns.people.models import Affiliation, Person
from ncsej_campaigns.petitions.models import (
    Invalidation,
    PaperBatch,
    Petition,
    Signature,
    SignatureHour,
)

__all__ = [
    "AuditEntry", "User", "Campaign", "OutboxEmail", "Organization", "Affiliation", "Person",
    "Invalidation", "PaperBatch", "Petition", "Signature", "SignatureHour",
]
