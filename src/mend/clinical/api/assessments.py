"""Assessments and re-evaluations: pain map, range of motion against the norm table, PSFS and
palpation, each a nested list the PUT replaces whole."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from ninja import Router, Schema, Status
from pydantic import Field, field_validator

from mend import knowledge
from mend.clinical import queries, rules, services
from mend.clinical.api._common import person_name, region_name
from mend.clinical.models import Assessment, AssessmentKind, Episode, PainQuality, PalpationKind
from mend.clinical.services import PainInput, PalpationInput, PsfsInput, RomInput
from mend.platform.actor import Actor
from mend.platform.api import ERRORS, invalid
from mend.platform.http import ActorRequest

router = Router(tags=["assessments"])


class PainIn(Schema):
    region: str = Field(description="A body region id")
    side: str = Field("", description="left, right or bilateral")
    intensity: int = Field(description="0–10")
    quality: str = Field("", description=", ".join(PainQuality.values))

    @field_validator("quality")
    @classmethod
    def _known_quality(cls, value: str) -> str:
        if value and value not in PainQuality.values:
            raise ValueError(f"Choose one of {', '.join(PainQuality.values)}.")
        return value


class RomIn(Schema):
    motion: str = Field(description="A joint motion id of the norm table (for example shoulder_flexion)")
    side: str = ""
    mode: str = Field("active", description="active or passive")
    degrees: int


class PsfsIn(Schema):
    activity: str
    score: int = Field(description="0 (unable) to 10 (as before the problem)")


class PalpationIn(Schema):
    region: str
    side: str = ""
    kind: str = Field(description=", ".join(PalpationKind.values))
    note: str = ""

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in PalpationKind.values:
            raise ValueError(f"Choose one of {', '.join(PalpationKind.values)}.")
        return value


class AssessmentIn(Schema):
    """The whole assessment: a PUT replaces every nested list with what is sent."""

    kind: str = Field(AssessmentKind.INITIAL, description="initial or re_evaluation")
    assessed_on: date | None = Field(None, description="Default today")
    chief_complaint: str
    history: str = ""
    nprs: int | None = Field(None, description="Pain now, 0–10")
    posture: str = ""
    notes: str = ""
    pain_regions: list[PainIn] = []
    rom: list[RomIn] = []
    psfs: list[PsfsIn] = []
    palpation: list[PalpationIn] = []


class PainOut(Schema):
    region: str
    region_name: str
    side: str
    intensity: int
    quality: str


class RomOut(Schema):
    motion: str
    motion_name: str
    side: str
    mode: str
    degrees: int
    norm: int | None = Field(description="Normal active range in degrees, from the norm table")
    norm_source: str
    percent_of_normal: float | None = Field(description="None where the norm is 0° (full extension)")


class PsfsOut(Schema):
    activity: str
    score: int


class PalpationOut(Schema):
    region: str
    region_name: str
    side: str
    kind: str
    note: str


class AssessmentOut(Schema):
    id: int
    episode_id: int
    kind: str
    assessed_on: date
    therapist_name: str
    chief_complaint: str
    history: str
    nprs: int | None
    posture: str
    notes: str
    pain_regions: list[PainOut]
    rom: list[RomOut]
    psfs: list[PsfsOut]
    psfs_score: float | None = Field(description="Mean of the activity scores (Stratford 1995)")
    palpation: list[PalpationOut]


def _rom_dict(row: Any) -> dict[str, Any]:
    motion = knowledge.rom_motions().get(row.motion)
    return {
        "motion": row.motion,
        "motion_name": motion.name if motion else row.motion,
        "side": row.side,
        "mode": row.mode,
        "degrees": row.degrees,
        "norm": motion.normal if motion else None,
        "norm_source": motion.source_text if motion else "",
        "percent_of_normal": rules.percent_of_normal(row.degrees, motion.normal) if motion else None,
    }


def assessment_dict(a: Assessment) -> dict[str, Any]:
    """An assessment whose therapist and nested lists are loaded (``queries.assessment_with_parts``)."""
    psfs = list(a.psfs.all())
    return {
        "id": a.pk,
        "episode_id": a.episode_id,
        "kind": a.kind,
        "assessed_on": a.assessed_on,
        "therapist_name": person_name(a.therapist),
        "chief_complaint": a.chief_complaint,
        "history": a.history,
        "nprs": a.nprs,
        "posture": a.posture,
        "notes": a.notes,
        "pain_regions": [
            {
                "region": p.region,
                "region_name": region_name(p.region),
                "side": p.side,
                "intensity": p.intensity,
                "quality": p.quality,
            }
            for p in a.pain_regions.all()
        ],
        "rom": [_rom_dict(r) for r in a.rom.all()],
        "psfs": [{"activity": s.activity, "score": s.score} for s in psfs],
        "psfs_score": round(sum(s.score for s in psfs) / len(psfs), 1) if psfs else None,
        "palpation": [
            {"region": f.region, "region_name": region_name(f.region), "side": f.side, "kind": f.kind, "note": f.note}
            for f in a.palpation.all()
        ],
    }


def _save(actor: Actor, episode: Episode, payload: AssessmentIn, assessment: Assessment | None) -> Assessment:
    data = payload.dict(exclude=set(queries.PARTS))
    if data["assessed_on"] is None:
        del data["assessed_on"]  # a new assessment is dated today; a replaced one keeps its date
    return services.assessment_save(
        actor=actor,
        episode=episode,
        assessment=assessment,
        data=data,
        pain=[PainInput(p.region, p.intensity, p.side, p.quality) for p in payload.pain_regions],
        rom=[RomInput(r.motion, r.degrees, r.side, r.mode) for r in payload.rom],
        psfs=[PsfsInput(s.activity, s.score) for s in payload.psfs],
        palpation=[PalpationInput(f.region, f.kind, f.side, f.note) for f in payload.palpation],
    )


@router.get(
    "/episodes/{episode_id}/assessments", response={200: list[AssessmentOut], **ERRORS}, summary="List assessments"
)
def list_assessments(request: ActorRequest, episode_id: int) -> Any:
    return [assessment_dict(a) for a in queries.assessment_list(request.actor, episode_id)]


@router.post(
    "/episodes/{episode_id}/assessments",
    response={201: AssessmentOut, **ERRORS},
    summary="Record an assessment",
    description="Impossible values (a range of motion beyond the norm table's maximum, pain above 10) are refused "
    "with the row named: `rom.0`, `pain_regions.2`.",
)
def create_assessment(request: ActorRequest, episode_id: int, payload: AssessmentIn) -> Any:
    actor = request.actor
    episode = queries.episode_or_404(actor, episode_id)
    try:
        assessment = _save(actor, episode, payload, None)
    except ValidationError as error:
        return invalid(request, error)
    return Status(201, assessment_dict(queries.assessment_with_parts(actor, assessment.pk)))


@router.get("/assessments/{assessment_id}", response={200: AssessmentOut, **ERRORS}, summary="Read an assessment")
def get_assessment(request: ActorRequest, assessment_id: int) -> Any:
    return assessment_dict(queries.assessment_for_reading(request.actor, assessment_id))


@router.put("/assessments/{assessment_id}", response={200: AssessmentOut, **ERRORS}, summary="Replace an assessment")
def replace_assessment(request: ActorRequest, assessment_id: int, payload: AssessmentIn) -> Any:
    actor = request.actor
    assessment = queries.assessment_or_404(actor, assessment_id)
    try:
        _save(actor, assessment.episode, payload, assessment)
    except ValidationError as error:
        return invalid(request, error)
    # The nested rows were replaced: read them afresh.
    return assessment_dict(queries.assessment_with_parts(actor, assessment.pk))
