"""Screening cases drawn from the sources in the catalogue, and properties every screening keeps."""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mend.clinical.screening import (
    Action,
    Finding,
    ScreeningError,
    apply_clearances,
    catalogue,
    parse_catalogue,
    screen,
)
from mend.knowledge import KnowledgeError, body_regions

REQUIRED_IDS = {
    "fever", "contagious_infection", "local_skin_infection", "dvt_suspected", "dvt_history", "anticoagulant",
    "bleeding_disorder", "corticosteroid_long_term", "cancer_active_treatment", "bone_metastasis",
    "pregnancy_first_trimester", "pregnancy_high_risk", "osteoporosis", "hypertension_uncontrolled",
    "acute_fracture", "recent_surgery", "open_wound", "varicose_veins_severe", "edema_pitting_systemic",
    "lymphedema", "neuropathy_reduced_sensation", "implant_device", "acute_inflammation", "impaired_consent",
    "varicose_veins_mild", "physician_consent_refused", "cardiac_insufficiency",
}  # fmt: skip

ARM = ("upper_arm", "elbow", "forearm", "wrist", "hand")  # the upper arm and everything distal to it


def kinds(screening) -> set[tuple[str, str | None, str | None]]:
    return {(str(a.action), a.region, a.side) for a in screening.actions}


def test_catalogue_holds_every_required_rule_with_a_source():
    rules = catalogue().rules
    assert set(rules) >= REQUIRED_IDS
    for rule in rules.values():
        assert rule.sources and all(s in catalogue().sources for s in rule.sources)


