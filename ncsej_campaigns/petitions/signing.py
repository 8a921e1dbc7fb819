"""Signing a petition, confirming by email, withdrawing: the supporter's side of petitions.

The hot path, a newcomer signing an open petition, is one statement on PostgreSQL: the person,
the pending signature and the confirmation email inserted together, guarded by the petition's
state (``sign_new_person``); everything else (an address on file, SQLite) takes the general
path, a few inserts in one transaction (``sign_petition``). Neither touches the petition row:
counts are the counting job's business (``petitions.counting``), so a surge of signers never
queues on one row lock.

One signature per person per petition is a unique constraint, and one person per email
another; two racing requests with the same email both try the insert, one wins, the other
waits for it, finds the winner's rows and answers as a second attempt would.

The page after signing says the same thing whatever was on file ("check your email"): the
email then either asks to confirm or says the signature is already counted. So nobody can
learn from the page whether an address signed a petition.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass, fields
from datetime import datetime

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ncsej_campaigns.db import Bilingual, Linked, UTCDateTime, insert_chain, insert_new, utcnow
from ncsej_campaigns.extensions import db
from ncsej_campaigns.notifications.services import (
    context_builder,
    deliver_after_commit,
    new_outbox_email,
    queue_email,
)
from ncsej_campaigns.organizations.models import Organization
from ncsej_campaigns.page_cache import timed_cache
from ncsej_campaigns.people.models import Person
from ncsej_campaigns.people.services import get_or_create_person, new_person, set_consent
from ncsej_campaigns.petitions import counting
from ncsej_campaigns.petitions.links import share_url
from ncsej_campaigns.petitions.models import (
    PUBLIC_STATES,
    SIGNABLE_STATES,
    Petition,
    PetitionStatus,
    Signature,
    SignatureSource,
    SignatureStatus,
)
from ncsej_campaigns.text import normalize_email
from ncsej_campaigns.tokens import TokenError, fingerprint, make_token, read_token
from ncsej_campaigns.urls import external_url

CONFIRM_PURPOSE = "petition-confirm"
WITHDRAW_PURPOSE = "petition-withdraw"
# A confirmation link older than this asks the signer to sign again (which sends a new one).
CONFIRM_MAX_AGE = 30 * 24 * 3600
# Withdrawal links keep working while the petition is open, however old the email is.
WITHDRAW_MAX_AGE = None


class SigningError(ValueError):
    """The petition cannot take this signature; the message is shown to the signer."""


class Outcome(enum.StrEnum):
    CREATED = "created"            # new signature, confirmation email queued
    RESENT = "resent"              # still pending: the confirmation email again
    RESIGNED = "resigned"          # had withdrawn: pending again, confirmation email queued
    ALREADY_COUNTED = "already"    # confirmed before: an email saying so
    IGNORED = "ignored"            # honeypot filled or signature invalidated: nothing sent


@dataclass
class SignResult:
    outcome: Outcome
    signature: Signature | None


@dataclass
class SignerDetails:
    email: str
    first_name: str
    last_name: str
    postal_code: str = ""
    country: str = ""
    comment: str = ""
    email_consent: bool = False
    locale: str = "en"
    source: SignatureSource = SignatureSource.WEB
    ip: str = ""


# --- lookups --------------------------------------------------------------------------------

def get_public_petition(slug: str, with_campaign: bool = True) -> Petition | None:
    """A petition the public may see (open, closed or delivered); drafts and archives are not.

    ``with_campaign=False`` for paths that show no page about the petition (signing): its
    campaign is then read only if something asks for it."""
    stmt = select(Petition).where(Petition.slug == slug, Petition.status.in_(PUBLIC_STATES))
    if with_campaign:
        stmt = stmt.options(joinedload(Petition.campaign))
    return db.session.scalar(stmt)


@dataclass(frozen=True)
class SigningPetition(Bilingual):
    """What signing needs of a petition, read in one query and kept for the page cache's few
    seconds (``signing_petition``): a stale copy is harmless, since the signature's INSERT
    checks the petition's state and dates itself (``sign_new_person``) and every other path
    reads the row afresh."""

    id: int
    slug: str
    status: PetitionStatus
    opens_at: datetime | None
    closes_at: datetime | None
    title_en: str
    title_ru: str
    target_en: str
    target_ru: str

    @property
    def is_signable(self) -> bool:
        return self.status in SIGNABLE_STATES


_SNAPSHOT_COLUMNS = [getattr(Petition, f.name) for f in fields(SigningPetition)]


def signing_petition(slug: str, fresh: bool = False) -> SigningPetition | None:
    """The public petition ``slug`` for the signing form's POST, from a per-process copy at
    most PAGE_CACHE_SECONDS old (``fresh``: read now, and keep that)."""
    return timed_cache("petition_for_signing", 256).remember(
        slug, current_app.config["PAGE_CACHE_SECONDS"], lambda: _read_signing_petition(slug),
        refresh=fresh)


def _read_signing_petition(slug: str) -> SigningPetition | None:
    row = db.session.execute(select(*_SNAPSHOT_COLUMNS).where(
        Petition.slug == slug, Petition.status.in_(PUBLIC_STATES))).one_or_none()
    return SigningPetition(*row) if row is not None else None


def find_referrer(slug: str | None) -> Organization | None:
    """The organization a ``?ref=`` names; an unknown or malformed slug is simply ignored."""
    slug = (slug or "").strip().lower()
    if not slug or len(slug) > 80:
        return None
    return db.session.scalar(select(Organization).where(Organization.slug == slug))


def accepting_signatures(petition: Petition, now: datetime | None = None) -> bool:
    """Open, and inside its dates: a close date that passed closes it before the beat job
    gets round to changing its state."""
    now = now or utcnow()
    if not petition.is_signable:
        return False
    if petition.opens_at is not None and petition.opens_at > now:
        return False
    return not (petition.closes_at is not None and petition.closes_at <= now)


def not_signable_message(petition: Petition) -> str:
    now = utcnow()
    if petition.is_signable and petition.opens_at is not None and petition.opens_at > now:
        return str(_l("This petition is not open for signatures yet."))
    return str(_l("This petition is closed and no longer accepts signatures."))


# --- privacy helpers ------------------------------------------------------------------------

def hash_ip(ip: str) -> str:
    """A keyed hash of the signer's IP address: equal addresses can be grouped (to spot a
    flood from one place) while the address itself is never stored. The key is derived from
    SECRET_KEY, so the hashes cannot be reversed by trying all four billion IPv4 addresses
    without it."""
    if not ip:
        return ""
    salt = hmac.new(current_app.config["SECRET_KEY"].encode(), b"ncsej.signature-ip",
                    hashlib.sha256).digest()
    return hmac.new(salt, ip.encode(), hashlib.sha256).hexdigest()


def email_domain(email: str) -> str:
    return normalize_email(email).rpartition("@")[2][:254]


# --- tokens ---------------------------------------------------------------------------------

def _state_fingerprint(signature: Signature) -> str:
    # Changes when the signature is withdrawn, so links from before a withdrawal stop working
    # (an old confirmation link must not undo a withdrawal).
    stamp = signature.withdrawn_at.isoformat() if signature.withdrawn_at else "never"
    return fingerprint(f"{signature.id}:{stamp}")


def confirm_token(signature: Signature) -> str:
    return make_token(CONFIRM_PURPOSE, {"s": signature.id, "f": _state_fingerprint(signature)})


def withdraw_token(signature: Signature) -> str:
    return make_token(WITHDRAW_PURPOSE, {"s": signature.id, "f": _state_fingerprint(signature)})


def _signature_for(purpose: str, token: str, petition: Petition, max_age) -> Signature:
    payload = read_token(purpose, token, max_age)
    signature = db.session.get(Signature, payload.get("s"))
    if signature is None or signature.petition_id != petition.id:
        raise TokenError()
    if payload.get("f") != _state_fingerprint(signature):
        if signature.status == SignatureStatus.WITHDRAWN and purpose == WITHDRAW_PURPOSE:
            return signature  # withdrawn already: the page says so
        raise TokenError()
    return signature


def signature_for_confirm_token(petition: Petition, token: str) -> Signature:
    return _signature_for(CONFIRM_PURPOSE, token, petition, CONFIRM_MAX_AGE)


def signature_for_withdraw_token(petition: Petition, token: str) -> Signature:
    return _signature_for(WITHDRAW_PURPOSE, token, petition, WITHDRAW_MAX_AGE)


# --- signing --------------------------------------------------------------------------------

def sign_new_person(petition: SigningPetition | Petition, details: SignerDetails,
                    referrer: Organization | None = None) -> SignResult | None:
    """The common case in one statement on PostgreSQL: a newcomer signing an open petition.
    The person, the pending signature and the confirmation email are inserted together
    (``insert_chain``), only if the petition accepts signatures at this moment and nobody
    has this email yet. Returns None when it did nothing (an address on file, a petition that
    stopped accepting, SQLite): ``sign_petition`` then answers as it always does."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    now = utcnow()
    person = new_person(details.email, first_name=details.first_name,
                        last_name=details.last_name, postal_code=details.postal_code,
                        country=details.country, preferred_language=details.locale)
    signature = _new_signature(petition, details, referrer, now)
    email = new_outbox_email("petition_confirm", to_address=person.email,
                             to_name=person.full_name, locale=details.locale,
                             subject=confirm_subject(petition, details.locale), context={})
    ids = insert_chain(db.session, "petition-sign-newcomer", [
        Linked(person, unless_exists=["email_normalized"]),
        Linked(signature, links={"person_id": lambda rows: rows[0].c.id},
               returns=("person_id",)),
        Linked(email, links={
            "person_id": lambda rows: rows[1].c.person_id,
            "context": lambda rows: func.json_build_object("signature_id", rows[1].c.id)}),
    ], when=_ACCEPTING, params={"petition_id": petition.id, "now": now})
    if ids is None:
        return None
    deliver_after_commit(ids[-1])
    return SignResult(Outcome.CREATED, None)


