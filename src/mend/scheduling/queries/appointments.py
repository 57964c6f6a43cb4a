"""Reads of appointments and appointment types, restricted to what the actor may see.

``appointments(actor)`` is the restricted queryset (owners, admins and front desk: the clinic's;
a therapist: their own and those of clients on their care team, ``people.queries.clients``);
``appointment_or_404`` loads one of them or answers 404, so another clinic's id reads as missing.
An appointment names its client, so listing and reading them is audited here, as client lists are.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from mend import access
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinics.models import Membership, Room
from mend.people import queries as people_queries
from mend.people.models import Client
from mend.platform.actor import Actor
from mend.scheduling.models import Appointment, AppointmentType

# What an appointment's answer shows besides its own columns: one query with the joins.
_RELATED = ("clinic", "client", "therapist__user", "therapist__therapist_profile", "room", "appointment_type")


def appointments(actor: Actor) -> QuerySet[Appointment]:
    """The appointments the actor may see (NetBox's ``restrict()``)."""
    visible = Appointment.objects.filter(clinic_id=actor.clinic_id)
    if actor.is_therapist:
        team = people_queries.clients(actor).values("pk")
        visible = visible.filter(Q(therapist_id=actor.membership.pk) | Q(client_id__in=team))
    return visible


def appointment_or_404(actor: Actor, pk: int | str) -> Appointment:
    """One appointment the actor may see, with what its answer shows, or 404 (not audited: for writes)."""
    return access.object_or_404(appointments(actor).select_related(*_RELATED), pk, "appointment")


def appointment_detail(actor: Actor, pk: int | str) -> Appointment:
    """One appointment for reading, audited as a view of its client's information."""
    found = appointment_or_404(actor, pk)
    audit_record(action=Action.VIEW, obj=found, client_id=found.client_id, user=actor.user)
    return found


def appointment_list(
    actor: Actor,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    therapist_id: int | None = None,
    client_id: int | None = None,
) -> QuerySet[Appointment]:
    """Appointments overlapping ``[start, end)``, of one therapist (membership) or client, in start order.

    Listing appointments shows who comes when: audited as a view (a search when filtered).
    """
    found = appointments(actor)
    if start is not None:
        found = found.filter(ends_at__gt=start)
    if end is not None:
        found = found.filter(starts_at__lt=end)
    if therapist_id is not None:
        found = found.filter(therapist_id=therapist_id)
    if client_id is not None:
        found = found.filter(client_id=client_id)
    filtered = any(v is not None for v in (start, end, therapist_id, client_id))
    audit_record(
        action=Action.SEARCH if filtered else Action.VIEW,
        object_type="scheduling.appointment_list",
        client_id=client_id,
        user=actor.user,
    )
    return found.select_related(*_RELATED).order_by("starts_at", "therapist_id", "pk")


def appointment_types(actor: Actor) -> QuerySet[AppointmentType]:
    """The clinic's appointment types, offered ones first, with who offers them."""
    return (
        AppointmentType.objects.filter(clinic_id=actor.clinic_id)
        .prefetch_related("therapists__therapist_profile")
        .order_by("-is_active", "kind", "duration_minutes", "name", "pk")
    )


def appointment_type_or_none(actor: Actor, pk: int | None) -> AppointmentType | None:
    """The clinic's appointment type ``pk`` with who offers it, or None (an unknown id is the caller's 422)."""
    if pk is None:
        return None
    return appointment_types(actor).filter(pk=pk).first()


def therapist_membership(actor: Actor, profile_id: int | None) -> Membership | None:
    """The active therapist membership whose profile (the id ``/therapists`` shows) is ``profile_id``."""
    if profile_id is None:
        return None
    profile = people_queries.therapists(actor).select_related("membership").filter(pk=profile_id).first()
    return profile.membership if profile is not None else None


def profile_ids(actor: Actor) -> dict[int, int]:
    """Therapist membership id → profile id for the clinic: the API names therapists by profile."""
    return dict(people_queries.therapists(actor).values_list("membership_id", "pk"))


def client_or_none(actor: Actor, pk: int | None) -> Client | None:
    """A client the actor may see, or None."""
    if pk is None:
        return None
    return people_queries.clients(actor).filter(pk=pk).first()


def room_or_none(actor: Actor, pk: int | None) -> Room | None:
    """An active room of the clinic, or None."""
    if pk is None:
        return None
    return Room.objects.filter(clinic_id=actor.clinic_id, is_active=True, pk=pk).first()
