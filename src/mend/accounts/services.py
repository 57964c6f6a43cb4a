"""Writes for accounts: API tokens, and sign-in events for the audit trail."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from mend import access
from mend.accounts import queries
from mend.accounts.models import ApiToken, AppDevice, Passkey, RecoveryCodes, User, normalise_email
from mend.accounts.passkeys import RegisteredPasskey
from mend.accounts.queries import PASSWORD_EVENT, PASSWORD_RESET_EVENT
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinics import queries as clinic_queries
from mend.clinics.models import Clinic, Membership
from mend.platform import context
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


class TokenExpired(TokenError):
    """A live token past its expiry: refused with a message that says so, not a bare 401."""


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
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        clinic=clinic,
        name=name[:100],
        prefix=raw[:12],
        token_hash=token_hash(raw),
        created_at=now,
        expires_at=now + lifetime,
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
    an active member of the token's clinic. An expired token raises ``TokenExpired``. Use is
    recorded (``api_token_touch``)."""
    if not raw or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.filter(token_hash=token_hash(raw), revoked_at__isnull=True, user__is_active=True)
        .select_related("user", "clinic")
        .first()
    )
    if token is None:
        return None
    if token.is_expired:
        raise TokenExpired(
            f"This API token ({token.prefix}…) expired on {token.expires_at:%Y-%m-%d %H:%M} UTC. "
            "Create a new one (mend token create) and revoke this one on your account page."
        )
    membership = clinic_queries.active_membership(user_id=token.user_id, clinic_id=token.clinic_id)
    if membership is None:
        return None
    if membership.clinic.require_staff_mfa and not queries.has_second_factor(token.user):
        # A clinic that requires a second factor takes no token of a member who has none: the
        # token would be a way in that the clinic's rule never asked more of than a password.
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


# --- Passwords ------------------------------------------------------------------------------
# Audit rows name the account and the event, never a password, a reset link or its token.


def _audit_account_event(*, user: User, action: Action, object_type: str, by: User | None = None) -> None:
    """One row per clinic the account belongs to (as for sign-ins), so each owner sees it."""
    memberships = list(user.memberships.filter(is_active=True))
    if not memberships:
        audit_record(action=action, object_type=object_type, object_id=user.pk, user=by or user)
    for membership in memberships:
        audit_record(
            action=action,
            object_type=object_type,
            object_id=user.pk,
            user=by or user,
            clinic_id=membership.clinic_id,
            role=membership.role,
        )


@transaction.atomic
def password_changed(*, user: User) -> None:
    """After the person changed their own password (Django's form has set it)."""
    _audit_account_event(user=user, action=Action.UPDATE, object_type=PASSWORD_EVENT)


@transaction.atomic
def password_reset_completed(*, user: User) -> None:
    """After a reset link was used to choose a new password."""
    _audit_account_event(user=user, action=Action.UPDATE, object_type=PASSWORD_RESET_EVENT)


@transaction.atomic
def password_reset_request(*, email: str) -> bool:
    """Whether a reset email may be sent to ``email`` now, recording the request when it may.

    At most MEND_PASSWORD_RESETS_PER_HOUR an hour from one network address and for one address
    typed (in any case), so neither a single machine nor many can flood a person's inbox. The
    person asking sees the same answer either way: the page never tells whether an account exists
    or a limit was reached. The audit trail is the record the limits count.
    """
    email = normalise_email(email)[:254]
    ip = context.current().ip
    limit = settings.MEND_PASSWORD_RESETS_PER_HOUR
    since = timezone.now() - timedelta(hours=1)
    user = queries.user_by_email(email)
    if user is not None:
        # Serialises requests for one account, so two at once cannot both take its last one.
        User.objects.select_for_update().filter(pk=user.pk).first()
    if queries.password_resets_since(since=since, email=email) >= limit:
        return False
    if ip and queries.password_resets_since(since=since, ip=ip) >= limit:
        return False
    if user is None:
        audit_record(action=Action.CREATE, object_type=PASSWORD_RESET_EVENT, user_email=email)
    else:
        # One row per clinic, as for failed sign-ins; none of the person's clinics: the no-clinic chain.
        places: list[tuple[int | None, str]] = [(m.clinic_id, m.role) for m in user.memberships.filter(is_active=True)]
        places = places or [(None, "")]
        for clinic_id, role in places:
            audit_record(
                action=Action.CREATE,
                object_type=PASSWORD_RESET_EVENT,
                object_id=user.pk,
                user_email=email,
                clinic_id=clinic_id,
                role=role,
            )
    return True