# "This petition takes signatures now", inside the statement that adds one.
_ACCEPTING = exists().where(
    Petition.id == bindparam("petition_id"),
    Petition.status == PetitionStatus.OPEN,  # the one state in SIGNABLE_STATES
    or_(Petition.opens_at.is_(None), Petition.opens_at <= bindparam("now", type_=UTCDateTime)),
    or_(Petition.closes_at.is_(None), Petition.closes_at > bindparam("now", type_=UTCDateTime)),
)


def _new_signature(petition, details: SignerDetails, referrer: Organization | None,
                   now: datetime, person_id: int | None = None) -> Signature:
    return Signature(
        petition_id=petition.id,
        person_id=person_id,
        status=SignatureStatus.PENDING,
        comment=details.comment,
        source=details.source,
        referring_organization_id=referrer.id if referrer else None,
        email_consent=details.email_consent,
        country=details.country,
        postal_code=details.postal_code,
        ip_hash=hash_ip(details.ip),
        email_domain=email_domain(details.email),
        locale=details.locale,
        created_at=now,
    )


def sign_petition(petition: Petition, details: SignerDetails,
                  referrer: Organization | None = None) -> SignResult:
    """Record a pending signature and queue its confirmation email; flushes, never commits."""
    if not accepting_signatures(petition):
        raise SigningError(not_signable_message(petition))
    person, created = get_or_create_person(
        details.email, first_name=details.first_name, last_name=details.last_name,
        postal_code=details.postal_code, country=details.country,
        preferred_language=details.locale,
    )
    if not created:
        _fill_blanks(person, details)
        existing = _existing_signature(petition, person)
        if existing is not None:
            return _sign_again(petition, existing, details, referrer)

    signature = _new_signature(petition, details, referrer, utcnow(), person.id)
    if created and db.session.get_bind().dialect.name == "postgresql":
        # This transaction inserted the person and holds their email's unique index entry
        # until it ends: a racing request with the same email waits on it, so no other
        # signature by this person can exist yet, and the first-time signer, the common case,
        # needs no savepoint. (On SQLite the driver's savepoints let another request see the
        # new person before this transaction ends, so there the savepoint stays.)
        insert_new(db.session, signature)
        _queue_confirmation(petition, signature, person)
        return SignResult(Outcome.CREATED, signature)
    try:
        with db.session.begin_nested():
            insert_new(db.session, signature)
    except IntegrityError:
        # Another request for the same person and petition committed first: answer as a
        # second attempt, from the row that won.
        existing = _existing_signature(petition, person)
        if existing is None:
            raise
        return _sign_again(petition, existing, details, referrer)
    _queue_confirmation(petition, signature, person)
    return SignResult(Outcome.CREATED, signature)


