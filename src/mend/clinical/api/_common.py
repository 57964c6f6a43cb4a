"""What every clinical API module shares: the screening and naming helpers several
outputs use. Reads audit themselves in ``mend.clinical.queries``; routes read ``request.actor``."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import JsonResponse
from ninja import Schema
from pydantic import Field

from mend import knowledge
from mend.clinical.screening import Screening, catalogue
from mend.clinics.models import Membership


def conflict(detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=409)


def text_fields(supplied: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """``null`` for a text field means empty text: the database keeps text fields non-null."""
    return {k: ("" if v is None and k in names else v) for k, v in supplied.items()}


def person_name(membership: Membership | None) -> str:
    return membership.user.get_full_name() if membership is not None else ""


def region_name(region: str) -> str:
    found = knowledge.body_regions().get(region)
    return found.name if found else region


def rule_name(rule_id: str) -> str:
    rule = catalogue().rules.get(rule_id)
    if rule is not None:
        return rule.name
    return rule_id.replace("_", " ").capitalize()


# --- Screening, shown by several resources -----------------------------------------------------


class ScreeningActionOut(Schema):
    action: str = Field(description="REFER, BLOCK, CLEARANCE, AVOID_REGION or MODIFY")
    rule_id: str
    rule_name: str
    region: str | None
    side: str | None
    explanation: str
    pressure_cap: int | None = Field(description="Highest pressure level allowed (Walton's 1–5), if capped")
    restrictions: list[str]
    cleared: bool = Field(description="A CLEARANCE action that a recorded physician's clearance satisfies")
    sources: list[str]


class RegionSide(Schema):
    region: str
    region_name: str
    side: str | None


class ScreeningOut(Schema):
    on: date
    status: str = Field(description="The most severe action: REFER, BLOCK, CLEARANCE, AVOID_REGION, MODIFY or PROCEED")
    label: str
    can_treat: bool = Field(description="False on REFER or BLOCK: no treatment note can be signed that day")
    uncleared: list[str] = Field(description="Findings still waiting for a physician's clearance")
    actions: list[ScreeningActionOut]
    avoided_regions: list[RegionSide]
    pressure_cap: int | None = Field(description="Lowest whole-body pressure cap; regional caps are on their actions")
    restrictions: list[str] = Field(description="Whole-body restrictions; regional ones are on their actions")


def screening_dict(screening: Screening, on: date) -> dict[str, Any]:
    return {
        "on": on,
        "status": str(screening.status),
        "label": screening.status.label,
        "can_treat": screening.can_treat_today,
        "uncleared": sorted({a.rule_id for a in screening.uncleared}),
        "actions": [
            {
                "action": str(a.action),
                "rule_id": a.rule_id,
                "rule_name": rule_name(a.rule_id),
                "region": a.region,
                "side": a.side,
                "explanation": a.explanation,
                "pressure_cap": a.pressure_cap,
                "restrictions": list(a.restrictions),
                "cleared": a.cleared,
                "sources": list(a.sources),
            }
            for a in screening.actions
        ],
        "avoided_regions": [
            {"region": region, "region_name": region_name(region), "side": side}
            for region, side in screening.avoided_regions
        ],
        "pressure_cap": screening.pressure_cap,
        "restrictions": screening.restrictions,
    }
