"""Reads for the plan of care: a suggestion from the conditions knowledge, conflicts with screening."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mend import knowledge
from mend.audit.models import Action
from mend.clinical import rules
from mend.clinical.models import (
    Episode,
    PlanOfCare,
)
from mend.clinical.queries.loaders import audit_read, episode_or_404
from mend.clinical.queries.screening import screening_on
from mend.clinical.rules import PlannedTechnique
from mend.clinical.screening import Screening
from mend.core.measure_schedule import PlanMeasure, Schedule
from mend.platform.actor import Actor

SUGGESTED_SCHEDULE = Schedule(baseline=True, every_sessions=4, discharge=True)

# --- Plan suggestion and conflicts ------------------------------------------------------------


def plan_suggestion(condition_id: str) -> dict[str, Any]:
    """A starting plan from the conditions knowledge base, for the therapist to edit."""
    condition = knowledge.conditions().get(condition_id)
    if condition is None:
        return {"sessions_per_week": 1, "weeks": 6, "session_minutes": 60, "techniques": [], "measures": []}
    dose = condition.dose
    region = condition.regions[0] if condition.regions else ""
    return {
        "sessions_per_week": dose.per_week if dose else 1,
        "weeks": dose.weeks if dose else 6,
        "session_minutes": dose.minutes if dose else 60,
        "dose_source": dose.source_text if dose else "",
        "techniques": [{"technique": t, "region": region, "side": "", "pressure": None} for t in condition.techniques],
        "measures": [PlanMeasure(m, SUGGESTED_SCHEDULE).as_item() for m in condition.measures],
        "home_program": [
            {"kind": h.kind, "title": h.title, "instructions": h.instructions} for h in condition.home_program
        ],
        "home_care": "",
        "precautions": condition.precautions,
    }


def plan_conflicts(plan: PlanOfCare | None, screening: Screening) -> list[rules.Conflict]:
    if plan is None:
        return []
    planned = [
        PlannedTechnique(t["technique"], t.get("region") or None, t.get("side") or None, t.get("pressure"))
        for t in plan.techniques
    ]
    return rules.plan_conflicts(planned, screening)


# --- Reading the plan -------------------------------------------------------------------------


def episode_plan(episode: Episode) -> PlanOfCare | None:
    """The episode's plan of care, if one was written (one query)."""
    return PlanOfCare.objects.filter(episode=episode).first()


def plan_conflicts_today(actor: Actor, episode: Episode, plan: PlanOfCare | None) -> list[rules.Conflict]:
    """What of the plan the screening on the clinic's today forbids (two queries; none without a plan)."""
    if plan is None:
        return []
    return plan_conflicts(plan, screening_on(episode, actor.today()))


@dataclass(frozen=True, slots=True)
class PlanRead:
    episode: Episode
    plan: PlanOfCare | None
    conflicts: list[rules.Conflict]


def plan_for_reading(actor: Actor, episode_id: int | str) -> PlanRead:
    """The episode's plan with today's conflicts, audited as a view of the plan (of the episode
    while there is none)."""
    episode = episode_or_404(actor, episode_id)
    plan = episode_plan(episode)
    audit_read(actor, obj=plan or episode, client_id=episode.client_id)
    return PlanRead(episode, plan, plan_conflicts_today(actor, episode, plan))


def plan_form(actor: Actor, episode_id: int | str, *, reading: bool) -> PlanRead:
    """The plan form's episode and plan (its conflicts are the page's, row by row: none here).
    Opening the form (``reading``) shows the plan: audited as a view. A form re-shown after a
    refused save, or a preview of typed rows, is not a new read."""
    episode = episode_or_404(actor, episode_id)
    plan = episode_plan(episode)
    if reading:
        audit_read(actor, obj=plan or episode, client_id=episode.client_id)
    return PlanRead(episode, plan, [])


def home_program_for_printing(actor: Actor, episode_id: int | str) -> PlanRead:
    """The client's printable home program: the episode with its therapist's profile (the name
    printed) and the plan, audited as a print of the plan (of the episode while there is none)."""
    episode = episode_or_404(actor, episode_id, "therapist__therapist_profile")
    plan = episode_plan(episode)
    audit_read(actor, obj=plan or episode, client_id=episode.client_id, action=Action.PRINT)
    return PlanRead(episode, plan, [])
