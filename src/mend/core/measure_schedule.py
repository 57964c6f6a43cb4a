"""A plan of care's outcome measures as data: which measure, and when to collect it.

A plan stores one item per measure::

    {"measure": "nprs", "baseline": true, "every_sessions": 4, "every_weeks": null, "discharge": true}

The clinical app checks items with :func:`clean_plan_measures` before it saves a plan; the outcomes
app reads them with :meth:`PlanMeasure.from_item` and works out what is due
(``mend.outcomes.schedule``). Both sit above this module, so neither imports the other for it.

Plans once stored a "when" text ("baseline, every 4 sessions, discharge") that a regular expression
read on every page. :func:`schedule_from_text` survives only to convert that text where it still
arrives as input (the API's legacy ``when``); nothing reads text to decide what is due.

Plain Python, no Django.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_EVERY_SESSIONS = 50
MAX_EVERY_WEEKS = 52
LEGACY_TEXT_MAX = 120  # the old "when" field's length
SCHEDULE_FIELDS = ("baseline", "every_sessions", "every_weeks", "discharge")


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a measure is collected: at baseline, every N signed sessions, every N weeks, at discharge."""

    baseline: bool = False
    every_sessions: int | None = None
    every_weeks: int | None = None
    discharge: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.baseline or self.every_sessions or self.every_weeks or self.discharge)

    def describe(self) -> str:
        """``"baseline, every 4 sessions, discharge"``: for people, never parsed back."""
        parts = []
        if self.baseline:
            parts.append("baseline")
        if self.every_sessions:
            parts.append("every session" if self.every_sessions == 1 else f"every {self.every_sessions} sessions")
        if self.every_weeks:
            parts.append("every week" if self.every_weeks == 1 else f"every {self.every_weeks} weeks")
        if self.discharge:
            parts.append("discharge")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class PlanMeasure:
    """One measure of a plan. ``legacy_when`` keeps the part of an old "when" text that could not be
    converted (shown as written, never read for scheduling), so converting lost nothing a therapist
    wrote."""

    measure: str
    schedule: Schedule
    legacy_when: str = ""

    def as_item(self) -> dict[str, Any]:
        """The JSON item a plan stores."""
        item: dict[str, Any] = {
            "measure": self.measure,
            "baseline": self.schedule.baseline,
            "every_sessions": self.schedule.every_sessions,
            "every_weeks": self.schedule.every_weeks,
            "discharge": self.schedule.discharge,
        }
        if self.legacy_when:
            item["legacy_when"] = self.legacy_when
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> PlanMeasure:
        """A stored item, already checked by :func:`clean_plan_measures` when it was saved."""
        return cls(
            measure=str(item.get("measure") or ""),
            schedule=Schedule(
                baseline=item.get("baseline") is True,
                every_sessions=_stored_count(item.get("every_sessions")),
                every_weeks=_stored_count(item.get("every_weeks")),
                discharge=item.get("discharge") is True,
            ),
            legacy_when=str(item.get("legacy_when") or ""),
        )


def _stored_count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


# --- Checking input -------------------------------------------------------------------------------


def _flag(value: object) -> bool | None:
    """A tick box: true or false (absent is false); anything else is refused."""
    if value is None:
        return False
    return value if isinstance(value, bool) else None


def _count(value: object, highest: int) -> tuple[int | None, bool]:
    """An optional whole number from 1 to ``highest``: (value, ok)."""
    if value is None or value == "":
        return None, True
    if isinstance(value, bool) or not isinstance(value, int):
        return None, False
    return (value, True) if 1 <= value <= highest else (None, False)