# (findings, expected status, actions that must be present) — each case follows the table in
# the shared clinical reference §2 and the source the rule cites.
CASES = [
    # Werner & Benjamin: fever is systemically contraindicated.
    ([Finding("fever")], "BLOCK", {("BLOCK", None, None)}),
    ([Finding("contagious_infection")], "BLOCK", {("BLOCK", None, None)}),
    # W&B: a small local infection is locally contraindicated.
    (
        [Finding("local_skin_infection", region="foot", side="left")],
        "AVOID_REGION",
        {("AVOID_REGION", "foot", "left")},
    ),
    # W&B/NYSED: suspected DVT is a medical referral and no massage.
    (
        [Finding("dvt_suspected", region="lower_leg", side="right")],
        "REFER",
        {("REFER", None, None), ("BLOCK", None, None)},
    ),
    # DVT history: clearance, and the affected limb avoided distally.
    (
        [Finding("dvt_history", region="lower_leg", side="left")],
        "CLEARANCE",
        {("CLEARANCE", None, None), ("AVOID_REGION", "lower_leg", "left"), ("AVOID_REGION", "foot", "left")},
    ),
    # NYSED: caution with medication that enhances bleeding → pressure cap, not refusal.
    ([Finding("anticoagulant")], "MODIFY", {("MODIFY", None, None)}),
    ([Finding("bleeding_disorder")], "CLEARANCE", {("CLEARANCE", None, None), ("MODIFY", None, None)}),
    ([Finding("corticosteroid_long_term")], "MODIFY", {("MODIFY", None, None)}),
    # Walton: no pressure that disturbs a tumour; clearance during treatment.
    (
        [Finding("cancer_active_treatment", region="chest", side="left")],
        "CLEARANCE",
        {("CLEARANCE", None, None), ("AVOID_REGION", "chest", "left"), ("MODIFY", None, None)},
    ),
    ([Finding("bone_metastasis", region="thigh", side="right")], "CLEARANCE", {("AVOID_REGION", "thigh", "right")}),
    # NYSED: no abdominal massage and no deep sacral work in the first trimester.
    (
        [Finding("pregnancy_first_trimester")],
        "AVOID_REGION",
        {("AVOID_REGION", "abdomen", None), ("MODIFY", "sacrum", None)},
    ),
    ([Finding("pregnancy_high_risk")], "CLEARANCE", {("CLEARANCE", None, None)}),
    # W&B: very gentle massage is indicated in osteoporosis.
    ([Finding("osteoporosis")], "MODIFY", {("MODIFY", None, None)}),
    # W&B: medicated hypertension contraindicates circulatory massage without a doctor's approval.
    ([Finding("hypertension_uncontrolled")], "CLEARANCE", {("CLEARANCE", None, None)}),
    ([Finding("acute_fracture", region="wrist", side="right")], "AVOID_REGION", {("AVOID_REGION", "wrist", "right")}),
    (
        [Finding("recent_surgery", region="knee", side="left")],
        "CLEARANCE",
        {("CLEARANCE", None, None), ("AVOID_REGION", "knee", "left")},
    ),
    ([Finding("open_wound", region="forearm", side="left")], "AVOID_REGION", {("AVOID_REGION", "forearm", "left")}),
    # W&B: extreme varicose veins — avoid at and distal to them.
    (
        [Finding("varicose_veins_severe", region="knee", side="bilateral")],
        "AVOID_REGION",
        {(("AVOID_REGION", r, "bilateral")) for r in ("knee", "lower_leg", "ankle", "foot")},
    ),
    # W&B: mild varicose veins — no deep specific work over them (a modification there, not everywhere).
    ([Finding("varicose_veins_mild", "lower_leg", "left")], "MODIFY", {("MODIFY", "lower_leg", "left")}),
    ([Finding("edema_pitting_systemic")], "CLEARANCE", {("CLEARANCE", None, None), ("MODIFY", None, None)}),
    # Vodder: cardiac insufficiency contraindicates MLD (a technique ruled out, not the visit).
    ([Finding("cardiac_insufficiency")], "MODIFY", {("MODIFY", None, None)}),
    # Vodder: MLD only, with clearance — on the affected limb (Mend: the site and everything distal).
    (
        [Finding("lymphedema", region="upper_arm", side="left")],
        "CLEARANCE",
        {("CLEARANCE", None, None), *(("MODIFY", r, "left") for r in ARM)},
    ),
    (
        [Finding("neuropathy_reduced_sensation", region="foot", side="bilateral")],
        "MODIFY",
        {("MODIFY", "foot", "bilateral")},
    ),
    ([Finding("implant_device", region="chest", side="left")], "AVOID_REGION", {("AVOID_REGION", "chest", "left")}),
    ([Finding("acute_inflammation", region="knee", side="right")], "AVOID_REGION", {("AVOID_REGION", "knee", "right")}),
    ([Finding("impaired_consent")], "BLOCK", {("BLOCK", None, None)}),
    # NYSED: a client who refuses to let the therapist confer with their physician when that is essential.
    ([Finding("physician_consent_refused")], "BLOCK", {("BLOCK", None, None)}),
    # Vodder: infection in the lymphedema area rules out treatment there — the limb, not the body.
    (
        [Finding("lymphedema", region="lower_leg", side="left"), Finding("local_skin_infection", "lower_leg", "left")],
        "CLEARANCE",
        {("CLEARANCE", None, None), *(("AVOID_REGION", r, "left") for r in ("lower_leg", "ankle", "foot"))},
    ),
    # The most severe wins and nothing is dropped.
    (
        [Finding("anticoagulant"), Finding("fever"), Finding("open_wound", "hand", "right")],
        "BLOCK",
        {("BLOCK", None, None), ("MODIFY", None, None), ("AVOID_REGION", "hand", "right")},
    ),
    ([], "PROCEED", set()),
]


@pytest.mark.parametrize(("findings", "status", "expected"), CASES)
def test_published_cases(findings, status, expected):
    result = screen(findings)
    assert result.status == status
    assert expected <= kinds(result)


def test_every_required_rule_is_exercised_by_a_case():
    exercised = {f.id for findings, _, _ in CASES for f in findings}
    assert exercised >= REQUIRED_IDS


def test_status_is_a_string_enum_in_precedence_order():
    assert [str(a) for a in Action] == ["REFER", "BLOCK", "CLEARANCE", "AVOID_REGION", "MODIFY", "PROCEED"]
    assert screen([Finding("fever")]).status == "BLOCK"


def test_anticoagulants_cap_pressure_and_forbid_deep_work():
    result = screen([Finding("anticoagulant")])
    assert result.pressure_cap == 2
    assert {"no_deep_tissue", "no_friction", "no_cupping"} <= set(result.restrictions)
    assert result.can_treat_today


