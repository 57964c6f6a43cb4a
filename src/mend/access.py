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

The predicates here (``can_*``, ``require_*``) answer "may this actor do this": a ``require_*``
raises PermissionDenied (403), for a role refused inside its own clinic. Loaders live with the app
that owns the model (``people.queries.clients``, ``client_or_404``; ``clinics.queries.rooms``, …):
each restricts a queryset by the actor, as NetBox's ``restrict()`` does, and loads one object
through :func:`object_or_404`, so another clinic's object, or one the actor may not see, is a 404.

This module is policy: it imports the platform, never an app, so every app can import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import Http404

# The clinical loaders at the end are moving to mend.clinical.queries; until then this import
# is the one place policy depends on an app's models.
from mend.clinical.models import Assessment, Clearance, Episode, Goal, Referral, ScreeningFinding, TreatmentNote
from mend.platform.actor import Actor

if TYPE_CHECKING:
    from mend.clinics.models import Membership
    from mend.people.models import Client, ReferringProvider, TherapistProfile

M = TypeVar("M", bound=models.Model)


def object_or_404(queryset: QuerySet[M], pk: int | str, what: str) -> M:
    """The object with id ``pk`` among ``queryset`` (already restricted by the actor), else 404.

    A missing, foreign or malformed id reads the same, so ids cannot be probed.
    """
    try:
        return queryset.get(pk=int(pk))
    except (queryset.model.DoesNotExist, ValueError, TypeError):
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


# --- Moving out -----------------------------------------------------------------------
# Until clinical and outcomes call the app loaders themselves (people.queries.clients,
# clinics.queries.therapist_memberships, …), these forward to them. They and the clinical
# loaders below are the only reason this module still reaches into apps; the imports are inside
# the functions so that people and clinics can import this module while it is loading.


def clients(actor: Actor) -> QuerySet[Client]:
    from mend.people import queries

    return queries.clients(actor)


def client_or_404(actor: Actor, pk: int | str) -> Client:
    from mend.people import queries

    return queries.client_or_404(actor, pk)


def therapists(actor: Actor) -> QuerySet[TherapistProfile]:
    from mend.people import queries

    return queries.therapists(actor)


def referring_providers(actor: Actor) -> QuerySet[ReferringProvider]:
    from mend.people import queries

    return queries.referring_providers(actor)


def therapist_memberships(actor: Actor) -> QuerySet[Membership]:
    from mend.clinics import queries

    return queries.therapist_memberships(actor)


# --- Clinical record ------------------------------------------------------------------
# Clinical objects are visible exactly when their client is (rules 1–3) and never to front
# desk (rule 4: 403, the client exists but the role may not open this).


def episodes(actor: Actor) -> QuerySet[Episode]:
    require_clinical(actor)
    return Episode.objects.filter(clinic_id=actor.clinic_id, client__in=clients(actor))


def client_episodes(actor: Actor, client: Client) -> list[Episode]:
    """The client page's episodes of care, with their therapists: one query, none for front desk."""
    if not can_see_clinical(actor):
        return []
    return list(episodes(actor).filter(client=client).select_related("therapist__user"))


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
