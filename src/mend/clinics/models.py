from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

from mend.clinics.validators import validate_country, validate_currency, validate_timezone
from mend.platform.roles import Role


class Clinic(models.Model):
    """A practice: the tenant every row of clinical, scheduling and billing data belongs to."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    timezone = models.CharField(max_length=64, default="America/Toronto", validators=[validate_timezone])
    country = models.CharField(max_length=2, default="CA", validators=[validate_country])
    currency = models.CharField(max_length=3, default="CAD", validators=[validate_currency])
    require_staff_mfa = models.BooleanField(
        "require two-step sign-in for staff",
        default=False,
        help_text="Everyone who works here signs in with a second step (an authenticator app or a passkey). "
        "Staff without one, you included, are asked to set one up before anything else.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(max_length=120)
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("province / state", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "clinic", name="location_name_unique_per_clinic"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        parts = [self.street, self.city, " ".join(p for p in (self.region, self.postal_code) if p)]
        return ", ".join(p for p in parts if p)


class RoomCapability(models.TextChoices):
    TABLE = "table", "Treatment table"
    HYDROTHERAPY = "hydrotherapy", "Hydrotherapy"
    ACCESSIBLE = "accessible", "Wheelchair accessible"


def _default_room_capabilities() -> list[str]:
    return [RoomCapability.TABLE.value]


class Room(models.Model):
    # The clinic is stored again beside the location so every query can be scoped by clinic
    # without a join, and so the table can later be distributed by clinic.
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="rooms")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=80)
    # What an appointment type may require of the room (RoomCapability values).
    capabilities = models.JSONField(default=_default_room_capabilities, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["location__name", "name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "location", name="room_name_unique_per_location"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.location.name})"

    @property
    def capability_names(self) -> list[str]:
        """What the room has, in words ("Treatment table"), for pages."""
        labels = dict(RoomCapability.choices)
        return [labels.get(c, c) for c in self.capabilities or ()]

    def clean(self) -> None:
        known = set(RoomCapability.values)
        if not isinstance(self.capabilities, list) or not all(c in known for c in self.capabilities):
            raise ValidationError({"capabilities": f"Capabilities are any of: {', '.join(sorted(known))}."})
        self.capabilities = sorted(set(self.capabilities))


class Membership(models.Model):
    """A user's place in one clinic. A user may hold memberships in several clinics."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["clinic__name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "user"], name="one_membership_per_user_and_clinic"),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.clinic}"
