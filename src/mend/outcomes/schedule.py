"""When an outcome measure is due, from the plan of care's "when" text. Pure Python, no Django.

A plan stores, per measure, text such as ``"baseline, every 4 sessions, discharge"``. The parts a
clinician writes are parsed leniently (``every 2 weeks``, ``weekly``, ``every session``,
``every_n_sessions:4``); parts that mean nothing to the parser are kept so the chart can show them
rather than silently ignore them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "eight": 8, "ten": 10, "twelve": 12}
_EVERY = re.compile(
    r"^(?:every|each|q)[\s_]*(?:n[\s_]*)?(?P<n>\d+|[a-z]+)?[\s_]*(?:(?:th|nd|rd|st)[\s_]+)?"
    r"(?P<unit>sessions?|visits?|weeks?|wks?)(?:[\s:_]*(?P<n2>\d+))?$"
)


@dataclass(frozen=True, slots=True)
class When:
    """A parsed schedule: baseline, every N sessions, every N weeks, at discharge."""

    baseline: bool = False
    every_sessions: int | None = None
    every_weeks: int | None = None
    discharge: bool = False
    unparsed: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.baseline or self.every_sessions or self.every_weeks or self.discharge)

    def describe(self) -> str:
        parts = []
        if self.baseline:
            parts.append("baseline")
        if self.every_sessions:
            parts.append("every session" if self.every_sessions == 1 else f"every {self.every_sessions} sessions")
        if self.every_weeks:
            parts.append("every week" if self.every_weeks == 1 else f"every {self.every_weeks} weeks")
        if self.discharge:
            parts.append("discharge")
        return ", ".join(parts + list(self.unparsed))


def _number(text: str | None) -> int | None:
    if text is None or text == "":
        return 1
    if text.isdigit():
        return int(text) if int(text) > 0 else None
    return _NUMBER_WORDS.get(text)


def parse_when(text: str) -> When:
    """``"baseline, every 4 sessions, discharge"`` → ``When(baseline=True, every_sessions=4, discharge=True)``."""
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
                every_sessions = n
            else:
                every_weeks = n
        else:
            unparsed.append(part)
    return When(baseline, every_sessions, every_weeks, discharge, tuple(unparsed))


@dataclass(frozen=True, slots=True)
class Due:
    """Whether a measure is due today, why, and when it is due next if not."""

    due: bool
    reason: str
    next: str = ""


def due(
    when: When,
    *,
    collected: Sequence[date],
    sessions: Sequence[date],
    today: date,
    planned_sessions: int | None = None,
    discharged_on: date | None = None,
) -> Due:
    """Is the measure due? ``collected``: the days it was answered; ``sessions``: signed visit days.

    - baseline: due until a first response exists (so is any measure with no schedule at all);
    - every N sessions: due once N signed visits have happened since the last response;
    - every N weeks: due N weeks after the last response;
    - discharge: due once the planned sessions are done (or the episode is discharged) and
      nothing was collected since the last visit.
    """
    if not collected:
        # Nothing yet: the first response is the baseline, whatever the schedule says; after
        # discharge only a discharge measure is still worth asking for.
        if discharged_on is None:
            return Due(True, "Baseline")
        return Due(True, "Discharge") if when.discharge else Due(False, "")
    last = max(collected)
    since = sum(1 for s in sessions if s > last)
    reasons: list[str] = []
    upcoming: list[str] = []
    if when.every_sessions:
        n = when.every_sessions
        if since >= n:
            reasons.append(f"{since} session{'s' if since != 1 else ''} since the last")
        else:
            more = n - since
            upcoming.append(f"after {more} more session{'s' if more != 1 else ''}")
    if when.every_weeks:
        next_on = last + timedelta(weeks=when.every_weeks)
        if today >= next_on:
            reasons.append(f"{(today - last).days // 7} weeks since the last")
        else:
            upcoming.append(f"from {next_on.day} {next_on:%b %Y}")
    if when.discharge:
        ended = discharged_on is not None or (planned_sessions is not None and len(sessions) >= planned_sessions > 0)
        last_visit = max(sessions) if sessions else None
        end_day = discharged_on or last_visit
        if ended and end_day is not None and last < end_day:
            reasons.insert(0, "Discharge")
        elif not ended:
            upcoming.append("at discharge")
    if discharged_on is not None and "Discharge" not in reasons:
        return Due(False, "", "")  # a closed episode is due nothing but its discharge measure
    if reasons:
        return Due(True, "; ".join(reasons))
    return Due(False, "", upcoming[0] if upcoming else "")
