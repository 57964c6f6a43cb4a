"""Pure rules of the episode of care: referral status, goal status, range of motion, note seals,
and conflicts between a plan and the client's screening.

No Django import: plain values in, plain values out, so each rule is tested on its own.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from mend.clinical.screening import Action, Screening, sides_overlap
from mend.knowledge import techniques

# --- Referral ---------------------------------------------------------------------------------


class ReferralState(enum.StrEnum):
    RECEIVED = "received"
    ACTIVE = "active"
    EXHAUSTED = "exhausted"
    EXPIRED = "expired"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class ReferralStatus:
    state: ReferralState
    visits_used: int
    visits_authorised: int | None
    days_left: int | None

    @property
    def visits_left(self) -> int | None:
        if self.visits_authorised is None:
            return None
        return max(0, self.visits_authorised - self.visits_used)

    @property
    def usable(self) -> bool:
        """Whether another visit can be counted against this referral."""
        return self.state in (ReferralState.RECEIVED, ReferralState.ACTIVE)


def referral_status(
    *,
    visits_authorised: int | None,
    visits_used: int,
    valid_until: date | None,
    today: date,
    closed: bool = False,
) -> ReferralStatus:
    """Received until the first visit counts against it, then active until the visits run out
    (exhausted) or the date passes (expired); closed when the episode ends or staff close it."""
    days_left = (valid_until - today).days if valid_until else None
    if closed:
        state = ReferralState.CLOSED
    elif visits_authorised is not None and visits_used >= visits_authorised:
        state = ReferralState.EXHAUSTED
    elif days_left is not None and days_left < 0:
        state = ReferralState.EXPIRED
    elif visits_used > 0:
        state = ReferralState.ACTIVE
    else:
        state = ReferralState.RECEIVED
    return ReferralStatus(state, visits_used, visits_authorised, days_left)


# --- Goals ------------------------------------------------------------------------------------


class GoalState(enum.StrEnum):
    MET = "met"
    PROGRESSING = "progressing"
    NOT_MET = "not_met"


class Direction(enum.StrEnum):
    """Which way is better on a goal's measure."""

    LOWER = "lower"
    HIGHER = "higher"


def goal_reached(direction: Direction | str, value: float, target: float) -> bool:
    return value <= target if direction == Direction.LOWER else value >= target


def goal_state(
    *,
    direction: Direction | str,
    baseline: float,
    target: float,
    latest: float | None,
    due: date | None,
    today: date,
) -> GoalState:
    """Met once the latest measurement reaches the target; not met when the due date has passed
    without it, or when the latest is worse than the baseline; progressing otherwise (including
    when nothing has been measured since the baseline)."""
    value = baseline if latest is None else latest
    if goal_reached(direction, value, target):
        return GoalState.MET
    if due is not None and today > due:
        return GoalState.NOT_MET
    if latest is None:
        return GoalState.PROGRESSING
    worse = latest > baseline if direction == Direction.LOWER else latest < baseline
    return GoalState.NOT_MET if worse else GoalState.PROGRESSING


def goal_progress(*, baseline: float, target: float, latest: float | None) -> float | None:
    """Share of the way from baseline to target, 0–1 (clamped), for a progress bar."""
    if latest is None or target == baseline:
        return None
    return max(0.0, min(1.0, (latest - baseline) / (target - baseline)))


# --- Range of motion -------------------------------------------------------------------------


def percent_of_normal(degrees: float, normal: float) -> float | None:
    """Measured range as a percentage of the norm; None where the norm is 0° (full extension)."""
    if normal <= 0:
        return None
    return round(100.0 * degrees / normal, 1)


# --- Notes ------------------------------------------------------------------------------------


def canonical(content: Mapping[str, Any]) -> bytes:
    """A note's content as canonical JSON: the same content always gives the same bytes."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def content_seal(key: bytes, content: Mapping[str, Any]) -> str:
    """HMAC-SHA256 of a note's canonical content under ``key``.

    Keyed, not a bare hash: with write access to the database one could change a signed note
    and recompute a SHA-256, but not a seal whose key lives outside the database.
    """
    if not key:
        raise ValueError("A seal needs a key.")
    return hmac.new(key, canonical(content), hashlib.sha256).hexdigest()


def seal_matches(key: bytes, content: Mapping[str, Any], seal: str) -> bool:
    return hmac.compare_digest(content_seal(key, content), seal or "")


# --- Plan × screening ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedTechnique:
    technique: str
    region: str | None = None
    side: str | None = None
    pressure: int | None = None


@dataclass(frozen=True, slots=True)
class Conflict:
    technique: str
    region: str | None
    side: str | None
    rule_id: str
    action: Action
    message: str


def plan_conflicts(planned: Iterable[PlannedTechnique], screening: Screening) -> list[Conflict]:
    """Planned techniques that the screening forbids: treatment on a day it is blocked, work over
    an avoided region, a technique a restriction rules out, or pressure above a cap."""
    known = techniques()
    conflicts: list[Conflict] = []
    for item in planned:
        technique = known.get(item.technique)
        name = technique.name if technique else item.technique
        for action in screening.actions:
            if action.action in (Action.REFER, Action.BLOCK):
                conflicts.append(
                    Conflict(item.technique, item.region, item.side, action.rule_id, action.action, action.explanation)
                )
                continue
            applies_here = action.region is None or (
                item.region == action.region and sides_overlap(item.side, action.side)
            )
            if not applies_here:
                continue
            if action.action == Action.AVOID_REGION:
                where = action.region.replace("_", " ") if action.region else "that region"
                message = f"{name} is planned on the {where}, which screening says to avoid: {action.explanation}"
                conflicts.append(
                    Conflict(item.technique, item.region, item.side, action.rule_id, action.action, message)
                )
                continue
            ruled_out = sorted(set(action.restrictions) & set(technique.restricted_by if technique else ()))
            if "mld_only" in action.restrictions and item.technique != "lymphatic_drainage":
                ruled_out.append("mld_only")
            pressure = item.pressure if item.pressure is not None else (technique.pressure if technique else None)
            too_hard = action.pressure_cap is not None and pressure is not None and pressure > action.pressure_cap
            if ruled_out or too_hard:
                reason = (
                    f"pressure {pressure} is above the cap of {action.pressure_cap}" if too_hard else "it is ruled out"
                )
                message = f"{name}: {reason}. {action.explanation}"
                conflicts.append(
                    Conflict(item.technique, item.region, item.side, action.rule_id, action.action, message)
                )
    return conflicts


@dataclass(frozen=True, slots=True)
class RowConflict:
    """A technique row of a note that breaks today's screening: its index in the list, and why."""

    row: int
    conflict: Conflict


def technique_conflicts(rows: Iterable[PlannedTechnique], screening: Screening) -> list[RowConflict]:
    """Technique rows that break an active restriction, avoided region or pressure cap.

    A REFER or BLOCK stops the whole visit and is reported once for the day, not per row.
    Rows are numbered as given (0-based), so a caller can name the row the person typed.
    """
    found = []
    for index, row in enumerate(rows):
        for conflict in plan_conflicts([row], screening):
            if conflict.action not in (Action.REFER, Action.BLOCK):
                found.append(RowConflict(index, conflict))
    return found
