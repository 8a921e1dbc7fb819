"""Account operations: sign-in, password reset and change, and account management.

Each function flushes; the request handler commits once.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ncsej_campaigns.audit import services as audit
from ncsej_campaigns.auth.models import Role, User
from ncsej_campaigns.auth.passwords import hash_password, needs_rehash, verify_password
from ncsej_campaigns.db import utcnow
from ncsej_campaigns.extensions import db
from ncsej_campaigns.notifications.services import queue_email
from ncsej_campaigns.organizations.models import Organization
from ncsej_campaigns.tokens import TokenError, fingerprint, make_token, read_token
from ncsej_campaigns.urls import external_url

RESET_PURPOSE = "password-reset"


class AccountError(ValueError):
    """A rule about accounts was broken; the message is shown to the user."""


def normalize_account_email(email: str) -> str:
    return email.strip().lower()


def load_user(session_id: str) -> User | None:
    """The account a session names, if its password is still the one it was signed in with."""
    user_id, _, password_digest = str(session_id).partition(".")
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError, OverflowError):
        return None
    if user is None or password_digest != fingerprint(user.password_hash):
        return None
    return user


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_account_email(email)))


def authenticate(email: str, password: str) -> User | None:
    user = find_user_by_email(email)
    if not verify_password(user.password_hash if user else None, password):
        return None
    if not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def _check_role_scope(role: Role, organization: Organization | None) -> None:
    if role == Role.FEDERATION and organization is None:
        raise AccountError(_l("A federation representative must belong to an organization."))
    if role != Role.FEDERATION and organization is not None:
        raise AccountError(_l("Only federation representatives are tied to an organization."))


def create_user(
    *,
    email: str,
    password: str,
    role: Role,
    organization: Organization | None = None,
    full_name: str = "",
    locale: str = "",
    actor: User | None = None,
) -> User:
    email = normalize_account_email(email)
    _check_role_scope(role, organization)
    if find_user_by_email(email):
        raise AccountError(_l("An account with this email already exists."))
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=role,
        organization=organization,
        full_name=full_name,
        locale=locale,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "account.created",
        target=user,
        actor=actor,
        summary=email,
        details={"role": role.value, "organization": organization.slug if organization else None},
    )
    return user


def update_user(
    user: User,
    *,
    full_name: str,
    role: Role,
    organization: Organization | None,
    active: bool,
    locale: str,
    actor: User,
) -> User:
    _check_role_scope(role, organization)
    if user.id == actor.id and (role != Role.ADMIN or not active):
        raise AccountError(_l("You cannot remove your own administrator access."))
    changes = {}
    if user.role != role:
        changes["role"] = [user.role.value, role.value]
    old_org = user.organization.slug if user.organization else None
    new_org = organization.slug if organization else None
    if old_org != new_org:
        changes["organization"] = [old_org, new_org]
    if user.active != active:
        changes["active"] = [user.active, active]
    if user.full_name != full_name:
        changes["full_name"] = [user.full_name, full_name]
    user.full_name, user.role, user.organization = full_name, role, organization
    user.active, user.locale = active, locale
    db.session.flush()
    if changes:
        audit.record(
            "account.updated",
            target=user,
            actor=actor,
            summary=f"{user.email}: " + ", ".join(sorted(changes)),
            details=changes,
        )
    return user


def count_active_admins() -> int:
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
    )


def _reset_fingerprint(user: User) -> str:
    # Changes whenever the password does, so a used link stops working.
    return fingerprint(user.password_hash + user.password_changed_at.isoformat())


def request_password_reset(email: str) -> None:
    """Queue a reset link if the account exists; say nothing either way to the requester."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    token = make_token(RESET_PURPOSE, {"uid": user.id, "fp": _reset_fingerprint(user)})
    queue_email(
        "password_reset",
        to_address=user.email,
        to_name=user.full_name,
        subject=_l("Reset your password"),
        locale=user.locale or "en",
        user_id=user.id,
        reset_url=external_url("auth.reset_password", token=token),
        valid_minutes=current_app.config["PASSWORD_RESET_MAX_AGE"] // 60,
    )
    audit.record("account.password_reset_requested", target=user, actor=user)


def user_for_reset_token(token: str) -> User:
    payload = read_token(RESET_PURPOSE, token, current_app.config["PASSWORD_RESET_MAX_AGE"])
    user = db.session.get(User, payload.get("uid"))
    if user is None or not user.active or payload.get("fp") != _reset_fingerprint(user):
        raise TokenError()
    return user


def set_password(user: User, password: str, *, actor: User | None, action: str) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    db.session.flush()
    audit.record(action, target=user, actor=actor or user, summary=user.email)


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        raise AccountError(_l("Your current password is not correct."))
    set_password(user, new_password, actor=user, action="account.password_changed")
