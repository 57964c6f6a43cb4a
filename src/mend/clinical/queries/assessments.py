"""Reads of assessments: one with its pain map, range of motion, PSFS and palpation, the episode's
list, and what a new assessment or re-evaluation starts from."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import prefetch_related_objects
from django.http import Http404

from mend.clinical.models import Assessment, Episode
from mend.clinical.queries.loaders import audit_read, episode_or_404, in_visible_episode
from mend.platform.actor import Actor

# The nested lists an assessment shows, one query each however many rows they hold.
PARTS = ("pain_regions", "rom", "psfs", "palpation")


def _one(actor: Actor, pk: int | str, *related: str) -> Assessment:
    """One assessment the actor may see with ``related`` joined (one query) and its nested lists
    (four queries, however many rows)."""
    assessment = in_visible_episode(actor, Assessment, pk, "assessment", *related)
    prefetch_related_objects([assessment], *PARTS)
    return assessment


def assessment_with_parts(actor: Actor, pk: int | str) -> Assessment:
    """One assessment with its therapist and nested lists (five queries), not audited: for a
    write's answer, which shows what was just written."""
    return _one(actor, pk, "episode", "client", "therapist__user")


def assessment_for_reading(actor: Actor, pk: int | str) -> Assessment:
    """One assessment with its therapist and nested lists (five queries), audited as a view."""
    assessment = assessment_with_parts(actor, pk)
    audit_read(actor, obj=assessment, client_id=assessment.client_id)
    return assessment


def assessment_list(actor: Actor, episode_id: int | str) -> list[Assessment]:
    """The episode's assessments, newest first, with therapists and nested lists (five queries
    however many), audited as a list read."""
    episode = episode_or_404(actor, episode_id)
    found = Assessment.objects.filter(episode=episode).select_related("therapist__user").prefetch_related(*PARTS)
    assessments = list(found)
    audit_read(actor, client_id=episode.client_id, what="clinical.assessment_list", of=episode.pk)
    return assessments


@dataclass(frozen=True, slots=True)
class AssessmentStart:
    """What the assessment form starts from: the episode, the assessment edited (with its rows), or
    for a new one the latest before it (its PSFS activities and motions are asked again)."""

    episode: Episode
    assessment: Assessment | None
    previous: Assessment | None


def assessment_form(
    actor: Actor, *, episode_id: int | str | None = None, assessment_id: int | str | None = None, reading: bool
) -> AssessmentStart:
    """The assessment form's starting point. Opening the form (``reading``) shows the assessment
    edited, or the latest one a re-evaluation starts from: audited as a view of it. A form re-shown
    after a refused save is not a new read."""
    if assessment_id is not None:
        # The episode comes with the assessment, with what the page shows of it (client, therapist).
        assessment = _one(actor, assessment_id, "client", "episode__client", "episode__therapist__user")
        if reading:
            audit_read(actor, obj=assessment, client_id=assessment.client_id)
        return AssessmentStart(assessment.episode, assessment, None)
    if episode_id is None:
        raise Http404("No such episode of care.")
    episode = episode_or_404(actor, episode_id)
    previous = (
        Assessment.objects.filter(episode=episode).prefetch_related("psfs", "rom").order_by("-assessed_on", "-id")
    ).first()
    if reading and previous is not None:
        audit_read(actor, obj=previous, client_id=episode.client_id)
    return AssessmentStart(episode, None, previous)
