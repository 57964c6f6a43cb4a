"""Contraindication screening: the day's result, findings, the intake questionnaire, the
pre-session check, physicians' clearances, and the catalogue the rules come from."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from ninja import Router, Schema, Status
from pydantic import Field

from mend import access
from mend.clinical import queries, services
from mend.clinical.api._common import ScreeningOut, rule_name, screening_dict
from mend.clinical.models import Clearance, Episode, ScreeningFinding
from mend.clinical.screening import catalogue
from mend.clinical.services import FindingInput
from mend.platform.api import ERRORS, Detail, invalid
from mend.platform.http import ActorRequest

router = Router(tags=["screening"])


def _screening(episode: Episode, on: date) -> dict[str, Any]:
    return screening_dict(queries.screening_on(episode, on), on)


@router.get(
    "/episodes/{episode_id}/screening",
    response={200: ScreeningOut, **ERRORS},
    summary="Screening on a day",
    description="What the findings and clearances that hold on `on` (default today) allow.",
)
def get_screening(request: ActorRequest, episode_id: int, on: date | None = None) -> Any:
    screening, day = queries.screening_for_reading(request.actor, episode_id, on)
    return screening_dict(screening, day)


# --- Findings -----------------------------------------------------------------------------------


class FindingItem(Schema):
    rule_id: str = Field(description="A rule id of the catalogue (GET /screening/catalogue)")
    region: str = Field("", description="A body region id, for local rules")
    side: str = Field("", description="left, right or bilateral")
    note: str = ""


class FindingIn(FindingItem):
    on: date | None = Field(None, description="When it was found; default today")


class FindingOut(Schema):
    id: int
    rule_id: str
    rule_name: str
    region: str
    side: str
    note: str
    source: str = Field(description="health_history, pre_session or therapist")
    recorded_on: date
    applies_on: date | None = Field(description="Set for findings that hold for that day only")
    resolved_on: date | None
    active: bool = Field(description="Whether it holds today")


def finding_dict(finding: ScreeningFinding, today: date) -> dict[str, Any]:
    return {
        "id": finding.pk,
        "rule_id": finding.rule_id,
        "rule_name": rule_name(finding.rule_id),
        "region": finding.region,
        "side": finding.side,
        "note": finding.note,
        "source": finding.source,
        "recorded_on": finding.recorded_on,
        "applies_on": finding.applies_on,
        "resolved_on": finding.resolved_on,
        "active": bool(queries.active_findings([finding], today)),
    }


def _inputs(items: list[FindingItem]) -> list[FindingInput]:
    return [FindingInput(i.rule_id, i.region, i.side, i.note) for i in items]


@router.get("/episodes/{episode_id}/findings", response={200: list[FindingOut], **ERRORS}, summary="List findings")
def list_findings(request: ActorRequest, episode_id: int, active: bool = False) -> Any:
    actor = request.actor
    today = actor.today()
    return [finding_dict(f, today) for f in queries.finding_list(actor, episode_id, active=active)]


@router.post("/episodes/{episode_id}/findings", response={201: FindingOut, **ERRORS}, summary="Add a finding")
def add_finding(request: ActorRequest, episode_id: int, payload: FindingIn) -> Any:
    actor = request.actor
    episode = queries.episode_or_404(actor, episode_id)
    (item,) = _inputs([payload])
    try:
        finding = services.finding_add(actor=actor, episode=episode, finding=item, on=payload.on)
    except ValidationError as error:
        return invalid(request, error)
    return Status(201, finding_dict(finding, actor.today()))


class ResolveIn(Schema):
    on: date | None = Field(None, description="When it resolved; default today")


@router.post("/findings/{finding_id}/resolve", response={200: FindingOut, **ERRORS}, summary="Resolve a finding")
def resolve_finding(request: ActorRequest, finding_id: int, payload: ResolveIn | None = None) -> Any:
    actor = request.actor
    finding = queries.finding_or_404(actor, finding_id)
    try:
        services.finding_resolve(actor=actor, finding=finding, on=payload.on if payload else None)
    except ValidationError as error:
        return invalid(request, error)
    return finding_dict(finding, actor.today())


# --- Health history and pre-session check ---------------------------------------------------------


class HealthHistoryIn(Schema):
    completed_on: date | None = Field(None, description="Default today")
    conditions: str = ""
    medications: str = ""
    surgeries: str = ""
    implants: str = ""
    pregnancy_weeks: int | None = None
    skin_conditions: str = ""
    allergies: str = ""
    symptoms: str = ""
    answers: dict[str, bool | None] = Field(
        default_factory=dict,
        description="Required: every question of the catalogue (GET /screening/catalogue) answered true (yes) or"
        " false (no), by rule id. A question left out or null is refused (422 naming `answers.<rule id>`):"
        " nothing is assumed",
    )
    findings: list[FindingItem] = Field(
        [],
        description="Where each question answered yes was found (region, side, note; one item per site); they replace"
        " the previous history's findings. A yes without an item is recorded without a site",
    )


class HealthHistoryOut(Schema):
    id: int
    questionnaire_version: str
    completed_on: date
    conditions: str
    medications: str
    surgeries: str
    implants: str
    pregnancy_weeks: int | None
    skin_conditions: str
    allergies: str
    symptoms: str
    answers: dict[str, bool] = Field(description="Every catalogue question's answer, by rule id")
    findings: list[FindingOut]
    screening: ScreeningOut


@router.post(
    "/episodes/{episode_id}/health-history",
    response={201: HealthHistoryOut, **ERRORS},
    summary="Record the intake health history",
)
def record_health_history(request: ActorRequest, episode_id: int, payload: HealthHistoryIn) -> Any:
    actor = request.actor
    episode = queries.episode_or_404(actor, episode_id)
    try:
        history = services.health_history_record(
            actor=actor,
            episode=episode,
            data=payload.dict(exclude={"findings", "answers"}),
            answers=payload.answers,
            findings=_inputs(payload.findings),
        )
    except ValidationError as error:
        return invalid(request, error)
    today = actor.today()
    fields = {name: getattr(history, name) for name in HealthHistoryIn.model_fields if name != "findings"}
    return Status(
        201,
        {
            "id": history.pk,
            "questionnaire_version": history.questionnaire_version,
            **fields,
            "findings": [finding_dict(f, today) for f in history.findings.all()],
            "screening": _screening(episode, today),
        },
    )


class CheckIn(Schema):
    checked_on: date | None = Field(None, description="Default today in the clinic's time zone")
    fever: bool | None = Field(None, description="Required safety question: fever or infection today?")
    new_symptoms: str = ""
    new_medications: str = ""
    able_to_consent: bool | None = Field(None, description="Required safety question: able to consent today?")
    findings: list[FindingItem] = []


class CheckOut(Schema):
    id: int
    checked_on: date
    fever: bool
    new_symptoms: str
    new_medications: str
    able_to_consent: bool
    screening: ScreeningOut = Field(description="The screening on the day of the check")


@router.post(
    "/episodes/{episode_id}/checks",
    response={201: CheckOut, **ERRORS},
    summary="Record the pre-session check",
    description="Fever and inability to consent block treatment on that day only.",
)
def record_check(request: ActorRequest, episode_id: int, payload: CheckIn) -> Any:
    actor = request.actor
    episode = queries.episode_or_404(actor, episode_id)
    try:
        check = services.pre_session_check_record(
            actor=actor, episode=episode, data=payload.dict(exclude={"findings"}), findings=_inputs(payload.findings)
        )
    except ValidationError as error:
        return invalid(request, error)
    fields = ("checked_on", "fever", "new_symptoms", "new_medications", "able_to_consent")
    return Status(
        201,
        {"id": check.pk, **{f: getattr(check, f) for f in fields}, "screening": _screening(episode, check.checked_on)},
    )


# --- Clearances ---------------------------------------------------------------------------------


class ClearanceIn(Schema):
    rule_id: str = Field(description="The finding cleared; its rule must ask for a clearance")
    cleared_by: str = Field("", description="Name and profession; taken from the provider when empty")
    provider_id: int | None = Field(None, description="A referring provider of the clinic")
    cleared_on: date
    conditions: str = Field("", description="Conditions of the clearance, such as a pressure limit")


class ClearanceOut(Schema):
    id: int
    rule_id: str
    rule_name: str
    cleared_by: str
    provider_id: int | None
    cleared_on: date
    conditions: str
    has_document: bool


def clearance_dict(clearance: Clearance) -> dict[str, Any]:
    return {
        "id": clearance.pk,
        "rule_id": clearance.rule_id,
        "rule_name": rule_name(clearance.rule_id),
        "cleared_by": clearance.cleared_by,
        "provider_id": clearance.provider_id,
        "cleared_on": clearance.cleared_on,
        "conditions": clearance.conditions,
        "has_document": bool(clearance.document),
    }


@router.get(
    "/episodes/{episode_id}/clearances", response={200: list[ClearanceOut], **ERRORS}, summary="List clearances"
)
def list_clearances(request: ActorRequest, episode_id: int) -> Any:
    return [clearance_dict(c) for c in queries.clearance_list(request.actor, episode_id)]


@router.post(
    "/episodes/{episode_id}/clearances",
    response={201: ClearanceOut, **ERRORS},
    summary="Record a physician's clearance",
    description="The document itself is attached on the page; the API records who cleared what, and when.",
)
def record_clearance(request: ActorRequest, episode_id: int, payload: ClearanceIn) -> Any:
    actor = request.actor
    episode = queries.episode_or_404(actor, episode_id)
    try:
        provider = queries.referring_provider(actor, payload.provider_id)
        if payload.provider_id is not None and provider is None:
            raise ValidationError({"provider_id": "No such referring provider in this clinic."})
        clearance = services.clearance_record(
            actor=actor, episode=episode, data=payload.dict(exclude={"provider_id"}), provider=provider
        )
    except ValidationError as error:
        return invalid(request, error, rename={"provider": "provider_id"})
    return Status(201, clearance_dict(clearance))


# --- The catalogue --------------------------------------------------------------------------------


class RuleActionOut(Schema):
    action: str
    explanation: str
    where: str = Field(description="whole_body, finding, finding_and_distal or fixed")
    regions: list[str]
    pressure_cap: int | None
    restrictions: list[str]


class SourceOut(Schema):
    id: str
    text: str


class RuleOut(Schema):
    id: str
    name: str
    category: str = Field(description="systemic, relative or local")
    question: str
    needs_region: bool
    needs_side: bool = Field(description="A finding on an arm or leg must also name the side")
    follow_up: str = Field(description="The follow-up question asking where, when the rule words its own")
    icd10: list[str]
    actions: list[RuleActionOut]
    sources: list[SourceOut]
    source_note: str = Field(description="Which source each value of the rule comes from")


class CatalogueOut(Schema):
    version: str
    rules: list[RuleOut]
    restrictions: dict[str, str] = Field(description="What each restriction id means")


@router.get(
    "/screening/catalogue",
    response={200: CatalogueOut, 403: Detail},
    summary="The contraindication catalogue",
    description="Every rule with its question, actions and sources, as shipped in contraindications.json.",
)
def get_catalogue(request: ActorRequest) -> Any:
    # Reference data, not client information: not audited.
    access.require_clinical(request.actor)
    shipped = catalogue()
    return {
        "version": shipped.version,
        "rules": [
            {
                "id": rule.id,
                "name": rule.name,
                "category": rule.category,
                "question": rule.question,
                "needs_region": rule.needs_region,
                "needs_side": rule.needs_side,
                "follow_up": rule.follow_up,
                "icd10": list(rule.icd10),
                "actions": [
                    {
                        "action": str(a.action),
                        "explanation": a.explanation,
                        "where": a.where,
                        "regions": list(a.regions),
                        "pressure_cap": a.pressure_cap,
                        "restrictions": list(a.restrictions),
                    }
                    for a in rule.actions
                ],
                "sources": [{"id": s, "text": shipped.sources[s]} for s in rule.sources],
                "source_note": rule.source_note,
            }
            for rule in shipped.rules.values()
        ],
        "restrictions": dict(shipped.restrictions),
    }
