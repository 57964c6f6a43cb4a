"""Writes of the episode of care: open, change, discharge."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from mend import access, knowledge
from mend.audit.models import Action as AuditAction
from mend.clinical import queries
from mend.clinical.models import (
    DischargeReason,
    Episode,
    NoteStatus,
    Referral,
    TreatmentNote,
)
from mend.clinical.services.common import (
    audit,
    require_open,
    require_write,
)
from mend.clinics.models import Membership, Role
from mend.people.models import Client
from mend.platform.actor import Actor
from mend.writes import apply_fields

# --- Episode ------------------------------------------------------------------------------


EPISODE_FIELDS = {"title", "condition", "started_on"}


@transaction.atomic
def episode_open(
    *, actor: Actor, client: Client, data: Mapping[str, Any], therapist: Membership | None = None
) -> Episode:
    access.require_clinical(actor)
    if client.clinic_id != actor.clinic_id:
        raise ValueError("An episode is opened within the client's own clinic.")
    if therapist is None:
        therapist = actor.membership if actor.role == Role.THERAPIST else _primary_therapist(client)
    if therapist is None or therapist.clinic_id != actor.clinic_id or therapist.role != Role.THERAPIST:
        raise ValidationError({"therapist": "Choose a therapist of this clinic for the episode."})
    episode = apply_fields(Episode(clinic_id=actor.clinic_id, client=client, therapist=therapist), data, EPISODE_FIELDS)
    if not episode.started_on:
        episode.started_on = actor.today()
    if episode.condition and episode.condition not in knowledge.conditions():
        raise ValidationError({"condition": "Choose a condition from the list."})
    episode.full_clean()
    episode.save()
    audit(AuditAction.CREATE, episode, actor, client.pk)
    return episode


def _primary_therapist(client: Client) -> Membership | None:
    member = client.care_team.filter(is_primary=True).select_related("therapist").first()
    return member.therapist if member else None


@transaction.atomic
def episode_update(*, actor: Actor, episode: Episode, data: Mapping[str, Any]) -> Episode:
    require_write(actor, episode)
    require_open(episode)
    apply_fields(episode, data, EPISODE_FIELDS)
    if episode.condition and episode.condition not in knowledge.conditions():
        raise ValidationError({"condition": "Choose a condition from the list."})
    episode.full_clean()
    episode.save()
    audit(AuditAction.UPDATE, episode, actor, episode.client_id)
    return episode


# --- Discharge ------------------------------------------------------------------------------


@transaction.atomic
def episode_discharge(
    *, actor: Actor, episode: Episode, reason: str, summary: str = "", on: date | None = None
) -> Episode:
    """Close the episode with a reason and a snapshot of every goal's outcome; close its referrals."""
    require_write(actor, episode)
    episode = Episode.objects.select_for_update().get(pk=episode.pk)
    require_open(episode)
    on = on or actor.today()
    errors: dict[str, list[str]] = {}
    if reason not in DischargeReason.values:
        errors["discharge_reason"] = ["Choose why the client is discharged."]
    if on < episode.started_on:
        errors["discharged_on"] = ["Discharge cannot come before the episode started."]
    if TreatmentNote.objects.filter(episode=episode, status=NoteStatus.DRAFT).exists():
        errors.setdefault("__all__", []).append("Sign or delete the draft notes before discharging.")
    if errors:
        raise ValidationError(errors)
    outcomes = queries.goal_outcomes(episode, today=on)
    episode.discharged_on = on
    episode.discharge_reason = reason
    episode.discharge_summary = summary.strip()
    episode.discharge_outcomes = outcomes
    episode.save()
    Referral.objects.filter(episode=episode, closed_at__isnull=True).update(closed_at=timezone.now())
    audit(AuditAction.UPDATE, episode, actor, episode.client_id)
    return episode
