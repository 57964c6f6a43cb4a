"""The contraindication table of the shared clinical reference (§2), one case per row, checked exactly.

Each case gives what the row says the system must do: every action with its region, side, pressure cap
(Walton's 1–5 scale: 1 light lotioning, 2 heavy lotioning, 3 Swedish, 4 deep, 5 very deep) and
restrictions — nothing missing and nothing extra — and the status the precedence gives (REFER > BLOCK >
CLEARANCE > AVOID_REGION > MODIFY > PROCEED). The second table plans techniques against the same rows,
as a therapist's plan or note meets them. Sources per row: W&B = Werner & Benjamin 1998 quick-reference
chart; NYSED = NYSED Office of the Professions, "Precautions for Massage/Bodywork Therapy"; Walton =
Walton 2011, Medical Conditions and Massage Therapy; Vodder = Dr Vodder Akademie MLD contraindications
(secondary).
"""

from __future__ import annotations

import pytest

from mend.clinical.rules import PlannedTechnique, plan_conflicts
from mend.clinical.screening import Finding, catalogue, screen

ARM = ("upper_arm", "elbow", "forearm", "wrist", "hand")
LEG_FROM_KNEE = ("knee", "lower_leg", "ankle", "foot")
LEG_FROM_CALF = ("lower_leg", "ankle", "foot")
BRUISING = ("no_cupping", "no_deep_tissue", "no_friction")


def act(action, region=None, side=None, cap=None, restrictions=()):
    return (action, region, side, cap, frozenset(restrictions))


def over(action, regions, side, cap=None, restrictions=()):
    return {act(action, r, side, cap, restrictions) for r in regions}


def actions_of(screening):
    return {act(str(a.action), a.region, a.side, a.pressure_cap, a.restrictions) for a in screening.actions}


