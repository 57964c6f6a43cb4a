"""Reads of episodes of care: the lists, one episode for its pages and the API, the discharge preview."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from mend import access
from mend.clinical.models import Episode
from mend.clinical.queries.goals import goal_outcomes
from mend.clinical.queries.loaders import audit_read, episode_or_404, episodes, page_of
from mend.clinics import queries as clinic_queries
from mend.clinics.models import Membership
from mend.people import queries as people_queries
from mend.people.models import Client
from mend.platform.actor import Actor

# What the API shows of an episode besides its own fields: the client's name and the therapist's
# profile (its id and display name), joined in the episode's own query.
_SHOWN = ("client", "therapist__user", "therapist__therapist_profile")


def episode_client(actor: Actor, client_id: int | str) -> Client:
    """The client an episode is opened for: clinical roles only (403), a client the actor sees (404)."""
    access.require_clinical(actor)
    return people_queries.client_or_404(actor, client_id)


def episode_therapist_choices(actor: Actor) -> QuerySet[Membership] | None:
    """Owners and admins choose the treating therapist; a therapist opens episodes for themself (None)."""
    if not access.can_manage_clinic(actor):
        return None
    return clinic_queries.therapist_memberships(actor).select_related("therapist_profile")


def therapist_membership(actor: Actor, profile_id: int) -> Membership | None:
    """The membership behind a therapist profile id the API was given, or None if not this clinic's."""
    profile = people_queries.therapists(actor).filter(pk=profile_id).select_related("membership").first()
    return profile.membership if profile is not None else None


def episode_page(
    actor: Actor, *, client_id: int | None = None, status: str | None = None, page: int = 1, page_size: int = 25
) -> tuple[list[Episode], int]:
    """A page of the episodes the actor sees, newest first, with client and therapist: the count and
    the rows (two queries), then one audit row per client the page shows."""
    found = episodes(actor).select_related(*_SHOWN)
    if client_id is not None:
        found = found.filter(client_id=client_id)
    if status is not None:
        found = found.filter(discharged_on__isnull=status == "open")
    items, count = page_of(found, page, page_size)
    for shown in dict.fromkeys(e.client_id for e in items):
        audit_read(actor, client_id=shown, what="clinical.episode_list")
    return items, count


def episode_with_therapist(actor: Actor, pk: int | str) -> Episode:
    """One episode with client, therapist and the therapist's profile (one query), not audited:
    for a write's answer, which shows what was just written."""
    return episode_or_404(actor, pk, "therapist__therapist_profile")


def episode_for_reading(actor: Actor, pk: int | str) -> Episode:
    """One episode for a page that shows it (a form of the episode's record), audited as a view."""
    episode = episode_or_404(actor, pk)
    audit_read(actor, obj=episode, client_id=episode.client_id)
    return episode


def discharge_preview(actor: Actor, episode: Episode) -> list[dict[str, Any]]:
    """Every goal's outcome as a discharge today would record it (three queries), audited as a view
    of the episode: the discharge page shows it before the therapist confirms."""
    outcomes = goal_outcomes(episode, today=actor.today())
    audit_read(actor, obj=episode, client_id=episode.client_id)
    return outcomes
