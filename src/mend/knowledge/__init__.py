"""Versioned knowledge shipped with Mend, validated when loaded.

Each file carries a version and a note on its sources; entries are never hard-coded in views.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_ICD10 = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
_CPT = re.compile(r"^[0-9]{5}$")


class KnowledgeError(ValueError):
    """A shipped data file does not match its schema."""


@dataclass(frozen=True, slots=True)
class HomeProgramItem:
    kind: str  # stretch, self_massage, heat, cold, other
    title: str
    instructions: str


@dataclass(frozen=True, slots=True)
class Dose:
    per_week: int
    weeks: int
    minutes: int
    source: str  # a key of dose_sources
    source_text: str


@dataclass(frozen=True, slots=True)
class Condition:
    id: str
    name: str
    icd10: tuple[str, ...]
    regions: tuple[str, ...] = ()
    techniques: tuple[str, ...] = ()
    dose: Dose | None = None
    measures: tuple[str, ...] = ()
    precautions: str = ""
    home_program: tuple[HomeProgramItem, ...] = ()


@dataclass(frozen=True, slots=True)
class RomMotion:
    id: str
    name: str
    region: str
    lateral: bool
    normal: int
    max: int
    source: str
    source_text: str


@dataclass(frozen=True, slots=True)
class Technique:
    id: str
    name: str
    cpt: str
    pressure: int
    restricted_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BodyRegion:
    id: str
    name: str
    snomed: str | None
    lateral: bool
    views: tuple[str, ...]
    distal: tuple[str, ...]


def _load(filename: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("version"), str):
        raise KnowledgeError(f"{filename}: needs a top-level object with a version")
    return data


def _check_ids(filename: str, entries: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry.get("id")
        if not isinstance(entry_id, str) or not _ID.match(entry_id):
            raise KnowledgeError(f"{filename}: bad id {entry_id!r}")
        if entry_id in seen:
            raise KnowledgeError(f"{filename}: duplicate id {entry_id!r}")
        if not isinstance(entry.get("name"), str) or not entry["name"]:
            raise KnowledgeError(f"{filename}: {entry_id} needs a name")
        seen.add(entry_id)


@functools.cache
def conditions() -> dict[str, Condition]:
    data = _load("conditions.json")
    entries = data.get("conditions")
    if not isinstance(entries, list):
        raise KnowledgeError("conditions.json: 'conditions' must be a list")
    _check_ids("conditions.json", entries)
    result: dict[str, Condition] = {}
    for entry in entries:
        codes = entry.get("icd10", [])
        bad = [code for code in codes if not isinstance(code, str) or not _ICD10.match(code)]
        if bad:
            raise KnowledgeError(f"conditions.json: {entry['id']} has malformed ICD-10-CM codes {bad}")
        result[entry["id"]] = _condition(entry, tuple(codes), data.get("dose_sources", {}))
    return result


HOME_PROGRAM_KINDS = ("stretch", "self_massage", "heat", "cold", "other")


def _condition(entry: dict[str, Any], codes: tuple[str, ...], dose_sources: dict[str, str]) -> Condition:
    dose = None
    if "dose" in entry:
        raw = entry["dose"]
        if raw.get("source") not in dose_sources:
            raise KnowledgeError(f"conditions.json: {entry['id']} cites an unknown dose source")
        if not (1 <= raw["per_week"] <= 7 and 1 <= raw["weeks"] <= 52 and 30 <= raw["minutes"] <= 90):
            raise KnowledgeError(f"conditions.json: {entry['id']} has an implausible dose")
        dose = Dose(raw["per_week"], raw["weeks"], raw["minutes"], raw["source"], dose_sources[raw["source"]])
    home = []
    for item in entry.get("home_program", []):
        if item.get("kind") not in HOME_PROGRAM_KINDS:
            raise KnowledgeError(f"conditions.json: {entry['id']} has a home program item of unknown kind")
        home.append(HomeProgramItem(item["kind"], item["title"], item["instructions"]))
    return Condition(
        id=entry["id"],
        name=entry["name"],
        icd10=codes,
        regions=tuple(entry.get("regions", ())),
        techniques=tuple(entry.get("techniques", ())),
        dose=dose,
        measures=tuple(entry.get("measures", ())),
        precautions=entry.get("precautions", ""),
        home_program=tuple(home),
    )


@functools.cache
def techniques() -> dict[str, Technique]:
    data = _load("techniques.json")
    entries = data.get("techniques")
    if not isinstance(entries, list):
        raise KnowledgeError("techniques.json: 'techniques' must be a list")
    _check_ids("techniques.json", entries)
    result: dict[str, Technique] = {}
    for entry in entries:
        if not isinstance(entry.get("cpt"), str) or not _CPT.match(entry["cpt"]):
            raise KnowledgeError(f"techniques.json: {entry['id']} needs a five-digit CPT code")
        pressure = entry.get("pressure")
        if not isinstance(pressure, int) or not 1 <= pressure <= 5:
            raise KnowledgeError(f"techniques.json: {entry['id']} needs a usual pressure level from 1 to 5")
        result[entry["id"]] = Technique(
            id=entry["id"],
            name=entry["name"],
            cpt=entry["cpt"],
            pressure=pressure,
            restricted_by=tuple(entry.get("restricted_by", ())),
        )
    return result


def condition_choices() -> list[tuple[str, str]]:
    return [(c.id, c.name) for c in conditions().values()]


def technique_choices() -> list[tuple[str, str]]:
    return [(t.id, t.name) for t in techniques().values()]


@functools.cache
def body_regions() -> dict[str, BodyRegion]:
    """Body regions for pain maps, screening and techniques, each with its SNOMED CT code where known."""
    data = _load("body_regions.json")
    entries = data.get("regions")
    if not isinstance(entries, list):
        raise KnowledgeError("body_regions.json: 'regions' must be a list")
    _check_ids("body_regions.json", entries)
    ids = {entry["id"] for entry in entries}
    result: dict[str, BodyRegion] = {}
    for entry in entries:
        distal = tuple(entry.get("distal", ()))
        if not set(distal) <= ids:
            raise KnowledgeError(f"body_regions.json: {entry['id']} lists unknown distal regions")
        snomed = entry.get("snomed")
        if snomed is not None and not (isinstance(snomed, str) and snomed.isdigit()):
            raise KnowledgeError(f"body_regions.json: {entry['id']} has a malformed SNOMED CT code")
        views = tuple(entry.get("view", ()))
        if not views or not set(views) <= {"front", "back"}:
            raise KnowledgeError(f"body_regions.json: {entry['id']} must show on the front or back view")
        result[entry["id"]] = BodyRegion(
            id=entry["id"],
            name=entry["name"],
            snomed=snomed,
            lateral=bool(entry.get("lateral")),
            views=views,
            distal=distal,
        )
    return result


def region_choices() -> list[tuple[str, str]]:
    return [(r.id, r.name) for r in body_regions().values()]


@functools.cache
def rom_motions() -> dict[str, RomMotion]:
    """Joint motions with the normal active range, its source, and the most a measurement may record."""
    data = _load("rom_norms.json")
    entries = data.get("motions")
    sources = data.get("sources", {})
    if not isinstance(entries, list):
        raise KnowledgeError("rom_norms.json: 'motions' must be a list")
    _check_ids("rom_norms.json", entries)
    regions = body_regions()
    result: dict[str, RomMotion] = {}
    for entry in entries:
        if entry.get("region") not in regions or entry.get("source") not in sources:
            raise KnowledgeError(f"rom_norms.json: {entry['id']} names an unknown region or source")
        if not 0 <= entry["normal"] <= entry["max"] <= 360:
            raise KnowledgeError(f"rom_norms.json: {entry['id']} needs 0 <= normal <= max <= 360")
        result[entry["id"]] = RomMotion(
            id=entry["id"],
            name=entry["name"],
            region=entry["region"],
            lateral=bool(entry["lateral"]),
            normal=entry["normal"],
            max=entry["max"],
            source=entry["source"],
            source_text=sources[entry["source"]],
        )
    return result


@dataclass(frozen=True, slots=True)
class TrialFigure:
    label: str
    value: float
    unit: str


@dataclass(frozen=True, slots=True)
class TrialResponder:
    """How a trial counted a responder, in the registry's terms (points on Mend's scale of ``measure``)."""

    measure: str
    absolute: float
    as_published: str


@dataclass(frozen=True, slots=True)
class TrialReference:
    id: str
    name: str
    condition: str
    icd10: tuple[str, ...]
    design: str
    finding: str
    figures: tuple[TrialFigure, ...]
    source: str
    source_text: str
    excludes: tuple[str, ...] = ()  # ICD-10-CM prefixes of people the trial did not enrol
    exclusion: str = ""  # why, shown where such a group is left out
    responder: TrialResponder | None = None


@dataclass(frozen=True, slots=True)
class ClaimReference:
    id: str
    claim: str
    judge: str


@dataclass(frozen=True, slots=True)
class EvidenceReferences:
    trials: tuple[TrialReference, ...]
    claims: tuple[ClaimReference, ...]
    guidance: str


@functools.cache
def evidence_references() -> EvidenceReferences:
    """Published trial results and common marketing claims the evidence report sets the clinic's own figures beside."""
    filename = "evidence_references.json"
    data = _load(filename)
    sources = data.get("sources")
    trials, claims = data.get("trials"), data.get("claims")
    if not isinstance(sources, dict) or not isinstance(trials, list) or not isinstance(claims, list):
        raise KnowledgeError(f"{filename}: needs 'sources', 'trials' and 'claims'")
    known = conditions()
    found: list[TrialReference] = []
    for entry in trials:
        if entry.get("source") not in sources or entry.get("condition") not in known:
            raise KnowledgeError(f"{filename}: {entry.get('id')!r} names an unknown source or condition")
        figures = tuple(TrialFigure(f["label"], float(f["value"]), f["unit"]) for f in entry.get("figures", []))
        excludes = tuple(entry.get("excludes", ()))
        if excludes and not entry.get("exclusion"):
            raise KnowledgeError(f"{filename}: {entry['id']!r} excludes codes without saying why")
        if any(code.startswith(excluded) for code in entry["icd10"] for excluded in excludes):
            raise KnowledgeError(f"{filename}: {entry['id']!r} both matches and excludes a code")
        raw, responder = entry.get("responder"), None
        if raw is not None:
            from mend.knowledge.outcome_measures import measures

            if raw.get("measure") not in measures() or not raw.get("as_published"):
                raise KnowledgeError(f"{filename}: {entry['id']!r}'s responder names a measure and the published rule")
            responder = TrialResponder(raw["measure"], float(raw["absolute"]), raw["as_published"])
        found.append(
            TrialReference(
                id=entry["id"],
                name=entry["name"],
                condition=entry["condition"],
                icd10=tuple(entry["icd10"]),
                design=entry["design"],
                finding=entry["finding"],
                figures=figures,
                source=entry["source"],
                source_text=sources[entry["source"]],
                excludes=excludes,
                exclusion=entry.get("exclusion", ""),
                responder=responder,
            )
        )
    for entry in claims:
        if not entry.get("claim") or not entry.get("judge"):
            raise KnowledgeError(f"{filename}: every claim needs the claim and how to judge it")
    return EvidenceReferences(
        trials=tuple(found),
        claims=tuple(ClaimReference(c["id"], c["claim"], c["judge"]) for c in claims),
        guidance=str(data.get("guidance", "")),
    )
