"""Organization: a coalition member or partner."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ncsej_campaigns.db import UTCDateTime, str_enum, utcnow
from ncsej_campaigns.extensions import db


class OrganizationKind(enum.StrEnum):
    NATIONAL_AGENCY = "national_agency"
    FEDERATION = "federation"
    COMMUNITY_RELATIONS_COUNCIL = "community_relations_council"
    RELIGIOUS_MOVEMENT = "religious_movement"
    STUDENT_GROUP = "student_group"
    PARTNER_ABROAD = "partner_abroad"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])


KIND_LABELS = {
    OrganizationKind.NATIONAL_AGENCY: _l("National agency"),
    OrganizationKind.FEDERATION: _l("Federation"),
    OrganizationKind.COMMUNITY_RELATIONS_COUNCIL: _l("Community relations council"),
    OrganizationKind.RELIGIOUS_MOVEMENT: _l("Religious movement"),
    OrganizationKind.STUDENT_GROUP: _l("Student group"),
    OrganizationKind.PARTNER_ABROAD: _l("Partner abroad"),
}


class MembershipStatus(enum.StrEnum):
    APPLICANT = "applicant"
    MEMBER = "member"
    ASSOCIATE = "associate"
    SUSPENDED = "suspended"
    FORMER = "former"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    MembershipStatus.APPLICANT: _l("Applicant"),
    MembershipStatus.MEMBER: _l("Member"),
    MembershipStatus.ASSOCIATE: _l("Associate"),
    MembershipStatus.SUSPENDED: _l("Suspended"),
    MembershipStatus.FORMER: _l("Former member"),
}

# Named groups, so the rest of the code asks "is it active?" rather than listing states.
ACTIVE_MEMBERSHIP = frozenset({MembershipStatus.MEMBER, MembershipStatus.ASSOCIATE})


class Organization(db.Model):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint("slug <> ''", name="slug_not_empty"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[OrganizationKind] = mapped_column(str_enum(OrganizationKind, "kind"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    region: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="US")
    membership_status: Mapped[MembershipStatus] = mapped_column(
        str_enum(MembershipStatus, "membership_status"), default=MembershipStatus.MEMBER
    )
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped[Organization | None] = relationship(
        remote_side=[id], back_populates="children"
    )
    children: Mapped[list[Organization]] = relationship(
        back_populates="parent", order_by="Organization.name"
    )

    @property
    def is_active_member(self) -> bool:
        return self.membership_status in ACTIVE_MEMBERSHIP

    def __repr__(self) -> str:
        return f"<Organization {self.slug}>"
