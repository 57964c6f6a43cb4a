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
from mend.clinical import queries
from mend.clinical.models import (
    Addendum,
    Episode,
    NoteStatus,
    NoteTechnique,
    TreatmentNote,
)
from mend.clinical.seal import seal
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
from mend.platform.errors import path
from mend.writes import apply_fields

# --- Treatment notes --------------------------------------------------------------------------

NOTE_FIELDS = {
    "visit_on",
    "duration_minutes",
    "subjective",
    "pain_pre",
    "sleep_quality",
    "stress",
    "muscle_tension",
    "medication_days",
    "medication_note",
    "objective",
    "modalities",
    "pain_post",
    "response",
    "adverse_events",
    "home_care",
    "plan_next",
}
MODALITIES = ("heat", "cold")
# What a note's counts and ratings asked at each visit accept, said in the words of the form.
_RANGE_MESSAGES = {
    "muscle_tension": "Muscle tension since the last visit is a rating from 0 (none) to 10 (worst).",
    "medication_days": "Days with pain medication count the last 7 days: a whole number from 0 to 7.",
}


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
def note_start(
    *, actor: Actor, episode: Episode, visit_on: date | None = None, duration_minutes: int | None = None
) -> TreatmentNote:
    """A draft for today's visit, pre-filled from the plan and the last signed note; its length
    ``duration_minutes`` when the visit's appointment gives it (the Today page does)."""
    require_write(actor, episode)
    # Lock the episode as episode_discharge does: a draft must not appear while a discharge commits.
    require_open(Episode.objects.select_for_update().only("discharged_on").get(pk=episode.pk))
    if actor.role != Role.THERAPIST and not access.can_manage_clinic(actor):
        raise PermissionDenied("Only therapists write treatment notes.")
    if duration_minutes is not None and not 5 <= duration_minutes <= 180:
        raise ValidationError({"duration_minutes": "The session length runs from 5 to 180 minutes."})
    visit_on = visit_on or actor.today()
    draft = queries.note_prefill(episode)
    note = TreatmentNote(
        clinic_id=actor.clinic_id,
        client_id=episode.client_id,
        episode=episode,
        therapist=actor.membership,
        visit_on=visit_on,
        duration_minutes=duration_minutes or draft.duration_minutes,
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
        row = path("techniques", n)
        if t.technique not in known:
            errors.setdefault(row, []).append("Choose a technique from the list.")
        if not t.region:
            errors.setdefault(row, []).append("Say where on the body.")
        check_region(row, t.region, t.side, errors)
        if not isinstance(t.minutes, int) or not 1 <= t.minutes <= 120:
            errors.setdefault(row, []).append("Minutes run from 1 to 120.")
        else:
            total += t.minutes
        if not isinstance(t.pressure, int) or not 1 <= t.pressure <= 5:
            errors.setdefault(row, []).append("Pressure is a level from 1 (light) to 5 (very deep).")
    if duration and total > duration:
        errors.setdefault("techniques", []).append(
            f"The techniques add up to {total} minutes, more than the {duration}-minute session."
        )
    if errors:
        raise ValidationError(errors)


def _locked_row(note: TreatmentNote) -> TreatmentNote:
    """The note's row, locked until the transaction ends, as the database holds it now.

    Autosave and signing race on the same note. Each works on this fresh, locked row, never on
    the caller's copy: a copy loaded before an autosave committed would bring its old text back.
    The episode's row comes with it and is locked too (select_related rows are), as a discharge
    locks it: whether the episode is still open is read under that lock, so a discharge cannot
    commit between the check and the write.
    """
    return TreatmentNote.objects.select_for_update().select_related("episode").get(pk=note.pk)


def _sync(caller: TreatmentNote, saved: TreatmentNote) -> TreatmentNote:
    """Bring the caller's copy up to what was saved, so code holding it sees the truth too."""
    if caller is not saved:
        for field in TreatmentNote._meta.concrete_fields:
            setattr(caller, field.attname, getattr(saved, field.attname))
    return saved


@transaction.atomic
def note_update(
    *,
    actor: Actor,
    note: TreatmentNote,
    data: Mapping[str, Any],
    techniques: Sequence[TechniqueInput] | None = None,
) -> TreatmentNote:
    """Save a draft (also what autosave calls) and return it. A signed note refuses: :class:`NoteLocked`."""
    require_write(actor, note.episode)
    current = _locked_row(note)
    _lock(current)
    _require_author(actor, current)
    require_open(current.episode)
    apply_fields(current, data, NOTE_FIELDS)
    errors: dict[str, list[str]] = {}
    if current.modalities and not set(current.modalities) <= set(MODALITIES):
        errors["modalities"] = ["Modalities are heat and cold."]
    try:
        current.full_clean()
    except ValidationError as error:
        errors.update(error.message_dict)
    for name, message in _RANGE_MESSAGES.items():
        if name in errors:  # Django's own words ("less than or equal to 7") do not say what is counted
            errors[name] = [message]
    if techniques is not None:
        try:
            _check_note_techniques(techniques, current.duration_minutes)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    current.save()
    if techniques is not None:
        NoteTechnique.objects.filter(note=current).delete()
        NoteTechnique.objects.bulk_create(
            [
                NoteTechnique(
                    clinic_id=current.clinic_id,
                    note=current,
                    technique=t.technique,
                    region=t.region,
                    side=t.side,
                    minutes=t.minutes,
                    pressure=t.pressure,
                )
                for t in techniques
            ]
        )
    audit(AuditAction.UPDATE, current, actor, current.client_id)
    return _sync(note, current)


@transaction.atomic
def note_sign(*, actor: Actor, note: TreatmentNote) -> TreatmentNote:
    """Sign the note as the database holds it: seal its content and lock it.

    Refused (:class:`SigningRefused`) on a day screening blocks treatment, while a needed
    clearance is missing, or while a technique row breaks a restriction or pressure cap of that
    day's screening. The visit then counts against the referral usable that day, and the seal is
    recorded in the audit chain.
    """
    require_write(actor, note.episode)
    current = _locked_row(note)
    _lock(current)
    if current.therapist_id != actor.membership.pk:
        raise PermissionDenied("Only the therapist who wrote the note can sign it.")
    require_open(current.episode)
    techniques = list(NoteTechnique.objects.filter(note=current).order_by("pk"))
    refusals = queries.signing_refusals(current, techniques)
    if not techniques:
        refusals.setdefault("techniques", []).append("Record at least one technique before signing.")
    if current.pain_pre is None or current.pain_post is None:
        refusals.setdefault("pain_post", []).append("Record pain before and after the session before signing.")
    if refusals:
        raise SigningRefused(refusals)
    current.referral = queries.usable_referral(current.episode, current.visit_on)
    current.status = NoteStatus.SIGNED
    current.signed_at = timezone.now()
    current.signed_by = actor.membership
    current.content_hash = seal(queries.note_content(current, techniques))
    current.save()
    audit(AuditAction.UPDATE, current, actor, current.client_id, digest=current.content_hash)
    return _sync(note, current)


@transaction.atomic
def note_delete_draft(*, actor: Actor, note: TreatmentNote) -> None:
    require_write(actor, note.episode)
    current = _locked_row(note)
    _lock(current)
    _require_author(actor, current)
    require_open(current.episode)
    audit(AuditAction.DELETE, note, actor, note.client_id)
    note.delete()


@transaction.atomic
def addendum_add(*, actor: Actor, note: TreatmentNote, text: str, reason: str = "") -> Addendum:
    """Amend a signed note with a signed addendum. Unlike every other write, an addendum is taken
    after discharge too: a correction of the signed record must stay possible once the episode is
    closed, and it changes nothing that was signed."""
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
    addendum.content_hash = seal(queries.addendum_content(addendum, note))
    addendum.save()
    audit(AuditAction.CREATE, addendum, actor, note.client_id, digest=addendum.content_hash)
    return addendum
