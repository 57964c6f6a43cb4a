"""Episodes of care: list, open, read (the chart's summary), change, discharge, and the timeline."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.core.exceptions import ValidationError
from ninja import P, QueryEx, Router, Schema, Status
from pydantic import Field

from mend import knowledge
from mend.clinical import queries, services
from mend.clinical.api._common import ScreeningOut, screening_dict, text_fields
from mend.clinical.api.plans import ConflictOut, GoalOut, conflict_dict, goal_dict
from mend.clinical.api.referrals import ReferralOut, referral_dict
from mend.clinical.models import Episode
from mend.clinics.models import Membership
from mend.platform.api import ERRORS, MAX_PAGE, MAX_PAGE_SIZE, invalid
from mend.platform.http import ActorRequest

router = Router(tags=["episodes"])


class EpisodeOut(Schema):
    id: int
    client_id: int
    client_name: str
    title: str
    condition: str = Field(description="A condition id of the knowledge base, or empty")
    condition_name: str
    therapist_id: int | None = Field(description="Therapist id (see /therapists)")
    therapist_name: str
    started_on: date
    status: Literal["open", "discharged"]
    discharged_on: date | None
    discharge_reason: str
    discharge_summary: str
    discharge_outcomes: list[dict[str, Any]] = Field(description="Every goal at discharge, as recorded then")


class EpisodePage(Schema):
    items: list[EpisodeOut]
    count: int


class PlanSummary(Schema):
    id: int
    sessions_per_week: int
    weeks: int
    total_sessions: int
    session_minutes: int
    re_evaluation_on: date | None
    conflicts: list[ConflictOut]


class EpisodeCounts(Schema):
    referrals: int
    active_findings: int
    clearances: int
    assessments: int
    goals: int
    notes: int
    signed_notes: int
    draft_notes: int


class EpisodeDetail(EpisodeOut):
    screening: ScreeningOut = Field(description="Today's screening: the flags the chart shows")
    active_referral: ReferralOut | None = Field(description="The referral visits count against now, else the newest")
    goals: list[GoalOut]
    plan: PlanSummary | None
    counts: EpisodeCounts


class EpisodeIn(Schema):
    client_id: int
    title: str
    condition: str = Field(
        "", description="A condition id of the knowledge base (GET /conditions/{id}/plan-suggestion)"
    )
    started_on: date | None = Field(None, description="Default today")
    therapist_id: int | None = Field(None, description="Default: the therapist calling, else the primary therapist")


class EpisodePatch(Schema):
    title: str | None = None
    condition: str | None = None
    started_on: date | None = None


class DischargeIn(Schema):
    reason: str = Field(description="goals_met, plateau, referred_out, client_choice or lost_to_follow_up")
    summary: str = ""
    discharged_on: date | None = Field(None, description="Default today")


class TimelineEventOut(Schema):
    on: date
    kind: str = Field(description="episode, referral, intake, check, clearance, assessment, note, addendum, discharge")
    title: str
    detail: str
    object_id: int | None


def _profile_of(membership: Membership) -> Any:
    return getattr(membership, "therapist_profile", None)


def episode_dict(episode: Episode) -> dict[str, Any]:
    profile = _profile_of(episode.therapist)
    condition = knowledge.conditions().get(episode.condition)
    return {
        "id": episode.pk,
        "client_id": episode.client_id,
        "client_name": episode.client.display_name,
        "title": episode.title,
        "condition": episode.condition,
        "condition_name": condition.name if condition else "",
        "therapist_id": profile.pk if profile else None,
        "therapist_name": profile.display_name if profile else episode.therapist.user.get_full_name(),
        "started_on": episode.started_on,
        "status": "open" if episode.is_open else "discharged",
        "discharged_on": episode.discharged_on,
        "discharge_reason": episode.discharge_reason,
        "discharge_summary": episode.discharge_summary,
        "discharge_outcomes": episode.discharge_outcomes,
    }


@router.get(
    "/episodes",
    response={200: EpisodePage, **ERRORS},
    summary="List episodes of care",
    description="Newest first, 25 a page (page_size up to 100); filter by client and by open or discharged.",
)
def list_episodes(
    request: ActorRequest,
    client_id: int | None = None,
    status: Literal["open", "discharged"] | None = None,
    page: QueryEx[int, P(ge=1, le=MAX_PAGE)] = 1,
    page_size: QueryEx[int, P(ge=1, le=MAX_PAGE_SIZE)] = 25,
) -> Any:
    # One audit row per client whose episodes the page shows.
    items, count = queries.episode_page(
        request.actor, client_id=client_id, status=status, page=page, page_size=page_size
    )
    return {"items": [episode_dict(e) for e in items], "count": count}


@router.post("/episodes", response={201: EpisodeOut, **ERRORS}, summary="Open an episode of care")
def create_episode(request: ActorRequest, payload: EpisodeIn) -> Any:
    actor = request.actor
    client = queries.episode_client(actor, payload.client_id)
    try:
        therapist = None
        if payload.therapist_id is not None:
            therapist = queries.therapist_membership(actor, payload.therapist_id)
            if therapist is None:
                raise ValidationError({"therapist_id": "No such therapist in this clinic."})
        data = payload.dict(include={"title", "condition", "started_on"})
        episode = services.episode_open(actor=actor, client=client, data=data, therapist=therapist)
    except ValidationError as error:
        return invalid(request, error, rename={"therapist": "therapist_id"})
    return Status(201, episode_dict(queries.episode_with_therapist(actor, episode.pk)))


@router.get(
    "/episodes/{episode_id}",
    response={200: EpisodeDetail, **ERRORS},
    summary="Read an episode",
    description="The chart's summary: today's screening, the active referral, goals with their state, the plan "
    "with its conflicts, and counts.",
)
def get_episode(request: ActorRequest, episode_id: int) -> Any:
    chart = queries.chart_for_reading(request.actor, episode_id)
    episode = chart.episode
    referral = chart.active_referral
    plan = chart.plan
    return {
        **episode_dict(episode),
        "screening": screening_dict(chart.screening, chart.today),
        "active_referral": referral_dict(referral, chart.referral_status[referral.pk]) if referral else None,
        "goals": [goal_dict(g) for g in chart.goals],
        "plan": None
        if plan is None
        else {
            "id": plan.pk,
            "sessions_per_week": plan.sessions_per_week,
            "weeks": plan.weeks,
            "total_sessions": plan.total_sessions,
            "session_minutes": plan.session_minutes,
            "re_evaluation_on": plan.re_evaluation_on,
            "conflicts": [conflict_dict(c) for c in chart.conflicts],
        },
        "counts": {
            "referrals": len(chart.referrals),
            "active_findings": len(chart.findings),
            "clearances": len(chart.clearances),
            "assessments": len(chart.assessments),
            "goals": len(chart.goals),
            "notes": len(chart.notes),
            "signed_notes": chart.signed_visits,
            "draft_notes": len(chart.drafts),
        },
    }


@router.patch("/episodes/{episode_id}", response={200: EpisodeOut, **ERRORS}, summary="Change an episode")
def update_episode(request: ActorRequest, episode_id: int, payload: EpisodePatch) -> Any:
    actor = request.actor
    episode = queries.episode_with_therapist(actor, episode_id)
    data = text_fields(payload.dict(exclude_unset=True), {"title", "condition"})
    if data.get("started_on", date.min) is None:
        del data["started_on"]
    try:
        if data.get("condition") and data["condition"] not in knowledge.conditions():
            raise ValidationError({"condition": "Choose a condition from the knowledge base."})
        services.episode_update(actor=actor, episode=episode, data=data)
    except ValidationError as error:
        return invalid(request, error)
    return episode_dict(episode)


@router.post(
    "/episodes/{episode_id}/discharge",
    response={200: EpisodeOut, **ERRORS},
    summary="Discharge",
    description="Records the reason and every goal's outcome, and closes the episode's referrals. Draft notes "
    "must be signed or deleted first.",
)
def discharge_episode(request: ActorRequest, episode_id: int, payload: DischargeIn) -> Any:
    actor = request.actor
    episode = queries.episode_or_404(actor, episode_id)
    try:
        services.episode_discharge(
            actor=actor, episode=episode, reason=payload.reason, summary=payload.summary, on=payload.discharged_on
        )
    except ValidationError as error:
        return invalid(request, error, rename={"discharge_reason": "reason"})
    # The service discharged its own locked copy: read the episode as it now stands.
    return episode_dict(queries.episode_with_therapist(actor, episode.pk))


@router.get(
    "/episodes/{episode_id}/timeline",
    response={200: list[TimelineEventOut], **ERRORS},
    summary="The episode's timeline",
    description="Every event of the episode, newest first.",
)
def episode_timeline(request: ActorRequest, episode_id: int) -> Any:
    return [
        {
            "on": event.on,
            "kind": event.kind,
            "title": event.title,
            "detail": event.detail,
            "object_id": getattr(event.obj, "pk", None),
        }
        for event in queries.timeline_for_reading(request.actor, episode_id)
    ]
