"""A plan's measures as structured items: checking them, and converting the old "when" text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mend.core.measure_schedule import (
    MAX_EVERY_SESSIONS,
    MAX_EVERY_WEEKS,
    PlanMeasure,
    Schedule,
    clean_plan_measures,
    schedule_from_text,
)

KNOWN = {"nprs", "odi", "psfs", "pgic"}
PATH = re.compile(r"^measures\[(\d+)\](?:\.(measure|baseline|every_sessions|every_weeks|discharge|legacy_when))?$")


def item(measure="nprs", **fields):
    return {"measure": measure, "baseline": True, "every_sessions": None, "every_weeks": None, "discharge": False,
            **fields}  # fmt: skip


def test_a_valid_item_comes_back_as_stored():
    cleaned, errors = clean_plan_measures([item(every_sessions=4, discharge=True)], known=KNOWN)
    assert errors == {}
    assert cleaned == [PlanMeasure("nprs", Schedule(baseline=True, every_sessions=4, discharge=True))]
    assert cleaned[0].as_item() == item(every_sessions=4, discharge=True)


@pytest.mark.parametrize(
    ("bad", "path"),
    [
        ({"measure": "banana"}, "measures[1].measure"),
        ({"every_sessions": 0}, "measures[1].every_sessions"),
        ({"every_sessions": MAX_EVERY_SESSIONS + 1}, "measures[1].every_sessions"),
        ({"every_sessions": "4"}, "measures[1].every_sessions"),
        ({"every_sessions": 2.5}, "measures[1].every_sessions"),
        ({"every_weeks": -1}, "measures[1].every_weeks"),
        ({"every_weeks": True}, "measures[1].every_weeks"),
        ({"baseline": "yes"}, "measures[1].baseline"),
        ({"discharge": 1}, "measures[1].discharge"),
        ({"baseline": False}, "measures[1]"),  # nothing says when to collect it
        ({"measure": "nprs"}, "measures[1].measure"),  # the same measure twice
        ({"legacy_when": "x" * 121}, "measures[1].legacy_when"),
    ],
)
def test_each_error_names_the_row_and_the_field(bad, path):
    _, errors = clean_plan_measures([item(), item("odi", **bad) if "measure" not in bad else item(**bad)], known=KNOWN)
    assert list(errors) == [path]


def test_a_row_that_is_not_an_object_is_named_whole():
    _, errors = clean_plan_measures([item(), "nprs"], known=KNOWN)
    assert list(errors) == ["measures[1]"]


@pytest.mark.parametrize(
    ("text", "expected", "unparsed"),
    [
        ("baseline, every 4 sessions, discharge", Schedule(baseline=True, every_sessions=4, discharge=True), ()),
        ("Baseline; every 2 weeks; at discharge", Schedule(baseline=True, every_weeks=2, discharge=True), ()),
        ("every_n_sessions:3", Schedule(every_sessions=3), ()),
        ("every session", Schedule(every_sessions=1), ()),
        ("every visit", Schedule(every_sessions=1), ()),
        ("weekly", Schedule(every_weeks=1), ()),
        ("every two weeks and discharge", Schedule(every_weeks=2, discharge=True), ()),
        ("q4 visits", Schedule(every_sessions=4), ()),
        ("", Schedule(), ()),
        ("baseline, when the moon is full", Schedule(baseline=True), ("when the moon is full",)),
        ("every 0 sessions", Schedule(), ("every 0 sessions",)),
    ],
)
def test_the_old_when_text_converts_to_fields(text, expected, unparsed):
    assert schedule_from_text(text) == (expected, unparsed)


schedules = st.builds(
    Schedule,
    baseline=st.booleans(),
    every_sessions=st.none() | st.integers(min_value=1, max_value=MAX_EVERY_SESSIONS),
    every_weeks=st.none() | st.integers(min_value=1, max_value=MAX_EVERY_WEEKS),
    discharge=st.booleans(),
)


@given(schedules)
def test_describing_a_schedule_and_reading_it_back_gives_the_same_schedule(schedule):
    assert schedule_from_text(schedule.describe()) == (schedule, ())


@given(st.lists(st.sampled_from(sorted(KNOWN)), unique=True, max_size=4), st.data())
def test_a_stored_item_reads_back_to_what_was_checked(measure_ids, data):
    items = [PlanMeasure(m, data.draw(schedules.filter(lambda s: not s.is_empty))).as_item() for m in measure_ids]
    cleaned, errors = clean_plan_measures(items, known=KNOWN)
    assert errors == {}
    assert [c.as_item() for c in cleaned] == items
    assert [PlanMeasure.from_item(i) for i in items] == cleaned


fields = st.fixed_dictionaries(
    {},
    optional={
        "measure": st.sampled_from([*sorted(KNOWN), "banana", ""]) | st.integers(),
        "baseline": st.booleans() | st.none() | st.integers(0, 1) | st.text(max_size=3),
        "every_sessions": st.none() | st.integers(-3, 60) | st.text(max_size=3) | st.floats(allow_nan=False),
        "every_weeks": st.none() | st.integers(-3, 60) | st.booleans(),
        "discharge": st.booleans() | st.none() | st.text(max_size=3),
        "legacy_when": st.text(max_size=130) | st.none(),
    },
)


@given(st.lists(fields, max_size=5))
def test_any_input_is_either_clean_or_refused_by_row_and_field(items):
    cleaned, errors = clean_plan_measures(items, known=KNOWN)
    assert len(cleaned) == len(items)
    for path in errors:
        match = PATH.match(path)
        assert match is not None and int(match.group(1)) < len(items), path
    if not errors:
        # What passes is in range and says when to collect it.
        for found in cleaned:
            assert found.measure in KNOWN and not found.schedule.is_empty
            assert found.schedule.every_sessions is None or 1 <= found.schedule.every_sessions <= MAX_EVERY_SESSIONS
            assert found.schedule.every_weeks is None or 1 <= found.schedule.every_weeks <= MAX_EVERY_WEEKS
