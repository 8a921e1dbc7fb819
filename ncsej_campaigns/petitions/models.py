"""Petitions, signatures, paper batches, invalidations and the hourly series.

Counts shown to the public are cached on the petition row and refreshed in batches by a
Celery job (``petitions.counting``): a signature never updates a shared counter row in its own
transaction, which is how a petitions site goes down under a surge.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ncsej_campaigns.auth.models import User
from ncsej_campaigns.campaigns.models import Campaign
from ncsej_campaigns.db import Bilingual, UTCDateTime, str_enum, utcnow
from ncsej_campaigns.extensions import db
from ncsej_campaigns.organizations.models import Organization
from ncsej_campaigns.people.models import Person


class PetitionStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    DELIVERED = "delivered"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        return str(PETITION_STATUS_LABELS[self])


PETITION_STATUS_LABELS = {
    PetitionStatus.DRAFT: _l("Draft"),
    PetitionStatus.OPEN: _l("Open"),
    PetitionStatus.CLOSED: _l("Closed"),
    PetitionStatus.DELIVERED: _l("Delivered"),
    PetitionStatus.ARCHIVED: _l("Archived"),
}

# Allowed transitions; services.transition() refuses anything else.
PETITION_TRANSITIONS = {
    PetitionStatus.DRAFT: {PetitionStatus.OPEN},
    PetitionStatus.OPEN: {PetitionStatus.CLOSED},
    PetitionStatus.CLOSED: {PetitionStatus.OPEN, PetitionStatus.DELIVERED,
                            PetitionStatus.ARCHIVED},
    PetitionStatus.DELIVERED: {PetitionStatus.ARCHIVED},
    PetitionStatus.ARCHIVED: set(),
}
# Named groups.
PUBLIC_STATES = frozenset({PetitionStatus.OPEN, PetitionStatus.CLOSED, PetitionStatus.DELIVERED})
SIGNABLE_STATES = frozenset({PetitionStatus.OPEN})


class SignatureStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    INVALIDATED = "invalidated"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return str(SIGNATURE_STATUS_LABELS[self])


SIGNATURE_STATUS_LABELS = {
    SignatureStatus.PENDING: _l("Pending confirmation"),
    SignatureStatus.CONFIRMED: _l("Confirmed"),
    SignatureStatus.INVALIDATED: _l("Invalidated"),
    SignatureStatus.WITHDRAWN: _l("Withdrawn"),
}


class SignatureSource(enum.StrEnum):
    WEB = "web"
    WIDGET = "widget"
    API = "api"
    IMPORT = "import"


petition_sponsors = Table(
    "petition_sponsors",
    db.metadata,
    Column("petition_id", Integer, ForeignKey("petitions.id", ondelete="CASCADE"),
           primary_key=True),
    Column("organization_id", Integer, ForeignKey("organizations.id", ondelete="CASCADE"),
           primary_key=True),
)


class Petition(Bilingual, db.Model):
    __tablename__ = "petitions"
    __table_args__ = (
        CheckConstraint("goal > 0", name="goal_positive"),
        CheckConstraint("closes_at IS NULL OR opens_at IS NULL OR closes_at > opens_at",
                        name="closes_after_opening"),
        CheckConstraint("confirmed_count >= 0 AND pending_count >= 0 AND paper_count >= 0",
                        name="counts_not_negative"),
        CheckConstraint("status <> 'delivered' OR delivered_at IS NOT NULL",
                        name="delivered_has_date"),
        CheckConstraint("slug <> ''", name="slug_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    title_en: Mapped[str] = mapped_column(String(200))
    title_ru: Mapped[str] = mapped_column(String(200), default="")
    text_en: Mapped[str] = mapped_column(Text)
    text_ru: Mapped[str] = mapped_column(Text, default="")
    target_en: Mapped[str] = mapped_column(String(500))
    target_ru: Mapped[str] = mapped_column(String(500), default="")
    goal: Mapped[int] = mapped_column(Integer, default=10000)
    # Ascending signature counts at which coordinators are told the petition got there.
    milestones: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[PetitionStatus] = mapped_column(
        str_enum(PetitionStatus, "status"), default=PetitionStatus.DRAFT, index=True
    )
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_to: Mapped[str] = mapped_column(String(300), default="")
    delivery_method: Mapped[str] = mapped_column(String(300), default="")
    delivery_notes: Mapped[str] = mapped_column(Text, default="")
    # Cached counts, refreshed in batches by petitions.counting; never +1 per signature.
    confirmed_count: Mapped[int] = mapped_column(Integer, default=0)
    pending_count: Mapped[int] = mapped_column(Integer, default=0)
    paper_count: Mapped[int] = mapped_column(Integer, default=0)
    counted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_milestone_notified: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign | None] = relationship(backref="petitions")
    sponsors: Mapped[list[Organization]] = relationship(
        secondary=petition_sponsors, order_by="Organization.name"
    )
    created_by: Mapped[User | None] = relationship()

    @property
    def total_count(self) -> int:
        """What the public sees: confirmed online signatures plus paper ones."""
        return self.confirmed_count + self.paper_count

    @property
    def is_signable(self) -> bool:
        return self.status in SIGNABLE_STATES

    def next_milestone(self) -> int | None:
        total = self.total_count
        for m in sorted(int(x) for x in (self.milestones or [])):
            if m > total:
                return m
        return self.goal if self.goal > total else None


class Invalidation(db.Model):
    """One reversible invalidation: a single signature or a batch chosen by a rule."""

    __tablename__ = "invalidations"

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"),
                                             index=True)
    reason: Mapped[str] = mapped_column(String(500))
    # The rule that chose the signatures: {"email_domain": ..., "ip_hash": ...,
    # "created_from": ..., "created_to": ..., "signature_ids": [...]}
    criteria: Mapped[dict] = mapped_column(JSON, default=dict)
    signature_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reverted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reverted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))

    petition: Mapped[Petition] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class Signature(db.Model):
    __tablename__ = "signatures"
    __table_args__ = (
        # One signature per person per petition, enforced by the database even when two
        # requests race; a second attempt finds this row instead of making another.
        UniqueConstraint("petition_id", "person_id"),
        Index("ix_signatures_petition_id_status", "petition_id", "status"),
        Index("ix_signatures_petition_id_confirmed_at", "petition_id", "confirmed_at"),
        CheckConstraint("status <> 'confirmed' OR confirmed_at IS NOT NULL",
                        name="confirmed_has_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                           index=True)
    status: Mapped[SignatureStatus] = mapped_column(
        str_enum(SignatureStatus, "status"), default=SignatureStatus.PENDING
    )
    comment: Mapped[str] = mapped_column(String(1000), default="")
    source: Mapped[SignatureSource] = mapped_column(
        str_enum(SignatureSource, "source"), default=SignatureSource.WEB
    )
    referring_organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    email_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Country and postal code as given when signing, so counts by place survive erasure.
    country: Mapped[str] = mapped_column(String(2), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    # Salted hash only: the address itself is never stored.
    ip_hash: Mapped[str] = mapped_column(String(64), default="", index=True)
    email_domain: Mapped[str] = mapped_column(String(254), default="", index=True)
    locale: Mapped[str] = mapped_column(String(2), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invalidation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invalidations.id", ondelete="SET NULL"), index=True
    )

    petition: Mapped[Petition] = relationship()
    person: Mapped[Person] = relationship()
    referring_organization: Mapped[Organization | None] = relationship()
    invalidation: Mapped[Invalidation | None] = relationship()


class PaperBatch(db.Model):
    """Signatures collected on paper, entered as a counted batch."""

    __tablename__ = "paper_batches"
    __table_args__ = (CheckConstraint("signature_count > 0", name="count_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"),
                                             index=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    signature_count: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(300))
    collected_on: Mapped[date] = mapped_column(Date)
    # A scanned list, stored under the instance folder; the name only is kept here.
    scan_filename: Mapped[str] = mapped_column(String(300), default="")
    scan_original_name: Mapped[str] = mapped_column(String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    petition: Mapped[Petition] = relationship()
    organization: Mapped[Organization | None] = relationship()
    created_by: Mapped[User | None] = relationship()


class SignatureHour(db.Model):
    """Confirmed signatures per petition per hour (UTC), kept by the counting job."""

    __tablename__ = "signature_hours"

    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"),
                                             primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
