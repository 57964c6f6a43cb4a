"""Reads of treatment notes: what a signature covers, and what a new note starts from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mend import knowledge
from mend.clinical import rules
from mend.clinical.models import (
    Episode,
    NoteStatus,
    NoteTechnique,
    PlanOfCare,
    TreatmentNote,
)

# --- Notes ----------------------------------------------------------------------------------


def note_content(note: TreatmentNote, techniques: Sequence[NoteTechnique]) -> dict[str, Any]:
    """What a signature covers: every clinical field of the note and its techniques."""
    return {
        "note": note.pk,
        "client": note.client_id,
        "therapist": note.therapist_id,
        "visit_on": note.visit_on.isoformat(),
        "duration_minutes": note.duration_minutes,
        "subjective": note.subjective,
        "pain_pre": note.pain_pre,
        "sleep_quality": note.sleep_quality,
        "stress": note.stress,
        "objective": note.objective,
        "modalities": sorted(note.modalities or []),
        "pain_post": note.pain_post,
        "response": note.response,
        "adverse_events": note.adverse_events,
        "home_care": note.home_care,
        "plan_next": note.plan_next,
        "techniques": [
            [t.technique, t.region, t.side, t.minutes, t.pressure] for t in sorted(techniques, key=lambda t: t.pk)
        ],
    }


def note_hash_matches(note: TreatmentNote) -> bool:
    """Whether a signed note still holds what was signed."""
    return note.is_signed and note.content_hash == rules.content_hash(note_content(note, list(note.techniques.all())))


@dataclass(frozen=True, slots=True)
class NoteDraft:
    duration_minutes: int
    techniques: list[dict[str, Any]]
    home_care: str
    objective: str


def note_prefill(episode: Episode) -> NoteDraft:
    """A new note starts from the last signed note's techniques, else from the plan."""
    plan = PlanOfCare.objects.filter(episode=episode).first()
    last = (
        TreatmentNote.objects.filter(episode=episode, status=NoteStatus.SIGNED)
        .prefetch_related("techniques")
        .order_by("-visit_on", "-id")
        .first()
    )
    duration = plan.session_minutes if plan else 60
    if last is not None:
        techniques = [
            {"technique": t.technique, "region": t.region, "side": t.side, "minutes": t.minutes, "pressure": t.pressure}
            for t in last.techniques.all()
        ]
        return NoteDraft(last.duration_minutes, techniques, last.home_care, "")
    techniques = []
    if plan is not None and plan.techniques:
        share = max(5, duration // max(1, len(plan.techniques)))
        known = knowledge.techniques()
        for t in plan.techniques:
            default_pressure = known[t["technique"]].pressure if t["technique"] in known else 3
            techniques.append(
                {
                    "technique": t["technique"],
                    "region": t.get("region") or "",
                    "side": t.get("side") or "",
                    "minutes": share,
                    "pressure": t.get("pressure") or default_pressure,
                }
            )
    return NoteDraft(duration, techniques, plan.home_care if plan else "", "")
