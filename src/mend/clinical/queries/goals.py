"""Reads for goals: which measures a goal can follow, measurements over time, goal status."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.http import Http404

from mend import knowledge
from mend.clinical import rules
from mend.clinical.models import (
    Assessment,
    Episode,
    Goal,
    NoteStatus,
    TreatmentNote,
)
from mend.clinical.queries.loaders import audit_read, episode_or_404, goal_or_404
from mend.clinical.rules import Direction, GoalState
from mend.platform.actor import Actor

# --- Measures a goal can follow -----------------------------------------------------------------
# "nprs" (pain 0–10, lower is better), "psfs:<activity>" (0–10, higher is better),
# "rom:<motion>:<side>" (degrees, higher is better).


def measure_problem(measure: str) -> str | None:
    """Why ``measure`` cannot be a goal's measure, or None when it can."""
    kind, _, rest = (measure or "").partition(":")
    if kind == "nprs" and not rest:
        return None
    if kind == "psfs" and rest.strip():
        return None
    if kind == "rom":
        motion, _, side = rest.partition(":")
        if motion in knowledge.rom_motions() and side in ("", "left", "right", "bilateral"):
            return None
        return "Choose a joint motion from the norm table."
    return "Choose pain (NPRS), a PSFS activity or a range of motion."


def measure_direction(measure: str) -> str:
    return Direction.LOWER if measure == "nprs" else Direction.HIGHER


def measure_range(measure: str) -> tuple[float, float]:
    if measure.startswith("rom:"):
        motion = knowledge.rom_motions()[measure.split(":")[1]]
        return 0.0, float(motion.max)
    return 0.0, 10.0


def measure_label(measure: str) -> str:
    kind, _, rest = measure.partition(":")
    if kind == "nprs":
        return "Pain (NPRS)"
    if kind == "psfs":
        return f"PSFS: {rest}"
    if kind == "rom":
        motion, _, side = rest.partition(":")
        name = knowledge.rom_motions()[motion].name if motion in knowledge.rom_motions() else motion
        return f"{name}, {side}" if side else name
    return measure


@dataclass(frozen=True, slots=True)
class Measurement:
    on: date
    value: float
    source: str  # "assessment" or "note"


def measurements(assessments: Sequence[Assessment], notes: Sequence[TreatmentNote]) -> dict[str, list[Measurement]]:
    """Every goal-measure time series of an episode, oldest first, from already-loaded rows.

    Pain comes from assessments and from signed notes (pain before the session); PSFS and range
    of motion from assessments.
    """
    series: dict[str, list[Measurement]] = {}

    def add(key: str, on: date, value: float, source: str) -> None:
        series.setdefault(key, []).append(Measurement(on, float(value), source))

    for a in sorted(assessments, key=lambda a: (a.assessed_on, a.pk)):
        if a.nprs is not None:
            add("nprs", a.assessed_on, a.nprs, "assessment")
        for s in a.psfs.all():
            add(f"psfs:{s.activity.strip().lower()}", a.assessed_on, s.score, "assessment")
        for r in a.rom.all():
            add(f"rom:{r.motion}:{r.side}", a.assessed_on, r.degrees, "assessment")
    # Oldest first, like the assessments: notes usually arrive newest first (the model's ordering),
    # and the stable sort below would keep two notes of one day in that order.
    for n in sorted(notes, key=lambda n: (n.visit_on, n.pk)):
        if n.status == NoteStatus.SIGNED and n.pain_pre is not None:
            add("nprs", n.visit_on, n.pain_pre, "note")
    for values in series.values():
        values.sort(key=lambda m: m.on)
    return series


def _series_key(measure: str) -> str:
    if measure.startswith("psfs:"):
        return "psfs:" + measure[5:].strip().lower()
    return measure


@dataclass(frozen=True, slots=True)
class GoalView:
    goal: Goal
    label: str
    state: GoalState
    latest: float | None
    progress: float | None
    history: tuple[Measurement, ...]


