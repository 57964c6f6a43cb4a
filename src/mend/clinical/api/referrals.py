"""Referrals (the physician's prescription) and the ICD-10-CM code search."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from ninja import Router, Schema, Status
from pydantic import Field

from mend import access
from mend.clinical import icd10, queries, services
from mend.clinical.api._common import text_fields
from mend.clinical.models import Referral
from mend.clinical.rules import ReferralStatus
from mend.people.models import ReferringProvider
from mend.platform.actor import Actor
from mend.platform.api import ERRORS, Detail, invalid
from mend.platform.http import ActorRequest

router = Router(tags=["referrals"])


class Diagnosis(Schema):
    code: str
    description: str


class ReferralOut(Schema):
    id: int
    episode_id: int
    client_id: int
    provider_id: int | None = Field(description="Referring provider id")
    provider_name: str
    referred_on: date
    received_on: date
    diagnoses: list[Diagnosis]
    reason: str
    requested_treatment: str
    visits_authorised: int | None
    frequency: str
    valid_until: date | None
    precautions: str
    has_document: bool
    closed_at: datetime | None
    status: str = Field(description="received, active, exhausted, expired or closed")
    usable: bool = Field(description="Whether another visit can count against this referral")
    visits_used: int
    visits_left: int | None
    days_left: int | None


class ReferralIn(Schema):
    referred_on: date
    received_on: date | None = None
    diagnoses: list[str] = Field(description="ICD-10-CM codes, billable (for example M54.50)")
    provider_id: int | None = Field(None, description="A referring provider of the clinic")
    reason: str = ""
    requested_treatment: str = ""
    visits_authorised: int | None = None
    frequency: str = ""
    valid_until: date | None = None
    precautions: str = ""


class ReferralPatch(Schema):
    """Send only what changes; ``diagnoses`` replaces the whole list when sent."""

    referred_on: date | None = None
    received_on: date | None = None
    diagnoses: list[str] | None = None
    provider_id: int | None = None
    reason: str | None = None
    requested_treatment: str | None = None
    visits_authorised: int | None = None
    frequency: str | None = None
    valid_until: date | None = None
    precautions: str | None = None


_TEXT = {"reason", "requested_treatment", "frequency", "precautions"}


def referral_dict(referral: Referral, status: ReferralStatus) -> dict[str, Any]:
    return {
        "id": referral.pk,
        "episode_id": referral.episode_id,
        "client_id": referral.client_id,
        "provider_id": referral.provider_id,
        "provider_name": referral.provider.name if referral.provider else "",
        "referred_on": referral.referred_on,
        "received_on": referral.received_on,
        "diagnoses": referral.diagnoses,
        "reason": referral.reason,
        "requested_treatment": referral.requested_treatment,
        "visits_authorised": referral.visits_authorised,
        "frequency": referral.frequency,
        "valid_until": referral.valid_until,
        "precautions": referral.precautions,
        "has_document": bool(referral.document),
        "closed_at": referral.closed_at,
        "status": str(status.state),
        "usable": status.usable,
        "visits_used": status.visits_used,
        "visits_left": status.visits_left,
        "days_left": status.days_left,
    }


def _with_status(actor: Actor, referral: Referral) -> dict[str, Any]:
    return referral_dict(*queries.referral_with_status(actor, referral))


def _provider(actor: Actor, provider_id: int | None) -> ReferringProvider | None:
    found = queries.referring_provider(actor, provider_id)
    if provider_id is not None and found is None:
        raise ValidationError({"provider_id": "No such referring provider in this clinic."})
    return found


@router.get("/episodes/{episode_id}/referrals", response={200: list[ReferralOut], **ERRORS}, summary="List referrals")
def list_referrals(request: ActorRequest, episode_id: int) -> Any:
    return [referral_dict(r, status) for r, status in queries.referral_list(request.actor, episode_id)]


@router.post(
    "/episodes/{episode_id}/referrals",
    response={201: ReferralOut, **ERRORS},
    summary="Record a referral",
    description="Diagnoses must be billable ICD-10-CM codes; a referral valid until before it was written is refused.",
)
def create_referral(request: ActorRequest, episode_id: int, payload: ReferralIn) -> Any:
    actor = request.actor
    episode = queries.episode_or_404(actor, episode_id)
    data = payload.dict(exclude={"diagnoses", "provider_id"})
    try:
        provider = _provider(actor, payload.provider_id)
        referral = services.referral_save(
            actor=actor, episode=episode, data=data, diagnoses=payload.diagnoses, provider=provider
        )
    except ValidationError as error:
        return invalid(request, error, rename={"provider": "provider_id"})
    return Status(201, _with_status(actor, referral))


@router.get("/referrals/{referral_id}", response={200: ReferralOut, **ERRORS}, summary="Read a referral")
def get_referral(request: ActorRequest, referral_id: int) -> Any:
    return referral_dict(*queries.referral_for_reading(request.actor, referral_id))


@router.patch("/referrals/{referral_id}", response={200: ReferralOut, **ERRORS}, summary="Change a referral")
def update_referral(request: ActorRequest, referral_id: int, payload: ReferralPatch) -> Any:
    actor = request.actor
    referral = queries.referral_or_404(actor, referral_id)
    supplied = text_fields(payload.dict(exclude_unset=True), _TEXT)
    codes = supplied.pop("diagnoses", None)
    try:
        provider = _provider(actor, supplied.pop("provider_id")) if "provider_id" in supplied else referral.provider
        services.referral_save(
            actor=actor,
            episode=referral.episode,
            referral=referral,
            data={k: v for k, v in supplied.items() if v is not None or k in ("visits_authorised", "valid_until")},
            diagnoses=referral.diagnosis_codes if codes is None else codes,
            provider=provider,
        )
    except ValidationError as error:
        return invalid(request, error, rename={"provider": "provider_id"})
    return _with_status(actor, referral)


@router.post("/referrals/{referral_id}/close", response={200: ReferralOut, **ERRORS}, summary="Close a referral")
def close_referral(request: ActorRequest, referral_id: int) -> Any:
    actor = request.actor
    referral = queries.referral_or_404(actor, referral_id)
    try:
        services.referral_close(actor=actor, referral=referral)
    except ValidationError as error:
        return invalid(request, error)
    return _with_status(actor, referral)


class CodeOut(Schema):
    code: str
    description: str


@router.get(
    "/icd10",
    response={200: list[CodeOut], 403: Detail},
    summary="Search billable ICD-10-CM codes",
    description="By code prefix (M54.5) or by words of the description (low back pain).",
)
def search_icd10(request: ActorRequest, q: str = "", limit: int = 20) -> Any:
    # The code set is public reference data, not client information: the search is not audited.
    access.require_clinical(request.actor)
    return [{"code": c.code, "description": c.description} for c in icd10.search(q[:100], limit=max(1, min(limit, 50)))]
