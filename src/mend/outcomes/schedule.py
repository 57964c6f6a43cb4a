"""When an outcome measure is due, from the plan's structured schedule. Pure Python, no Django.

A plan item says whether the measure is taken at baseline, every N signed sessions, every N weeks
and at discharge (:class:`mend.core.measure_schedule.Schedule`); :func:`due` answers, for one day,
whether it is due, why, and when it will be next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from mend.core.measure_schedule import PlanMeasure, Schedule

__all__ = ["Due", "PlanMeasure", "Schedule", "due"]


@dataclass(frozen=True, slots=True)
class Due:
    """Whether a measure is due today, why, and when it is due next if not."""

    due: bool
    reason: str
    next: str = ""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def due(
    schedule: Schedule,
    *,
    collected: Sequence[date],
    sessions: Sequence[date],
    today: date,
    planned_sessions: int | None = None,
    discharged_on: date | None = None,
    started_on: date | None = None,
) -> Due:
    """Is the measure due? ``collected``: the days it was answered; ``sessions``: signed visit days.

    - baseline: due until a first response exists;
    - every N sessions: due once N signed visits have happened since the last response (since the
      start when there is none and no baseline was asked for);
    - every N weeks: due N weeks after the last response (after ``started_on`` when there is none);
    - discharge: due once the planned sessions are done (or the episode is discharged) and nothing
      was collected since the last visit.

    A discharged episode is due nothing but its discharge measure.
    """
    last = max(collected) if collected else None
    if last is None and schedule.baseline and discharged_on is None:
        return Due(True, "Baseline")
    since_what = "the last" if last is not None else "the start"
    since = sum(1 for s in sessions if last is None or s > last)
    reasons: list[str] = []
    upcoming: list[str] = []
    if schedule.every_sessions:
        n = schedule.every_sessions
        if since >= n:
            reasons.append(f"{_plural(since, 'session')} since {since_what}")
        else:
            upcoming.append(f"after {_plural(n - since, 'more session')}")
    if schedule.every_weeks:
        start = last if last is not None else started_on
        if start is not None:
            next_on = start + timedelta(weeks=schedule.every_weeks)
            if today >= next_on:
                reasons.append(f"{_plural((today - start).days // 7, 'week')} since {since_what}")
            else:
                upcoming.append(f"from {next_on.day} {next_on:%b %Y}")
    if schedule.discharge:
        ended = discharged_on is not None or (planned_sessions is not None and len(sessions) >= planned_sessions > 0)
        end_day = discharged_on or (max(sessions) if sessions else None)
        if ended and end_day is not None and (last is None or last < end_day):
            reasons.insert(0, "Discharge")
        elif not ended:
            upcoming.append("at discharge")
    if discharged_on is not None:
        return Due(True, "Discharge") if reasons[:1] == ["Discharge"] else Due(False, "")
    if reasons:
        return Due(True, "; ".join(reasons))
    return Due(False, "", upcoming[0] if upcoming else "")