def clean_plan_measures(
    items: Sequence[Mapping[str, Any]], *, known: Collection[str], field: str = "measures"
) -> tuple[list[PlanMeasure], dict[str, list[str]]]:
    """Check a plan's measure items; errors are keyed by field path (``measures[1].every_sessions``,
    or ``measures[1]`` for the row as a whole) as ``mend.platform.errors`` names them."""
    cleaned: list[PlanMeasure] = []
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()

    def refuse(row: int, sub: str | None, message: str) -> None:
        errors.setdefault(f"{field}[{row}]" + (f".{sub}" if sub else ""), []).append(message)

    for row, item in enumerate(items):
        if not isinstance(item, Mapping):
            refuse(row, None, "Each measure is an object with a measure and when to collect it.")
            continue
        measure = item.get("measure")
        if not isinstance(measure, str) or measure not in known:
            refuse(row, "measure", "Choose a measure from the list.")
        elif measure in seen:
            refuse(row, "measure", "This measure is already in the plan: one row per measure.")
        else:
            seen.add(measure)
        baseline, discharge = _flag(item.get("baseline")), _flag(item.get("discharge"))
        for name, flag in (("baseline", baseline), ("discharge", discharge)):
            if flag is None:
                refuse(row, name, "Tick it or leave it: true or false.")
        every_sessions, sessions_ok = _count(item.get("every_sessions"), MAX_EVERY_SESSIONS)
        if not sessions_ok:
            refuse(row, "every_sessions", f"A whole number of sessions from 1 to {MAX_EVERY_SESSIONS}, or empty.")
        every_weeks, weeks_ok = _count(item.get("every_weeks"), MAX_EVERY_WEEKS)
        if not weeks_ok:
            refuse(row, "every_weeks", f"A whole number of weeks from 1 to {MAX_EVERY_WEEKS}, or empty.")
        legacy = item.get("legacy_when") or ""
        if not isinstance(legacy, str) or len(legacy) > LEGACY_TEXT_MAX:
            refuse(row, "legacy_when", f"Text of at most {LEGACY_TEXT_MAX} characters.")
            legacy = ""
        schedule = Schedule(bool(baseline), every_sessions, every_weeks, bool(discharge))
        if schedule.is_empty and sessions_ok and weeks_ok and baseline is not None and discharge is not None:
            refuse(row, None, "Say when to collect it: at baseline, every so many sessions or weeks, or at discharge.")
        cleaned.append(PlanMeasure(str(measure or ""), schedule, legacy.strip()))
    return cleaned, errors


# --- The old "when" text, as input only -----------------------------------------------------------

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "eight": 8, "ten": 10, "twelve": 12}
_EVERY = re.compile(
    r"^(?:every|each|q)[\s_]*(?:n[\s_]*)?(?P<n>\d+|[a-z]+)?[\s_]*(?:(?:th|nd|rd|st)[\s_]+)?"
    r"(?P<unit>sessions?|visits?|weeks?|wks?)(?:[\s:_]*(?P<n2>\d+))?$"
)


def _number(text: str | None) -> int | None:
    if text is None or text == "":
        return 1
    if text.isdigit():
        return int(text) if int(text) > 0 else None
    return _NUMBER_WORDS.get(text)


def schedule_from_text(text: str) -> tuple[Schedule, tuple[str, ...]]:
    """``"baseline, every 4 sessions, discharge"`` → ``Schedule(True, 4, None, True)``, and the parts
    not understood. Separators: commas, semicolons, "+", "and", "then". Understood: ``baseline``,
    ``every N sessions`` (``every session``, ``q4 visits``, ``every_n_sessions:4``), ``every N weeks``
    (``weekly``, ``fortnightly``, ``monthly``) and ``discharge``."""
    baseline = discharge = False
    every_sessions: int | None = None
    every_weeks: int | None = None
    unparsed: list[str] = []
    for raw in re.split(r"[,;+]|\band\b|\bthen\b", (text or "").lower()):
        part = " ".join(raw.split())
        if not part:
            continue
        if part in ("baseline", "initial", "intake", "start", "at baseline", "first visit"):
            baseline = True
        elif part in ("discharge", "at discharge", "end", "final visit", "last visit"):
            discharge = True
        elif part in ("weekly", "each week"):
            every_weeks = 1
        elif part in ("fortnightly", "biweekly"):
            every_weeks = 2
        elif part in ("monthly", "every month"):
            every_weeks = 4
        elif (match := _EVERY.match(part.replace("-", " "))) is not None:
            n = _number(match.group("n2") or match.group("n"))
            if n is None:
                unparsed.append(part)
            elif match.group("unit").startswith(("session", "visit")):
                every_sessions = n  # out of range is refused by clean_plan_measures, naming the field
            else:
                every_weeks = n
        else:
            unparsed.append(part)
    return Schedule(baseline, every_sessions, every_weeks, discharge), tuple(unparsed)
