"""Outcome measures: pure scoring functions over the registry of ``mend.knowledge.outcome_measures``
(re-exported here: ``Measure``, ``Mcid``, ``measures``).

No Django import. Scores are never rounded here: ODI 16/45 is 35.555…%, and rounding is the
display's business. A score that the instrument's rules say cannot be computed is ``None``,
never 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mend.knowledge.outcome_measures import Mcid, Measure, measures

__all__ = [
    "RULES",
    "SCORING_VERSION",
    "Change",
    "Mcid",
    "Measure",
    "Score",
    "ScoringError",
    "change",
    "measures",
    "score",
]

SCORING_VERSION = "2026.1"
EPSILON = 1e-9  # thresholds are inclusive; a float difference of 1e-15 must not turn 14 into 13.999…

Answers = Sequence[float | int | None]


@dataclass(frozen=True, slots=True)
class Score:
    measure_id: str
    value: float
    band: str | None = None
    raw: float | None = None
    answered: int = 0
    version: str = SCORING_VERSION


class ScoringError(ValueError):
    """Answers that do not fit the instrument: wrong count, or a value outside its range."""


def _band(bands: Sequence[tuple[float, str]], value: float) -> str | None:
    for upper, label in bands:
        if value <= upper + EPSILON:
            return label
    return None


def _check(measure: Measure, answers: Answers) -> list[float | None]:
    if measure.items is not None and len(answers) != measure.items:
        raise ScoringError(f"{measure.short} has {measure.items} items; {len(answers)} answers were given.")
    checked: list[float | None] = []
    for n, answer in enumerate(answers, start=1):
        if answer is None:
            checked.append(None)
            continue
        if isinstance(answer, bool) or not isinstance(answer, int | float) or math.isnan(answer):
            raise ScoringError(f"{measure.short} item {n}: {answer!r} is not a number.")
        if not measure.min <= answer <= measure.max:
            raise ScoringError(f"{measure.short} item {n}: {answer} is outside {measure.min:g}–{measure.max:g}.")
        if answer != int(answer):
            # Every item is answered by choosing a category (a box, a statement, a number on a scale).
            raise ScoringError(f"{measure.short} item {n}: {answer} is not one of the answers; use a whole number.")
        checked.append(float(answer))
    return checked


# --- Scoring rules, one per instrument family --------------------------------------------------


def _single(m: Measure, a: list[float | None]) -> float | None:
    return a[0]


def _mean(m: Measure, a: list[float | None]) -> float | None:
    """PSFS: the mean of the activities rated; nothing rated, nothing to score."""
    rated = [x for x in a if x is not None]
    return sum(rated) / len(rated) if rated else None


def _sum_all(m: Measure, a: list[float | None]) -> float | None:
    return None if any(x is None for x in a) else sum(x for x in a if x is not None)


def _odi(m: Measure, a: list[float | None]) -> float | None:
    """Sum of answered sections ÷ (5 × sections answered) × 100; each blank section leaves the
    denominator (16/45 → 35.6%). More than ``max_missing`` blanks: not computable."""
    answered = [x for x in a if x is not None]
    if len(a) - len(answered) > m.max_missing or not answered:
        return None
    return sum(answered) / (5 * len(answered)) * 100


def _ndi_raw(m: Measure, a: list[float | None]) -> float | None:
    """Raw 0–50; one blank item is replaced by the mean of the others (Vernon); more: not computable."""
    answered = [x for x in a if x is not None]
    missing = len(a) - len(answered)
    if missing > m.max_missing or not answered:
        return None
    return sum(answered) + missing * (sum(answered) / len(answered))


def _ndi(m: Measure, a: list[float | None]) -> float | None:
    raw = _ndi_raw(m, a)
    return None if raw is None else raw * 2


def _quickdash(m: Measure, a: list[float | None]) -> float | None:
    """((sum of n answers ÷ n) − 1) × 25, with at least 10 of 11 answered."""
    answered = [x for x in a if x is not None]
    if len(a) - len(answered) > m.max_missing:
        return None
    # (mean − 1) × 25, written as (sum − n) × 25 ÷ n so whole answers give exact scores.
    return (sum(answered) - len(answered)) * 25 / len(answered)


def _fiqr(m: Measure, a: list[float | None]) -> float | None:
    """Function sum ÷ 3 + overall sum ÷ 1 + symptoms sum ÷ 2; a domain with blanks is weighted up by
    items ÷ answered (myalgia.com scoring page); a domain with no answer: not computable."""
    total = 0.0
    start = 0
    for _name, size, divisor in m.extra["domains"]:
        domain = a[start : start + size]
        start += size
        answered = [x for x in domain if x is not None]
        if not answered:
            return None
        total += sum(answered) * size / len(answered) / divisor
    return total


def _pss10(m: Measure, a: list[float | None]) -> float | None:
    """Items 4, 5, 7 and 8 are worded positively: reversed (0↔4, 1↔3) before summing."""
    if any(x is None for x in a):
        return None
    reverse = set(m.extra["reverse"])
    return sum((4 - x) if n in reverse else x for n, x in enumerate(a, start=1) if x is not None)


def _hit6(m: Measure, a: list[float | None]) -> float | None:
    """Never/Rarely/Sometimes/Very often/Always score 6/8/10/11/13; all six needed."""
    if any(x is None for x in a):
        return None
    points = m.extra["points"]
    for x in a:
        if x is not None and x != int(x):
            raise ScoringError("HIT-6 answers are category indexes 0–4.")
    return float(sum(points[int(x)] for x in a if x is not None))


RULES: dict[str, Callable[[Measure, list[float | None]], float | None]] = {
    "single": _single,
    "mean": _mean,
    "sum": _sum_all,
    "odi": _odi,
    "ndi": _ndi,
    "quickdash": _quickdash,
    "fiqr": _fiqr,
    "pss10": _pss10,
    "hit6": _hit6,
}


def score(measure_id: str, answers: Answers) -> Score | None:
    """Score ``answers`` (item values in published order, ``None`` for a blank) with the
    instrument's own rule; ``None`` when its rules say the score cannot be computed."""
    measure = measures().get(measure_id)
    if measure is None:
        raise ScoringError(f"Unknown measure {measure_id!r}.")
    checked = _check(measure, answers)
    value = RULES[measure.rule](measure, checked)
    if value is None:
        return None
    raw = _ndi_raw(measure, checked) if measure.rule == "ndi" else None
    band = _band(measure.bands, value) if measure.bands else None
    if raw is not None and measure.raw_bands:
        band = _band(measure.raw_bands, raw)
    answered = sum(1 for x in checked if x is not None)
    return Score(measure_id=measure.id, value=value, band=band, raw=raw, answered=answered)


