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
   settings; a therapist may edit their own profile and credentials.
6. Clinical records (episodes, referrals, screening, assessments, goals, plans, notes) are
   visible exactly when their client is, and never to front desk.

Loaders here (``*_or_404``) are the only way views and API routes fetch a single object.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import Http404

from mend.clinical.models import Assessment, Clearance, Episode, Goal, Referral, ScreeningFinding, TreatmentNote
from mend.clinics.models import Location, Membership, Role, Room
from mend.people.models import Client, ReferringProvider, TherapistProfile
from mend.platform.actor import Actor

M = TypeVar("M", bound=models.Model)


def can_see_clinical(actor: Actor) -> bool:
    return actor.role in (Role.OWNER, Role.ADMIN, Role.THERAPIST)


def require_clinical(actor: Actor) -> None:
    if not can_see_clinical(actor):
        raise PermissionDenied("Front desk accounts cannot open clinical information.")


def can_manage_clinic(actor: Actor) -> bool:
    return actor.role in (Role.OWNER, Role.ADMIN)


def require_manage_clinic(actor: Actor) -> None:
    if not can_manage_clinic(actor):
        raise PermissionDenied("Only the clinic's owners and admins can change its settings.")


def can_view_audit(actor: Actor) -> bool:
    return actor.role == Role.OWNER


def require_audit(actor: Actor) -> None:
    if not can_view_audit(actor):
        raise PermissionDenied("Only the clinic's owners can read the audit trail.")


def can_use_admin(actor: Actor | None) -> bool:
    return actor is not None and actor.role == Role.OWNER


def can_assign_therapists(actor: Actor) -> bool:
    return actor.role in (Role.OWNER, Role.ADMIN, Role.FRONT_DESK)


# --- Clients --------------------------------------------------------------------------


def clients(actor: Actor) -> QuerySet[Client]:
    visible = Client.objects.filter(clinic_id=actor.clinic_id)
    if actor.role == Role.THERAPIST:
        visible = visible.filter(care_team__therapist_id=actor.membership.pk)
    return visible


def client_or_404(actor: Actor, pk: int | str) -> Client:
    try:
        return clients(actor).get(pk=int(pk))
    except (Client.DoesNotExist, ValueError, TypeError):
        raise Http404("No such client.") from None


# --- Therapists -----------------------------------------------------------------------


def therapists(actor: Actor) -> QuerySet[TherapistProfile]:
    return TherapistProfile.objects.filter(clinic_id=actor.clinic_id, membership__is_active=True)


def therapist_or_404(actor: Actor, pk: int | str) -> TherapistProfile:
    try:
        return therapists(actor).select_related("membership__user").get(pk=int(pk))
    except (TherapistProfile.DoesNotExist, ValueError, TypeError):
        raise Http404("No such therapist.") from None


def can_edit_therapist(actor: Actor, profile: TherapistProfile) -> bool:
    return can_manage_clinic(actor) or profile.membership_id == actor.membership.pk


def require_edit_therapist(actor: Actor, profile: TherapistProfile) -> None:
    if not can_edit_therapist(actor, profile):
        raise PermissionDenied("Only the therapist and the clinic's owners and admins can change this profile.")


# --- Referring providers --------------------------------------------------------------


def referring_providers(actor: Actor) -> QuerySet[ReferringProvider]:
    return ReferringProvider.objects.filter(clinic_id=actor.clinic_id)


def referring_provider_or_404(actor: Actor, pk: int | str) -> ReferringProvider:
    try:
        return referring_providers(actor).get(pk=int(pk))
    except (ReferringProvider.DoesNotExist, ValueError, TypeError):
        raise Http404("No such referring provider.") from None


# --- Clinic structure -----------------------------------------------------------------


def locations(actor: Actor) -> QuerySet[Location]:
    return Location.objects.filter(clinic_id=actor.clinic_id)


def location_or_404(actor: Actor, pk: int | str) -> Location:
    try:
        return locations(actor).get(pk=int(pk))
    except (Location.DoesNotExist, ValueError, TypeError):
        raise Http404("No such location.") from None


def rooms(actor: Actor) -> QuerySet[Room]:
    return Room.objects.filter(clinic_id=actor.clinic_id)


def room_or_404(actor: Actor, pk: int | str) -> Room:
    try:
        return rooms(actor).select_related("location").get(pk=int(pk))
    except (Room.DoesNotExist, ValueError, TypeError):
        raise Http404("No such room.") from None


def memberships(actor: Actor) -> QuerySet[Membership]:
    return Membership.objects.filter(clinic_id=actor.clinic_id)


def therapist_memberships(actor: Actor) -> QuerySet[Membership]:
    return memberships(actor).filter(role=Role.THERAPIST, is_active=True).select_related("user")


# --- Clinical record ------------------------------------------------------------------
# Clinical objects are visible exactly when their client is (rules 1–3) and never to front
# desk (rule 4: 403, the client exists but the role may not open this).


def episodes(actor: Actor) -> QuerySet[Episode]:
    require_clinical(actor)
    return Episode.objects.filter(clinic_id=actor.clinic_id, client__in=clients(actor))


def episode_or_404(actor: Actor, pk: int | str) -> Episode:
    try:
        return episodes(actor).select_related("client", "therapist__user").get(pk=int(pk))
    except (Episode.DoesNotExist, ValueError, TypeError):
        raise Http404("No such episode of care.") from None


def _in_visible_episode(actor: Actor, model: type[M], pk: int | str, what: str, *related: str) -> M:
    require_clinical(actor)
    try:
        return (
            model._default_manager.filter(clinic_id=actor.clinic_id, client__in=clients(actor))
            .select_related(*related)
            .get(pk=int(pk))
        )
    except (model.DoesNotExist, ValueError, TypeError):  # type: ignore[attr-defined]
        raise Http404(f"No such {what}.") from None


def note_or_404(actor: Actor, pk: int | str) -> TreatmentNote:
    return _in_visible_episode(actor, TreatmentNote, pk, "treatment note", "episode", "client", "therapist__user")


def referral_or_404(actor: Actor, pk: int | str) -> Referral:
    return _in_visible_episode(actor, Referral, pk, "referral", "episode", "client", "provider")


def assessment_or_404(actor: Actor, pk: int | str) -> Assessment:
    return _in_visible_episode(actor, Assessment, pk, "assessment", "episode", "client")


def goal_or_404(actor: Actor, pk: int | str) -> Goal:
    return _in_visible_episode(actor, Goal, pk, "goal", "episode")


def finding_or_404(actor: Actor, pk: int | str) -> ScreeningFinding:
    return _in_visible_episode(actor, ScreeningFinding, pk, "screening finding", "episode")


def clearance_or_404(actor: Actor, pk: int | str) -> Clearance:
    return _in_visible_episode(actor, Clearance, pk, "clearance", "episode")
