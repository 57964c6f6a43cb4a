"""Statistics for the clinic evidence report: pure Python over SciPy, no Django.

Every interval comes from SciPy rather than a hand formula: the t quantile for a mean's
confidence interval, ``binomtest(...).proportion_ci(method="wilson")`` for a proportion (the
Wilson score interval behaves at 0/n and n/n, where the textbook Wald interval collapses), and
``ecdf`` on right-censored data for the Kaplan–Meier curve. The tests check each against
statsmodels, an independent implementation, and against textbook examples.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

CONFIDENCE = 0.95
# R's survival package compares a curve with a quantile's level to within sqrt(machine epsilon).
TOLERANCE = math.sqrt(2.220446049250313e-16)


@dataclass(frozen=True, slots=True)
class MeanEstimate:
    """A sample mean with its two-sided t interval; no interval from fewer than two values."""

    n: int
    mean: float
    sd: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True, slots=True)
class Proportion:
    """``successes`` of ``n`` with its Wilson score interval."""

    successes: int
    n: int
    estimate: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class KmStep:
    """The Kaplan–Meier estimate just after ``time``: ``at_risk`` entered it, ``events`` reached
    the threshold at it, ``censored`` left it without doing so."""

    time: float
    at_risk: int
    events: int
    censored: int
    survival: float

    @property
    def reached(self) -> float:
        """Estimated share that has reached the threshold by ``time`` (1 − S(t))."""
        return 1.0 - self.survival


@dataclass(frozen=True, slots=True)
class KaplanMeier:
    n: int
    events: int
    steps: tuple[KmStep, ...]

    def survival_at(self, time: float) -> float:
        """S(t): the estimated share not yet at the threshold after ``time`` (a step function)."""
        survival = 1.0
        for step in self.steps:
            if step.time > time:
                break
            survival = step.survival
        return survival

    def time_to(self, share: float) -> float | None:
        """The time by which ``share`` of the subjects are estimated to have reached the threshold
        (the ``share`` quantile of the time to event); None if the curve never gets there.

        R's convention (``quantile.survfit`` in the survival package): the first time at which
        1 − S(t) reaches ``share``; but where the curve sits exactly at that level (within
        ``TOLERANCE``) the answer is the midpoint of the flat stretch, from the time it gets there to
        the next event time, or to the last time observed when the curve ends flat. This is the
        usual median of uncensored data: events at 1, 2, 3, 4 give a median of 2.5, not 2.
        """
        level = 1.0 - share
        for index, step in enumerate(self.steps):
            if step.survival > level + TOLERANCE:
                continue
            if abs(step.survival - level) >= TOLERANCE:
                return step.time
            for later in self.steps[index + 1 :]:
                if later.survival < level - TOLERANCE:
                    return (step.time + later.time) / 2
            return (step.time + self.steps[-1].time) / 2
        return None

    @property
    def median(self) -> float | None:
        """The median time to the threshold, with R's midpoint rule at a curve flat at 0.5 (``time_to``)."""
        return self.time_to(0.5)


def mean_ci(values: Sequence[float], *, confidence: float = CONFIDENCE) -> MeanEstimate | None:
    """Mean with a two-sided t-distribution interval; None for no values."""
    n = len(values)
    if n == 0:
        return None
    mean = math.fsum(values) / n
    if n < 2:
        return MeanEstimate(n, mean, None, None, None)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = _t_quantile(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)
    return MeanEstimate(n, mean, sd, mean - half, mean + half)


@functools.lru_cache(maxsize=4096)
def _t_quantile(probability: float, df: int) -> float:
    return float(stats.t.ppf(probability, df))


# Cached: the report asks for the same few (successes, n) on every request, and ``binomtest``
# computes its exact p-value (hundreds of pmf calls) before it can give the interval.
@functools.lru_cache(maxsize=4096)
def proportion_ci(successes: int, n: int, *, confidence: float = CONFIDENCE) -> Proportion | None:
    """``successes``/``n`` with its Wilson score interval; None when ``n`` is 0."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"Cannot take {successes} successes out of {n}.")
    if n == 0:
        return None
    interval = stats.binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    # SciPy's Wilson bounds can stray from [0, 1] by a rounding error at 0/n and n/n.
    low = min(max(float(interval.low), 0.0), successes / n)
    high = max(min(float(interval.high), 1.0), successes / n)
    return Proportion(successes, n, successes / n, low, high)


def dropout_rate(dropped: int, n: int, *, confidence: float = CONFIDENCE) -> Proportion | None:
    """The share of episodes that ended early, with its Wilson interval."""
    return proportion_ci(dropped, n, confidence=confidence)


def kaplan_meier(times: Sequence[float], reached: Sequence[bool]) -> KaplanMeier | None:
    """Kaplan–Meier estimate of the time (here: sessions) to an event (here: reaching the MCID).

    ``reached[i]`` False means subject ``i`` was censored at ``times[i]`` (discharged, or still
    in care, without having reached it). At a tie, events count before censorings, as usual.
    None for no subjects.
    """
    if len(times) != len(reached):
        raise ValueError("times and reached differ in length.")
    if not times:
        return None
    uncensored = [float(t) for t, r in zip(times, reached, strict=True) if r]
    censored = [float(t) for t, r in zip(times, reached, strict=True) if not r]
    event_counts, censor_counts = Counter(uncensored), Counter(censored)
    distinct = sorted(event_counts.keys() | censor_counts.keys())
    survival_at: dict[float, float] = {}
    if uncensored:
        result = stats.ecdf(stats.CensoredData(uncensored=uncensored, right=censored))
        survival_at = {float(t): float(p) for t, p in zip(result.sf.quantiles, result.sf.probabilities, strict=True)}
    steps: list[KmStep] = []
    at_risk = len(times)
    survival = 1.0
    for time in distinct:
        events, lost = event_counts[time], censor_counts[time]
        survival = survival_at.get(time, survival)
        steps.append(KmStep(time, at_risk, events, lost, min(max(survival, 0.0), 1.0)))
        at_risk -= events + lost
    return KaplanMeier(len(times), len(uncensored), tuple(steps))
