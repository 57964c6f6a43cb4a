"""Referral and goal status, range of motion, note seals, plan conflicts and note-row conflicts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mend.clinical.rules import (
    GoalState,
    PlannedTechnique,
    ReferralState,
    content_seal,
    goal_progress,
    goal_state,
    percent_of_normal,
    plan_conflicts,
    referral_status,
    seal_matches,
    technique_conflicts,
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


KEY = b"k" * 32


@given(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=10), max_size=6))
def test_seal_depends_on_content_not_key_order(content):
    reordered = dict(reversed(list(content.items())))
    assert content_seal(KEY, content) == content_seal(KEY, reordered)
    assert len(content_seal(KEY, content)) == 64
    assert seal_matches(KEY, reordered, content_seal(KEY, content))


def test_seal_changes_when_one_word_changes():
    assert content_seal(KEY, {"subjective": "better"}) != content_seal(KEY, {"subjective": "worse"})


@given(st.dictionaries(st.text(max_size=5), st.text(max_size=10), min_size=1, max_size=4))
def test_a_seal_cannot_be_remade_without_its_key(content):
    """An unkeyed SHA-256 of the same content, or a seal under another key, never verifies."""
    import hashlib

    from mend.clinical.rules import canonical

    seal = content_seal(KEY, content)
    assert not seal_matches(b"x" * 32, content, seal)
    assert not seal_matches(KEY, content, hashlib.sha256(canonical(content)).hexdigest())


def test_a_seal_needs_a_key():
    with pytest.raises(ValueError, match="key"):
        content_seal(b"", {"a": 1})


def test_note_rows_over_an_anticoagulant_pressure_cap_are_named_by_row():
    """The review's case: the plan's deep tissue at pressure 4 on a client now taking anticoagulants."""
    screening = screen([Finding("anticoagulant")])
    rows = [
        PlannedTechnique("swedish", "lower_back", pressure=2),
        PlannedTechnique("deep_tissue", "lower_back", pressure=4),
        PlannedTechnique("swedish", "upper_back", pressure=4),
    ]
    found = technique_conflicts(rows, screening)
    assert sorted({f.row for f in found}) == [1, 2]
    assert all(f.conflict.rule_id == "anticoagulant" for f in found)
    assert any("above the cap" in f.conflict.message for f in found if f.row == 2)


def test_note_rows_follow_region_and_side_of_a_restriction():
    screening = screen([Finding("recent_surgery", "knee", "right")])
    rows = [PlannedTechnique("swedish", "knee", "left", 2), PlannedTechnique("swedish", "knee", "right", 2)]
    assert [f.row for f in technique_conflicts(rows, screening)] == [1]


def test_a_blocked_day_is_not_repeated_on_every_row():
    """REFER and BLOCK stop the visit as a whole; they are not row conflicts."""
    assert (
        technique_conflicts([PlannedTechnique("swedish", "lower_back", pressure=2)], screen([Finding("fever")])) == []
    )


@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(techniques())), st.integers(min_value=1, max_value=5)), min_size=1, max_size=5
    )
)
def test_every_row_above_a_cap_is_a_conflict(rows):
    """Whatever the rows, a row conflicts with the anticoagulant rule when its pressure is above the cap."""
    screening = screen([Finding("anticoagulant")])
    cap = screening.pressure_cap
    planned = [PlannedTechnique(t, "lower_back", None, p) for t, p in rows]
    flagged = {f.row for f in technique_conflicts(planned, screening)}
    for index, (_, pressure) in enumerate(rows):
        if cap is not None and pressure > cap:
            assert index in flagged


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


def test_lymphedema_leaves_the_other_limbs_and_the_trunk_to_the_usual_work():
    screening = screen([Finding("lymphedema", "upper_arm", "left")])
    # The whole affected arm, distal included: only MLD, no heat.
    assert plan_conflicts([PlannedTechnique("swedish", "forearm", "left")], screening)
    assert plan_conflicts([PlannedTechnique("hot_cold", "hand", "left")], screening)
    # The other arm and the back are not the affected limb.
    assert plan_conflicts([PlannedTechnique("swedish", "upper_arm", "right")], screening) == []
    assert plan_conflicts([PlannedTechnique("deep_tissue", "lower_back")], screening) == []


@pytest.mark.parametrize("rule_id", ["edema_pitting_systemic", "cardiac_insufficiency"])
def test_cardiac_or_renal_edema_rules_out_lymphatic_drainage_and_allows_other_work(rule_id):
    """Vodder: MLD is contraindicated with cardiac (or renal, pitting) edema — the technique, by its id."""
    screening = screen([Finding(rule_id)])
    assert screening.can_treat_today
    (conflict,) = plan_conflicts([PlannedTechnique("lymphatic_drainage", "lower_leg", "left")], screening)
    assert conflict.rule_id == rule_id and "Manual lymphatic drainage" in conflict.message
    rows = [PlannedTechnique("trigger_point", "upper_back"), PlannedTechnique("lymphatic_drainage", "upper_arm")]
    assert [f.row for f in technique_conflicts(rows, screening)] == [1]


def test_pitting_edema_with_lymphedema_leaves_nothing_for_the_affected_limb():
    screening = screen([Finding("lymphedema", "upper_arm", "left"), Finding("edema_pitting_systemic")])
    assert plan_conflicts([PlannedTechnique("lymphatic_drainage", "upper_arm", "left")], screening)
    assert plan_conflicts([PlannedTechnique("myofascial_release", "upper_arm", "left")], screening)
    assert plan_conflicts([PlannedTechnique("myofascial_release", "upper_back")], screening) == []


def test_acute_thrombosis_still_stops_lymphatic_drainage():
    conflicts = plan_conflicts(
        [PlannedTechnique("lymphatic_drainage", "lower_leg", "right")], screen([Finding("dvt_suspected")])
    )
    assert {c.action for c in conflicts} == {"REFER", "BLOCK"}


def test_mild_varicose_veins_rule_out_deep_work_over_them_only():
    screening = screen([Finding("varicose_veins_mild", "lower_leg", "left")])
    assert plan_conflicts([PlannedTechnique("deep_tissue", "lower_leg", "left")], screening)
    assert plan_conflicts([PlannedTechnique("swedish", "lower_leg", "left", pressure=4)], screening)
    assert plan_conflicts([PlannedTechnique("swedish", "lower_leg", "left", pressure=3)], screening) == []
    assert plan_conflicts([PlannedTechnique("deep_tissue", "lower_leg", "right")], screening) == []
    assert plan_conflicts([PlannedTechnique("deep_tissue", "lower_back")], screening) == []


def test_nothing_is_planned_on_a_blocked_day():
    assert plan_conflicts([PlannedTechnique("swedish")], screen([Finding("fever")]))


def test_technique_restrictions_use_the_screening_vocabulary():
    vocabulary = set(catalogue().restrictions)
    for technique in techniques().values():
        assert set(technique.restricted_by) <= vocabulary, technique.id


@given(st.lists(st.sampled_from(sorted(techniques())), max_size=4))
def test_no_screening_findings_means_no_conflicts(planned):
    assert plan_conflicts([PlannedTechnique(t) for t in planned], screen([])) == []
