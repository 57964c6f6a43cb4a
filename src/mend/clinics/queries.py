"""Reads of clinic structure: memberships, locations, rooms.

Each ``<things>(actor)`` is the queryset restricted to what the actor may see (the actor's
clinic); each ``<thing>_or_404`` loads one of them or answers 404, whatever the id.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from mend import access
from mend.clinics.models import Clinic, Location, Membership, Room
from mend.platform.actor import Actor
from mend.platform.roles import Role

# --- Memberships ----------------------------------------------------------------------


def memberships(actor: Actor) -> QuerySet[Membership]:
    return Membership.objects.filter(clinic_id=actor.clinic_id)


def therapist_memberships(actor: Actor) -> QuerySet[Membership]:
    """The clinic's active therapists, with their users (for names)."""
    return memberships(actor).filter(role=Role.THERAPIST, is_active=True).select_related("user")


def staff(actor: Actor) -> list[Membership]:
    """Everyone with a membership in the clinic, with their users, by email: one query."""
    return list(memberships(actor).select_related("user").order_by("user__email"))


def membership_or_404(actor: Actor, pk: int | str) -> Membership:
    return access.object_or_404(memberships(actor).select_related("user"), pk, "member")


def clinic_slugs() -> dict[int, str]:
    """Every clinic's slug by id, for commands that name clinics (``mend audit verify --clinic``)."""
    return dict(Clinic.objects.values_list("pk", "slug"))


def member_choices(actor: Actor) -> list[tuple[int, str]]:
    """Everyone with a membership in the clinic, as (user id, email), by email: one query."""
    return [(m.user_id, m.user.email) for m in memberships(actor).select_related("user").order_by("user__email")]


def active_memberships(user: Any) -> list[Membership]:
    """A signed-in user's active memberships with their clinics, by clinic name: one query.

    The first is the clinic a fresh session starts in; the list feeds the clinic switcher.
    """
    return list(Membership.objects.filter(user_id=user.pk, is_active=True).select_related("clinic"))


def active_membership(*, user_id: int, clinic_id: int) -> Membership | None:
    """The user's active membership in one clinic, with the clinic (API tokens are bound to one)."""
    return (
        Membership.objects.filter(user_id=user_id, clinic_id=clinic_id, is_active=True).select_related("clinic").first()
    )


# --- Locations and rooms ----------------------------------------------------------------


def locations(actor: Actor) -> QuerySet[Location]:
    return Location.objects.filter(clinic_id=actor.clinic_id)


def location_or_404(actor: Actor, pk: int | str) -> Location:
    return access.object_or_404(locations(actor), pk, "location")


def locations_with_rooms(actor: Actor) -> QuerySet[Location]:
    """The settings page's list: every location with its rooms by name (two queries)."""
    access.require_manage_clinic(actor)
    return locations(actor).prefetch_related(Prefetch("rooms", queryset=Room.objects.order_by("name")))


def rooms(actor: Actor) -> QuerySet[Room]:
    return Room.objects.filter(clinic_id=actor.clinic_id)


def room_or_404(actor: Actor, pk: int | str) -> Room:
    return access.object_or_404(rooms(actor).select_related("location"), pk, "room")
