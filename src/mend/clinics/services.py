"""Writes of clinic structure: the clinic's settings, locations, rooms, memberships."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from mend import access
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinics.models import Clinic, Location, Membership, Role, Room
from mend.platform.actor import Actor
from mend.writes import apply_fields

CLINIC_FIELDS = {"name", "timezone", "country", "currency"}
LOCATION_FIELDS = {"name", "street", "city", "region", "postal_code", "phone", "is_active"}
ROOM_FIELDS = {"name", "location", "is_active"}


@transaction.atomic
def clinic_create(*, name: str, slug: str, timezone: str, country: str, currency: str) -> Clinic:
    clinic = Clinic(name=name, slug=slug, timezone=timezone, country=country.upper(), currency=currency.upper())
    clinic.full_clean()
    clinic.save()
    audit_record(action=Action.CREATE, obj=clinic)
    return clinic


@transaction.atomic
def clinic_update(*, actor: Actor, data: Mapping[str, Any]) -> Clinic:
    access.require_manage_clinic(actor)
    clinic = Clinic.objects.select_for_update().get(pk=actor.clinic_id)
    apply_fields(clinic, data, CLINIC_FIELDS)
    clinic.country = clinic.country.upper()
    clinic.currency = clinic.currency.upper()
    clinic.full_clean()
    clinic.save()
    audit_record(action=Action.UPDATE, obj=clinic, user=actor.user)
    return clinic


@transaction.atomic
def location_save(*, actor: Actor, data: Mapping[str, Any], location: Location | None = None) -> Location:
    access.require_manage_clinic(actor)
    created = location is None
    location = location or Location(clinic_id=actor.clinic_id)
    if location.clinic_id != actor.clinic_id:
        raise ValueError("A location can only be changed within its own clinic.")
    apply_fields(location, data, LOCATION_FIELDS)
    location.full_clean()
    location.save()
    audit_record(action=Action.CREATE if created else Action.UPDATE, obj=location, user=actor.user)
    return location


@transaction.atomic
def room_save(*, actor: Actor, data: Mapping[str, Any], room: Room | None = None) -> Room:
    access.require_manage_clinic(actor)
    created = room is None
    room = room or Room(clinic_id=actor.clinic_id)
    apply_fields(room, data, ROOM_FIELDS)
    if room.clinic_id != actor.clinic_id or room.location.clinic_id != actor.clinic_id:
        raise ValueError("A room must belong to a location of the same clinic.")
    room.full_clean()
    room.save()
    audit_record(action=Action.CREATE if created else Action.UPDATE, obj=room, user=actor.user)
    return room


@transaction.atomic
def membership_add(*, clinic: Clinic, user: Any, role: Role | str) -> Membership:
    membership = Membership(clinic=clinic, user=user, role=str(role))
    membership.full_clean()
    membership.save()
    # Privilege changes are auditable events in their own right (ONC 170.315(d)(2)).
    audit_record(action=Action.CREATE, obj=membership)
    return membership
