"""Roles a membership gives in its clinic. Shared by the policy, the actor and the clinics app."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    THERAPIST = "therapist", "Therapist"
    FRONT_DESK = "front_desk", "Front desk"


CLINICAL_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.THERAPIST})
MANAGING_ROLES = frozenset({Role.OWNER, Role.ADMIN})
