"""API routes for outcome measures, under /api/v1: the registry, an episode's responses, and
questionnaire links. Same access rules as the clinical record (front desk 403, other clinic or
care team 404); reads of client information and every write are audited.

Adapters only: reads go through ``queries`` (which loads through the access policy and audits the
read), writes through ``services``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from mend.clinical import queries as clinical_queries
from mend.outcomes import queries, services
from mend.outcomes.models import MeasureResponse
from mend.outcomes.scoring import Measure, measures
from mend.platform.api import ERRORS, invalid
from mend.platform.http import ActorRequest

router = Router(tags=["outcomes"])


class McidOut(Schema):
    absolute: float | None = Field(description="Points better than baseline")
    relative: float | None = Field(description="Share of the baseline (0.3 = 30%) better than baseline")
    rule: str | None = Field(
        description="How absolute and relative combine: 'absolute', 'relative', 'either' or 'both'; "
        "null for an anchor (followup_at_most / followup_at_least: the latest answer alone)"
    )
    rule_text: str = Field(description="The responder rule in words, as the evidence report shows it")
    followup_at_most: float | None
    followup_at_least: float | None
    source: str
    sources: dict[str, str] = Field(description="Where each value and the rule come from")


class MeasureOut(Schema):
    id: str
    name: str
    short: str
    construct_: str = Field(alias="construct", description="What the measure measures")
    items: int | None = Field(description="Number of items; null for PSFS (the client's own 3 to 5 activities)")
    min: float = Field(description="Lowest answer value of an item")
    max: float = Field(description="Highest answer value of an item")
    direction: str = Field(description="'higher' or 'lower' is better")
    score_min: float
    score_max: float
    missing: str = Field(description="The instrument's rule for blank items")
    bands: list[tuple[float, str]] = Field(description="[upper bound, label], lowest first")
    mcid: McidOut | None
    licence: str
    ships_text: bool
    item_text: list[str]
    item_ids: list[str]
    loinc: str | None


def measure_dict(m: Measure) -> dict[str, Any]:
    return {
        "id": m.id,
        "name": m.name,
        "short": m.short,
        "construct": m.construct,
        "items": m.items,
        "min": m.min,
        "max": m.max,
        "direction": m.direction,
        "score_min": m.score_min,
        "score_max": m.score_max,
        "missing": m.missing,
        "bands": list(m.bands),
        "mcid": (
            {
                "absolute": m.mcid.absolute,
                "relative": m.mcid.relative,
                "rule": m.mcid.rule,
                "rule_text": m.mcid.describe(),
                "followup_at_most": m.mcid.followup_at_most,
                "followup_at_least": m.mcid.followup_at_least,
                "source": m.mcid.source,
                "sources": dict(m.mcid.sources),
            }
            if m.mcid
            else None
        ),
        "licence": m.licence,
        "ships_text": m.ships_text,
        "item_text": list(m.item_text),
        "item_ids": list(m.item_ids),
        "loinc": m.loinc,
    }


class ResponseOut(Schema):
    id: int
    episode_id: int
    measure: str
    answers: list[float | None] = Field(description="Item values in the published order; null for a blank")
    item_labels: list[str] = Field(description="PSFS: the activities rated")
    score: float | None = Field(description="Unrounded; null when the instrument's rules say it is not computable")
    computable: bool
    band: str
    raw: float | None
    scoring_version: str
    collected_on: date
    collected_at: datetime
    source: str = Field(description="'clinic' or 'remote' (an emailed link)")
    session_number: int | None


class ResponseIn(Schema):
    measure: str
    answers: list[float | None]
    item_labels: list[str] = []
    collected_on: date | None = None


class LinkIn(Schema):
    measures: list[str] = Field(min_length=1)


class LinkOut(Schema):
    id: int
    episode_id: int
    measures: list[str]
    sent_to: str
    expires_at: datetime
    url: str = Field(description="Shown once, here; only its hash is stored")


def response_dict(r: MeasureResponse) -> dict[str, Any]:
    return {
        "id": r.pk,
        "episode_id": r.episode_id,
        "measure": r.measure_id,
        "answers": r.answers,
        "item_labels": r.item_labels,
        "score": r.value,
        "computable": r.value is not None,
        "band": r.band,
        "raw": r.raw,
        "scoring_version": r.scoring_version,
        "collected_on": r.collected_on,
        "collected_at": r.collected_at,
        "source": r.source,
        "session_number": r.session_number,
    }


@router.get("/measures", response={200: list[MeasureOut]}, summary="The outcome-measure registry", by_alias=True)
def list_measures(request: HttpRequest) -> Any:
    return [measure_dict(m) for m in measures().values()]


@router.get(
    "/episodes/{episode_id}/responses",
    response={200: list[ResponseOut], **ERRORS},
    summary="An episode's outcome-measure responses",
    description="Oldest first; filter by measure.",
)
def list_responses(request: ActorRequest, episode_id: int, measure: str | None = None) -> Any:
    rows = queries.responses_read(request.actor, episode_id=episode_id, measure_id=measure)
    return [response_dict(r) for r in rows]


@router.post(
    "/episodes/{episode_id}/responses",
    response={201: ResponseOut, **ERRORS},
    summary="Record an outcome measure",
    description="Answers in the published item order, null for a blank; the score is computed with the "
    "measure's own rules and is null when not computable.",
)
def create_response(request: ActorRequest, episode_id: int, payload: ResponseIn) -> Any:
    actor = request.actor
    episode = clinical_queries.episode_or_404(actor, episode_id)
    try:
        response = services.response_record(
            actor=actor,
            episode=episode,
            measure_id=payload.measure,
            answers=payload.answers,
            item_labels=payload.item_labels,
            collected_on=payload.collected_on,
        )
    except ValidationError as error:
        return invalid(request, error)
    return Status(201, response_dict(response))


@router.post(
    "/episodes/{episode_id}/questionnaire-links",
    response={201: LinkOut, **ERRORS},
    summary="Email the client a single-use questionnaire link",
    description="Needs the client's email address and consent to email; the link expires after 7 days "
    "(MEND_QUESTIONNAIRE_DAYS).",
)
def create_link(request: ActorRequest, episode_id: int, payload: LinkIn) -> Any:
    actor = request.actor
    episode = clinical_queries.episode_or_404(actor, episode_id)
    try:
        sent = services.link_create_and_send(
            actor=actor, episode=episode, measure_ids=payload.measures, base_url=request.build_absolute_uri("/")
        )
    except ValidationError as error:
        return invalid(request, error)
    link = sent.link
    return Status(
        201,
        {
            "id": link.pk,
            "episode_id": episode.pk,
            "measures": link.measures,
            "sent_to": link.sent_to,
            "expires_at": link.expires_at,
            "url": sent.url,
        },
    )