def test_refer_and_block_stop_treatment_today():
    assert not screen([Finding("dvt_suspected")]).can_treat_today
    assert not screen([Finding("fever")]).can_treat_today
    assert screen([Finding("recent_surgery", "knee", "left")]).needs_clearance


def test_avoided_regions_are_listed_for_the_body_map():
    result = screen([Finding("varicose_veins_severe", "lower_leg", "left"), Finding("open_wound", "hand", "right")])
    assert result.avoided_regions == [("lower_leg", "left"), ("ankle", "left"), ("foot", "left"), ("hand", "right")]


def test_lymphedema_restrictions_hold_on_the_affected_limb_not_the_whole_body():
    result = screen([Finding("lymphedema", "upper_arm", "left")])
    modify = result.by_action("MODIFY")
    assert [(a.region, a.side) for a in modify] == [(r, "left") for r in ARM]
    assert all({"mld_only", "no_thermal"} <= set(a.restrictions) and a.pressure_cap == 1 for a in modify)
    # Nothing holds for the whole body: no whole-body cap, no whole-body restriction.
    assert result.pressure_cap is None and result.restrictions == []


def test_actions_over_a_limb_group_into_one_flag_per_rule_and_action():
    result = screen([Finding("lymphedema", "upper_arm", "left"), Finding("anticoagulant")])
    groups = [(g.action.rule_id, str(g.action.action), g.regions) for g in result.grouped]
    assert groups == [
        ("lymphedema", "CLEARANCE", ()),
        ("lymphedema", "MODIFY", ARM),
        ("anticoagulant", "MODIFY", ()),
    ]


def test_an_infection_in_the_lymphedema_limb_avoids_that_limb_and_lets_the_rest_be_treated():
    result = screen([Finding("lymphedema", "upper_arm", "left"), Finding("local_skin_infection", "forearm", "left")])
    assert result.can_treat_today and not result.by_action("BLOCK")
    combined = [(a.region, a.side) for a in result.actions if a.rule_id == "lymphedema_with_infection"]
    assert combined == [(r, "left") for r in ARM]
    assert all(a.action == "AVOID_REGION" for a in result.actions if a.rule_id == "lymphedema_with_infection")
    assert apply_clearances(result, {"lymphedema"}).status == "AVOID_REGION"


@pytest.mark.parametrize(
    "infection",
    [Finding("local_skin_infection", "foot", "right"), Finding("local_skin_infection", "forearm", "right")],
    ids=["other-limb", "same-limb-other-side"],
)
def test_an_infection_outside_the_lymphedema_limb_is_only_avoided_where_it_is(infection):
    result = screen([Finding("lymphedema", "upper_arm", "left"), infection])
    assert not [a for a in result.actions if a.rule_id == "lymphedema_with_infection"]
    assert result.avoided_regions == [(infection.region, infection.side)]


def test_an_infection_with_lymphedema_of_unrecorded_site_holds_everywhere_and_asks_where():
    """Older findings may lack the limb: its area cannot be told from the rest of the body."""
    result = screen([Finding("lymphedema"), Finding("local_skin_infection", "forearm", "left")])
    (combined,) = [a for a in result.actions if a.rule_id == "lymphedema_with_infection"]
    assert (combined.action, combined.region) == ("AVOID_REGION", None)
    assert "Where on the body" in combined.explanation


def test_mild_varicose_veins_cap_pressure_over_them_only():
    result = screen([Finding("varicose_veins_mild", "lower_leg", "left")])
    (modify,) = result.by_action("MODIFY")
    assert (modify.region, modify.side, modify.pressure_cap) == ("lower_leg", "left", 3)
    assert "no_deep_tissue" in modify.restrictions
    assert result.pressure_cap is None and result.avoided_regions == []


def test_refusing_to_let_the_therapist_confer_with_the_physician_blocks_treatment():
    result = screen([Finding("physician_consent_refused"), Finding("recent_surgery", "knee", "left")])
    assert result.status == "BLOCK" and not result.can_treat_today
    assert "nysed" in catalogue().rules["physician_consent_refused"].sources


def test_new_rules_say_which_source_each_value_has():
    rules = catalogue().rules
    for rule_id in ("lymphedema", "varicose_veins_mild", "varicose_veins_severe", "physician_consent_refused"):
        assert rules[rule_id].source_note, rule_id


