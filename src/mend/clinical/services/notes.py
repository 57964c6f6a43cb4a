"""Writes of treatment notes: start, autosave, sign (with every safety rule), addenda."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from mend import access, knowledge
from mend.audit.models import Action as AuditAction
from mend.clinical import queries, rules
from mend.clinical.models import (
    Addendum,
    Episode,
    NoteStatus,
    NoteTechnique,
    TreatmentNote,
)
from mend.clinical.screening import catalogue
from mend.clinical.services.common import (
    NoteLocked,
    SigningRefused,
    audit,
    check_region,
    require_open,
    require_write,
)
from mend.clinics.models import Role
from mend.platform.actor import Actor
from mend.writes import apply_fields

# --- Treatment notes --------------------------------------------------------------------------

NOTE_FIELDS = {
    "visit_on",
    "duration_minutes",
    "subjective",
    "pain_pre",
    "sleep_quality",
    "stress",
    "objective",
    "modalities",
    "pain_post",
    "response",
    "adverse_events",
    "home_care",
    "plan_next",
}
MODALITIES = ("heat", "cold")


@dataclass(frozen=True, slots=True)
class TechniqueInput:
    technique: str
    region: str
    minutes: int
    pressure: int
    side: str = ""


def _require_author(actor: Actor, note: TreatmentNote) -> None:
    # A note is its therapist's own record of the visit: others read it, only the author writes
    # and signs it (and may amend it later with an addendum like anyone treating the client).
    if note.therapist_id != actor.membership.pk:
        raise PermissionDenied("Only the therapist who is writing this note can change it.")


def _lock(note: TreatmentNote) -> None:
    if note.is_signed:
        raise NoteLocked(
            f"This note was signed on {note.signed_at:%Y-%m-%d %H:%M} and cannot be changed. Add an addendum instead."
        )


@transaction.atomic
def note_start(*, actor: Actor, episode: Episode, visit_on: date | None = None) -> TreatmentNote:
    """A draft for today's visit, pre-filled from the plan and the last signed note."""
    require_write(actor, episode)
    require_open(episode)
    if actor.role != Role.THERAPIST and not access.can_manage_clinic(actor):
        raise PermissionDenied("Only therapists write treatment notes.")
    visit_on = visit_on or actor.today()
    draft = queries.note_prefill(episode)
    note = TreatmentNote(
        clinic_id=actor.clinic_id,
        client_id=episode.client_id,
        episode=episode,
        therapist=actor.membership,
        visit_on=visit_on,
        duration_minutes=draft.duration_minutes,
        home_care=draft.home_care,
        objective=draft.objective,
    )
    note.full_clean()
    note.save()
    NoteTechnique.objects.bulk_create(
        [
            NoteTechnique(clinic_id=actor.clinic_id, note=note, **t)
            for t in draft.techniques
            if t.get("region") and t.get("minutes") and t.get("pressure")
        ]
    )
    audit(AuditAction.CREATE, note, actor, episode.client_id)
    return note