def session_ended(*, user: User, why: str) -> None:
    """An automatic sign-out (ONC d(5)): ``why`` is "idle" or "absolute"."""
    audit_record(action=Action.LOGOUT, object_type=f"accounts.session.{why}", object_id=user.pk, user=user)


# --- Second sign-in factors -----------------------------------------------------------------
# TOTP (RFC 6238) and recovery codes are django-otp's devices; passkeys are WebAuthn credentials
# verified by py_webauthn (mend.accounts.passkeys). Every change is audited in each clinic of the
# person's; no secret (TOTP key, code, recovery code, public key) ever goes into the audit trail.

RECOVERY_CODES = 10


class FactorError(ValueError):
    """A code or passkey that does not check out; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Enrolled:
    kind: str  # "totp" or "passkey"
    # New recovery codes when this was the person's first factor (shown once, never again).
    recovery_codes: list[str]


def normalise_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _totp(device: TOTPDevice) -> TOTP:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return totp


@transaction.atomic
def totp_enrol(*, user: User, key: str, code: str, name: str = "") -> Enrolled:
    """Add an authenticator app once it proves it has the key: ``code`` is the app's current code.

    The code used here is spent: the device starts at its time step, so it cannot sign in again.
    """
    code = normalise_code(code)
    device = TOTPDevice(user=user, key=key, name=(name.strip() or "Authenticator app")[:64], confirmed=True)
    totp = _totp(device)
    if not (code.isdigit() and totp.verify(int(code), tolerance=device.tolerance)):
        raise FactorError("That code does not match. Type the 6-digit code your app shows now.")
    device.last_t = totp.t()
    device.save()
    _audit_account_event(user=user, action=Action.CREATE, object_type="accounts.totp_device")
    return Enrolled(kind="totp", recovery_codes=_first_factor_codes(user))


@transaction.atomic
def passkey_enrol(*, user: User, name: str, verified: RegisteredPasskey) -> Enrolled:
    """Keep a passkey the browser registered (``verified`` by ``mend.accounts.passkeys``)."""
    if Passkey.objects.filter(credential_id=verified.credential_id).exists():
        raise FactorError("This passkey is already registered.")
    Passkey.objects.create(
        user=user,
        name=(name.strip() or "Passkey")[:100],
        credential_id=verified.credential_id,
        public_key=verified.public_key,
        sign_count=verified.sign_count,
        transports=verified.transports,
    )
    _audit_account_event(user=user, action=Action.CREATE, object_type="accounts.passkey")
    return Enrolled(kind="passkey", recovery_codes=_first_factor_codes(user))


def _first_factor_codes(user: User) -> list[str]:
    """Recovery codes come with the first factor; adding a second keeps the codes the person has."""
    if queries.recovery_device(user) is not None:
        return []
    return recovery_codes_issue(user=user)


@transaction.atomic
def recovery_codes_issue(*, user: User) -> list[str]:
    """A fresh set of single-use recovery codes, replacing any left. Returned once to show, then
    only usable: nothing shows them again."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    _audit_account_event(user=user, action=Action.CREATE, object_type="accounts.recovery_codes")
    return codes


