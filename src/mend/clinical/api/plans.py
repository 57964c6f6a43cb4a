"""Goals (a measure, a baseline, a target; status from the latest measurement) and the plan of
care, with the conditions knowledge base's suggested plan to start from."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from ninja import Router, Schema, Status
from pydantic import Field

from mend import access, knowledge
from mend.clinical import queries, rules, services
from mend.clinical.api._common import region_name, text_fields
from mend.clinical.models import PlanOfCare
from mend.core.measure_schedule import PlanMeasure, schedule_from_text
from mend.platform.api import ERRORS, Detail, invalid
from mend.platform.http import ActorRequest

goals_router = Router(tags=["goals"])
plans_router = Router(tags=["plans"])


# --- Goals --------------------------------------------------------------------------------------


class MeasurementOut(Schema):
    on: date
    value: float
    source: str = Field(description="assessment or note")


class GoalOut(Schema):
    id: int
    episode_id: int
    description: str
    label: str
    measure: str
    direction: str = Field(description="lower or higher: which way is better")
    baseline: float
    target: float
    due_on: date | None
    state: str = Field(description="met, progressing or not_met, from the latest measurement")
    latest: float | None
    progress: float | None = Field(description="Share of the way from baseline to target, 0–1")
    history: list[MeasurementOut]


class GoalIn(Schema):
    description: str = Field(description="What the client will be able to do, in their words")
    measure: str = Field(
        description="nprs, psfs:<activity> or rom:<motion>:<side> (for example rom:shoulder_flexion:right)"
    )
    direction: str | None = Field(None, description="lower or higher; default from the measure")
    baseline: float
    target: float
    due_on: date | None = None


class GoalPatch(Schema):
    description: str | None = None
    measure: str | None = None
    direction: str | None = None
    baseline: float | None = None
    target: float | None = None
    due_on: date | None = None


def goal_dict(view: queries.GoalView) -> dict[str, Any]:
    goal = view.goal
    return {
        "id": goal.pk,
        "episode_id": goal.episode_id,
        "description": goal.description,
        "label": view.label,
        "measure": goal.measure,
        "direction": goal.direction,
        "baseline": float(goal.baseline),
        "target": float(goal.target),
        "due_on": goal.due_on,
        "state": str(view.state),
        "latest": view.latest,
        "progress": view.progress,
        "history": [{"on": m.on, "value": m.value, "source": m.source} for m in view.history],
    }


def _goal_data(supplied: dict[str, Any]) -> dict[str, Any]:
    data = text_fields(supplied, {"description", "direction"})
    for name in ("baseline", "target"):
        if data.get(name) is not None:
            data[name] = Decimal(str(data[name]))
    return data


@goals_router.get("/episodes/{episode_id}/goals", response={200: list[GoalOut], **ERRORS}, summary="List goals")
def list_goals(request: ActorRequest, episode_id: int) -> Any:
    return [goal_dict(v) for v in queries.goal_list(request.actor, episode_id)]


@goals_router.post("/episodes/{episode_id}/goals", response={201: GoalOut, **ERRORS}, summary="Set a goal")
def create_goal(request: ActorRequest, episode_id: int, payload: GoalIn) -> Any:
    actor = request.actor
    episode = queries.episode_or_404(actor, episode_id)
    try:
        goal = services.goal_save(actor=actor, episode=episode, data=_goal_data(payload.dict()))
    except ValidationError as error:
        return invalid(request, error)
    return Status(201, goal_dict(queries.goal_view(actor, goal)))


@goals_router.patch("/goals/{goal_id}", response={200: GoalOut, **ERRORS}, summary="Change a goal")
def update_goal(request: ActorRequest, goal_id: int, payload: GoalPatch) -> Any:
    actor = request.actor
    goal = queries.goal_or_404(actor, goal_id)
    try:
        services.goal_save(
            actor=actor, episode=goal.episode, goal=goal, data=_goal_data(payload.dict(exclude_unset=True))
        )
    except ValidationError as error:
        return invalid(request, error)
    return goal_dict(queries.goal_view(actor, goal))


@goals_router.delete("/goals/{goal_id}", response={204: None, **ERRORS}, summary="Delete a goal")
def delete_goal(request: ActorRequest, goal_id: int) -> Any:
    actor = request.actor
    goal = queries.goal_or_404(actor, goal_id)
    try:
        services.goal_delete(actor=actor, goal=goal)
    except ValidationError as error:
        return invalid(request, error)
    return Status(204, None)


# --- Plan of care -------------------------------------------------------------------------------


class PlanTechniqueIn(Schema):
    technique: str = Field(description="A technique id of the knowledge base (for example myofascial_release)")
    region: str = ""
    side: str = ""
    pressure: int | None = Field(None, description="1 (light) to 5 (very deep); default the technique's usual")


class PlanTechniqueOut(PlanTechniqueIn):
    technique_name: str
    region_name: str


class MeasureItem(Schema):
    """A measure of the plan and when to collect it (docs/outcomes.md, "Schedules")."""

    measure: str = Field(description="A measure id of the registry (GET /api/v1/measures)")
    baseline: bool = Field(description="Collected while nothing has been yet")
    every_sessions: int | None = Field(description="Every N signed sessions (1–50), or null")
    every_weeks: int | None = Field(description="Every N weeks (1–52), or null")
    discharge: bool = Field(description="Collected when the planned sessions are done or at discharge")
    legacy_when: str = Field(
        "", description="Part of an old 'when' text that could not be converted: shown, never read for scheduling"
    )


class MeasureItemIn(Schema):
    measure: str
    baseline: bool = False
    every_sessions: int | None = None
    every_weeks: int | None = None
    discharge: bool = False
    legacy_when: str = ""
    when: str | None = Field(
        None,
        description="Deprecated: the old text ('baseline, every 4 sessions, discharge'), converted on input "
        "when the fields above are not given. Text Mend cannot read is refused.",
    )


class HomeItem(Schema):
    kind: str = Field(description=", ".join(knowledge.HOME_PROGRAM_KINDS))
    title: str
    instructions: str = ""


class ConflictOut(Schema):
    technique: str
    region: str | None
    side: str | None
    rule_id: str
    action: str
    message: str


class PlanIn(Schema):
    """The whole plan: a PUT replaces it."""

    techniques: list[PlanTechniqueIn] = []
    sessions_per_week: int = Field(description="1–7")
    weeks: int = Field(description="1–52")
    session_minutes: int = Field(60, description="30–90")
    home_care: str = ""
    re_evaluation_on: date | None = None
    measures: list[MeasureItemIn] = []
    home_program: list[HomeItem] = []
    dose_source: str = ""


class PlanOut(Schema):
    id: int
    episode_id: int
    techniques: list[PlanTechniqueOut]
    sessions_per_week: int
    weeks: int
    total_sessions: int
    session_minutes: int
    home_care: str
    re_evaluation_on: date | None
    measures: list[MeasureItem]
    home_program: list[HomeItem]
    dose_source: str
    updated_at: datetime
    conflicts: list[ConflictOut] = Field(description="Planned work today's screening forbids: shown, not refused")


def _technique(item: dict[str, Any]) -> dict[str, Any]:
    known = knowledge.techniques().get(item["technique"])
    region = item.get("region") or ""
    return {
        "technique": item["technique"],
        "technique_name": known.name if known else item["technique"],
        "region": region,
        "region_name": region_name(region) if region else "",
        "side": item.get("side") or "",
        "pressure": item.get("pressure"),
    }


def conflict_dict(conflict: rules.Conflict) -> dict[str, Any]:
    return {
        "technique": conflict.technique,
        "region": conflict.region,
        "side": conflict.side,
        "rule_id": conflict.rule_id,
        "action": str(conflict.action),
        "message": conflict.message,
    }


def plan_dict(plan: PlanOfCare, conflicts: list[rules.Conflict]) -> dict[str, Any]:
    return {
        "id": plan.pk,
        "episode_id": plan.episode_id,
        "techniques": [_technique(t) for t in plan.techniques],
        "sessions_per_week": plan.sessions_per_week,
        "weeks": plan.weeks,
        "total_sessions": plan.total_sessions,
        "session_minutes": plan.session_minutes,
        "home_care": plan.home_care,
        "re_evaluation_on": plan.re_evaluation_on,
        "measures": [PlanMeasure.from_item(item).as_item() for item in plan.measures],
        "home_program": plan.home_program,
        "dose_source": plan.dose_source,
        "updated_at": plan.updated_at,
        "conflicts": [conflict_dict(c) for c in conflicts],
    }


@plans_router.get("/episodes/{episode_id}/plan", response={200: PlanOut, **ERRORS}, summary="Read the plan of care")
def get_plan(request: ActorRequest, episode_id: int) -> Any:
    read = queries.plan_for_reading(request.actor, episode_id)
    if read.plan is None:
        return JsonResponse({"detail": "This episode has no plan of care yet: PUT one to start."}, status=404)
    return plan_dict(read.plan, read.conflicts)


@plans_router.put(
    "/episodes/{episode_id}/plan",
    response={200: PlanOut, **ERRORS},
    summary="Set the plan of care",
    description="Creates or replaces the plan. A plan that conflicts with screening is saved and its conflicts "
    "listed: the therapist decides.",
)
def put_plan(request: ActorRequest, episode_id: int, payload: PlanIn) -> Any:
    actor = request.actor
    episode = queries.episode_or_404(actor, episode_id)
    try:
        plan = services.plan_save(
            actor=actor,
            episode=episode,
            data={**payload.dict(exclude={"techniques", "measures"}), "measures": _measures_in(payload.measures)},
            techniques=[t.dict() for t in payload.techniques],
        )
    except ValidationError as error:
        return invalid(request, error)
    return plan_dict(plan, queries.plan_conflicts_today(actor, episode, plan))


_SCHEDULE_FIELDS = {"baseline", "every_sessions", "every_weeks", "discharge"}


def _measures_in(items: list[MeasureItemIn]) -> list[dict[str, Any]]:
    """The structured items the plan service takes. An item with only the old ``when`` text is
    converted here, at the edge: the text is never stored or read again."""
    converted: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    for row, item in enumerate(items):
        fields = item.dict(exclude={"when"})
        if item.when is None:
            converted.append(fields)
            continue
        where = f"measures[{row}].when"
        if item.model_fields_set & _SCHEDULE_FIELDS:
            errors[where] = ["Give either the schedule fields or the old when text, not both."]
            continue
        schedule, unparsed = schedule_from_text(item.when)
        if unparsed:
            errors[where] = [
                f"Not a schedule Mend can read: {', '.join(unparsed)}. Give baseline, every_sessions, "
                "every_weeks and discharge instead."
            ]
            continue
        converted.append(PlanMeasure(item.measure, schedule, item.legacy_when).as_item())
    if errors:
        raise ValidationError(errors)
    return converted


class ConditionOut(Schema):
    id: str
    name: str
    icd10: list[str]
    regions: list[str]
    measures: list[str]
    precautions: str


class PlanSuggestionOut(Schema):
    condition: ConditionOut
    sessions_per_week: int
    weeks: int
    session_minutes: int
    dose_source: str
    techniques: list[PlanTechniqueOut]
    measures: list[MeasureItem]
    home_program: list[HomeItem]
    home_care: str


@plans_router.get(
    "/conditions/{condition_id}/plan-suggestion",
    response={200: PlanSuggestionOut, 403: Detail, 404: Detail},
    summary="A suggested plan for a condition",
    description="From the conditions knowledge base (dose with its literature source), for the therapist to edit "
    "and PUT as the episode's plan.",
)
def plan_suggestion(request: ActorRequest, condition_id: str) -> Any:
    # Knowledge, not client information: not audited.
    access.require_clinical(request.actor)
    condition = knowledge.conditions().get(condition_id)
    if condition is None:
        return JsonResponse({"detail": "No such condition in the knowledge base."}, status=404)
    suggestion = queries.plan_suggestion(condition_id)
    return {
        **suggestion,
        "techniques": [_technique(t) for t in suggestion["techniques"]],
        "condition": {
            "id": condition.id,
            "name": condition.name,
            "icd10": list(condition.icd10),
            "regions": list(condition.regions),
            "measures": list(condition.measures),
            "precautions": condition.precautions,
        },
    }
