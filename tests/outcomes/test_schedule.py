"""When a measure is due, from the plan's text (mend.outcomes.schedule, pure)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from mend.outcomes.schedule import When, due, parse_when

D0 = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("baseline, every 4 sessions, discharge", When(baseline=True, every_sessions=4, discharge=True)),
        ("Baseline; every 2 weeks; at discharge", When(baseline=True, every_weeks=2, discharge=True)),
        ("every_n_sessions:3", When(every_sessions=3)),
        ("every session", When(every_sessions=1)),
        ("weekly", When(every_weeks=1)),
        ("every two weeks and discharge", When(every_weeks=2, discharge=True)),
        ("q4 visits", When(every_sessions=4)),
        ("", When()),
    ],
)
def test_parse_when_reads_the_plans_text(text, expected):
    assert parse_when(text) == expected


def test_parse_when_keeps_what_it_does_not_understand():
    when = parse_when("baseline, when the moon is full")
    assert when.baseline and when.unparsed == ("when the moon is full",)
    assert when.describe() == "baseline, when the moon is full"


def test_parse_when_refuses_every_zero_sessions():
    assert parse_when("every 0 sessions").every_sessions is None


def sessions(n: int, start: date = D0) -> list[date]:
    return [start + timedelta(weeks=i) for i in range(n)]


def test_nothing_collected_is_due_as_baseline():
    result = due(parse_when("every 4 sessions"), collected=[], sessions=[], today=D0)
    assert result.due and result.reason == "Baseline"


def test_every_n_sessions_is_due_after_n_sessions_since_the_last_response():
    when = parse_when("baseline, every 4 sessions, discharge")
    visits = sessions(6)
    after_three = due(when, collected=[D0], sessions=visits[:4], today=visits[3], planned_sessions=10)
    assert not after_three.due and after_three.next == "after 1 more session"
    after_four = due(when, collected=[D0], sessions=visits[:5], today=visits[4], planned_sessions=10)
    assert after_four.due and "4 sessions since the last" in after_four.reason
    # Collected again on the fourth session after: not due any more.
    again = due(when, collected=[D0, visits[4]], sessions=visits[:5], today=visits[4], planned_sessions=10)
    assert not again.due


def test_every_n_weeks_counts_from_the_last_response():
    when = parse_when("every 2 weeks")
    assert not due(when, collected=[D0], sessions=[], today=D0 + timedelta(days=13)).due
    assert due(when, collected=[D0], sessions=[], today=D0 + timedelta(days=14)).due
    assert due(when, collected=[D0], sessions=[], today=D0 + timedelta(days=3)).next == "from 16 Mar 2026"


def test_discharge_is_due_when_the_planned_sessions_are_done():
    when = parse_when("baseline, discharge")
    visits = sessions(6)
    early = due(when, collected=[D0], sessions=visits[:3], today=visits[2], planned_sessions=6)
    assert not early.due and early.next == "at discharge"
    done = due(when, collected=[D0], sessions=visits, today=visits[-1], planned_sessions=6)
    assert done.due and done.reason == "Discharge"
    answered = due(when, collected=[D0, visits[-1] + timedelta(days=1)], sessions=visits, today=visits[-1])
    assert not answered.due


def test_a_discharged_episode_is_due_only_its_discharge_measure():
    visits = sessions(4)
    out = visits[-1] + timedelta(days=2)
    assert due(parse_when("baseline, discharge"), collected=[D0], sessions=visits, today=out, discharged_on=out).due
    assert not due(parse_when("every session"), collected=[D0], sessions=visits, today=out, discharged_on=out).due
    assert not due(parse_when("every session"), collected=[], sessions=visits, today=out, discharged_on=out).due
