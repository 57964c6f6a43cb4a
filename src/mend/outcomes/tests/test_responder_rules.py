"""Properties of the responder rules (absolute, relative, either, both) over any scores and thresholds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mend.knowledge.outcome_measures import MCID_RULES, Mcid
from mend.outcomes.scoring import change, measures

CHANGE_BASED = sorted(m.id for m in measures().values() if m.mcid is not None and not m.mcid.anchor)
LOWER, HIGHER = "nprs", "psfs"  # one measure each way: lower is better, higher is better

scores = st.integers(0, 100).map(float) | st.floats(0, 100, allow_nan=False)
points = st.floats(0.5, 30, allow_nan=False)
shares = st.floats(0.05, 1, allow_nan=False)


def _mcid(rule: str, absolute: float, relative: float) -> Mcid:
    return Mcid(
        absolute=absolute if rule != "relative" else None,
        relative=relative if rule != "absolute" else None,
        source="test",
        rule=rule,
    )


@given(st.sampled_from([LOWER, HIGHER]), scores, scores, points, shares)
def test_either_is_any_and_both_is_all_of_the_single_thresholds(measure_id, baseline, followup, absolute, relative):
    found = change(measure_id, baseline, followup)
    by_points, by_share = found.meets(absolute=absolute), found.meets(relative=relative)
    either = found.meets(absolute=absolute, relative=relative, combine="either")
    both = found.meets(absolute=absolute, relative=relative, combine="both")
    if by_share is None:  # a 0 baseline has no relative change: the points decide alone
        assert baseline == 0 and either == both == by_points
    else:
        assert either == (by_points or by_share)
        assert both == (by_points and by_share)


@given(st.sampled_from([LOWER, HIGHER]), scores, points, shares, st.sampled_from(MCID_RULES))
def test_a_zero_baseline_never_divides_by_zero(measure_id, followup, absolute, relative, rule):
    found = change(measure_id, 0, followup)
    assert found.relative is None
    verdict = found.meets_mcid(_mcid(rule, absolute, relative))
    assert verdict is (None if rule == "relative" else found.improvement >= absolute - 1e-9)


@given(st.sampled_from(CHANGE_BASED), scores, scores)
def test_getting_worse_is_never_a_response(measure_id, baseline, followup):
    found = change(measure_id, baseline, followup)
    if found.improvement < 0:
        assert not found.responder


@given(st.sampled_from(MCID_RULES), scores, scores, points, shares)
def test_direction_is_honoured_a_fall_on_one_scale_is_a_rise_on_the_other(rule, baseline, followup, absolute, relative):
    mcid = _mcid(rule, absolute, relative)
    # NPRS falls from baseline to follow-up exactly as PSFS rises by the same amount: the same verdict.
    fall = change(LOWER, baseline, followup)
    rise = change(HIGHER, baseline, baseline + (baseline - followup))
    assert fall.improvement == pytest.approx(rise.improvement)
    if abs(fall.improvement - rise.improvement) < 1e-6:
        assert fall.meets_mcid(mcid) == rise.meets_mcid(mcid)


@given(st.sampled_from(CHANGE_BASED), scores, scores, st.floats(0, 50, allow_nan=False))
def test_more_improvement_from_the_same_baseline_never_loses_the_response(measure_id, baseline, followup, extra):
    better = followup - extra if not measures()[measure_id].higher_is_better else followup + extra
    if change(measure_id, baseline, followup).responder:
        assert change(measure_id, baseline, better).responder


@given(st.sampled_from([LOWER, HIGHER]), scores, scores, st.sampled_from(MCID_RULES), points, shares)
def test_worse_by_the_mcid_is_better_by_it_read_the_other_way(measure_id, baseline, followup, rule, absolute, relative):
    found = change(measure_id, baseline, followup)
    worse = found.worsening
    assert worse.improvement == -found.improvement
    mirror = change(measure_id, baseline, baseline - (followup - baseline))  # the same distance, the other way
    if abs(mirror.improvement - worse.improvement) < 1e-9:
        assert worse.meets_mcid(_mcid(rule, absolute, relative)) == mirror.meets_mcid(_mcid(rule, absolute, relative))


def test_combine_is_either_or_both():
    with pytest.raises(ValueError, match="either"):
        change("nprs", 5, 2).meets(absolute=2, relative=0.3, combine="any")


@pytest.mark.parametrize(
    "raw",
    [
        {"rule": "either", "absolute": 2, "source": "s", "sources": {"absolute": "a", "rule": "r"}},  # no relative
        {"rule": "absolute", "absolute": 2, "relative": 0.3, "source": "s"},  # a value the rule does not use
        {"absolute": 2, "source": "s", "sources": {"absolute": "a"}},  # no rule
        {"rule": "absolute", "absolute": 2, "source": "s", "sources": {"absolute": "a"}},  # the rule uncited
        {"rule": "relative", "relative": 30, "source": "s", "sources": {"relative": "a", "rule": "r"}},  # not a share
        {"followup_at_most": 2, "rule": "absolute", "source": "s", "sources": {"followup_at_most": "a"}},
    ],
)
def test_the_registry_refuses_a_rule_that_does_not_fit_its_values_or_sources(raw):
    from mend.knowledge import KnowledgeError
    from mend.knowledge.outcome_measures import _mcid

    with pytest.raises(KnowledgeError, match="test's MCID"):
        _mcid("test", raw)