ROWS = [
    # Fever / acute febrile illness → BLOCK (W&B "systemically contraindicated for fever"; NYSED).
    pytest.param([Finding("fever")], "BLOCK", {act("BLOCK")}, id="fever"),
    # Contagious disease; spreading skin infection (cellulitis, erysipelas) → BLOCK (W&B).
    pytest.param([Finding("contagious_infection")], "BLOCK", {act("BLOCK")}, id="contagious-or-spreading-infection"),
    # Local fungal/skin infection, small and covered → AVOID_REGION (W&B: at least locally contraindicated).
    pytest.param(
        [Finding("local_skin_infection", "foot", "left")], "AVOID_REGION", {act("AVOID_REGION", "foot", "left")},
        id="local-skin-infection-small",
    ),
    # … BLOCK if widespread or acute (W&B: large area and acute → systemically contraindicated).
    pytest.param([Finding("skin_infection_widespread")], "BLOCK", {act("BLOCK")}, id="skin-infection-widespread"),
    # Suspected DVT → REFER + BLOCK (W&B "strictly systemically contraindicated"; NYSED).
    pytest.param(
        [Finding("dvt_suspected", "lower_leg", "right")], "REFER", {act("REFER"), act("BLOCK")}, id="dvt-suspected",
    ),
    # Known/treated DVT or PE → CLEARANCE; AVOID_REGION the affected limb (the other leg is treatable).
    pytest.param(
        [Finding("dvt_history", "lower_leg", "left")], "CLEARANCE",
        {act("CLEARANCE"), *over("AVOID_REGION", LEG_FROM_CALF, "left")}, id="dvt-history",
    ),
    # Anticoagulants/antiplatelets → MODIFY: pressure ≤ 2–3, no deep tissue, friction, cupping (NYSED).
    pytest.param(
        [Finding("anticoagulant")], "MODIFY", {act("MODIFY", cap=2, restrictions=BRUISING)}, id="anticoagulant",
    ),
    # Bleeding disorder / thrombocytopenia / easy bruising → the same MODIFY + CLEARANCE (NYSED).
    pytest.param(
        [Finding("bleeding_disorder")], "CLEARANCE",
        {act("CLEARANCE"), act("MODIFY", cap=2, restrictions=BRUISING)}, id="bleeding-disorder-or-bruising",
    ),
    # Long-term systemic corticosteroids → MODIFY: no deep friction or aggressive pressure (NYSED).
    pytest.param(
        [Finding("corticosteroid_long_term")], "MODIFY",
        {act("MODIFY", cap=3, restrictions=("no_friction", "no_deep_tissue"))}, id="corticosteroids",
    ),
    # Cancer in active treatment → CLEARANCE + AVOID_REGION tumour/field/port + MODIFY: pressure 1–2 when
    # the extent is unknown, no joint movement that disturbs a tumour (Walton; NYSED).
    pytest.param(
        [Finding("cancer_active_treatment", "chest", "left")], "CLEARANCE",
        {act("CLEARANCE"), act("AVOID_REGION", "chest", "left"),
         act("MODIFY", cap=2, restrictions=("no_joint_mobilisation",))},
        id="cancer-active-treatment",
    ),
    # Bone metastasis → "when in doubt, pressure level = 1 max" (Walton).
    pytest.param(
        [Finding("bone_metastasis", "thigh", "right")], "CLEARANCE",
        {act("CLEARANCE"), act("AVOID_REGION", "thigh", "right"),
         act("MODIFY", cap=1, restrictions=("no_joint_mobilisation", "positioning"))},
        id="bone-metastasis",
    ),
    # Pregnancy, first trimester → no abdominal massage and no deep sacral work (NYSED); deep is level 4.
    pytest.param(
        [Finding("pregnancy_first_trimester")], "AVOID_REGION",
        {act("AVOID_REGION", "abdomen"), act("MODIFY", "sacrum", cap=3, restrictions=("no_deep_sacral",))},
        id="pregnancy-first-trimester",
    ),
    # High-risk pregnancy → CLEARANCE (prenatal guidance), supported positioning.
    pytest.param(
        [Finding("pregnancy_high_risk")], "CLEARANCE",
        {act("CLEARANCE"), act("MODIFY", restrictions=("positioning",))}, id="pregnancy-high-risk",
    ),
    # Osteoporosis → MODIFY: very gentle, no forceful mobilisation (W&B).
    pytest.param(
        [Finding("osteoporosis")], "MODIFY", {act("MODIFY", cap=2, restrictions=("no_joint_mobilisation",))},
        id="osteoporosis",
    ),
    # … CLEARANCE if there has been a fragility fracture.
    pytest.param(
        [Finding("osteoporosis"), Finding("osteoporosis_fragility_fracture")], "CLEARANCE",
        {act("CLEARANCE"), act("MODIFY", cap=2, restrictions=("no_joint_mobilisation",))},
        id="osteoporosis-with-fragility-fracture",
    ),
    # Hypertension, medicated or uncontrolled → CLEARANCE for circulatory massage (W&B).
    pytest.param(
        [Finding("hypertension_uncontrolled")], "CLEARANCE",
        {act("CLEARANCE"), act("MODIFY", restrictions=("no_circulatory",))}, id="hypertension-medicated",
    ),
    # Acute/unstable fracture → AVOID_REGION; the rest of the body allowed (W&B; NYSED).
    pytest.param(
        [Finding("acute_fracture", "wrist", "right")], "AVOID_REGION", {act("AVOID_REGION", "wrist", "right")},
        id="acute-fracture",
    ),
    # Recent surgery → AVOID_REGION incision and healed scar + CLEARANCE (NYSED).
    pytest.param(
        [Finding("recent_surgery", "knee", "left")], "CLEARANCE",
        {act("CLEARANCE"), act("AVOID_REGION", "knee", "left")}, id="recent-surgery",
    ),
    # Open wound, burn, hematoma → AVOID_REGION (NYSED).
    pytest.param(
        [Finding("open_wound", "forearm", "left")], "AVOID_REGION", {act("AVOID_REGION", "forearm", "left")},
        id="open-wound",
    ),
    # Extreme varicose veins → AVOID_REGION at and distal to them (W&B).
    pytest.param(
        [Finding("varicose_veins_severe", "knee", "left")], "AVOID_REGION",
        over("AVOID_REGION", LEG_FROM_KNEE, "left"), id="varicose-veins-extreme",
    ),
    # Mild varicose veins → MODIFY: no deep specific work over them (W&B).
    pytest.param(
        [Finding("varicose_veins_mild", "lower_leg", "left")], "MODIFY",
        {act("MODIFY", "lower_leg", "left", cap=3, restrictions=("no_deep_tissue",))}, id="varicose-veins-mild",
    ),
    # Pitting, cardiac or renal edema → CLEARANCE; no circulatory massage (W&B; NYSED); no MLD (Vodder).
    pytest.param(
        [Finding("edema_pitting_systemic")], "CLEARANCE",
        {act("CLEARANCE"), act("MODIFY", restrictions=("no_circulatory", "no_mld"))}, id="edema-pitting-systemic",
    ),
    # Lymphedema → MLD only by a trained therapist + CLEARANCE, on the affected limb (Vodder).
    pytest.param(
        [Finding("lymphedema", "upper_arm", "left")], "CLEARANCE",
        {act("CLEARANCE"), *over("MODIFY", ARM, "left", cap=1, restrictions=("mld_only", "no_thermal"))},
        id="lymphedema",
    ),
    # … acute thrombosis → no MLD: a suspected clot refers and blocks everything (Vodder; W&B).
    pytest.param(
        [Finding("lymphedema", "upper_arm", "left"), Finding("dvt_suspected", "upper_arm", "left")], "REFER",
        {act("REFER"), act("BLOCK"), act("CLEARANCE"),
         *over("MODIFY", ARM, "left", cap=1, restrictions=("mld_only", "no_thermal"))},
        id="lymphedema-with-acute-thrombosis",
    ),
    # … infection in the edema area → no treatment there, MLD included (Vodder).
    pytest.param(
        [Finding("lymphedema", "lower_leg", "right"), Finding("local_skin_infection", "ankle", "right")],
        "CLEARANCE",
        {act("CLEARANCE"), *over("MODIFY", LEG_FROM_CALF, "right", cap=1, restrictions=("mld_only", "no_thermal")),
         act("AVOID_REGION", "ankle", "right"), *over("AVOID_REGION", LEG_FROM_CALF, "right")},
        id="lymphedema-with-infection-in-the-area",
    ),
    # … cardiac insufficiency → no MLD (Vodder).
    pytest.param(
        [Finding("cardiac_insufficiency")], "MODIFY", {act("MODIFY", restrictions=("no_mld",))},
        id="cardiac-insufficiency",
    ),
    # Neuropathy / reduced sensation → MODIFY on the area: pressure cap, no hot or cold on insensate skin.
    pytest.param(
        [Finding("neuropathy_reduced_sensation", "foot", "bilateral")], "MODIFY",
        {act("MODIFY", "foot", "bilateral", cap=2, restrictions=("no_thermal",))}, id="neuropathy",
    ),
    # Implants (pacemaker, port, hardware, joint replacement) → AVOID_REGION over the device (NYSED).
    pytest.param(
        [Finding("implant_device", "chest", "left")], "AVOID_REGION", {act("AVOID_REGION", "chest", "left")},
        id="implant",
    ),
    # Acute inflammation / swollen joint → AVOID_REGION the joint (NYSED).
    pytest.param(
        [Finding("acute_inflammation", "knee", "right")], "AVOID_REGION", {act("AVOID_REGION", "knee", "right")},
        id="acute-inflammation",
    ),
    # Altered cognition (intoxication, sedation) preventing consent → BLOCK (NYSED "should not treat").
    pytest.param([Finding("impaired_consent")], "BLOCK", {act("BLOCK")}, id="altered-cognition"),
    # Refuses consent to confer with their practitioner when essential → BLOCK (NYSED).
    pytest.param([Finding("physician_consent_refused")], "BLOCK", {act("BLOCK")}, id="refuses-physician-contact"),
    # Precedence: several rows at once give the most severe as status and keep every action.
    pytest.param(
        [Finding("anticoagulant"), Finding("recent_surgery", "knee", "left"), Finding("fever")], "BLOCK",
        {act("BLOCK"), act("CLEARANCE"), act("AVOID_REGION", "knee", "left"),
         act("MODIFY", cap=2, restrictions=BRUISING)},
        id="precedence-block-over-clearance-over-avoid-over-modify",
    ),
    pytest.param([], "PROCEED", set(), id="nothing-found"),
]  # fmt: skip