def _existing_signature(petition: Petition, person: Person) -> Signature | None:
    return db.session.scalar(select(Signature).where(
        Signature.petition_id == petition.id, Signature.person_id == person.id))


def _fill_blanks(person: Person, details: SignerDetails) -> None:
    # Someone typing a known address must not be able to rewrite that person's record, but
    # empty fields (a person first known only by email) may be completed.
    for field in ("first_name", "last_name", "postal_code", "country"):
        if not getattr(person, field) and getattr(details, field):
            setattr(person, field, getattr(details, field))


def _sign_again(petition: Petition, signature: Signature, details: SignerDetails,
                referrer: Organization | None) -> SignResult:
    if (signature.status in (SignatureStatus.PENDING, SignatureStatus.WITHDRAWN)
            and referrer is not None and signature.referring_organization_id is None):
        signature.referring_organization_id = referrer.id
    if signature.status == SignatureStatus.PENDING:
        # The first email may be lost or in spam: send the link again, keeping what the first
        # attempt recorded (its referral stays with the organization that brought them).
        if details.comment and not signature.comment:
            signature.comment = details.comment
        signature.email_consent = signature.email_consent or details.email_consent
        signature.locale = details.locale
        db.session.flush()
        _queue_confirmation(petition, signature, signature.person)
        return SignResult(Outcome.RESENT, signature)
    if signature.status == SignatureStatus.WITHDRAWN:
        # Signing again after a withdrawal is allowed, and needs a fresh confirmation.
        signature.status = SignatureStatus.PENDING
        signature.comment = details.comment
        signature.email_consent = details.email_consent
        signature.country = details.country or signature.country
        signature.postal_code = details.postal_code or signature.postal_code
        signature.locale = details.locale
        signature.source = details.source
        signature.ip_hash = hash_ip(details.ip)
        db.session.flush()
        _queue_confirmation(petition, signature, signature.person)
        return SignResult(Outcome.RESIGNED, signature)
    if signature.status == SignatureStatus.CONFIRMED:
        _queue_already_counted(petition, signature, signature.person, details.locale)
        return SignResult(Outcome.ALREADY_COUNTED, signature)
    return SignResult(Outcome.IGNORED, signature)


