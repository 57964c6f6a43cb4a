"""Assessment and re-evaluation pages: the form with its pain map, range of motion, PSFS and
palpation rows, and the read-only record."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from mend import knowledge
from mend.clinical import queries, rules, services
from mend.clinical.forms.assessments import ROW_SETS, AssessmentForm, RowFormSet, filled_rows
from mend.clinical.models import Assessment, AssessmentKind, Episode
from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required, error_messages, merge_validation_error

PATH_NAMES = {"pain": "pain_regions", "rom": "rom", "psfs": "psfs", "palpation": "palpation"}
ROW_TITLES = {
    "pain": ("Pain map", "Choose regions on the body map, or add rows. Intensity 0 (none) to 10 (worst)."),
    "rom": ("Range of motion", "Degrees measured; shown against the normal range of the norm table."),
    "psfs": (
        "Patient-Specific Functional Scale (PSFS)",
        "Activities the client finds hard: 0 = unable to do it, 10 = able at the level before the problem.",
    ),
    "palpation": ("Palpation", "Trigger points, tone, adhesions and tenderness by region."),
}


@dataclass(frozen=True, slots=True)
class Norm:
    """A range-of-motion value against its norm."""

    motion: str
    normal: int
    percent: float | None
    source: str
    source_text: str


def rom_norm(motion_id: Any, degrees: Any) -> Norm | None:
    motion = knowledge.rom_motions().get(str(motion_id or ""))
    if motion is None:
        return None
    try:
        value = int(degrees)
    except (TypeError, ValueError):
        value = None
    percent = rules.percent_of_normal(value, motion.normal) if value is not None and value >= 0 else None
    return Norm(motion.name, motion.normal, percent, motion.source.upper(), motion.source_text)


@dataclass
class RowSet:
    prefix: str
    legend: str
    help: str
    formset: RowFormSet
    errors: list[str] = field(default_factory=list)

    @property
    def shows_norm(self) -> bool:
        return self.prefix == "rom"

    @property
    def headers(self) -> list[str]:
        return [f.label for f in self.formset.empty_form.visible_fields() if f.name != "DELETE"]


def _row_initial(assessment: Assessment | None) -> dict[str, list[dict[str, Any]]]:
    if assessment is None:
        return {prefix: [] for prefix in ROW_SETS}
    return {
        "pain": [
            {"region": p.region, "side": p.side, "intensity": p.intensity, "quality": p.quality}
            for p in assessment.pain_regions.all()
        ],
        "rom": [
            {"motion": r.motion, "side": r.side, "mode": r.mode, "degrees": r.degrees} for r in assessment.rom.all()
        ],
        "psfs": [{"activity": s.activity, "score": s.score} for s in assessment.psfs.all()],
        "palpation": [
            {"region": f.region, "side": f.side, "kind": f.kind, "note": f.note} for f in assessment.palpation.all()
        ],
    }


def _suggestions(previous: Assessment | None) -> dict[str, list[dict[str, Any]]]:
    """A re-evaluation re-asks last time's PSFS activities and re-measures last time's motions."""
    if previous is None:
        return {}
    return {
        "psfs": [{"activity": s.activity} for s in previous.psfs.all()],
        "rom": [{"motion": r.motion, "side": r.side, "mode": r.mode} for r in previous.rom.all()],
    }


def _pain_for_map(formset: RowFormSet) -> list[SimpleNamespace]:
    """The pain rows as typed (or as saved), for the body map's colours."""
    rows = []
    for form in formset.forms:
        if form.is_bound and form["DELETE"].value():
            continue
        region = form["region"].value()
        if region:
            rows.append(
                SimpleNamespace(
                    region=region,
                    side=form["side"].value() or "",
                    intensity=form["intensity"].value(),
                    quality=form["quality"].value() or "",
                )
            )
    return rows


