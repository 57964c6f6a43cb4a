"""Writes of assessments: pain map, range of motion, PSFS and palpation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from mend import knowledge
from mend.audit.models import Action as AuditAction
from mend.clinical.models import (
    Assessment,
    Episode,
    PainQuality,
    PainRegion,
    PalpationFinding,
    PalpationKind,
    PsfsActivity,
    RomMeasurement,
)
from mend.clinical.screening import SIDES
from mend.clinical.services.common import (
    audit,
    check_region,
    require_open,
    require_write,
)
from mend.knowledge.outcome_measures import measures
from mend.platform.actor import Actor
from mend.platform.errors import path
from mend.writes import apply_fields

# --- Assessment -----------------------------------------------------------------------------

ASSESSMENT_FIELDS = {"kind", "assessed_on", "chief_complaint", "history", "nprs", "posture", "notes"}


@dataclass(frozen=True, slots=True)
class PainInput:
    region: str
    intensity: int
    side: str = ""
    quality: str = ""


@dataclass(frozen=True, slots=True)
class RomInput:
    motion: str
    degrees: int
    side: str = ""
    mode: str = "active"


@dataclass(frozen=True, slots=True)
class PsfsInput:
    activity: str
    score: int


@dataclass(frozen=True, slots=True)
class PalpationInput:
    region: str
    kind: str
    side: str = ""
    note: str = ""


def _check_assessment_parts(
    pain: Sequence[PainInput], rom: Sequence[RomInput], psfs: Sequence[PsfsInput], palpation: Sequence[PalpationInput]
) -> None:
    errors: dict[str, list[str]] = {}
    motions = knowledge.rom_motions()
    for n, p in enumerate(pain):
        field = path("pain_regions", n)
        check_region(field, p.region, p.side, errors)
        if not isinstance(p.intensity, int) or not 0 <= p.intensity <= 10:
            errors.setdefault(field, []).append(f"Pain intensity is 0 to 10; {p.intensity} is out of range.")
    seen = set()
    for p in pain:
        if (p.region, p.side) in seen:
            errors.setdefault("pain_regions", []).append(
                f"{p.region} {p.side} is on the pain map twice.".replace("  ", " ")
            )
        seen.add((p.region, p.side))
    for n, r in enumerate(rom):
        field = path("rom", n)
        motion = motions.get(r.motion)
        if motion is None:
            errors.setdefault(field, []).append(f"{r.motion!r} is not a joint motion in the norm table.")
            continue
        if not isinstance(r.degrees, int) or not 0 <= r.degrees <= motion.max:
            errors.setdefault(field, []).append(
                f"{motion.name} of {r.degrees}° is not possible; the norm is {motion.normal}° and Mend accepts "
                f"up to {motion.max}°."
            )
        if r.side and r.side not in SIDES:
            errors.setdefault(field, []).append("Side must be left, right or both sides.")
        if r.mode not in ("active", "passive"):
            errors.setdefault(field, []).append("Range is active or passive.")
    count = measures()["psfs"].activities
    # No PSFS rows means the PSFS was not taken at this assessment; once taken, it has the
    # instrument's number of activities.
    if count is not None and psfs and not count.min <= len(psfs) <= count.max:
        errors.setdefault("psfs", []).append(
            f"The PSFS takes {count.min} to {count.max} activities, each rated; {len(psfs)} "
            f"{'was' if len(psfs) == 1 else 'were'} given."
        )
    for n, s in enumerate(psfs):
        field = path("psfs", n)
        if not s.activity.strip():
            errors.setdefault(field, []).append("Name the activity.")
        if not isinstance(s.score, int) or not 0 <= s.score <= 10:
            errors.setdefault(field, []).append(f"PSFS scores run from 0 (unable) to 10; {s.score} is out of range.")
    for n, p in enumerate(pain):
        if p.quality and p.quality not in PainQuality.values:
            errors.setdefault(path("pain_regions", n), []).append("Choose the quality of the pain from the list.")
    for n, f in enumerate(palpation):
        check_region(path("palpation", n), f.region, f.side, errors)
        if f.kind not in PalpationKind.values:
            errors.setdefault(path("palpation", n), []).append("Choose what was palpated from the list.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def assessment_save(
    *,
    actor: Actor,
    episode: Episode,
    data: Mapping[str, Any],
    pain: Sequence[PainInput] = (),
    rom: Sequence[RomInput] = (),
    psfs: Sequence[PsfsInput] = (),
    palpation: Sequence[PalpationInput] = (),
    assessment: Assessment | None = None,
) -> Assessment:
    """Create or replace an assessment with its pain map, ROM, PSFS and palpation findings."""
    require_write(actor, episode)
    require_open(episode)
    created = assessment is None
    assessment = assessment or Assessment(
        clinic_id=actor.clinic_id, client_id=episode.client_id, episode=episode, therapist=actor.membership
    )
    if assessment.episode_id != episode.pk:
        raise ValueError("That assessment belongs to another episode.")
    apply_fields(assessment, data, ASSESSMENT_FIELDS)
    if not assessment.assessed_on:
        assessment.assessed_on = actor.today()
    errors: dict[str, list[str]] = {}
    try:
        assessment.full_clean()
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        _check_assessment_parts(pain, rom, psfs, palpation)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    assessment.save()
    if not created:
        for related in (PainRegion, RomMeasurement, PsfsActivity, PalpationFinding):
            related.objects.filter(assessment=assessment).delete()
    common = {"clinic_id": actor.clinic_id, "assessment": assessment}
    PainRegion.objects.bulk_create(
        [PainRegion(region=p.region, side=p.side, intensity=p.intensity, quality=p.quality, **common) for p in pain]
    )
    RomMeasurement.objects.bulk_create(
        [RomMeasurement(motion=r.motion, side=r.side, mode=r.mode, degrees=r.degrees, **common) for r in rom]
    )
    PsfsActivity.objects.bulk_create([PsfsActivity(activity=s.activity.strip(), score=s.score, **common) for s in psfs])
    PalpationFinding.objects.bulk_create(
        [PalpationFinding(region=f.region, side=f.side, kind=f.kind, note=f.note, **common) for f in palpation]
    )
    audit(AuditAction.CREATE if created else AuditAction.UPDATE, assessment, actor, episode.client_id)
    return assessment
