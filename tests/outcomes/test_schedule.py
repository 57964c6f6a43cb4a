"""When a measure is due, from the plan's structured schedule (mend.outcomes.schedule, pure)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mend.outcomes.schedule import Schedule, due

D0 = date(2026, 3, 2)
EVERY_4_AND_DISCHARGE = Schedule(baseline=True, every_sessions=4, discharge=True)


def sessions(n: int, start: date = D0) -> list[date]:
    return [start + timedelta(weeks=i) for i in range(n)]


def test_nothing_collected_is_due_as_baseline():
    result = due(Schedule(baseline=True, every_sessions=4), collected=[], sessions=[], today=D0)
    assert result.due and result.reason == "Baseline"


def test_without_baseline_nothing_is_due_before_the_first_interval():
    """PGIC asks about change since care began: unticking baseline means it is not asked at the start."""
    every_4 = Schedule(every_sessions=4)
    early = due(every_4, collected=[], sessions=sessions(3), today=D0 + timedelta(weeks=2))
    assert not early.due and early.next == "after 1 more session"
    ready = due(every_4, collected=[], sessions=sessions(4), today=D0 + timedelta(weeks=3))
    assert ready.due and ready.reason == "4 sessions since the start"
    weekly = Schedule(every_weeks=2)
    assert not due(weekly, collected=[], sessions=[], today=D0 + timedelta(days=13), started_on=D0).due
    assert due(weekly, collected=[], sessions=[], today=D0 + timedelta(days=14), started_on=D0).due
    at_end = Schedule(discharge=True)
    assert not due(at_end, collected=[], sessions=sessions(3), today=D0, planned_sessions=6).due
    assert due(at_end, collected=[], sessions=sessions(6), today=D0, planned_sessions=6).reason == "Discharge"


def test_every_n_sessions_is_due_after_n_sessions_since_the_last_response():
    visits = sessions(6)
    after_three = due(EVERY_4_AND_DISCHARGE, collected=[D0], sessions=visits[:4], today=visits[3], planned_sessions=10)
    assert not after_three.due and after_three.next == "after 1 more session"
    after_four = due(EVERY_4_AND_DISCHARGE, collected=[D0], sessions=visits[:5], today=visits[4], planned_sessions=10)
    assert after_four.due and "4 sessions since the last" in after_four.reason
    # Collected again on the fourth session after: not due any more.
    again = due(
        EVERY_4_AND_DISCHARGE, collected=[D0, visits[4]], sessions=visits[:5], today=visits[4], planned_sessions=10
    )
    assert not again.due


def test_every_n_weeks_counts_from_the_last_response():
    every_2_weeks = Schedule(every_weeks=2)
    assert not due(every_2_weeks, collected=[D0], sessions=[], today=D0 + timedelta(days=13)).due
    assert due(every_2_weeks, collected=[D0], sessions=[], today=D0 + timedelta(days=14)).due
    assert due(every_2_weeks, collected=[D0], sessions=[], today=D0 + timedelta(days=3)).next == "from 16 Mar 2026"


def test_discharge_is_due_when_the_planned_sessions_are_done():
    baseline_discharge = Schedule(baseline=True, discharge=True)
    visits = sessions(6)
    early = due(baseline_discharge, collected=[D0], sessions=visits[:3], today=visits[2], planned_sessions=6)
    assert not early.due and early.next == "at discharge"
    done = due(baseline_discharge, collected=[D0], sessions=visits, today=visits[-1], planned_sessions=6)
    assert done.due and done.reason == "Discharge"
    later = visits[-1] + timedelta(days=1)
    answered = due(baseline_discharge, collected=[D0, later], sessions=visits, today=visits[-1])
    assert not answered.due


def test_a_discharged_episode_is_due_only_its_discharge_measure():
    visits = sessions(4)
    out = visits[-1] + timedelta(days=2)
    baseline_discharge = Schedule(baseline=True, discharge=True)
    every_session = Schedule(baseline=True, every_sessions=1)
    assert due(baseline_discharge, collected=[D0], sessions=visits, today=out, discharged_on=out).due
    assert not due(every_session, collected=[D0], sessions=visits, today=out, discharged_on=out).due
    assert not due(every_session, collected=[], sessions=visits, today=out, discharged_on=out).due


# --- Properties -----------------------------------------------------------------------------------

schedules = st.builds(
    Schedule,
    baseline=st.booleans(),
    every_sessions=st.none() | st.integers(min_value=1, max_value=12),
    every_weeks=st.none() | st.integers(min_value=1, max_value=12),
    discharge=st.booleans(),
)
offsets = st.lists(st.integers(min_value=0, max_value=200), max_size=15)


def _days(offsets: list[int]) -> list[date]:
    return sorted(D0 + timedelta(days=o) for o in offsets)


@given(schedules, offsets, offsets, st.integers(min_value=0, max_value=60), st.none() | st.integers(1, 20))
def test_a_measure_answered_today_is_not_due_again_today(schedule, visit_offsets, answer_offsets, extra, planned):
    visits = _days(visit_offsets)
    today = max([*visits, *_days(answer_offsets), D0]) + timedelta(days=extra)
    collected = [*_days(answer_offsets), today]
    result = due(schedule, collected=collected, sessions=visits, today=today, planned_sessions=planned, started_on=D0)
    assert not result.due


@given(schedules, offsets, offsets, st.integers(min_value=0, max_value=60), st.booleans())
def test_a_due_measure_always_says_why_and_one_not_due_has_no_reason(schedule, visits, answers, extra, discharged):
    visit_days, answered = _days(visits), _days(answers)
    today = max([*visit_days, *answered, D0]) + timedelta(days=extra)
    result = due(
        schedule,
        collected=answered,
        sessions=visit_days,
        today=today,
        discharged_on=today if discharged else None,
        started_on=D0,
    )
    assert bool(result.reason) == result.due
    if discharged:
        # A closed episode asks for nothing but its discharge measure.
        assert not result.due or (schedule.discharge and result.reason == "Discharge")


@given(schedules, offsets, st.integers(min_value=0, max_value=60))
def test_baseline_decides_whether_an_untouched_measure_is_due_at_once(schedule, visits, extra):
    visit_days = _days(visits)
    today = max([*visit_days, D0]) + timedelta(days=extra)
    result = due(schedule, collected=[], sessions=visit_days, today=today, started_on=D0)
    if schedule.baseline:
        assert result.due and result.reason == "Baseline"
    elif not (schedule.every_sessions or schedule.every_weeks or schedule.discharge):
        assert not result.due


@given(st.integers(min_value=1, max_value=12), offsets, st.integers(min_value=0, max_value=200))
def test_every_n_sessions_is_due_exactly_when_n_signed_sessions_followed_the_last_answer(n, visits, answered_at):
    visit_days = _days(visits)
    last = D0 + timedelta(days=answered_at)
    today = max([*visit_days, last])
    result = due(Schedule(every_sessions=n), collected=[last], sessions=visit_days, today=today)
    assert result.due == (sum(1 for v in visit_days if v > last) >= n)


@given(st.integers(min_value=1, max_value=12), st.integers(min_value=0, max_value=200))
def test_every_n_weeks_is_due_exactly_from_n_weeks_after_the_last_answer(n, waited):
    result = due(Schedule(every_weeks=n), collected=[D0], sessions=[], today=D0 + timedelta(days=waited))
    assert result.due == (waited >= 7 * n)
