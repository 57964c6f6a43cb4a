from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_otp.models import ThrottlingMixin, VerifyNotAllowed
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice


def normalise_email(email: str) -> str:
    """The one form a sign-in email is stored and looked up in: trimmed and lower case, so an
    address typed in any case reaches the same account (and the same lockout counter)."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=normalise_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        # The password backend looks the typed email up here: in any case, one account.
        return self.get(email=normalise_email(username or ""))


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in to Mend with an email address."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    # Django's own staff flag is kept for the superuser escape hatch; clinic owners reach
    # the admin through their membership, not through this flag.
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            # Emails are stored lower case (normalise_email); the database refuses a second
            # account whose address differs only in case, whoever writes the row.
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ignoring_case"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class ApiToken(models.Model):
    """A bearer token for one user in one clinic. Only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, help_text="The first characters, to tell tokens apart.")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Chosen when the token is issued (api_token_create); a token past it is refused with 401.
    expires_at = models.DateTimeField()
    # Updated at most once a minute (api_token_touch), so a busy integration costs no write per call.
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user.email} @ {self.clinic.slug})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class Passkey(models.Model):
    """A WebAuthn credential (a passkey or security key) a user signs in with as their second step.

    Only the public key is stored; the private key never leaves the person's device.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="passkeys")
    name = models.CharField(max_length=100)
    credential_id = models.CharField(max_length=1400, unique=True, help_text="Base64url, as the browser sends it.")
    public_key = models.BinaryField()
    # The authenticator's signature counter: a value that fails to grow betrays a cloned key.
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name


def _capped(device: Any, allowed: bool, data: dict[str, Any] | None) -> tuple[bool, dict[str, Any] | None]:
    """django-otp doubles the wait after each wrong code with no ceiling, so anyone with a person's
    password could keep them out of their second step for days. The wait stops growing at
    MEND_SECOND_STEP_MAX_WAIT (the password lockout's fifteen minutes): that long after the last
    wrong code the device checks codes again. The failure count still grows, so every wrong code
    past the ceiling costs the full wait."""
    if allowed or not data or data.get("reason") != VerifyNotAllowed.N_FAILED_ATTEMPTS:
        return allowed, data
    until = device.throttling_failure_timestamp + settings.MEND_SECOND_STEP_MAX_WAIT
    if timezone.now() >= until:
        # What the device's other checks say, skipping only django-otp's throttle.
        result: tuple[bool, dict[str, Any] | None] = super(ThrottlingMixin, device).verify_is_allowed()
        return result
    return False, {**data, "locked_until": min(data["locked_until"], until)}


class AppDevice(TOTPDevice):
    """An authenticator app (django-otp's TOTP device) whose wait after wrong codes has a ceiling."""

    class Meta:
        proxy = True

    def verify_is_allowed(self) -> tuple[bool, dict[str, Any] | None]:
        return _capped(self, *super().verify_is_allowed())


class RecoveryCodes(StaticDevice):
    """A person's recovery codes (django-otp's static device), with the same ceiling."""

    class Meta:
        proxy = True

    def verify_is_allowed(self) -> tuple[bool, dict[str, Any] | None]:
        return _capped(self, *super().verify_is_allowed())
