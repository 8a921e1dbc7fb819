"""Person and their affiliations to organizations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ncsej_campaigns.db import UTCDateTime, utcnow
from ncsej_campaigns.extensions import db
from ncsej_campaigns.organizations.models import Organization


class Person(db.Model):
    __tablename__ = "people"
    __table_args__ = (
        CheckConstraint("preferred_language IN ('en', 'ru')", name="language_known"),
        CheckConstraint(
            "erased_at IS NOT NULL OR email_normalized IS NOT NULL", name="email_unless_erased"
        ),
        CheckConstraint(
            "NOT email_consent OR email_consent_at IS NOT NULL", name="consent_has_time"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The normalized address is the identity: unique in the database, so two racing
    # registrations for the same human can never create two people.
    email_normalized: Mapped[str | None] = mapped_column(String(254), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    street_address: Mapped[str] = mapped_column(String(300), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="", index=True)
    city: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    preferred_language: Mapped[str] = mapped_column(String(2), default="en")
    email_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    email_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_consent_source: Mapped[str] = mapped_column(String(200), default="")
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    affiliations: Mapped[list[Affiliation]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="Affiliation.id"
    )

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    def __repr__(self) -> str:
        return f"<Person {self.id}>"


class Affiliation(db.Model):
    __tablename__ = "affiliations"
    __table_args__ = (UniqueConstraint("person_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200), default="")
    # Board of Governors seats are affiliations flagged as such.
    board_seat: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship(back_populates="affiliations")
    organization: Mapped[Organization] = relationship()
