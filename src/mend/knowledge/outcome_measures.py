"""The outcome-measure registry, from ``measures.json``: what each instrument is, how it is scored,
its bands, its minimal clinically important difference with the source, and its licence.

Knowledge, not scoring: the clinical app reads it to check a plan's measures and the outcomes app
scores with it (``mend.outcomes.scoring``), so it sits below both. Plain Python, no Django.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from mend.knowledge import KnowledgeError

# The scoring rules ``mend.outcomes.scoring`` implements, one per instrument family; a test keeps
# the two lists equal, so a measure cannot name a rule nothing scores.
SCORING_RULES = frozenset({"single", "mean", "sum", "odi", "ndi", "quickdash", "fiqr", "pss10", "hit6"})

_KNOWN_KEYS = frozenset(
    {
        "id", "name", "short", "construct", "rule", "items", "min", "max", "direction", "score_min", "score_max",
        "missing", "max_missing", "bands", "raw_bands", "mcid", "licence", "ships_text", "loinc", "item_text",
        "item_ids", "activities",
    }
)  # fmt: skip


# How a change-based MCID's two thresholds combine: points only, a share of the baseline only,
# either one (Ostelo 2008: "2 points or 30%") or both at once.
MCID_RULES = ("absolute", "relative", "either", "both")
_MCID_VALUES = ("absolute", "relative", "followup_at_most", "followup_at_least")


@dataclass(frozen=True, slots=True)
class Mcid:
    absolute: float | None = None
    relative: float | None = None
    followup_at_most: float | None = None  # anchors such as PGIC: a responder answers 1 or 2
    followup_at_least: float | None = None
    source: str = ""
    rule: str | None = None  # one of MCID_RULES for a change from baseline; None for an anchor
    sources: tuple[tuple[str, str], ...] = ()  # (value, where that value comes from), one per value and the rule

    @property
    def anchor(self) -> bool:
        """PGIC, GROC: the latest answer alone decides; there is no change from a baseline."""
        return self.followup_at_most is not None or self.followup_at_least is not None

    def source_of(self, value: str) -> str:
        return dict(self.sources).get(value, "")

    def describe(self) -> str:
        """The responder rule in words, shown beside every responder rate."""
        if self.followup_at_most is not None:
            return f"a latest answer of {self.followup_at_most:g} or lower"
        if self.followup_at_least is not None:
            return f"a latest answer of {self.followup_at_least:+g} or higher"
        points = f"{self.absolute:g} point{'' if self.absolute == 1 else 's'}" if self.absolute is not None else ""
        share = f"{self.relative * 100:g}%" if self.relative is not None else ""
        joined = {"absolute": points, "relative": share, "either": f"{points} or {share}"}
        joined["both"] = f"{points} and {share}"
        return f"{joined[self.rule or 'absolute']} better than baseline"


@dataclass(frozen=True, slots=True)
class ActivityCount:
    """How many activities a client names on an instrument of their own activities (PSFS)."""

    min: int
    max: int
    source: str


@dataclass(frozen=True, slots=True)
class Measure:
    id: str
    name: str
    short: str
    construct: str
    rule: str
    items: int | None
    min: float
    max: float
    direction: str  # "lower" or "higher" is better
    score_min: float
    score_max: float
    missing: str
    max_missing: int
    bands: tuple[tuple[float, str], ...]
    raw_bands: tuple[tuple[float, str], ...]
    mcid: Mcid | None
    licence: str
    ships_text: bool
    loinc: str | None
    item_text: tuple[str, ...]
    item_ids: tuple[str, ...]
    extra: dict[str, Any]
    activities: ActivityCount | None = None  # set where the client chooses the items (``items`` is null)

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"


def _measure(entry: dict[str, Any]) -> Measure:
    mcid = entry.get("mcid")
    if entry.get("direction") not in ("lower", "higher"):
        raise KnowledgeError(f"measures.json: {entry.get('id')} needs a direction")
    if entry.get("rule") not in SCORING_RULES:
        raise KnowledgeError(f"measures.json: {entry.get('id')} has an unknown scoring rule")
    activities = entry.get("activities")
    if (entry.get("items") is None) != (activities is not None):
        raise KnowledgeError(f"measures.json: {entry.get('id')} names its items or how many activities it takes")
    if activities is not None and not (
        isinstance(activities.get("min"), int)
        and isinstance(activities.get("max"), int)
        and 1 <= activities["min"] <= activities["max"]
        and activities.get("source")
    ):
        raise KnowledgeError(f"measures.json: {entry.get('id')}'s activity count needs a min, a max and a source")
    return Measure(
        id=entry["id"],
        name=entry["name"],
        short=entry["short"],
        construct=entry["construct"],
        rule=entry["rule"],
        items=entry["items"],
        min=entry["min"],
        max=entry["max"],
        direction=entry["direction"],
        score_min=entry["score_min"],
        score_max=entry["score_max"],
        missing=entry["missing"],
        max_missing=entry.get("max_missing", 0),
        bands=tuple((float(b), str(label)) for b, label in entry.get("bands", [])),
        raw_bands=tuple((float(b), str(label)) for b, label in entry.get("raw_bands", [])),
        mcid=_mcid(entry["id"], mcid) if mcid else None,
        licence=entry["licence"],
        ships_text=bool(entry["ships_text"]),
        loinc=entry.get("loinc"),
        item_text=tuple(entry.get("item_text", ())),
        item_ids=tuple(entry.get("item_ids", ())),
        extra={k: v for k, v in entry.items() if k not in _KNOWN_KEYS},
        activities=ActivityCount(**activities) if activities else None,
    )


def _mcid(measure_id: str, raw: dict[str, Any]) -> Mcid:
    """An MCID whose rule fits the values it has, with a source for the whole and for each value."""
    where = f"measures.json: {measure_id}'s MCID"
    if not raw.get("source"):
        raise KnowledgeError(f"{where} needs its source")
    present = {name for name in _MCID_VALUES if raw.get(name) is not None}
    anchors = present & {"followup_at_most", "followup_at_least"}
    rule = raw.get("rule")
    if anchors:
        if len(present) != 1 or rule is not None:
            raise KnowledgeError(f"{where}: an anchor (latest answer) stands alone, without a rule")
    else:
        needs = {"absolute": {"absolute"}, "relative": {"relative"}}.get(str(rule), {"absolute", "relative"})
        if rule not in MCID_RULES or present != needs:
            raise KnowledgeError(
                f"{where}: rule must be one of {', '.join(MCID_RULES)} and name exactly the values it combines"
            )
        if raw.get("relative") is not None and not 0 < raw["relative"] <= 1:
            raise KnowledgeError(f"{where}: relative is a share of the baseline, above 0 and at most 1")
    sources = raw.get("sources") or {}
    cited = present | ({"rule"} if rule is not None else set())
    if set(sources) != cited or not all(isinstance(v, str) and v for v in sources.values()):
        raise KnowledgeError(f"{where} names a source for each of its values: {', '.join(sorted(cited))}")

    def value(name: str) -> float | None:
        return float(raw[name]) if name in present else None

    return Mcid(
        absolute=value("absolute"),
        relative=value("relative"),
        followup_at_most=value("followup_at_most"),
        followup_at_least=value("followup_at_least"),
        source=raw["source"],
        rule=rule,
        sources=tuple(sorted(sources.items())),
    )


@functools.cache
def measures() -> dict[str, Measure]:
    """Every measure of the registry by id, in the file's order."""
    text = resources.files("mend.knowledge").joinpath("measures.json").read_text(encoding="utf-8")
    data = json.loads(text)
    result = {}
    for entry in data["measures"]:
        measure = _measure(entry)
        if measure.id in result:
            raise KnowledgeError(f"measures.json: duplicate id {measure.id}")
        if measure.ships_text is False and measure.item_text:
            raise KnowledgeError(f"measures.json: {measure.id} is licensed; its wording must not ship")
        result[measure.id] = measure
    return result
