"""Access-checked loaders of the clinical record, and the audit of a read.

A clinical object is visible exactly when its client is (``people.queries.clients``: the clinic's
clients, a therapist's care team) and never to front desk (``access.require_clinical``: 403, the
record exists but the role may not open it). Each ``*_or_404`` restricts the queryset by the actor
and loads one object through ``access.object_or_404``, so another clinic's object, one the actor may
not see and a malformed id all answer the same 404.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import models
from django.db.models import QuerySet

from mend import access
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinical.models import Assessment, Clearance, Episode, Goal, Referral, ScreeningFinding, TreatmentNote
from mend.people import queries as people_queries
from mend.people.models import Client
from mend.platform.actor import Actor

M = TypeVar("M", bound=models.Model)

MAX_PAGE_SIZE = 100


def episodes(actor: Actor) -> QuerySet[Episode]:
    access.require_clinical(actor)
    return Episode.objects.filter(clinic_id=actor.clinic_id, client__in=people_queries.clients(actor))


def client_episodes(actor: Actor, client: Client) -> list[Episode]:
    """The client page's episodes of care, with their therapists: one query, none for front desk."""
    if not access.can_see_clinical(actor):
        return []
    return list(episodes(actor).filter(client=client).select_related("therapist__user"))


def episode_or_404(actor: Actor, pk: int | str, *related: str) -> Episode:
    """The episode with its client and therapist (and ``related``, in the same query)."""
    return access.object_or_404(
        episodes(actor).select_related("client", "therapist__user", *related), pk, "episode of care"
    )


def in_visible_episode(actor: Actor, model: type[M], pk: int | str, what: str, *related: str) -> M:
    """One clinical row of ``model`` whose client the actor may see, with ``related`` joined."""
    access.require_clinical(actor)
    visible = model._default_manager.filter(clinic_id=actor.clinic_id, client__in=people_queries.clients(actor))
    return access.object_or_404(visible.select_related(*related), pk, what)


def note_or_404(actor: Actor, pk: int | str) -> TreatmentNote:
    return in_visible_episode(actor, TreatmentNote, pk, "treatment note", "episode", "client", "therapist__user")


def referral_or_404(actor: Actor, pk: int | str) -> Referral:
    return in_visible_episode(actor, Referral, pk, "referral", "episode", "client", "provider")


def assessment_or_404(actor: Actor, pk: int | str) -> Assessment:
    return in_visible_episode(actor, Assessment, pk, "assessment", "episode", "client")


def goal_or_404(actor: Actor, pk: int | str) -> Goal:
    return in_visible_episode(actor, Goal, pk, "goal", "episode")


def finding_or_404(actor: Actor, pk: int | str) -> ScreeningFinding:
    return in_visible_episode(actor, ScreeningFinding, pk, "screening finding", "episode")


def clearance_or_404(actor: Actor, pk: int | str) -> Clearance:
    return in_visible_episode(actor, Clearance, pk, "clearance", "episode")


def page_of(queryset: QuerySet[M], page: int, page_size: int) -> tuple[list[M], int]:
    """One page of ``queryset`` (two queries: the count and the rows); the page size is capped at 100."""
    size = max(1, min(page_size, MAX_PAGE_SIZE))
    count = queryset.count()
    start = (page - 1) * size
    return list(queryset[start : start + size]), count


def audit_read(
    actor: Actor,
    *,
    client_id: int,
    obj: models.Model | None = None,
    what: str = "",
    of: int | str = "",
    action: Action = Action.VIEW,
) -> None:
    """Record that the actor read client information: one object, or ``what`` (a list, a day's
    screening) of episode ``of``. The actor names the clinic and role, so the row lands in its
    clinic's chain whichever interface asked."""
    audit_record(
        action=action,
        obj=obj,
        object_type="" if obj is not None else what,
        object_id="" if obj is not None else of,
        client_id=client_id,
        user=actor.user,
        clinic_id=actor.clinic_id,
        role=actor.role,
    )
