"""The clinic evidence report's numbers on a small data set computed by hand, and its filters."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from django.utils import timezone

from mend.clinical.models import Episode, NoteStatus, NoteTechnique, Referral, TreatmentNote
from mend.outcomes.evidence import EvidenceFilters, evidence_report, fmt, headline
from mend.outcomes.models import MeasureResponse

START = date(2026, 3, 2)


def build_episode(
    personas,
    *,
    therapist="therapist",
    client=None,
    condition="low_back_pain",
    code="M54.50",
    started=START,
    nprs=(),
    sessions=0,
    reason="",
    technique="myofascial_release",
):
    """One episode with its referral (when ``code``), ``sessions`` signed notes and NPRS scores
    given as (session number, value)."""
    membership = personas.memberships[therapist]
    client = client or personas.carol
    episode = Episode.objects.create(
        clinic=membership.clinic,
        client=client,
        therapist=membership,
        title="Test",
        condition=condition,
        started_on=started,
        discharged_on=started + timedelta(days=60) if reason else None,
        discharge_reason=reason,
    )
    if code:
        Referral.objects.create(
            clinic=membership.clinic,
            client=client,
            episode=episode,
            referred_on=started,
            received_on=started,
            diagnoses=[{"code": code, "description": "test"}],
        )
    now = timezone.now()
    for n in range(sessions):
        note = TreatmentNote.objects.create(
            clinic=membership.clinic,
            client=client,
            episode=episode,
            therapist=membership,
            visit_on=started + timedelta(days=7 * n),
        )
        NoteTechnique.objects.create(
            clinic=membership.clinic, note=note, technique=technique, region="lower_back", minutes=30, pressure=3
        )
        # A signed note is immutable in the database: techniques first, then the signature.
        TreatmentNote.objects.filter(pk=note.pk).update(status=NoteStatus.SIGNED, signed_at=now, content_hash="x")
    for i, (session, value) in enumerate(nprs):
        MeasureResponse.objects.create(
            clinic=membership.clinic,
            client=client,
            episode=episode,
            measure_id="nprs",
            answers=[value],
            value=value,
            scoring_version="2026.1",
            collected_on=started + timedelta(days=7 * i),
            collected_at=now,
            session_number=session,
            recorded_by=membership,
        )
    return episode


@pytest.fixture
def back_pain(personas):
    """Five low back pain episodes (M54.5) with NPRS, MCID 2 points:

    A 8 → 5 → 3   improvement 5, reaches MCID at session 4          (event at 4)
    B 6 → 5 → 4   improvement 2, reaches it at session 6            (event at 6)
    C 7 → 7       improvement 0, discharged at 5 sessions           (censored at 5)
    D 5 only      lost to follow-up after 2 sessions: a drop-out    (censored at 2)
    E 4 → 5       improvement −1, worse; 3 sessions                 (censored at 3)
    """
    build_episode(personas, nprs=[(1, 8), (4, 5), (7, 3)], sessions=7, reason="goals_met")
    build_episode(personas, nprs=[(1, 6), (3, 5), (6, 4)], sessions=6)
    build_episode(personas, nprs=[(1, 7), (5, 7)], sessions=5, reason="plateau")
    build_episode(personas, nprs=[(1, 5)], sessions=2, reason="lost_to_follow_up")
    build_episode(personas, therapist="therapist2", nprs=[(1, 4), (3, 5)], sessions=3, technique="swedish")


def test_report_numbers_match_the_hand_computation(personas, back_pain):
    report = evidence_report(personas.actor("owner"))
    [row] = report.rows
    assert (row.condition_code, row.condition) == ("M54.5", "M54.5 Low back pain")
    assert row.measure.id == "nprs"
    assert (row.episodes, row.followed_up) == (5, 4)
    # Both means over the four followed up (D has no follow-up), so they differ by the mean change.
    assert row.baseline_mean == pytest.approx((8 + 6 + 7 + 4) / 4)
    assert row.latest_mean == pytest.approx((3 + 4 + 7 + 5) / 4)
    assert row.baseline_mean - row.latest_mean == pytest.approx(row.change.mean)
    # Improvements 5, 2, 0, −1: mean 1.5, squared deviations 21, sd √(21/3) = √7, t(0.975, 3) = 3.182446.
    assert row.change.mean == pytest.approx(1.5)
    half = 3.182446 * math.sqrt(7) / 2
    assert (row.change.low, row.change.high) == pytest.approx((1.5 - half, 1.5 + half), abs=1e-5)
    # Responders: A and B of the four followed up; Wilson 2/4 = 0.1500 to 0.8500.
    assert (row.responders.successes, row.responders.n) == (2, 4)
    assert (row.responders.low, row.responders.high) == pytest.approx((0.1500, 0.8500), abs=1e-4)
    # Kaplan–Meier on (4, event) (6, event) (5, censored) (2, censored) (3, censored):
    #   t=2: 5 at risk, censored; t=3: 4 at risk, censored; t=4: 3 at risk, event → 2/3;
    #   t=5: 2 at risk, censored; t=6: 1 at risk, event → 0.
    km = row.km
    assert [(s.time, s.at_risk, s.events, s.censored) for s in km.steps] == [
        (2, 5, 0, 1), (3, 4, 0, 1), (4, 3, 1, 0), (5, 2, 0, 1), (6, 1, 1, 0)
    ]  # fmt: skip
    assert [s.survival for s in km.steps] == pytest.approx([1, 1, 2 / 3, 2 / 3, 0])
    assert km.median == 6
    # Drop-out: D alone (lost to follow-up with no follow-up score); C's plateau is not one.
    assert (row.dropout.successes, row.dropout.n) == (1, 5)


def test_condition_falls_back_to_the_knowledge_condition_without_a_referral(personas):
    build_episode(personas, code="", condition="neck_pain", nprs=[(1, 6), (2, 3)], sessions=2)
    build_episode(personas, code="", condition="", nprs=[(1, 6), (2, 3)], sessions=2)
    rows = evidence_report(personas.actor("owner")).rows
    assert [(r.condition_code, r.condition) for r in rows] == [
        ("neck_pain", "Neck pain"), ("", "Condition not recorded")
    ]  # fmt: skip


def test_filters_narrow_by_therapist_start_date_and_technique(personas, back_pain):
    owner = personas.actor("owner")
    theo = personas.memberships["therapist2"].pk
    assert evidence_report(owner, EvidenceFilters(therapist_id=theo)).rows[0].episodes == 1
    assert evidence_report(owner, EvidenceFilters(technique="swedish")).rows[0].episodes == 1
    assert evidence_report(owner, EvidenceFilters(technique="myofascial_release")).rows[0].episodes == 4
    assert evidence_report(owner, EvidenceFilters(started_from=START + timedelta(days=1))).rows == []
    assert evidence_report(owner, EvidenceFilters(started_to=START)).rows[0].episodes == 5


def test_a_therapist_sees_only_their_own_episodes_whatever_the_filter(personas, back_pain):
    tess = personas.actor("therapist")
    theo = personas.memberships["therapist2"].pk
    assert evidence_report(tess).rows[0].episodes == 4
    assert evidence_report(tess, EvidenceFilters(therapist_id=theo)).rows[0].episodes == 4


def test_another_clinics_episodes_are_not_counted(personas, back_pain):
    assert evidence_report(personas.actor("outsider")).rows == []


def test_uncomputable_scores_are_left_out_not_counted_as_zero(personas):
    episode = build_episode(personas, nprs=[(1, 6), (2, 4)], sessions=2)
    MeasureResponse.objects.filter(episode=episode, value=4).update(value=None)
    [row] = evidence_report(personas.actor("owner")).rows
    assert (row.episodes, row.followed_up, row.change) == (1, 0, None)


def test_baseline_mean_is_over_all_episodes_when_none_was_followed_up(personas):
    build_episode(personas, nprs=[(1, 8)], sessions=1)
    build_episode(personas, nprs=[(1, 5)], sessions=1)
    [row] = evidence_report(personas.actor("owner")).rows
    assert (row.baseline_mean, row.latest_mean, row.change) == (6.5, None, None)


def test_report_counts_the_episodes_with_a_score(personas, back_pain):
    build_episode(personas, nprs=[], sessions=2)  # matches the filters, never measured
    report = evidence_report(personas.actor("owner"))
    assert (report.episodes, report.measured) == (6, 5)


def test_groups_of_fewer_episodes_than_the_threshold_are_set_apart(personas, back_pain):
    build_episode(personas, code="M54.2", condition="neck_pain", nprs=[(1, 6), (2, 3)], sessions=2)
    report = evidence_report(personas.actor("owner"))
    groups, small = report.grouped(5)
    assert [(g.condition_code, [r.measure.id for r in g.rows]) for g in groups] == [("M54.5", ["nprs"])]
    assert [(r.condition_code, r.episodes) for r in small] == [("M54.2", 1)]
    # Low back and neck pain share the category M54 but are compared apart.
    assert groups[0].curves and groups[0].curves[0][1].n == 5
    everything, none = report.grouped(1)
    assert none == [] and [g.condition_code for g in everything] == ["M54.2", "M54.5"]


@pytest.mark.parametrize(
    ("value", "shown"), [(-0.04, "0.0"), (-0.0, "0.0"), (-0.05, "-0.1"), (1.25, "1.2"), (None, "")]
)
def test_numbers_never_show_a_negative_zero(value, shown):
    assert fmt(value) == shown


def test_km_chart_tells_measures_apart_by_pattern_not_colour_alone():
    from mend.outcomes.charts import km_chart
    from mend.outcomes.stats import kaplan_meier

    first = kaplan_meier([2, 4, 5, 6], [True, True, False, True])
    second = kaplan_meier([3, 5, 6], [True, False, True])
    svg = km_chart([("NPRS", first), ("ODI", second)], title="M54.5 Low back pain: sessions to MCID")
    assert "NPRS (n=4)" in svg and "ODI (n=3)" in svg
    assert "stroke-dasharray:9,5" in svg.replace(" ", "")
    assert "<script" not in svg


def test_a_client_going_from_3_to_2_is_a_responder_by_ostelos_30_percent(personas):
    # Ostelo 2008: 2 points OR 30%. 3 → 2 is one point but 33%: a responder; 10 → 9 (10%) is not.
    build_episode(personas, nprs=[(1, 3), (4, 2)], sessions=4)
    build_episode(personas, nprs=[(1, 10), (4, 9)], sessions=4)
    [row] = evidence_report(personas.actor("owner")).rows
    assert (row.responders.successes, row.responders.n) == (1, 2)
    assert row.responder_rule == "2 points or 30% better than baseline"
    assert [s.time for s in row.km.steps if s.events] == [4]


def test_headline_needs_five_episodes_followed_up(personas, back_pain):
    # The small-cell rule: five episodes, four followed up, so nothing to quote yet.
    assert headline(evidence_report(personas.actor("owner"))) is None
    build_episode(personas, nprs=[(1, 6), (3, 6)], sessions=3)
    found = headline(evidence_report(personas.actor("owner")))
    # Responders A and B of five followed up (Wilson 11.8%–76.9%); Kaplan–Meier as in the hand
    # computation above with one more censored at 3: the curve reaches 0 at 6, so the median is 6.
    assert found.text == (
        "40% of clients treated for low back pain (M54.5) reached a meaningful change in pain intensity "
        "(95% CI 12–77%), median 6 sessions."
    )
    assert found.detail == (
        "2 of 5 episodes of care followed up with the NPRS; meaningful change: 2 points or 30% better than baseline."
    )


def test_headline_picks_pain_in_the_largest_condition(personas, back_pain):
    for n in range(6):
        build_episode(personas, code="M54.2", condition="neck_pain", nprs=[(1, 7), (3, 3 + n % 3)], sessions=3)
    found = headline(evidence_report(personas.actor("owner")))
    assert found.row.condition_code == "M54.2" and found.row.measure.id == "nprs"
    assert found.text.startswith("100% of clients treated for cervicalgia (M54.2) reached a meaningful change")
