"""Contraindication screening: findings in, the most severe action and every action out.

Pure Python (no Django): the rules are data (``mend/knowledge/contraindications.json``), this
module only reads them and applies them. A finding names a catalogue rule and, for local rules,
where on the body it is::

    screen([Finding("anticoagulant"), Finding("recent_surgery", region="knee", side="right")])

gives ``status == "CLEARANCE"`` with a CLEARANCE, an AVOID_REGION over the right knee and a
MODIFY (pressure cap 2) among its actions. Nothing is dropped when a more severe action wins:
the therapist needs every restriction for the day the client is cleared.
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

from mend.knowledge import KnowledgeError, body_regions


class Action(enum.StrEnum):
    """Screening outcomes, most severe first (the order is the precedence)."""

    REFER = "REFER"
    BLOCK = "BLOCK"
    CLEARANCE = "CLEARANCE"
    AVOID_REGION = "AVOID_REGION"
    MODIFY = "MODIFY"
    PROCEED = "PROCEED"

    @property
    def severity(self) -> int:
        """0 for REFER … 5 for PROCEED: lower is more severe."""
        return _ORDER.index(self)

    @property
    def label(self) -> str:
        return _LABELS[self]


_ORDER = list(Action)
_LABELS = {
    Action.REFER: "Refer for medical review: no treatment",
    Action.BLOCK: "No treatment today",
    Action.CLEARANCE: "Physician clearance needed before treatment",
    Action.AVOID_REGION: "Avoid region",
    Action.MODIFY: "Modify treatment",
    Action.PROCEED: "No contraindication found",
}

SIDES = ("left", "right", "bilateral")
# Completed weeks 1–13 are the first trimester (week 13 ends at 13 weeks 6 days), when NYSED's
# first-trimester precautions hold: no abdominal massage, no deep sacral work.
FIRST_TRIMESTER_WEEKS = 13


class ScreeningError(ValueError):
    """A finding does not fit the catalogue: unknown id, region or side."""


@dataclass(frozen=True, slots=True)
class Finding:
    """Something screening found: a catalogue rule id, and where on the body when it is local."""

    id: str
    region: str | None = None
    side: str | None = None


@dataclass(frozen=True, slots=True)
class ScreeningAction:
    action: Action
    explanation: str
    rule_id: str
    region: str | None = None
    side: str | None = None
    pressure_cap: int | None = None
    restrictions: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    cleared: bool = False


@dataclass(frozen=True, slots=True)
class ActionGroup:
    """One action of one rule over several regions (a limb: the site and what lies distal)."""

    action: ScreeningAction  # with the first region
    regions: tuple[str, ...]  # empty for a whole-body action


@dataclass(frozen=True, slots=True)
class Screening:
    status: Action
    actions: tuple[ScreeningAction, ...] = ()

    @property
    def can_treat_today(self) -> bool:
        """REFER and BLOCK stop treatment (and the signing of a treatment note) today."""
        return self.status not in (Action.REFER, Action.BLOCK)

    @property
    def needs_clearance(self) -> bool:
        return any(a.action == Action.CLEARANCE for a in self.actions)

    @property
    def avoided_regions(self) -> list[tuple[str, str | None]]:
        """(region, side) pairs to draw on the body map, in catalogue order, without repeats."""
        seen: dict[tuple[str, str | None], None] = {}
        for a in self.actions:
            if a.action == Action.AVOID_REGION and a.region is not None:
                seen.setdefault((a.region, a.side), None)
        return list(seen)

    @property
    def pressure_cap(self) -> int | None:
        """The lowest whole-body pressure cap (Walton's levels 1–5), or None when pressure is not capped."""
        caps = [a.pressure_cap for a in self.actions if a.pressure_cap is not None and a.region is None]
        return min(caps) if caps else None

    @property
    def restrictions(self) -> list[str]:
        """Whole-body restrictions, once each; a regional one (lymphedema's "MLD only" on the
        affected arm) is on its action, with the region it holds in."""
        seen: dict[str, None] = {}
        for a in self.actions:
            if a.region is None:
                for r in a.restrictions:
                    seen.setdefault(r, None)
        return list(seen)

    @property
    def grouped(self) -> list[ActionGroup]:
        """The actions with those that differ only in region taken together, in order: lymphedema
        of the arm reads as one flag over the upper arm, elbow, forearm, wrist and hand."""
        groups: dict[tuple[ScreeningAction, bool], list[ScreeningAction]] = {}
        for a in self.actions:
            groups.setdefault((replace(a, region=None), a.region is None), []).append(a)
        return [
            ActionGroup(members[0], tuple(m.region for m in members if m.region is not None))
            for members in groups.values()
        ]

    def by_action(self, action: Action | str) -> list[ScreeningAction]:
        return [a for a in self.actions if a.action == action]

    @property
    def uncleared(self) -> list[ScreeningAction]:
        """CLEARANCE actions still waiting for a physician's clearance."""
        return [a for a in self.actions if a.action == Action.CLEARANCE and not a.cleared]


def apply_clearances(screening: Screening, cleared_rules: Iterable[str]) -> Screening:
    """Mark the CLEARANCE actions of cleared rules as cleared and recompute the status from the
    rest. The cleared actions stay listed: the chart shows who cleared what."""
    cleared = set(cleared_rules)
    actions = tuple(
        replace(a, cleared=True) if a.action == Action.CLEARANCE and a.rule_id in cleared else a
        for a in screening.actions
    )
    live = [a.action for a in actions if not a.cleared]
    status = min(live, key=lambda a: a.severity) if live else Action.PROCEED
    return Screening(status=status, actions=actions)


# --- The catalogue ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleAction:
    action: Action
    explanation: str
    where: str = "whole_body"  # whole_body | finding | finding_and_distal | fixed
    regions: tuple[str, ...] = ()
    pressure_cap: int | None = None
    restrictions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    category: str
    question: str
    actions: tuple[RuleAction, ...]
    sources: tuple[str, ...]
    icd10: tuple[str, ...] = ()
    needs_region: bool = False
    # Lateral regions (an arm, a leg) also need the side: the restrictions follow the affected limb.
    needs_side: bool = False
    # The follow-up question that asks where, when the catalogue words it for this rule.
    follow_up: str = ""
    # Which source each value comes from, where the rule's sources alone do not say.
    source_note: str = ""
    # "therapist" for an observation made in the room (consent today): never on the client's own questionnaire.
    asked_by: str = "client"

    @property
    def regional(self) -> bool:
        """Whether a finding of this rule names a region: the rule acts on the finding's site."""
        return self.needs_region or any(a.where in ("finding", "finding_and_distal") for a in self.actions)

    def area(self, region: str | None, distal: Mapping[str, tuple[str, ...]]) -> tuple[str, ...] | None:
        """The regions a finding at ``region`` covers: the site, and what lies distal when the rule
        acts distally (a limb with lymphedema). None when the site was not recorded."""
        if region is None:
            return None
        if any(a.where == "finding_and_distal" for a in self.actions):
            return (region, *distal.get(region, ()))
        return (region,)

    @property
    def most_severe(self) -> Action:
        return min((a.action for a in self.actions), key=lambda a: a.severity)


@dataclass(frozen=True, slots=True)
class Combination:
    """Findings that together call for an action neither calls for alone.

    With ``in_area_of`` set, the combination is local: it applies only when the other findings lie
    in the area of that rule's finding (same region or distal to it, sides overlapping), and its
    action covers that area. Without it, it applies to the whole body.
    """

    id: str
    all_of: tuple[str, ...]
    action: Action
    explanation: str
    sources: tuple[str, ...]
    in_area_of: str | None = None


@dataclass(frozen=True, slots=True)
class Catalogue:
    version: str
    rules: Mapping[str, Rule]
    combinations: tuple[Combination, ...]
    sources: Mapping[str, str]
    restrictions: Mapping[str, str]
    distal: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


_WHERE = {"whole_body", "finding", "finding_and_distal", "fixed"}
_CATEGORIES = {"systemic", "relative", "local"}


def _fail(message: str) -> KnowledgeError:
    return KnowledgeError(f"contraindications.json: {message}")


def _parse_action(rule_id: str, raw: Mapping[str, Any], ctx: tuple[set[str], set[str]]) -> RuleAction:
    regions_known, restrictions_known = ctx
    try:
        action = Action(raw["action"])
    except (KeyError, ValueError):
        raise _fail(f"{rule_id}: unknown action {raw.get('action')!r}") from None
    if action == Action.PROCEED:
        raise _fail(f"{rule_id}: PROCEED is what no rule gives, not a rule's action")
    where = raw.get("where", "whole_body")
    if where not in _WHERE:
        raise _fail(f"{rule_id}: 'where' must be one of {sorted(_WHERE)}")
    regions = tuple(raw.get("regions", ()))
    if (where == "fixed") != bool(regions) or not set(regions) <= regions_known:
        raise _fail(f"{rule_id}: fixed actions, and only they, name known regions")
    if action == Action.AVOID_REGION and where == "whole_body":
        raise _fail(f"{rule_id}: AVOID_REGION needs a region")
    cap = raw.get("pressure_cap")
    if cap is not None and (not isinstance(cap, int) or not 1 <= cap <= 5):
        raise _fail(f"{rule_id}: pressure_cap is a level from 1 to 5")
    restrictions = tuple(raw.get("restrictions", ()))
    if not set(restrictions) <= restrictions_known:
        raise _fail(f"{rule_id}: unknown restrictions {sorted(set(restrictions) - restrictions_known)}")
    explanation = raw.get("explanation")
    if not isinstance(explanation, str) or not explanation:
        raise _fail(f"{rule_id}: every action explains itself")
    return RuleAction(action, explanation, where, regions, cap, restrictions)


def parse_catalogue(data: Mapping[str, Any]) -> Catalogue:
    """Validate the catalogue's shape; a bad file fails loudly at load, never at a client's visit."""
    regions = body_regions()
    sources = dict(data.get("sources", {}))
    restrictions = dict(data.get("restrictions", {}))
    ctx = (set(regions), set(restrictions))
    rules: dict[str, Rule] = {}
    for raw in data.get("rules", []):
        rule_id = raw.get("id")
        if not isinstance(rule_id, str) or rule_id in rules:
            raise _fail(f"missing or repeated id {rule_id!r}")
        if raw.get("category") not in _CATEGORIES:
            raise _fail(f"{rule_id}: category must be one of {sorted(_CATEGORIES)}")
        rule_sources = tuple(raw.get("sources", ()))
        if not rule_sources or not set(rule_sources) <= set(sources):
            raise _fail(f"{rule_id}: every rule cites sources listed under 'sources'")
        actions = tuple(_parse_action(rule_id, a, ctx) for a in raw.get("actions", ()))
        if not actions:
            raise _fail(f"{rule_id}: a rule needs at least one action")
        rules[rule_id] = Rule(
            id=rule_id,
            name=raw["name"],
            category=raw["category"],
            question=raw.get("question", ""),
            actions=actions,
            sources=rule_sources,
            icd10=tuple(raw.get("icd10", ())),
            needs_region=bool(raw.get("needs_region", False)),
            needs_side=bool(raw.get("needs_side", False)),
            follow_up=str(raw.get("follow_up", "")),
            source_note=str(raw.get("source_note", "")),
            asked_by=str(raw.get("asked_by", "client")),
        )
        if rules[rule_id].asked_by not in ("client", "therapist"):
            raise _fail(f"{rule_id}: asked_by is 'client' or 'therapist'")
        if (rules[rule_id].needs_side or rules[rule_id].follow_up) and not rules[rule_id].needs_region:
            raise _fail(f"{rule_id}: only a rule that needs a region asks for a side or words a follow-up")
    combinations = []
    for raw in data.get("combinations", []):
        all_of = tuple(raw["all_of"])
        if len(all_of) < 2 or not set(all_of) <= set(rules):
            raise _fail(f"combination {raw.get('id')!r} names unknown rules")
        combo_sources = tuple(raw.get("sources", ()))
        if not combo_sources or not set(combo_sources) <= set(sources):
            raise _fail(f"combination {raw.get('id')!r} cites sources listed under 'sources'")
        in_area_of = raw.get("in_area_of")
        action = Action(raw["action"])
        if in_area_of is not None and (in_area_of not in all_of or not rules[in_area_of].regional):
            raise _fail(f"combination {raw.get('id')!r}: in_area_of names one of its regional rules")
        if (action == Action.AVOID_REGION) != (in_area_of is not None):
            raise _fail(f"combination {raw.get('id')!r}: a local combination avoids its area, and only it does")
        combinations.append(
            Combination(raw["id"], all_of, action, raw["explanation"], combo_sources, in_area_of=in_area_of)
        )
    distal = {region.id: region.distal for region in regions.values()}
    return Catalogue(
        version=str(data["version"]),
        rules=rules,
        combinations=tuple(combinations),
        sources=sources,
        restrictions=restrictions,
        distal=distal,
    )


@functools.cache
def catalogue() -> Catalogue:
    """The catalogue shipped with Mend."""
    text = resources.files("mend.knowledge").joinpath("contraindications.json").read_text(encoding="utf-8")
    return parse_catalogue(json.loads(text))


# --- The engine ---------------------------------------------------------------------------


def _check(finding: Finding, rules: Catalogue) -> Rule:
    rule = rules.rules.get(finding.id)
    if rule is None:
        raise ScreeningError(f"Unknown finding {finding.id!r}; known ids are in contraindications.json.")
    if finding.region is not None and finding.region not in rules.distal:
        raise ScreeningError(f"Unknown body region {finding.region!r}.")
    if finding.side is not None and finding.side not in SIDES:
        raise ScreeningError(f"Side must be one of {', '.join(SIDES)}, not {finding.side!r}.")
    return rule


_WHERE_NOTE = " (Where on the body? Record the region so it shows on the body map.)"


def trimester_disagreement(weeks: int | None, first_trimester: bool | None) -> str | None:
    """What is wrong when the weeks pregnant and the answer to the first-trimester question
    disagree (10 weeks answered "no" would drop the first-trimester precautions); None when
    they agree or either is unknown."""
    if weeks is None or first_trimester is None or weeks <= 0:
        return None
    if weeks <= FIRST_TRIMESTER_WEEKS and not first_trimester:
        return f"{weeks} weeks is in the first trimester (weeks 1–{FIRST_TRIMESTER_WEEKS}): answer yes here."
    if weeks > FIRST_TRIMESTER_WEEKS and first_trimester:
        return f"At {weeks} weeks the first trimester is over; answer no here or correct the weeks."
    return None


def sides_overlap(a: str | None, b: str | None) -> bool:
    """Whether two sides can meet: an unknown side, the same side, or either on both sides."""
    return a is None or b is None or a == b or "bilateral" in (a, b)


def _apply(rule: Rule, finding: Finding, rules: Catalogue) -> Iterable[ScreeningAction]:
    for ra in rule.actions:
        template = ScreeningAction(
            action=ra.action,
            explanation=ra.explanation,
            rule_id=rule.id,
            pressure_cap=ra.pressure_cap,
            restrictions=ra.restrictions,
            sources=rule.sources,
        )
        if ra.where == "whole_body":
            yield template
        elif ra.where == "fixed":
            for region in ra.regions:
                yield replace(template, region=region)
        elif finding.region is None:
            # A local rule with no recorded site still restricts: the therapist must find out where.
            yield replace(template, side=finding.side, explanation=ra.explanation + _WHERE_NOTE)
        else:
            regions = [finding.region]
            if ra.where == "finding_and_distal":
                regions += rules.distal.get(finding.region, ())
            for region in regions:
                yield replace(template, region=region, side=finding.side)


def _in_area(finding: Finding, area: tuple[str, ...] | None, side: str | None) -> bool:
    """Whether ``finding`` lies in an area; an unrecorded site might be anywhere, so it does."""
    if area is None or finding.region is None:
        return True
    return finding.region in area and sides_overlap(finding.side, side)


def _combine(combo: Combination, findings: list[Finding], rules: Catalogue) -> Iterable[ScreeningAction]:
    template = ScreeningAction(
        action=combo.action, explanation=combo.explanation, rule_id=combo.id, sources=combo.sources
    )
    if combo.in_area_of is None:
        yield template
        return
    anchor_rule = rules.rules[combo.in_area_of]
    others = [rule_id for rule_id in combo.all_of if rule_id != combo.in_area_of]
    for anchor in (f for f in findings if f.id == combo.in_area_of):
        area = anchor_rule.area(anchor.region, rules.distal)
        if not all(any(f.id == other and _in_area(f, area, anchor.side) for f in findings) for other in others):
            continue
        if area is None:
            # Where the anchor finding is was never recorded, so its area cannot be told apart from
            # the rest of the body: as for any local rule without a site, it holds everywhere.
            yield replace(template, side=anchor.side, explanation=combo.explanation + _WHERE_NOTE)
            continue
        for region in area:
            yield replace(template, region=region, side=anchor.side)


def screen(findings: Iterable[Finding], rules: Catalogue | None = None) -> Screening:
    """Apply the catalogue to ``findings``: the most severe action as ``status``, and every action."""
    rules = rules or catalogue()
    findings = list(findings)
    collected: dict[ScreeningAction, None] = {}
    present: set[str] = set()
    for finding in findings:
        rule = _check(finding, rules)
        present.add(rule.id)
        for action in _apply(rule, finding, rules):
            collected.setdefault(action, None)
    for combo in rules.combinations:
        if set(combo.all_of) <= present:
            for action in _combine(combo, findings, rules):
                collected.setdefault(action, None)
    # Stable sort: most severe first, and within one action the order the findings came in.
    actions = tuple(sorted(collected, key=lambda a: a.action.severity))
    status = actions[0].action if actions else Action.PROCEED
    return Screening(status=status, actions=actions)
