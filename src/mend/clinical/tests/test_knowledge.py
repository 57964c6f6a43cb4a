"""The shipped clinical knowledge refers only to things that exist."""

from __future__ import annotations

import pytest

from mend import knowledge
from mend.clinical import icd10
from mend.clinical.rules import percent_of_normal


@pytest.mark.parametrize("condition", list(knowledge.conditions().values()), ids=lambda c: c.id)
def test_condition_codes_are_billable_icd10cm(condition):
    for code in condition.icd10:
        assert icd10.lookup(code).code == code


@pytest.mark.parametrize("condition", list(knowledge.conditions().values()), ids=lambda c: c.id)
def test_condition_plans_use_known_techniques_regions_and_a_cited_dose(condition):
    assert set(condition.techniques) <= set(knowledge.techniques())
    assert set(condition.regions) <= set(knowledge.body_regions())
    assert condition.dose is not None and condition.dose.source_text
    assert 30 <= condition.dose.minutes <= 90
    assert condition.measures


def test_trial_doses_match_the_trials():
    conditions = knowledge.conditions()
    assert (conditions["low_back_pain"].dose.per_week, conditions["low_back_pain"].dose.weeks) == (
        1,
        10,
    )  # Cherkin 2011
    neck = conditions["neck_pain"].dose
    assert (neck.per_week, neck.weeks, neck.minutes) == (2, 4, 60)  # Sherman 2014: 60 min, 2×/week, 4 weeks


def test_range_of_motion_norms_name_their_source():
    motions = knowledge.rom_motions()
    assert motions["shoulder_flexion"].normal == 180 and "Norkin" in motions["shoulder_flexion"].source_text
    assert motions["knee_flexion"].normal == 140 and "38 CFR" in motions["knee_flexion"].source_text
    assert percent_of_normal(90, motions["shoulder_flexion"].normal) == 50.0
    assert all(m.max < 400 for m in motions.values())


def test_icd10_search_finds_codes_by_words_and_by_code():
    assert icd10.search("low back pain")[0].code == "M54.50"
    assert icd10.search("neck pain")[0].code == "M54.2"  # through the conditions knowledge base
    assert [c.code for c in icd10.search("M54.5")] == ["M54.50", "M54.51", "M54.59"]
    assert icd10.search("") == []


@pytest.mark.parametrize(("code", "message"), [("M54.5", "heading"), ("ZZZ.1", "not an ICD-10-CM"), ("", "empty")])
def test_icd10_refuses_headings_and_unknown_codes(code, message):
    with pytest.raises(icd10.InvalidCode, match=message):
        icd10.lookup(code)


def test_icd10_accepts_codes_typed_without_the_dot():
    assert icd10.lookup("m5450").code == "M54.50"
