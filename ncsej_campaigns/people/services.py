"""Operations on people: deduplicated creation, edits, affiliation, export and erasure."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ncsej_campaigns.audit import services as audit
from ncsej_campaigns.db import insert_new, utcnow
from ncsej_campaigns.extensions import db
from ncsej_campaigns.notifications.services import forget_person_emails, queue_email
from ncsej_campaigns.organizations.models import Organization
from ncsej_campaigns.people.models import Affiliation, Person
from ncsej_campaigns.text import like_pattern, normalize_email
from ncsej_campaigns.tokens import TokenError, fingerprint, make_token, read_token
from ncsej_campaigns.urls import external_url

PERSON_FIELDS = (
    "first_name", "last_name", "email", "phone", "street_address", "postal_code", "city",
    "region", "country", "preferred_language",
)
DATA_REQUEST_PURPOSE = "my-data"


class PersonError(ValueError):
    """A rule about people was broken; the message is shown to the user."""

    def __init__(self, message, field: str | None = None, existing: Person | None = None):
        super().__init__(message)
        self.field = field
        self.existing = existing


def find_by_email(email: str) -> Person | None:
    return db.session.scalar(
        select(Person).where(Person.email_normalized == normalize_email(email))
    )


def search_people(stmt, *, q: str = "", organization_id: int | None = None,
                  language: str = ""):
    if q:
        q = q.strip()
        pattern = like_pattern(q)
        conditions = [
            Person.first_name.ilike(pattern, escape="\\"),
            Person.last_name.ilike(pattern, escape="\\"),
            Person.email_normalized.like(like_pattern(normalize_email(q)), escape="\\"),
            Person.city.ilike(pattern, escape="\\"),
            Person.postal_code.ilike(pattern, escape="\\"),
        ]
        if " " in q:
            first, _, last = q.partition(" ")
            conditions.append(
                Person.first_name.ilike(like_pattern(first), escape="\\")
                & Person.last_name.ilike(like_pattern(last.strip()), escape="\\")
            )
        stmt = stmt.where(or_(*conditions))
    if organization_id:
        stmt = stmt.where(Person.affiliations.any(Affiliation.organization_id == organization_id))
    if language:
        stmt = stmt.where(Person.preferred_language == language)
    return stmt.order_by(Person.last_name, Person.first_name, Person.id)


def _apply(person: Person, data: dict) -> list[str]:
    changed = []
    for key in PERSON_FIELDS:
        if key in data and getattr(person, key) != data[key]:
            setattr(person, key, data[key])
            changed.append(key)
    if "email" in data:
        person.email = data["email"].strip()
        person.email_normalized = normalize_email(data["email"])
    return changed


# How consent was given is kept as written when it happened (it is evidence, and part of a
# person's data export); these are the forms the application writes, shown translated.
_CONSENT_SOURCES = (
    ("petition ", _l("signed petition %(detail)s")),
    ("entered by ", _l("entered by %(detail)s")),
    ("changed by ", _l("changed by %(detail)s")),
)


def describe_consent_source(source: str) -> str:
    """A stored consent source in the reader's language (an unknown form as it is)."""
    for prefix, label in _CONSENT_SOURCES:
        if source.startswith(prefix):
            return str(label).replace("%(detail)s", source[len(prefix):])
    return source


def set_consent(person: Person, consent: bool, source: str) -> bool:
    if consent == person.email_consent:
        return False
    person.email_consent = consent
    person.email_consent_at = utcnow() if consent else person.email_consent_at
    # The source names the account that entered it; a long sign-in email must not overflow.
    source = source[: Person.email_consent_source.type.length]
    person.email_consent_source = source if consent else person.email_consent_source
    return True


def affiliate(person: Person, organization: Organization, title: str = "") -> Affiliation:
    for aff in person.affiliations:
        if aff.organization_id == organization.id:
            return aff
    aff = Affiliation(organization=organization, title=title)
    person.affiliations.append(aff)
    return aff


def create_person(data: dict, *, organization: Organization | None, actor,
                  consent_source: str = "") -> Person:
    """Create a person from a coordinator's or federation's form.

    A duplicate email is refused with a link to the existing person for coordinators. A
    federation representative sees none of the existing record: the person is only added to
    their organization, and nothing they typed overwrites what is on file.
    """
    existing = find_by_email(data["email"])
    if existing is not None:
        if organization is not None and not actor.is_coalition_wide:
            affiliate(existing, organization)
            db.session.flush()
            audit.record("person.affiliated", target=existing, actor=actor,
                         summary=organization.name)
            return existing
        raise PersonError(_l("A person with this email is already on record."), "email",
                          existing=existing)
    person = Person()
    _apply(person, data)
    if data.get("email_consent"):
        set_consent(person, True, consent_source or f"entered by {actor.email}")
    if organization is not None:
        affiliate(person, organization)
    db.session.add(person)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:  # a concurrent request created the same person first
        raise PersonError(_l("A person with this email is already on record."), "email") from exc
    # Names stay out of the audit log: an erased person must not live on in it.
    audit.record("person.created", target=person, actor=actor,
                 details={"organization": organization.slug if organization else None})
    return person


