"""Referral and goal status, range of motion, note hashes and plan conflicts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mend.clinical.rules import (
    GoalState,
    PlannedTechnique,
    ReferralState,
    content_hash,
    goal_progress,
    goal_state,
    percent_of_normal,
    plan_conflicts,
    referral_status,
)
from mend.clinical.screening import Finding, catalogue, screen
from mend.knowledge import techniques

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("authorised", "used", "valid_until", "closed", "state"),
    [
        (10, 0, TODAY + timedelta(days=60), False, ReferralState.RECEIVED),
        (10, 3, TODAY + timedelta(days=60), False, ReferralState.ACTIVE),
        (10, 10, TODAY + timedelta(days=60), False, ReferralState.EXHAUSTED),
        (10, 4, TODAY - timedelta(days=1), False, ReferralState.EXPIRED),
        (10, 4, TODAY, False, ReferralState.ACTIVE),  # valid through its last day
        (10, 10, TODAY - timedelta(days=5), False, ReferralState.EXHAUSTED),
        (10, 2, TODAY + timedelta(days=5), True, ReferralState.CLOSED),
        (None, 25, None, False, ReferralState.ACTIVE),  # open-ended referral
    ],
)
def test_referral_status_follows_visits_and_dates(authorised, used, valid_until, closed, state):
    status = referral_status(
        visits_authorised=authorised, visits_used=used, valid_until=valid_until, today=TODAY, closed=closed
    )
    assert status.state == state


def test_referral_reports_visits_and_days_left():
    status = referral_status(visits_authorised=8, visits_used=3, valid_until=TODAY + timedelta(days=20), today=TODAY)
    assert (status.visits_left, status.days_left, status.usable) == (5, 20, True)


@given(
    authorised=st.integers(1, 30),
    used=st.integers(0, 40),
    offset=st.integers(-100, 100),
)
def test_a_used_up_referral_is_never_usable(authorised, used, offset):
    status = referral_status(
        visits_authorised=authorised, visits_used=used, valid_until=TODAY + timedelta(days=offset), today=TODAY
    )
    if used >= authorised or offset < 0:
        assert not status.usable
    else:
        assert status.usable
    assert status.visits_left == max(0, authorised - used)


@pytest.mark.parametrize(
    ("direction", "baseline", "target", "latest", "due", "state"),
    [
        ("lower", 7, 3, 3, None, GoalState.MET),  # NPRS ≤ 3 reached exactly
        ("lower", 7, 3, 5, TODAY + timedelta(days=10), GoalState.PROGRESSING),
        ("lower", 7, 3, 8, TODAY + timedelta(days=10), GoalState.NOT_MET),  # worse than baseline
        ("lower", 7, 3, 5, TODAY - timedelta(days=1), GoalState.NOT_MET),  # past due
        ("higher", 120, 160, 165, None, GoalState.MET),  # shoulder flexion ≥ 160°
        ("higher", 3, 7, 5, None, GoalState.PROGRESSING),  # PSFS activity ≥ 7
        ("higher", 3, 7, None, None, GoalState.PROGRESSING),  # nothing measured since baseline
    ],
)
def test_goal_status_from_latest_measurement(direction, baseline, target, latest, due, state):
    assert (
        goal_state(direction=direction, baseline=baseline, target=target, latest=latest, due=due, today=TODAY) == state
    )


@given(baseline=st.integers(0, 10), target=st.integers(0, 10), latest=st.integers(0, 10))
def test_a_goal_is_met_exactly_when_the_target_is_reached(baseline, target, latest):
    state = goal_state(direction="lower", baseline=baseline, target=target, latest=latest, due=None, today=TODAY)
    assert (state == GoalState.MET) == (latest <= target)
    progress = goal_progress(baseline=baseline, target=target, latest=latest)
    assert progress is None or 0.0 <= progress <= 1.0


def test_range_of_motion_as_percent_of_normal():
    assert percent_of_normal(135, 180) == 75.0
    assert percent_of_normal(0, 0) is None


@given(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=10), max_size=6))
def test_content_hash_depends_on_content_not_key_order(content):
    reordered = dict(reversed(list(content.items())))
    assert content_hash(content) == content_hash(reordered)
    assert len(content_hash(content)) == 64


def test_content_hash_changes_when_one_word_changes():
    assert content_hash({"subjective": "better"}) != content_hash({"subjective": "worse"})


def test_deep_tissue_on_a_client_taking_anticoagulants_is_flagged():
    conflicts = plan_conflicts([PlannedTechnique("deep_tissue", "lower_back")], screen([Finding("anticoagulant")]))
    assert [c.rule_id for c in conflicts] == ["anticoagulant"]
    assert "Deep tissue" in conflicts[0].message


def test_light_work_fits_the_same_screening():
    assert (
        plan_conflicts([PlannedTechnique("swedish", "lower_back", pressure=2)], screen([Finding("anticoagulant")]))
        == []
    )


def test_work_over_an_avoided_region_is_flagged_only_on_that_side():
    screening = screen([Finding("recent_surgery", "knee", "right")])
    right = plan_conflicts([PlannedTechnique("swedish", "knee", "right")], screening)
    left = plan_conflicts([PlannedTechnique("swedish", "knee", "left")], screening)
    assert [c.action for c in right] == ["AVOID_REGION"]
    assert left == []


def test_lymphedema_allows_only_lymphatic_drainage_on_the_limb():
    screening = screen([Finding("lymphedema", "upper_arm", "left")])
    assert plan_conflicts([PlannedTechnique("lymphatic_drainage", "upper_arm", "left")], screening) == []
    assert plan_conflicts([PlannedTechnique("swedish", "upper_arm", "left")], screening)


def test_nothing_is_planned_on_a_blocked_day():
    assert plan_conflicts([PlannedTechnique("swedish")], screen([Finding("fever")]))


def test_technique_restrictions_use_the_screening_vocabulary():
    vocabulary = set(catalogue().restrictions)
    for technique in techniques().values():
        assert set(technique.restricted_by) <= vocabulary, technique.id


@given(st.lists(st.sampled_from(sorted(techniques())), max_size=4))
def test_no_screening_findings_means_no_conflicts(planned):
    assert plan_conflicts([PlannedTechnique(t) for t in planned], screen([])) == []