@pytest.mark.parametrize(("findings", "status", "expected"), ROWS)
def test_each_row_of_the_reference_table_gives_its_actions_and_no_others(findings, status, expected):
    result = screen(findings)
    assert result.status == status
    assert actions_of(result) == expected


def test_every_catalogue_rule_has_a_row_of_the_table():
    covered = {f.id for param in ROWS for f in param.values[0]}
    assert set(catalogue().rules) <= covered


@pytest.mark.parametrize("rule_id", ["dvt_history", "varicose_veins_severe", "lymphedema"])
def test_rules_that_act_on_a_limb_ask_which_side(rule_id):
    # The reference restricts the affected limb (DVT history) or what lies distal to the veins: without a
    # side both legs would be held, so the intake asks for one as it does for lymphedema.
    rule = catalogue().rules[rule_id]
    assert rule.needs_region and rule.needs_side


def test_every_pressure_cap_is_a_level_of_waltons_scale_and_the_row_level_the_reference_gives():
    rules = catalogue().rules
    caps = {rule_id: {a.pressure_cap for a in rule.actions} - {None} for rule_id, rule in rules.items()}
    assert caps["anticoagulant"] <= {2, 3}  # "cap pressure ≤ 2–3"
    assert caps["bone_metastasis"] == {1}  # "when in doubt, pressure level = 1 max"
    assert caps["cancer_active_treatment"] <= {1, 2}  # "unknown primary site → limit pressure 1–2"
    assert caps["pregnancy_first_trimester"] == {3}  # "no deep sacral work": deep is level 4
    assert all(1 <= cap <= 5 for values in caps.values() for cap in values)