def update_person(person: Person, data: dict, *, actor, consent_source: str = "") -> Person:
    if person.is_erased:
        raise PersonError(_l("This person's data was erased and cannot be edited."))
    if "email" in data:
        other = find_by_email(data["email"])
        if other is not None and other.id != person.id:
            raise PersonError(_l("Another person already has this email."), "email")
    changed = _apply(person, data)
    if "email_consent" in data and set_consent(
        person, bool(data["email_consent"]), consent_source or f"changed by {actor.email}"
    ):
        changed.append("email_consent")
    db.session.flush()
    if changed:
        # Field names only: the audit log must not become a second copy of personal data.
        audit.record("person.updated", target=person, actor=actor,
                     details={"fields": sorted(changed)})
    return person


def new_person(email: str, **fields) -> Person:
    """A person for a public sign-up, not yet added anywhere (``fields`` outside the person's
    own are ignored)."""
    person = Person()
    _apply(person, {"email": email, **{k: v for k, v in fields.items() if k in PERSON_FIELDS}})
    return person


def get_or_create_person(email: str, **fields) -> tuple[Person, bool]:
    """For public sign-ups: the person with this email, created if new, race-safe.

    One ``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` round trip for a newcomer, the
    common case on a busy petition, the new row handed to the session as it was written.
    When the email is already on file, or another request inserts it at the same moment (the
    insert then waits for that request's transaction and does nothing), the existing row is
    read instead."""
    for _attempt in range(2):
        person = new_person(email, **fields)
        if insert_new(db.session, person, unless_exists=["email_normalized"]) is not None:
            return person, True
        person = find_by_email(email)
        if person is not None:
            return person, False
        # The row in the way was erased (its email cleared) in between: insert again.
    raise RuntimeError("could not find or create the person for a sign-up")


def export_person_data(person: Person, *, actor=None, actor_label: str | None = None) -> dict:
    data = {
        "id": person.id,
        "given_name": person.first_name,
        "family_name": person.last_name,
        "email": person.email,
        "phone": person.phone,
        "postal_address": {
            "street": person.street_address,
            "postal_code": person.postal_code,
            "locality": person.city,
            "region": person.region,
            "country": person.country,
        },
        "preferred_language": person.preferred_language,
        "email_consent": {
            "given": person.email_consent,
            "at": person.email_consent_at.isoformat() if person.email_consent_at else None,
            "source": person.email_consent_source,
        },
        "affiliations": [
            {"organization": a.organization.name, "title": a.title, "board_seat": a.board_seat}
            for a in person.affiliations
        ],
        "created_at": person.created_at.isoformat(),
        "updated_at": person.updated_at.isoformat() if person.updated_at else None,
        "exported_at": utcnow().isoformat(),
    }
    audit.record("person.exported", target=person, actor=actor, actor_label=actor_label)
    return data


def erase_person(person: Person, *, actor=None, actor_label: str | None = None) -> None:
    """Anonymize: every identifying field is cleared; the row, its affiliations, country and
    region stay, so counts by organization and place remain true."""
    if person.is_erased:
        return
    person.first_name = person.last_name = ""
    person.email = person.email_normalized = None
    person.phone = person.street_address = person.postal_code = person.city = ""
    person.email_consent = False
    person.email_consent_source = ""
    person.erased_at = utcnow()
    forget_person_emails(person.id)
    db.session.flush()
    audit.record("person.erased", target=person, actor=actor, actor_label=actor_label)


def _data_fingerprint(person: Person) -> str:
    return fingerprint(person.email_normalized or "erased")


def request_data_link(email: str) -> None:
    """Email a link to see, download or erase one's own data; silent when nobody matches."""
    person = find_by_email(email)
    if person is None:
        return
    token = make_token(DATA_REQUEST_PURPOSE, {"pid": person.id, "fp": _data_fingerprint(person)})
    queue_email(
        "data_request",
        to_address=person.email,
        to_name=person.full_name,
        subject=_l("Your data held by the coalition"),
        locale=person.preferred_language,
        person_id=person.id,
        link=external_url("people.my_data", token=token),
        valid_hours=current_app.config["DATA_REQUEST_MAX_AGE"] // 3600,
    )


def person_for_data_token(token: str) -> Person:
    payload = read_token(DATA_REQUEST_PURPOSE, token, current_app.config["DATA_REQUEST_MAX_AGE"])
    person = db.session.get(Person, payload.get("pid"))
    if person is None or person.is_erased or payload.get("fp") != _data_fingerprint(person):
        raise TokenError()
    return person
