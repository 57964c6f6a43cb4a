"""Item wording of licensed measures, from a clinic's own file.

Mend ships the wording of NPRS, PSFS, PGIC, GROC and the single 0–10 items only (their licences
allow it). A clinic that holds a licence for ODI, NDI, LEFS, QuickDASH, FIQR, PSS-10 or HIT-6
points ``MEND_MEASURE_TEXT`` at a local JSON file (see docs/outcomes.md)::

    {"odi": {"items": ["Pain intensity", …], "choices": [["I have no pain at the moment", …], …]}}

The file is read when first needed and re-read when it changes; a file that does not match the
registry raises ``WordingError`` naming the problem rather than showing a half-worded form.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mend.outcomes.scoring import Measure, measures

ENV_VAR = "MEND_MEASURE_TEXT"


class WordingError(ValueError):
    """The local wording file is unreadable or does not fit the registry."""


@dataclass(frozen=True, slots=True)
class Wording:
    items: tuple[str, ...]  # one per item, in published order
    choices: tuple[tuple[str, ...], ...] = ()  # per item, one label per answer value from the minimum up
    source: str = "registry"  # "registry" or "local file"


_cache: dict[str, Any] = {"key": None, "data": {}}


def _path() -> str:
    # Read at call time, not import time: tests and deployments set it after import.
    from django.conf import settings

    return str(getattr(settings, "MEND_MEASURE_TEXT", "") or os.environ.get(ENV_VAR, ""))


def _validate(data: Any, path: str) -> dict[str, Wording]:
    if not isinstance(data, dict):
        raise WordingError(f"{path}: expected an object keyed by measure id.")
    registry = measures()
    result: dict[str, Wording] = {}
    for measure_id, entry in data.items():
        measure = registry.get(measure_id)
        if measure is None:
            raise WordingError(f"{path}: {measure_id!r} is not a measure in the registry.")
        if isinstance(entry, list):
            entry = {"items": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("items"), list):
            raise WordingError(f'{path}: {measure_id} needs an "items" list.')
        items = tuple(str(x) for x in entry["items"])
        if measure.items is not None and len(items) != measure.items:
            raise WordingError(f"{path}: {measure_id} has {measure.items} items; the file gives {len(items)}.")
        raw_choices = entry.get("choices", [])
        if not isinstance(raw_choices, list):
            raise WordingError(f'{path}: {measure_id} "choices" must be a list per item.')
        span = int(measure.max - measure.min) + 1
        choices = []
        for n, labels in enumerate(raw_choices, start=1):
            if not isinstance(labels, list) or len(labels) != span:
                raise WordingError(f"{path}: {measure_id} item {n} needs {span} choice labels.")
            choices.append(tuple(str(x) for x in labels))
        if choices and len(choices) != len(items):
            raise WordingError(f"{path}: {measure_id} gives choices for {len(choices)} of {len(items)} items.")
        result[measure_id] = Wording(items, tuple(choices), "local file")
    return result


def local_wording() -> dict[str, Wording]:
    """The clinic's licensed wording, keyed by measure id; empty when no file is configured."""
    path = _path()
    if not path:
        return {}
    file = Path(path)
    try:
        key = (path, file.stat().st_mtime_ns)
    except OSError as error:
        raise WordingError(f"{ENV_VAR}={path}: {error.strerror}.") from None
    if _cache["key"] != key:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise WordingError(f"{ENV_VAR}={path}: not readable JSON ({error}).") from None
        _cache["data"] = _validate(data, path)
        _cache["key"] = key
    result: dict[str, Wording] = _cache["data"]
    return result


def wording(measure: Measure) -> Wording | None:
    """The wording to show: the registry's where it ships, else the clinic's local file, else None."""
    if measure.ships_text and measure.item_text:
        return Wording(measure.item_text)
    return local_wording().get(measure.id)