# --- Change -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    measure_id: str
    baseline: float
    followup: float
    improvement: float
    relative: float | None

    def meets(
        self, absolute: float | None = None, relative: float | None = None, *, combine: str = "either"
    ) -> bool | None:
        """Whether the improvement reaches ``absolute`` points and/or ``relative`` (a fraction of the
        baseline), inclusively. Given both, ``combine`` says how they join: ``"either"`` suffices
        (Ostelo 2008: "10 points or 30%") or ``"both"`` are needed (Eskildsen 2015, PSS-10).

        Improvement is already signed by the scale's direction, so the thresholds are positive
        whichever way the scale runs. From a baseline of 0 there is no relative change (it would
        divide by zero): the relative threshold drops out and the absolute one decides alone.
        ``None`` when nothing can be judged (no threshold, or only a relative one on a 0 baseline).
        """
        if combine not in ("either", "both"):
            raise ValueError(f"combine is 'either' or 'both', not {combine!r}")
        verdicts = []
        if absolute is not None:
            verdicts.append(self.improvement >= absolute - EPSILON)
        if relative is not None and self.relative is not None:
            verdicts.append(self.relative >= relative - EPSILON)
        if not verdicts:
            return None
        return any(verdicts) if combine == "either" else all(verdicts)

    def meets_mcid(self, mcid: Mcid) -> bool | None:
        """Against a change-based MCID with its own rule (absolute, relative, either, both); an
        anchor (PGIC, GROC) judges the follow-up answer alone."""
        if mcid.followup_at_most is not None:
            return self.followup <= mcid.followup_at_most + EPSILON
        if mcid.followup_at_least is not None:
            return self.followup >= mcid.followup_at_least - EPSILON
        rule = mcid.rule or "absolute"
        return self.meets(
            absolute=mcid.absolute if rule != "relative" else None,
            relative=mcid.relative if rule != "absolute" else None,
            combine="both" if rule == "both" else "either",
        )

    @property
    def responder(self) -> bool | None:
        """Against the measure's default MCID and its rule (see the registry for their sources);
        ``None`` when the measure has none."""
        mcid = measures()[self.measure_id].mcid
        return None if mcid is None else self.meets_mcid(mcid)

    @property
    def worsening(self) -> Change:
        """The same two scores read the other way: a worsening becomes an improvement of the same size,
        judged against the baseline, so "worse by the MCID" uses the same rule as "better by it"."""
        relative = -self.improvement / abs(self.baseline) if self.baseline != 0 else None
        return Change(self.measure_id, self.baseline, self.followup, -self.improvement, relative)


def _value(x: Score | float | int) -> float:
    return float(x.value if isinstance(x, Score) else x)


def change(measure_id: str, baseline: Score | float | int, followup: Score | float | int) -> Change:
    """Change from ``baseline`` to ``followup`` (scores or Score objects): ``improvement`` is
    positive when the client is better, whichever way the scale runs."""
    measure = measures().get(measure_id)
    if measure is None:
        raise ScoringError(f"Unknown measure {measure_id!r}.")
    if baseline is None or followup is None:
        # score() answers None when a score cannot be computed; there is no change to measure.
        which = "baseline" if baseline is None else "follow-up"
        raise ScoringError(f"The {which} {measure.short} score could not be computed, so there is no change.")
    before, after = _value(baseline), _value(followup)
    improvement = (after - before) if measure.higher_is_better else (before - after)
    relative = improvement / abs(before) if before != 0 else None
    return Change(measure.id, before, after, improvement, relative)
