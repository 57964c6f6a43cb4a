"""Writes for accounts: API tokens, and sign-in events for the audit trail."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from mend.accounts.models import ApiToken, User
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinics import queries as clinic_queries
from mend.clinics.models import Clinic, Membership
from mend.platform.actor import Actor

TOKEN_PREFIX = "mend_"
DEFAULT_TOKEN_LIFETIME = timedelta(days=90)
MAX_TOKEN_LIFETIME = timedelta(days=366)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: ApiToken
    raw: str


class TokenError(ValueError):
    pass


@transaction.atomic
def api_token_create(
    *, user: User, clinic: Clinic, name: str = "", lifetime: timedelta = DEFAULT_TOKEN_LIFETIME
) -> IssuedToken:
    """Issue a token for ``user`` acting in ``clinic`` that expires after ``lifetime`` (a day to a
    year). The raw value is shown once, never stored."""
    if not timedelta(days=1) <= lifetime <= MAX_TOKEN_LIFETIME:
        raise TokenError("A token lasts between 1 and 366 days.")
    if not user.is_active:
        raise TokenError(f"{user.email} is deactivated.")
    if not user.memberships.filter(clinic=clinic, is_active=True).exists():
        raise TokenError(f"{user.email} is not a member of {clinic.slug}.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        clinic=clinic,
        name=name[:100],
        prefix=raw[:12],
        token_hash=token_hash(raw),
        expires_at=timezone.now() + lifetime,
    )
    audit_record(action=Action.CREATE, obj=token, user=user)
    return IssuedToken(token=token, raw=raw)


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by: User) -> None:
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        audit_record(action=Action.DELETE, obj=token, user=by)


def api_token_touch(token: ApiToken) -> None:
    """Record use at most once a minute, with a conditional update so concurrent calls never race."""
    now = timezone.now()
    stale = now - timedelta(minutes=1)
    if token.last_used_at is None or token.last_used_at < stale:
        ApiToken.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale), pk=token.pk).update(
            last_used_at=now
        )


def api_token_use(*, raw: str) -> Actor | None:
    """The actor a bearer token acts as, or None: the token must be live, its user active and still
    an active member of the token's clinic. Use is recorded (``api_token_touch``)."""
    if not raw or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.filter(token_hash=token_hash(raw), revoked_at__isnull=True, user__is_active=True)
        .select_related("user", "clinic")
        .first()
    )
    if token is None:
        return None
    membership = clinic_queries.active_membership(user_id=token.user_id, clinic_id=token.clinic_id)
    if membership is None:
        return None
    api_token_touch(token)
    return Actor(user=token.user, membership=membership)


def login_succeeded(*, user: User, membership: Membership | None) -> None:
    audit_record(
        action=Action.LOGIN,
        object_type="accounts.user",
        object_id=user.pk,
        user=user,
        clinic_id=membership.clinic_id if membership else None,
        role=membership.role if membership else "",
    )


def login_failed(*, attempted_email: str) -> None:
    """One row per clinic the account belongs to, so each clinic's owner sees attempts on their staff."""
    email = attempted_email.strip().lower()[:254]
    user = User.objects.filter(email__iexact=email).first() if email else None
    memberships = list(user.memberships.filter(is_active=True)) if user else []
    if not memberships:
        audit_record(action=Action.FAILED_LOGIN, object_type="accounts.user", user_email=email)
        return
    for membership in memberships:
        audit_record(
            action=Action.FAILED_LOGIN,
            object_type="accounts.user",
            object_id=user.pk if user else "",
            user_email=email,
            clinic_id=membership.clinic_id,
            role=membership.role,
        )


def logged_out(*, user: User) -> None:
    audit_record(action=Action.LOGOUT, object_type="accounts.user", object_id=user.pk, user=user)
