"""Reads for the plan of care: a suggestion from the conditions knowledge, conflicts with screening."""

from __future__ import annotations

from typing import Any

from mend import knowledge
from mend.clinical import rules
from mend.clinical.models import (
    PlanOfCare,
)
from mend.clinical.rules import PlannedTechnique
from mend.clinical.screening import Screening
from mend.core.measure_schedule import PlanMeasure, Schedule

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
