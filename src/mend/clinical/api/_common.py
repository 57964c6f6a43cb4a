"""What every clinical API module shares: error shapes, and the screening and naming helpers several
outputs use. Reads audit themselves in ``mend.clinical.queries``; routes read ``request.actor``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from ninja import Schema
from pydantic import Field

from mend import knowledge
from mend.clinical.screening import Screening, catalogue
from mend.clinics.models import Membership
from mend.platform.api import field_errors
from mend.platform.errors import dotted
from mend.platform.errors import messages_by_path as errors_by_field


class Detail(Schema):
    detail: str


class FieldErrors(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(description="Messages per field; nested rows as `rom.0`, `techniques.1`.")


# Every route may answer these besides its success: 403 for front desk, 404 for what the token
# cannot see, 422 for input that does not validate.
ERRORS: dict[int, Any] = {403: Detail, 404: Detail, 422: FieldErrors}


# Services name the rows of a nested list as the pages' formsets do ("rom-0"); the API names them
# after the payload's own keys, the way schema errors do ("rom.0").
_ROW = re.compile(r"^([a-z_]+)-(\d+)$")
_ROW_NAMES = {
    "pain": "pain_regions",
    "rom": "rom",
    "psfs": "psfs",
    "palpation": "palpation",
    "technique": "techniques",
    "home": "home_program",
}


def _api_field(name: str, rename: Mapping[str, str]) -> str:
    if name in rename:
        return rename[name]
    if "[" in name:
        return dotted(name)
    match = _ROW.match(name)
    if match and match.group(1) in _ROW_NAMES:
        return f"{_ROW_NAMES[match.group(1)]}.{match.group(2)}"
    return name


def invalid(request: HttpRequest, error: ValidationError, rename: Mapping[str, str] | None = None) -> JsonResponse:
    """A service's ValidationError as the API's 422, each message under the payload field it concerns."""
    errors: dict[str, list[str]] = {}
    for name, messages in errors_by_field(error).items():
        errors.setdefault(_api_field(name, rename or {}), []).extend(messages)
    return field_errors(request, errors)


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
    pressure_cap: int | None
    restrictions: list[str]


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