@actor_required
@require_http_methods(["GET", "POST"])
def assessment_edit(request: ActorRequest, pk: int | None = None, assessment_id: int | None = None) -> HttpResponse:
    actor = request.actor
    start = queries.assessment_form(actor, episode_id=pk, assessment_id=assessment_id, reading=request.method == "GET")
    episode, previous = start.episode, start.previous
    assessment: Assessment | None = start.assessment
    today = actor.today()
    if assessment is None:
        initial: dict[str, Any] = {
            "kind": AssessmentKind.RE_EVALUATION if previous else AssessmentKind.INITIAL,
            "assessed_on": today,
            "chief_complaint": previous.chief_complaint if previous else "",
        }
    else:
        initial = {name: getattr(assessment, name) for name in AssessmentForm.base_fields}
    data = request.POST if request.method == "POST" else None
    form = AssessmentForm(data, initial=initial)
    saved_rows = _row_initial(assessment)
    suggested = _suggestions(previous)
    blanks = 1 if assessment is not None else 3
    formsets = {
        prefix: cls(
            data,
            prefix=prefix,
            initial=saved_rows[prefix],
            suggestions=suggested.get(prefix, ()),
            blanks=0 if suggested.get(prefix) else blanks,
        )
        for prefix, cls in ROW_SETS.items()
    }
    set_errors: dict[str, list[str]] = {prefix: [] for prefix in ROW_SETS}

    if request.method == "POST":
        # Validate every part (no short-circuit), so each shows its own errors at once.
        checks = [form.is_valid(), *(fs.is_valid() for fs in formsets.values())]
        valid = all(checks)
        if valid:
            rows = {prefix: filled_rows(fs) for prefix, fs in formsets.items()}
            try:
                assessment = services.assessment_save(
                    actor=actor,
                    episode=episode,
                    data=form.data_for_service(),
                    pain=[f.to_input() for f in rows["pain"]],
                    rom=[f.to_input() for f in rows["rom"]],
                    psfs=[f.to_input() for f in rows["psfs"]],
                    palpation=[f.to_input() for f in rows["palpation"]],
                    assessment=assessment,
                )
            except ValidationError as error:
                # Services name rows by the payload's lists; the page's formsets by their prefixes.
                merge_validation_error(
                    form,
                    error,
                    rows={PATH_NAMES[prefix]: sent for prefix, sent in rows.items()},
                    lists={PATH_NAMES[prefix]: found for prefix, found in set_errors.items()},
                )
            else:
                messages.success(request, f"{assessment} saved.")
                return redirect("assessment_detail", assessment_id=assessment.pk)
        for prefix, fs in formsets.items():
            set_errors[prefix].extend(error_messages(fs.non_form_errors()))

    for rom_form in formsets["rom"].forms:
        rom_form.norm = rom_norm(rom_form["motion"].value(), rom_form["degrees"].value())
    row_sets = [
        RowSet(prefix, *ROW_TITLES[prefix], formset=fs, errors=set_errors[prefix]) for prefix, fs in formsets.items()
    ]
    on = form.cleaned_data.get("assessed_on") if form.is_bound and hasattr(form, "cleaned_data") else None
    screening = queries.screening_on(episode, on or (assessment.assessed_on if assessment else today))
    problems = len(form.errors) + sum(len(rs.errors) + sum(1 for f in rs.formset.forms if f.errors) for rs in row_sets)
    context = {
        "episode": episode,
        "client": episode.client,
        "assessment": assessment if assessment_id is not None else None,
        "form": form,
        "row_sets": row_sets,
        "pain": row_sets[0],
        "other_rows": row_sets[1:],
        "pain_regions": _pain_for_map(formsets["pain"]),
        "avoided": screening.avoided_regions,
        "problems": problems,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "clinical/assessment_form.html", context, status=status)


@dataclass(frozen=True, slots=True)
class RomRow:
    motion: str
    side: str
    mode: str
    degrees: int
    norm: Norm | None


def rom_rows(measurements: Iterable[Any]) -> list[RomRow]:
    return [
        RomRow(
            m.motion,
            m.get_side_display() if m.side else "",
            m.get_mode_display(),
            m.degrees,
            rom_norm(m.motion, m.degrees),
        )
        for m in measurements
    ]


@actor_required
def assessment_detail(request: ActorRequest, assessment_id: int) -> HttpResponse:
    assessment = queries.assessment_for_reading(request.actor, assessment_id)
    episode: Episode = assessment.episode
    screening = queries.screening_on(episode, assessment.assessed_on)
    psfs = list(assessment.psfs.all())
    context = {
        "episode": episode,
        "client": assessment.client,
        "assessment": assessment,
        "therapist": assessment.therapist.user.get_full_name(),
        "pain_regions": assessment.pain_regions.all(),
        "avoided": screening.avoided_regions,
        "screening": screening,
        "rom": rom_rows(assessment.rom.all()),
        "psfs": psfs,
        "psfs_mean": round(sum(s.score for s in psfs) / len(psfs), 1) if psfs else None,
        "palpation": assessment.palpation.all(),
    }
    return render(request, "clinical/assessment_detail.html", context)
