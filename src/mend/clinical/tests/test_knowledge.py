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


# What each cited source lists, with the value it gives (degrees), from the published text: 38 CFR
# 4.71a Plates I and II and the spine's Note (2) (Plate II shows the hip's flexion and abduction
# only); the VA M21-1 manual's hip table; AAOS values in Norkin & White Table A.1 (upper limb, and
# foot eversion 15); the Merck Manual's table. A norm may cite only a source that lists its motion.
PUBLISHED_NORMS = {
    "va": {
        "cervical_flexion": 45, "cervical_extension": 45, "cervical_lateral_flexion": 45, "cervical_rotation": 80,
        "thoracolumbar_flexion": 90, "thoracolumbar_extension": 30, "thoracolumbar_lateral_flexion": 30,
        "thoracolumbar_rotation": 30, "shoulder_flexion": 180, "shoulder_abduction": 180,
        "shoulder_internal_rotation": 90, "shoulder_external_rotation": 90, "elbow_flexion": 145,
        "forearm_pronation": 80, "forearm_supination": 85, "wrist_flexion": 80, "wrist_extension": 70,
        "wrist_radial_deviation": 20, "wrist_ulnar_deviation": 45, "hip_flexion": 125, "hip_abduction": 45,
        "knee_flexion": 140, "knee_extension": 0, "ankle_dorsiflexion": 20, "ankle_plantarflexion": 45,
    },
    "m21": {
        "hip_flexion": 125, "hip_extension": 30, "hip_abduction": 45, "hip_adduction": 25,
        "hip_external_rotation": 60, "hip_internal_rotation": 40,
    },
    "aaos": {
        "shoulder_flexion": 180, "shoulder_extension": 60, "shoulder_abduction": 180,
        "shoulder_internal_rotation": 70, "shoulder_external_rotation": 90, "elbow_flexion": 150,
        "elbow_extension": 0, "forearm_pronation": 80, "forearm_supination": 80, "wrist_flexion": 80,
        "wrist_extension": 70, "wrist_radial_deviation": 20, "wrist_ulnar_deviation": 30, "foot_eversion": 15,
    },
    "merck": {
        "hip_flexion": 125, "hip_abduction": 45, "hip_adduction": 45, "hip_external_rotation": 45,
        "hip_internal_rotation": 45, "knee_flexion": 130, "ankle_dorsiflexion": 20, "ankle_plantarflexion": 50,
        "foot_inversion": 35, "foot_eversion": 25,
    },
}  # fmt: skip


@pytest.mark.parametrize("motion", list(knowledge.rom_motions().values()), ids=lambda m: m.id)
def test_each_range_of_motion_norm_cites_a_source_that_lists_that_motion(motion):
    listed = PUBLISHED_NORMS[motion.source]
    assert motion.id in listed, f"{motion.source} does not list {motion.id}"
    assert motion.normal == listed[motion.id]


def test_hip_motions_plate_ii_does_not_show_cite_another_source_and_foot_eversion_follows_aaos():
    motions = knowledge.rom_motions()
    assert {m.id for m in motions.values() if m.region == "hip" and m.source == "va"} == {
        "hip_flexion",
        "hip_abduction",
    }
    assert (motions["foot_eversion"].source, motions["foot_eversion"].normal) == ("aaos", 15)
