"""Names for the ids the clinical record stores (regions, rules, techniques, restrictions), read
from the knowledge files so templates never carry their own copy of a list."""

from __future__ import annotations

from django import template

from mend import knowledge
from mend.clinical.models import SIDE_CHOICES
from mend.clinical.screening import catalogue

register = template.Library()

_SIDES = dict(SIDE_CHOICES)


@register.filter
def region_name(region_id: str | None) -> str:
    if not region_id:
        return ""
    region = knowledge.body_regions().get(region_id)
    return region.name if region else region_id


@register.filter
def side_label(side: str | None) -> str:
    return _SIDES.get(side or "", side or "")


@register.filter
def where(region_id: str | None, side: str | None = None) -> str:
    """'left lower leg and calf', 'knee, both sides', or '' for the whole body."""
    if not region_id:
        return ""
    name = region_name(region_id)
    name = name[:1].lower() + name[1:]
    if side == "bilateral":
        return f"{name}, both sides"
    return f"{side} {name}" if side else name


@register.filter
def where_all(region_ids: tuple[str, ...], side: str | None = None) -> str:
    """'right upper arm, elbow, forearm, wrist and hand': the side said once, for every region."""
    names = [region_name(r) for r in region_ids]
    names = [n[:1].lower() + n[1:] for n in names]
    if not names:
        return ""
    joined = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    if side == "bilateral":
        return f"{joined}, both sides"
    return f"{side} {joined}" if side else joined


@register.filter
def rule_name(rule_id: str) -> str:
    rule = catalogue().rules.get(rule_id)
    return rule.name if rule else rule_id


@register.filter
def restriction_label(restriction_id: str) -> str:
    return catalogue().restrictions.get(restriction_id, restriction_id)


@register.filter
def technique_name(technique_id: str) -> str:
    technique = knowledge.techniques().get(technique_id)
    return technique.name if technique else technique_id


@register.filter
def condition_name(condition_id: str) -> str:
    condition = knowledge.conditions().get(condition_id)
    return condition.name if condition else condition_id
