"""Reads of treatment notes: what a signature covers, and what a new note starts from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from mend import knowledge
from mend.clinical import rules
from mend.clinical.models import (
    Addendum,
    Episode,
    NoteStatus,
    NoteTechnique,
    PlanOfCare,
    TreatmentNote,
)
from mend.clinical.queries.loaders import audit_read, episode_or_404, in_visible_episode, note_or_404, page_of
from mend.clinical.queries.screening import screening_on
from mend.clinical.screening import Screening, catalogue
from mend.platform.actor import Actor
from mend.platform.errors import WHOLE, path

# --- Reading notes ----------------------------------------------------------------------------


def _addenda() -> Prefetch[str, QuerySet[Addendum], str]:
    return Prefetch("addenda", queryset=Addendum.objects.select_related("signed_by__user"))


def note_with_details(actor: Actor, note_id: int | str) -> TreatmentNote:
    """One note with its episode, client, author and signer (one query), its techniques (one) and
    its addenda with their signers (one), not audited: for a write's answer or a refused write's
    page, which show what the record holds now."""
    note = in_visible_episode(
        actor, TreatmentNote, note_id, "treatment note", "episode", "client", "therapist__user", "signed_by__user"
    )
    prefetch_related_objects([note], "techniques", _addenda())
    return note


def note_for_reading(actor: Actor, note_id: int | str) -> TreatmentNote:
    """One note with everything its page and the API show (three queries), audited as a view."""
    note = note_with_details(actor, note_id)
    audit_read(actor, obj=note, client_id=note.client_id)
    return note


def note_for_editing(actor: Actor, note_id: int | str, *, reading: bool) -> TreatmentNote:
    """A note for its edit page. Opening the editor of one's own draft (``reading``) shows it:
    audited as a view. A signed note or another therapist's draft is not shown there (the page
    sends to the note itself, which audits its own read), nor is a form re-shown after a refused save."""
    note = note_or_404(actor, note_id)
    if reading and not note.is_signed and note.therapist_id == actor.membership.pk:
        audit_read(actor, obj=note, client_id=note.client_id)
    return note


def _listed_notes() -> QuerySet[TreatmentNote]:
    return TreatmentNote.objects.select_related("therapist__user", "signed_by__user").prefetch_related(
        "techniques", _addenda()
    )


def note_page(
    actor: Actor, episode_id: int | str, *, page: int = 1, page_size: int = 25
) -> tuple[list[TreatmentNote], int]:
    """A page of the episode's notes, newest visit first, each with techniques and addenda (four
    queries however many), audited as a list read."""
    episode = episode_or_404(actor, episode_id)
    notes, count = page_of(_listed_notes().filter(episode=episode), page, page_size)
    audit_read(actor, client_id=episode.client_id, what="clinical.note_list", of=episode.pk)
    return notes, count


def previous_signed_note(note: TreatmentNote) -> TreatmentNote | None:
    """The signed note before this one's visit (its plan and pain after), for the edit page."""
    return (
        TreatmentNote.objects.filter(episode_id=note.episode_id, status=NoteStatus.SIGNED, visit_on__lte=note.visit_on)
        .exclude(pk=note.pk)
        .order_by("-visit_on", "-id")
        .only("visit_on", "plan_next", "pain_post")
        .first()
    )


def with_signer(addendum: Addendum) -> Addendum:
    """The addendum with its signer's name loaded, for the API's answer."""
    prefetch_related_objects([addendum], "signed_by__user")
    return addendum


# --- Notes ----------------------------------------------------------------------------------

# Asked at every visit since clinical migration 0007 (see note_content).
SEALED_WHEN_RECORDED = ("muscle_tension", "medication_days", "medication_note")


def note_content(note: TreatmentNote, techniques: Sequence[NoteTechnique]) -> dict[str, Any]:
    """What a signature covers: every clinical field of the note and its techniques."""
    content: dict[str, Any] = {
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
    # Fields added after notes were first signed are in the content only when recorded, so a note
    # signed before them (or without them) keeps its seal. getattr: migration 0004 seals through
    # this function with its historical model, which has none of them.
    for name in SEALED_WHEN_RECORDED:
        value = getattr(note, name, None)
        if value is not None and value != "":
            content[name] = value
    return content


def addendum_content(addendum: Addendum, note: TreatmentNote) -> dict[str, Any]:
    """What an addendum's signature covers: its text and reason, bound to the note's own seal."""
    return {
        "note": note.pk,
        "note_seal": note.content_hash,
        "text": addendum.text,
        "reason": addendum.reason,
        "at": addendum.signed_at,
        "by": addendum.signed_by_id,
    }


class TechniqueRow(Protocol):
    """A technique row as a note holds it, saved (NoteTechnique) or typed (the form's row).

    Read-only members: a model field accepts more on assignment than it gives back on reading.
    """

    @property
    def technique(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def side(self) -> str: ...
    @property
    def pressure(self) -> int | None: ...


def technique_row_label(row: int, technique: str, region: str, side: str = "") -> str:
    """How a person names a technique row: 'Row 2 (Deep tissue massage, Lower back, left)'."""
    known, regions = knowledge.techniques(), knowledge.body_regions()
    parts = [known[technique].name if technique in known else technique]
    if region:
        parts.append(regions[region].name if region in regions else region)
    if side:
        parts.append("both sides" if side == "bilateral" else side)
    return f"Row {row + 1} ({', '.join(parts)})"


def technique_warnings(screening: Screening, rows: Sequence[TechniqueRow]) -> dict[int, list[str]]:
    """For each technique row (by position) that breaks an active restriction, avoided region or
    pressure cap of ``screening`` (region and side aware), what it breaks, naming the rule."""
    probes = [rules.PlannedTechnique(r.technique, r.region or None, r.side or None, r.pressure) for r in rows]
    names = catalogue().rules
    found: dict[int, list[str]] = {}
    for hit in rules.technique_conflicts(probes, screening):
        rule_id = hit.conflict.rule_id
        rule = names[rule_id].name if rule_id in names else rule_id
        found.setdefault(hit.row, []).append(f"Breaks today's screening ({rule}): {hit.conflict.message}")
    return found


def signing_refusals(note: TreatmentNote, techniques: Sequence[TechniqueRow]) -> dict[str, list[str]]:
    """Why the screening of the visit's day forbids signing ``note``, by field path; empty when it may.

    A REFER or BLOCK stops the visit; a missing clearance holds signing; and, as a BLOCK does,
    every technique row that breaks a restriction or pressure cap of that day, named with the rule.
    """
    screening = screening_on(note.episode, note.visit_on)
    if not screening.can_treat_today:
        reasons = " ".join(a.explanation for a in screening.by_action(screening.status))
        return {WHOLE: [f"Screening says no treatment on {note.visit_on:%Y-%m-%d}: {reasons}"]}
    refusals: dict[str, list[str]] = {}
    if screening.uncleared:
        names = ", ".join(sorted({catalogue().rules[a.rule_id].name for a in screening.uncleared}))
        refusals[WHOLE] = [f"Record the physician's clearance first ({names})."]
    for row, messages in technique_warnings(screening, techniques).items():
        t = techniques[row]
        label = technique_row_label(row, t.technique, t.region, t.side)
        refusals[path("techniques", row)] = [f"{label}: {message}" for message in messages]
    return refusals


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