def _check_note_techniques(items: Sequence[TechniqueInput], duration: int | None) -> None:
    errors: dict[str, list[str]] = {}
    known = knowledge.techniques()
    total = 0
    for n, t in enumerate(items):
        field = f"technique-{n}"
        if t.technique not in known:
            errors.setdefault(field, []).append("Choose a technique from the list.")
        if not t.region:
            errors.setdefault(field, []).append("Say where on the body.")
        check_region(field, t.region, t.side, errors)
        if not isinstance(t.minutes, int) or not 1 <= t.minutes <= 120:
            errors.setdefault(field, []).append("Minutes run from 1 to 120.")
        else:
            total += t.minutes
        if not isinstance(t.pressure, int) or not 1 <= t.pressure <= 5:
            errors.setdefault(field, []).append("Pressure is a level from 1 (light) to 5 (very deep).")
    if duration and total > duration:
        errors.setdefault("techniques", []).append(
            f"The techniques add up to {total} minutes, more than the {duration}-minute session."
        )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def note_update(
    *,
    actor: Actor,
    note: TreatmentNote,
    data: Mapping[str, Any],
    techniques: Sequence[TechniqueInput] | None = None,
) -> TreatmentNote:
    """Save a draft (also what autosave calls). A signed note refuses: :class:`NoteLocked`."""
    require_write(actor, note.episode)
    # Lock the row: a sign and an autosave racing on the same note must not both win.
    current = TreatmentNote.objects.select_for_update().get(pk=note.pk)
    _lock(current)
    _require_author(actor, current)
    apply_fields(note, data, NOTE_FIELDS)
    errors: dict[str, list[str]] = {}
    if note.modalities and not set(note.modalities) <= set(MODALITIES):
        errors["modalities"] = ["Modalities are heat and cold."]
    try:
        note.full_clean()
    except ValidationError as error:
        errors.update(error.message_dict)
    if techniques is not None:
        try:
            _check_note_techniques(techniques, note.duration_minutes)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    note.save()
    if techniques is not None:
        NoteTechnique.objects.filter(note=note).delete()
        NoteTechnique.objects.bulk_create(
            [
                NoteTechnique(
                    clinic_id=note.clinic_id,
                    note=note,
                    technique=t.technique,
                    region=t.region,
                    side=t.side,
                    minutes=t.minutes,
                    pressure=t.pressure,
                )
                for t in techniques
            ]
        )
    audit(AuditAction.UPDATE, note, actor, note.client_id)
    return note


@transaction.atomic
def note_sign(*, actor: Actor, note: TreatmentNote) -> TreatmentNote:
    """Lock the note and store its content hash. Refused on a day screening blocks treatment, or
    while a needed clearance is missing; the visit then counts against the usable referral."""
    require_write(actor, note.episode)
    current = TreatmentNote.objects.select_for_update().get(pk=note.pk)
    _lock(current)
    if note.therapist_id != actor.membership.pk:
        raise PermissionDenied("Only the therapist who wrote the note can sign it.")
    screening = queries.screening_on(note.episode, note.visit_on)
    if not screening.can_treat_today:
        reasons = " ".join(a.explanation for a in screening.by_action(screening.status))
        raise SigningRefused({"__all__": f"Screening says no treatment on {note.visit_on:%Y-%m-%d}: {reasons}"})
    if screening.uncleared:
        names = ", ".join(sorted({catalogue().rules[a.rule_id].name for a in screening.uncleared}))
        raise SigningRefused({"__all__": f"Record the physician's clearance first ({names})."})
    techniques = list(NoteTechnique.objects.filter(note=note))
    if not techniques:
        raise SigningRefused({"techniques": "Record at least one technique before signing."})
    if note.pain_pre is None or note.pain_post is None:
        raise SigningRefused({"pain_post": "Record pain before and after the session before signing."})
    referral = queries.usable_referral(note.episode, note.visit_on)
    note.referral = referral
    note.status = NoteStatus.SIGNED
    note.signed_at = timezone.now()
    note.signed_by = actor.membership
    note.content_hash = rules.content_hash(queries.note_content(note, techniques))
    note.save()
    audit(AuditAction.UPDATE, note, actor, note.client_id)
    return note


@transaction.atomic
def note_delete_draft(*, actor: Actor, note: TreatmentNote) -> None:
    require_write(actor, note.episode)
    current = TreatmentNote.objects.select_for_update().get(pk=note.pk)
    _lock(current)
    _require_author(actor, current)
    audit(AuditAction.DELETE, note, actor, note.client_id)
    note.delete()


@transaction.atomic
def addendum_add(*, actor: Actor, note: TreatmentNote, text: str, reason: str = "") -> Addendum:
    require_write(actor, note.episode)
    if not note.is_signed:
        raise ValidationError({"text": "This note is still a draft: change it directly."})
    if not text.strip():
        raise ValidationError({"text": "Write what the addendum adds or corrects."})
    now = timezone.now()
    addendum = Addendum(
        clinic_id=note.clinic_id,
        note=note,
        text=text.strip(),
        reason=reason.strip()[:200],
        signed_by=actor.membership,
        signed_at=now,
    )
    addendum.content_hash = rules.content_hash(
        {"note": note.pk, "note_hash": note.content_hash, "text": addendum.text, "reason": addendum.reason, "at": now}
    )
    addendum.save()
    audit(AuditAction.CREATE, addendum, actor, note.client_id)
    return addendum