def goal_views(goals: Iterable[Goal], series: dict[str, list[Measurement]], today: date) -> list[GoalView]:
    views = []
    for goal in goals:
        history = tuple(series.get(_series_key(goal.measure), ()))
        latest = history[-1].value if history else None
        state = rules.goal_state(
            direction=goal.direction,
            baseline=float(goal.baseline),
            target=float(goal.target),
            latest=latest,
            due=goal.due_on,
            today=today,
        )
        progress = rules.goal_progress(baseline=float(goal.baseline), target=float(goal.target), latest=latest)
        views.append(GoalView(goal, goal.description or measure_label(goal.measure), state, latest, progress, history))
    return views


def episode_measurements(episode: Episode) -> dict[str, list[Measurement]]:
    """Every goal-measure series of the episode (four queries: assessments with their PSFS and
    range of motion, and the signed notes)."""
    assessments = list(Assessment.objects.filter(episode=episode).prefetch_related("psfs", "rom"))
    notes = list(TreatmentNote.objects.filter(episode=episode, status=NoteStatus.SIGNED))
    return measurements(assessments, notes)


def latest_measurements(episode: Episode) -> dict[str, Measurement]:
    """The latest value of every measure recorded in the episode, for the goal form."""
    return {key: values[-1] for key, values in episode_measurements(episode).items() if values}


def psfs_activities(episode: Episode) -> list[str]:
    """PSFS activities as the assessments wrote them, one per activity whatever its case (one query)."""
    names = Assessment.objects.filter(episode=episode).values_list("psfs__activity", flat=True)
    seen: dict[str, str] = {}
    for name in names:
        if name and name.strip().lower() not in seen:
            seen[name.strip().lower()] = name.strip()
    return sorted(seen.values(), key=str.lower)


def goal_list(actor: Actor, episode_id: int | str) -> list[GoalView]:
    """The episode's goals with their state on the clinic's today, audited as a list read."""
    episode = episode_or_404(actor, episode_id)
    goals = list(Goal.objects.filter(episode=episode))
    views = goal_views(goals, episode_measurements(episode), actor.today())
    audit_read(actor, client_id=episode.client_id, what="clinical.goal_list", of=episode.pk)
    return views


def goal_view(actor: Actor, goal: Goal) -> GoalView:
    """One goal with its state on the clinic's today, not audited: for a write's answer."""
    (view,) = goal_views([goal], episode_measurements(goal.episode), actor.today())
    return view


@dataclass(frozen=True, slots=True)
class GoalStart:
    """What the goal form is for: the episode, and the goal when one is edited."""

    episode: Episode
    goal: Goal | None


def goal_form(
    actor: Actor, *, episode_id: int | str | None = None, goal_id: int | str | None = None, reading: bool
) -> GoalStart:
    """The goal form's episode (and goal). Opening the form (``reading``) shows the goal, or the
    episode's record for a new one: audited as a view. A form re-shown after a refused save is not
    a new read."""
    goal = goal_or_404(actor, goal_id) if goal_id is not None else None
    if goal is not None:
        episode_id = goal.episode_id
    if episode_id is None:
        raise Http404("No such episode of care.")
    episode = episode_or_404(actor, episode_id)
    if reading:
        audit_read(actor, obj=goal or episode, client_id=episode.client_id)
    return GoalStart(episode, goal)


def goal_outcomes(episode: Episode, today: date) -> list[dict[str, Any]]:
    """Every goal with baseline, target, latest and status: what a discharge records."""
    series = episode_measurements(episode)
    return [
        {
            "description": v.label,
            "measure": v.goal.measure,
            "baseline": float(v.goal.baseline),
            "target": float(v.goal.target),
            "latest": v.latest,
            "status": str(v.state),
        }
        for v in goal_views(Goal.objects.filter(episode=episode), series, today)
    ]
