"""How the evidence report groups diagnoses: by ICD-10-CM subcategory, so neck and back stay apart."""

from __future__ import annotations

import pytest

from mend.clinical import icd10


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("M54.50", ("M54.5", "Low back pain")),
        ("M54.2", ("M54.2", "Cervicalgia")),  # a four-character billable code is its own group
        ("M5450", ("M54.5", "Low back pain")),  # typed without the dot
        ("S76.011D", ("S76.0", "Injury of muscle, fascia and tendon of hip")),
        ("M79.18", ("M79.1", "Myalgia")),
        ("M79.7", ("M79.7", "Fibromyalgia")),
        ("G44.229", ("G44.2", "Tension-type headache")),
        ("G56.01", ("G56.0", "Carpal tunnel syndrome")),
        ("M54", ("M54", "Dorsalgia")),  # a category alone stays a category
    ],
)
def test_group_is_the_subcategory(code, group):
    found = icd10.group(code)
    assert found is not None and (found.code, found.description) == group


def test_neck_and_low_back_pain_are_different_groups_within_one_category():
    assert icd10.category("M54.2") == icd10.category("M54.50")
    assert icd10.group("M54.2") != icd10.group("M54.50")


@pytest.mark.parametrize("code", ["", "Q99.999X", "not a code", "ZZZ"])
def test_group_of_something_that_is_not_a_code_is_none(code):
    assert icd10.group(code) is None