def test_local_rule_without_a_region_still_restricts_and_asks_where():
    result = screen([Finding("open_wound")])
    assert result.status == "AVOID_REGION"
    assert "Where on the body" in result.actions[0].explanation
    assert result.avoided_regions == []


@pytest.mark.parametrize(
    "finding",
    [Finding("not_a_rule"), Finding("open_wound", region="tail"), Finding("open_wound", "hand", side="top")],
)
def test_unknown_ids_regions_and_sides_are_refused(finding):
    with pytest.raises(ScreeningError):
        screen([finding])


def _raw_catalogue() -> dict:
    return json.loads(resources.files("mend.knowledge").joinpath("contraindications.json").read_text())


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d["rules"][0]["actions"][0].update(action="MAYBE"),
        lambda d: d["rules"][0].update(sources=["nobody"]),
        lambda d: d["rules"][0]["actions"][0].update(pressure_cap=9),
        lambda d: d["rules"][1].update(id=d["rules"][0]["id"]),
        lambda d: d["rules"][0]["actions"][0].update(where="fixed", regions=["tail"]),
        lambda d: d["rules"][0]["actions"][0].update(restrictions=["no_fun"]),
        lambda d: d["rules"][0].update(needs_side=True),  # a side without a region to be on
        lambda d: d["combinations"][0].update(in_area_of="fever"),  # not one of the combination's rules
        lambda d: d["combinations"][0].update(action="BLOCK"),  # a local combination avoids its area
    ],
)
def test_a_broken_catalogue_fails_at_load(breakage):
    data = copy.deepcopy(_raw_catalogue())
    breakage(data)
    with pytest.raises(KnowledgeError):
        parse_catalogue(data)


# --- Properties -------------------------------------------------------------------------------

rule_ids = sorted(catalogue().rules)
regions = sorted(body_regions())
findings = st.builds(
    Finding,
    id=st.sampled_from(rule_ids),
    region=st.none() | st.sampled_from(regions),
    side=st.none() | st.sampled_from(["left", "right", "bilateral"]),
)


@given(st.lists(findings, max_size=6))
def test_status_is_the_most_severe_action(items):
    result = screen(items)
    if not items:
        assert result.status == Action.PROCEED
    else:
        assert result.status == min((a.action for a in result.actions), key=lambda a: a.severity)
        single = min((catalogue().rules[f.id].most_severe for f in items), key=lambda a: a.severity)
        combined = any(set(c.all_of) <= {f.id for f in items} for c in catalogue().combinations)
        # A combination (infection in lymphedema) can be graver than any of its findings alone.
        assert result.status == single if not combined else result.status.severity <= single.severity


@given(st.lists(findings, max_size=5), findings)
def test_another_finding_never_makes_treatment_safer(items, extra):
    before = screen(items)
    after = screen([*items, extra])
    assert after.status.severity <= before.status.severity
    assert set(before.actions) <= set(after.actions)


@given(st.lists(findings, max_size=6), st.randoms())
def test_order_of_findings_does_not_matter(items, rng):
    shuffled = list(items)
    rng.shuffle(shuffled)
    assert screen(items).status == screen(shuffled).status
    assert set(screen(items).actions) == set(screen(shuffled).actions)


@given(findings)
def test_no_action_of_a_rule_is_dropped(finding):
    result = screen([finding])
    rule = catalogue().rules[finding.id]
    assert {a.action for a in rule.actions} <= {a.action for a in result.actions}


def test_a_clearance_lifts_only_the_clearance_it_answers():
    result = screen([Finding("recent_surgery", "knee", "left"), Finding("hypertension_uncontrolled")])
    partly = apply_clearances(result, {"recent_surgery"})
    assert partly.status == "CLEARANCE" and [a.rule_id for a in partly.uncleared] == ["hypertension_uncontrolled"]
    both = apply_clearances(result, {"recent_surgery", "hypertension_uncontrolled"})
    assert both.status == "AVOID_REGION"  # the incision is still avoided
    assert len(both.actions) == len(result.actions) and all(a.cleared for a in both.by_action("CLEARANCE"))


def test_a_clearance_never_lifts_a_block():
    assert apply_clearances(screen([Finding("fever")]), {"fever"}).status == "BLOCK"
