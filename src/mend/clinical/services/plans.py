"""Writes of goals and the plan of care."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from mend import knowledge
from mend.audit.models import Action as AuditAction
from mend.clinical import queries
from mend.clinical.models import (
    Episode,
    Goal,
    PlanOfCare,
)
from mend.clinical.services.common import (
    audit,
    check_region,
    require_open,
    require_write,
)
from mend.core.measure_schedule import clean_plan_measures
from mend.knowledge.outcome_measures import measures
from mend.platform.actor import Actor
from mend.platform.errors import path
from mend.writes import apply_fields, merge_errors

# --- Goals and plan -------------------------------------------------------------------------

GOAL_FIELDS = {"description", "measure", "direction", "baseline", "target", "due_on"}


@transaction.atomic
def goal_save(*, actor: Actor, episode: Episode, data: Mapping[str, Any], goal: Goal | None = None) -> Goal:
    require_write(actor, episode)
    require_open(episode)
    created = goal is None
    goal = goal or Goal(clinic_id=actor.clinic_id, client_id=episode.client_id, episode=episode)
    if goal.episode_id != episode.pk:
        raise ValueError("That goal belongs to another episode.")
    apply_fields(goal, data, GOAL_FIELDS)
    errors: dict[str, list[str]] = {}
    problem = queries.measure_problem(goal.measure)
    if problem:
        errors["measure"] = [problem]
    elif not goal.direction:
        goal.direction = queries.measure_direction(goal.measure)
    try:
        goal.full_clean()
    except ValidationError as error:
        merge_errors(errors, error)
    if not errors and goal.measure:
        low, high = queries.measure_range(goal.measure)
        for field in ("baseline", "target"):
            value = getattr(goal, field)
            if value is not None and not low <= float(value) <= high:
                errors.setdefault(field, []).append(f"This measure runs from {low:g} to {high:g}.")
        if goal.baseline is not None and goal.target is not None and goal.baseline == goal.target:
            errors.setdefault("target", []).append("The target must differ from the baseline.")
    if errors:
        raise ValidationError(errors)
    goal.save()
    audit(AuditAction.CREATE if created else AuditAction.UPDATE, goal, actor, episode.client_id)
    return goal


@transaction.atomic
def goal_delete(*, actor: Actor, goal: Goal) -> None:
    require_write(actor, goal.episode)
    require_open(goal.episode)
    audit(AuditAction.DELETE, goal, actor, goal.client_id)
    goal.delete()


PLAN_FIELDS = {
    "sessions_per_week",
    "weeks",
    "session_minutes",
    "home_care",
    "re_evaluation_on",
    "measures",
    "home_program",
    "dose_source",
}


def _check_plan_techniques(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    known = knowledge.techniques()
    errors: dict[str, list[str]] = {}
    cleaned = []
    for n, item in enumerate(items):
        field = path("techniques", n)
        technique = str(item.get("technique", ""))
        region = str(item.get("region", "") or "")
        side = str(item.get("side", "") or "")
        pressure = item.get("pressure")
        if technique not in known:
            errors.setdefault(field, []).append("Choose a technique from the list.")
        check_region(field, region, side, errors)
        if pressure not in (None, ""):
            try:
                pressure = int(pressure)
            except (TypeError, ValueError):
                pressure = -1
            if not 1 <= pressure <= 5:
                errors.setdefault(field, []).append("Pressure is a level from 1 (light) to 5 (very deep).")
        else:
            pressure = None
        cleaned.append({"technique": technique, "region": region, "side": side, "pressure": pressure})
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def plan_save(
    *, actor: Actor, episode: Episode, data: Mapping[str, Any], techniques: Sequence[Mapping[str, Any]]
) -> PlanOfCare:
    """Create or change the episode's plan. Conflicts with screening are shown, not refused: the
    therapist decides, and the chart keeps the warning in view."""
    require_write(actor, episode)
    require_open(episode)
    plan = PlanOfCare.objects.filter(episode=episode).first()
    created = plan is None
    plan = plan or PlanOfCare(
        clinic_id=actor.clinic_id, client_id=episode.client_id, episode=episode, created_by=actor.membership
    )
    apply_fields(plan, data, PLAN_FIELDS)
    errors: dict[str, list[str]] = {}
    try:
        plan.techniques = _check_plan_techniques(techniques)
    except ValidationError as error:
        errors.update(error.message_dict)
    # Structured schedules only ({"measure", "baseline", "every_sessions", "every_weeks", "discharge"}),
    # errors named by row and field: measures[1].every_sessions (docs/outcomes.md, "Schedules").
    checked, measure_errors = clean_plan_measures(plan.measures or [], known=measures())
    plan.measures = [item.as_item() for item in checked]
    errors.update(measure_errors)
    for n, item in enumerate(plan.home_program or []):
        if item.get("kind") not in knowledge.HOME_PROGRAM_KINDS or not str(item.get("title", "")).strip():
            errors.setdefault(path("home_program", n), []).append("Each home exercise needs a kind and a title.")
    try:
        plan.full_clean()
    except ValidationError as error:
        merge_errors(errors, error)
    if errors:
        raise ValidationError(errors)
    plan.save()
    audit(AuditAction.CREATE if created else AuditAction.UPDATE, plan, actor, episode.client_id)
    return plan