CONFLICTS = [
    # (findings, technique, region, side, pressure or None for the technique's usual level, conflicts?)
    pytest.param([Finding("anticoagulant")], "deep_tissue", "lower_back", None, None, True, id="anticoag-deep"),
    pytest.param([Finding("anticoagulant")], "swedish", "lower_back", None, 2, False, id="anticoag-light-swedish"),
    pytest.param([Finding("anticoagulant")], "swedish", "lower_back", None, 3, True, id="anticoag-level-3"),
    pytest.param([Finding("corticosteroid_long_term")], "connective_tissue", "neck", None, 2, True, id="steroid-fric"),
    pytest.param([Finding("bone_metastasis", "thigh", "right")], "swedish", "neck", None, 2, True, id="bone-mets-2"),
    pytest.param([Finding("osteoporosis")], "stretching", "hip", "left", None, True, id="osteoporosis-mobilisation"),
    pytest.param([Finding("pregnancy_first_trimester")], "swedish", "abdomen", None, 1, True, id="trimester-abdomen"),
    pytest.param([Finding("pregnancy_first_trimester")], "deep_tissue", "sacrum", None, None, True, id="deep-sacral"),
    pytest.param([Finding("pregnancy_first_trimester")], "swedish", "sacrum", None, None, False, id="swedish-sacral"),
    pytest.param([Finding("hypertension_uncontrolled")], "swedish", "lower_back", None, None, True, id="bp-circ"),
    pytest.param([Finding("hypertension_uncontrolled")], "trigger_point", "neck", None, None, False, id="bp-trigger"),
    pytest.param([Finding("neuropathy_reduced_sensation", "foot", "left")], "hot_cold", "foot", "left", None, True,
                 id="neuropathy-thermal-on-numb-foot"),
    pytest.param([Finding("neuropathy_reduced_sensation", "foot", "left")], "hot_cold", "lower_back", None, None,
                 False, id="neuropathy-thermal-elsewhere"),
    pytest.param([Finding("neuropathy_reduced_sensation", "foot", "left")], "deep_tissue", "foot", "left", None,
                 True, id="neuropathy-pressure-on-numb-foot"),
    pytest.param([Finding("dvt_history", "lower_leg", "left")], "swedish", "foot", "left", 2, True, id="dvt-hx-limb"),
    pytest.param([Finding("dvt_history", "lower_leg", "left")], "swedish", "foot", "right", 2, False,
                 id="dvt-hx-other-leg"),
    pytest.param([Finding("lymphedema", "upper_arm", "left")], "swedish", "forearm", "left", 1, True,
                 id="lymphedema-not-mld"),
    pytest.param([Finding("lymphedema", "upper_arm", "left")], "lymphatic_drainage", "forearm", "left", None, False,
                 id="lymphedema-mld"),
    pytest.param([Finding("lymphedema", "upper_arm", "left"), Finding("cardiac_insufficiency")],
                 "lymphatic_drainage", "forearm", "left", None, True, id="lymphedema-mld-heart-failure"),
    pytest.param([Finding("edema_pitting_systemic")], "lymphatic_drainage", "lower_leg", "left", None, True,
                 id="cardiac-renal-edema-mld"),
    pytest.param([Finding("implant_device", "chest", "left")], "swedish", "chest", "left", 2, True, id="implant"),
    pytest.param([Finding("acute_inflammation", "knee", "right")], "swedish", "thigh", "right", 3, False,
                 id="muscles-around-inflamed-joint"),
    pytest.param([Finding("varicose_veins_mild", "lower_leg", "left")], "deep_tissue", "lower_leg", "left", None,
                 True, id="mild-varicose-deep"),
    pytest.param([Finding("varicose_veins_mild", "lower_leg", "left")], "deep_tissue", "thigh", "left", None,
                 False, id="mild-varicose-elsewhere"),
    pytest.param([Finding("impaired_consent")], "swedish", "neck", None, 1, True, id="no-consent-no-treatment"),
]  # fmt: skip


@pytest.mark.parametrize(("findings", "technique", "region", "side", "pressure", "conflicts"), CONFLICTS)
def test_a_planned_technique_meets_the_rows_actions(findings, technique, region, side, pressure, conflicts):
    planned = PlannedTechnique(technique, region, side, pressure)
    assert bool(plan_conflicts([planned], screen(findings))) is conflicts