@transaction.atomic
def factor_remove(*, user: User, kind: str, pk: int) -> bool:
    """Remove one of the person's own factors (another's id is a miss). Returns whether any
    factor is left; with none left, the recovery codes go too (they only stand in for a factor)."""
    model: type[TOTPDevice] | type[Passkey] = TOTPDevice if kind == "totp" else Passkey
    deleted, _ = model.objects.filter(user=user, pk=pk).delete()
    if not deleted:
        raise Http404("No such sign-in factor.")
    _audit_account_event(
        user=user, action=Action.DELETE, object_type="accounts.totp_device" if kind == "totp" else "accounts.passkey"
    )
    if queries.has_second_factor(user):
        return True
    StaticDevice.objects.filter(user=user).delete()
    return False


SECOND_STEP_RESET_EVENT = "accounts.second_step_reset"


@transaction.atomic
def second_step_reset(*, actor: Actor, membership: Membership) -> None:
    """An owner removes a member's second sign-in factors (apps, passkeys, recovery codes), for
    someone who lost their phone or is locked out: they sign in with the password alone and, if
    the clinic requires it, add a factor again before anything else. Audited in the owner's
    clinic and in the person's other clinics; the person is told by email, so a reset they did
    not ask for does not go unnoticed.

    Only for members of the owner's clinic, and never the owner's own account: their own factors
    change on their account page, behind their password and second step.
    """
    access.require_reset_second_step(actor)
    if membership.clinic_id != actor.clinic_id:
        raise Http404("No such member.")
    user = membership.user
    if user.pk == actor.user.pk:
        raise PermissionDenied("Change your own sign-in factors on your account page.")
    TOTPDevice.objects.filter(user=user).delete()
    Passkey.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(action=Action.DELETE, object_type=SECOND_STEP_RESET_EVENT, object_id=user.pk)
    # The factors are the account's, not the clinic's: the person's other clinics see it too.
    for other in user.memberships.filter(is_active=True).exclude(clinic_id=actor.clinic_id):
        audit_record(
            action=Action.DELETE, object_type=SECOND_STEP_RESET_EVENT, object_id=user.pk, clinic_id=other.clinic_id
        )
    body = render_to_string(
        "accounts/second_step_reset_email.txt",
        {"person": user, "owner": actor.user, "clinic": actor.clinic},
    )
    subject = f"{actor.clinic.name}: your second sign-in step was reset"
    transaction.on_commit(lambda: send_mail(subject, body, None, [user.email]))


def second_factor_verify(*, user: User, code: str) -> str:
    """Check a code typed at sign-in: an authenticator app's (each usable once) or a recovery code
    (each usable once). Returns "totp" or "recovery"; a wrong code raises FactorError.

    The refusal is raised only after the check's transaction commits: django-otp counts a wrong
    code on the device row (each one doubles the wait before the next try), and raising inside
    the transaction would roll that count back, leaving codes free to guess.
    """
    kind, throttled = _second_factor_check(user=user, code=normalise_code(code))
    if throttled:
        raise FactorError(
            "Too many wrong codes. Wait a little (at most 15 minutes), then type the code your app shows now."
        )
    if not kind:
        raise FactorError("That code is not right, or was used already. Type the code your app shows now.")
    return kind


@transaction.atomic
def _second_factor_check(*, user: User, code: str) -> tuple[str, bool]:
    """The kind of factor ``code`` matched ("" for none) and whether the devices refused to check.

    The device rows are locked first, so two requests with the same code cannot both pass: the
    second sees the time step or the recovery code the first used up.
    """
    # Six digits are an app's code; anything else can only be a recovery code.
    devices: list[AppDevice] | list[RecoveryCodes] = (
        list(AppDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("id"))
        if len(code) == 6 and code.isdigit()
        else list(RecoveryCodes.objects.select_for_update().filter(user=user, confirmed=True))
    )
    if any(not device.verify_is_allowed()[0] for device in devices):
        return "", True
    for device in devices:
        if device.verify_token(code):
            return ("totp" if isinstance(device, TOTPDevice) else "recovery"), False
    return "", False


@transaction.atomic
def passkey_signed_in(*, passkey: Passkey, sign_count: int) -> None:
    """Record a passkey's use: its new signature counter and when."""
    Passkey.objects.filter(pk=passkey.pk).update(sign_count=sign_count, last_used_at=timezone.now())