def _email_context(petition: Petition, signature: Signature, locale: str) -> dict:
    org = signature.referring_organization
    return {
        "petition_title": petition.localized("title", locale),
        "petition_target": petition.localized("target", locale),
        "petition_url": share_url(petition, org),
        "withdraw_link": external_url("petitions_public.withdraw", slug=petition.slug,
                                      token=withdraw_token(signature)),
        "closes_at": petition.closes_at,
    }


# The signer's emails are queued with the signature's id only; their links and the petition's
# wording are written when the email is sent (see notifications.services.queue_email).

def _preload_signatures(contexts: list[dict]) -> list[Signature]:
    """A batch's signatures with their petitions and referrers, in one query."""
    return db.session.scalars(
        select(Signature)
        .where(Signature.id.in_([c["signature_id"] for c in contexts if "signature_id" in c]))
        .options(joinedload(Signature.petition), joinedload(Signature.referring_organization))
    ).all()


@context_builder("petition_confirm", preload=_preload_signatures)
def _confirm_email(stored: dict) -> dict | None:
    signature = db.session.get(Signature, stored["signature_id"])
    if signature is None:
        return None
    petition = signature.petition
    return {**_email_context(petition, signature, str(get_locale())),
            "confirm_link": external_url("petitions_public.confirm", slug=petition.slug,
                                         token=confirm_token(signature))}


@context_builder("petition_already_signed", preload=_preload_signatures)
def _already_signed_email(stored: dict) -> dict | None:
    signature = db.session.get(Signature, stored["signature_id"])
    if signature is None:
        return None
    return {**_email_context(signature.petition, signature, str(get_locale())),
            "confirmed_at": signature.confirmed_at}


def confirm_subject(petition: Petition, locale: str):
    return _l("Please confirm your signature: %(title)s",
              title=petition.localized("title", locale))


def _queue_confirmation(petition: Petition, signature: Signature, person: Person) -> None:
    queue_email("petition_confirm", to_address=person.email, to_name=person.full_name,
                subject=confirm_subject(petition, signature.locale), locale=signature.locale,
                person_id=person.id, signature_id=signature.id)


def _queue_already_counted(petition: Petition, signature: Signature, person: Person,
                           locale: str) -> None:
    queue_email("petition_already_signed", to_address=person.email, to_name=person.full_name,
                subject=_l("You have already signed: %(title)s",
                           title=petition.localized("title", locale)),
                locale=locale, person_id=person.id, signature_id=signature.id)


# --- confirming and withdrawing -------------------------------------------------------------

def confirm_signature(signature: Signature) -> bool:
    """Count a pending signature; True if this call confirmed it (a second click is a no-op).

    Email consent given on the form takes effect here, once the address is proven."""
    petition = signature.petition
    if signature.status != SignatureStatus.PENDING:
        return False
    if not accepting_signatures(petition):
        raise SigningError(_l("This petition closed before your signature was confirmed, so "
                              "it could not be counted."))
    signature.status = SignatureStatus.CONFIRMED
    signature.confirmed_at = utcnow()
    if signature.email_consent:
        set_consent(signature.person, True, f"petition {petition.slug}")
    db.session.flush()
    counting.schedule_count_update(petition.id)
    return True


def withdraw_signature(signature: Signature) -> bool:
    """The signer takes their signature back; True if this call withdrew it."""
    if signature.status not in (SignatureStatus.PENDING, SignatureStatus.CONFIRMED):
        return False
    if not accepting_signatures(signature.petition):
        raise SigningError(_l("This petition has closed, so its signatures can no longer be "
                              "withdrawn. You can still have your personal data erased."))
    signature.status = SignatureStatus.WITHDRAWN
    signature.withdrawn_at = utcnow()
    db.session.flush()
    counting.schedule_count_update(signature.petition_id)
    return True
