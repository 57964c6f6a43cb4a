"""Reads of accounts: users by their sign-in email, their sign-in factors, reset requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.http import Http404
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from mend.accounts.models import ApiToken, Passkey, User, normalise_email
from mend.audit.models import Action, AuditEvent

# Audit object types of account events that have no row of their own.
PASSWORD_EVENT = "accounts.password"
PASSWORD_RESET_EVENT = "accounts.password_reset"


def user_by_email(email: str) -> User | None:
    """The user who signs in with ``email`` (in any case), or None."""
    return User.objects.filter(email=normalise_email(email)).first()


def active_user(pk: object) -> User | None:
    """An active user by id (a half-done sign-in names its user by id in the session), or None."""
    if not isinstance(pk, int):
        return None
    return User.objects.filter(pk=pk, is_active=True).first()


def password_resets_since(*, since: datetime, email: str = "", ip: str = "") -> int:
    """Reset emails sent since ``since`` for one address typed, or from one network address.

    Requests are counted by request id: a request for a member of two clinics writes a row in each.
    """
    events = AuditEvent.objects.filter(action=Action.CREATE, object_type=PASSWORD_RESET_EVENT, at__gte=since)
    events = events.filter(user_email=email) if email else events.filter(ip=ip)
    return events.values("request_id").distinct().count()


@dataclass(frozen=True, slots=True)
class Factors:
    """A person's second sign-in factors, as their account page lists them."""

    totp: list[TOTPDevice]
    passkeys: list[Passkey]
    recovery_codes_left: int

    @property
    def any(self) -> bool:
        return bool(self.totp or self.passkeys)


def factors(user: User) -> Factors:
    """Three queries: authenticator apps, passkeys, and the recovery codes left."""
    return Factors(
        totp=list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id")),
        passkeys=list(Passkey.objects.filter(user=user)),
        recovery_codes_left=StaticToken.objects.filter(device__user=user, device__confirmed=True).count(),
    )


def has_second_factor(user: User) -> bool:
    """Whether signing in as ``user`` asks for a second factor (recovery codes alone do not count)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists() or Passkey.objects.filter(user=user).exists()


def passkeys(user: User) -> list[Passkey]:
    return list(Passkey.objects.filter(user=user))


def recovery_device(user: User) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).first()


def api_tokens(user: User) -> list[ApiToken]:
    """The user's tokens not revoked (expired ones too, to revoke), newest first, with their clinic: one query."""
    return list(ApiToken.objects.filter(user=user, revoked_at__isnull=True).select_related("clinic"))


def api_token_of(user: User, pk: int) -> ApiToken:
    """One of the user's own tokens; anyone else's, or none, is a 404."""
    token = ApiToken.objects.filter(user=user, pk=pk).select_related("clinic").first()
    if token is None:
        raise Http404("There is no such token of yours.")
    return token
