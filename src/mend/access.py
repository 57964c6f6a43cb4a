"""The access policy: the one module that decides who sees what.

Rules (also in docs/architecture.md):

1. Every object belongs to one clinic. A person acts in one *active* clinic at a time, through
   their membership there; everything outside that clinic does not exist for them (404).
2. Owners and admins see every client of the clinic.
3. A therapist sees the clients on whose care team they are: as primary therapist or because
   the client was shared with them. A client a therapist creates joins their care team. Other
   clients of the clinic answer 404, as if they did not exist.
4. Front desk sees every client's demographics and the schedule, never clinical information:
   clinical pages answer 403 (the client exists; the role may not open this).
5. Only owners see the audit trail and the Django admin; owners and admins change clinic
   settings (appointment types and closures included); a therapist may edit their own profile
   and credentials, and their own working hours, exceptions and time off.
6. Clinical records (episodes, referrals, screening, assessments, goals, plans, notes) are
   visible exactly when their client is, and never to front desk.

The predicates here (``can_*``, ``require_*``) answer "may this actor do this": a ``require_*``
raises PermissionDenied (403), for a role refused inside its own clinic. Loaders live with the app
that owns the model (``people.queries.clients``, ``client_or_404``; ``clinics.queries.rooms``, …):
each restricts a queryset by the actor, as NetBox's ``restrict()`` does, and loads one object
through :func:`object_or_404`, so another clinic's object, or one the actor may not see, is a 404.

This module is policy: it imports the platform, never an app, so every app can import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import Http404

from mend.platform.actor import Actor

if TYPE_CHECKING:
    from mend.clinics.models import Membership
    from mend.people.models import TherapistProfile

M = TypeVar("M", bound=models.Model)


def object_or_404(queryset: QuerySet[M], pk: int | str, what: str) -> M:
    """The object with id ``pk`` among ``queryset`` (already restricted by the actor), else 404.

    A missing, foreign or malformed id reads the same, so ids cannot be probed.
    """
    try:
        return queryset.get(pk=int(pk))
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404(f"No such {what}.") from None


def can_see_clinical(actor: Actor) -> bool:
    return actor.sees_clinical


def require_clinical(actor: Actor) -> None:
    if not can_see_clinical(actor):
        raise PermissionDenied("Front desk accounts cannot open clinical information.")


def can_manage_clinic(actor: Actor) -> bool:
    return actor.manages_clinic


def require_manage_clinic(actor: Actor) -> None:
    if not can_manage_clinic(actor):
        raise PermissionDenied("Only the clinic's owners and admins can change its settings.")


def can_reset_second_step(actor: Actor) -> bool:
    """Only owners may remove a member's sign-in factors: it lowers that account's protection."""
    return actor.is_owner


def require_reset_second_step(actor: Actor) -> None:
    if not can_reset_second_step(actor):
        raise PermissionDenied("Only the clinic's owners can reset a member's second sign-in step.")


def can_view_audit(actor: Actor) -> bool:
    return actor.is_owner


def require_audit(actor: Actor) -> None:
    if not can_view_audit(actor):
        raise PermissionDenied("Only the clinic's owners can read the audit trail.")


def can_use_admin(actor: Actor | None) -> bool:
    return actor is not None and actor.is_owner


def can_assign_therapists(actor: Actor) -> bool:
    return actor.manages_clinic or actor.is_front_desk


def can_edit_therapist(actor: Actor, profile: TherapistProfile) -> bool:
    return can_manage_clinic(actor) or profile.membership_id == actor.membership.pk


def require_edit_therapist(actor: Actor, profile: TherapistProfile) -> None:
    if not can_edit_therapist(actor, profile):
        raise PermissionDenied("Only the therapist and the clinic's owners and admins can change this profile.")


def can_edit_hours(actor: Actor, therapist: Membership) -> bool:
    """A therapist's working hours, exceptions and time off: the clinic's managers, or the therapist."""
    return can_manage_clinic(actor) or (actor.is_therapist and therapist.pk == actor.membership.pk)


def require_edit_hours(actor: Actor, therapist: Membership) -> None:
    if not can_edit_hours(actor, therapist):
        raise PermissionDenied("Only the therapist and the clinic's owners and admins can change these hours.")
