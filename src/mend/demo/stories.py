"""The fiction behind the demo and benchmark episodes (told by :mod:`mend.demo.episodes`).

A :class:`Story` says how far an episode got and what happened on the way; a :class:`Profile`
holds what a client with that problem says and what the therapist finds, so notes read like notes.
Regions, motions, techniques and conditions are ids from :mod:`mend.knowledge`; ``"S"`` as a side
stands for the side of the story (the operated knee, the swollen arm) and ``{side}`` in a text for
its name.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mend.clinical.models import DischargeReason
from mend.clinical.services import FindingInput


class Stage(enum.IntEnum):
    """How far an episode has come; each stage includes the ones before it."""

    REFERRAL = 1
    INTAKE = 2
    ASSESSED = 3
    PLANNED = 4
    TREATMENT = 5
    DISCHARGED = 6


class Course(enum.StrEnum):
    RESPONDS = "responds"  # pain falls to 1–3
    SLOW = "slow"  # falls by about three points
    PLATEAU = "plateau"  # falls by two, then stays
    WORSE = "worse"  # rises


class Event(enum.StrEnum):
    NONE = ""
    ADDENDUM = "addendum"  # a late entry on the third note
    FEVER = "fever"  # a visit cancelled at the pre-session check
    DVT = "dvt"  # suspected DVT at yesterday's check: referred out, the day's note left unsigned
    INFECTION = "infection"  # a skin infection in the lymphedematous arm: no treatment, referred out
    CONFLICT = "conflict"  # the plan keeps a technique screening rules out


@dataclass(frozen=True)
class Story:
    therapist: int  # index into the clinic's therapists
    profile: str
    title: str
    stage: Stage
    notes: int = 0
    last_visit: int = 3  # days before today of the last visit (or of the last step, before treatment)
    course: Course = Course.RESPONDS
    side: str = "right"
    code: str = ""  # ICD-10-CM code on the referral; the profile's when blank
    findings: tuple[FindingInput, ...] = ()
    intake: Mapping[str, Any] = field(default_factory=dict)
    referral: str = "yes"  # yes | none | exhausted | expired | renewed
    clearance: bool = True  # record the clearances the findings need (False: clearance pending)
    discharge: str = ""  # a DischargeReason
    summary: str = ""
    event: Event = Event.NONE
    prefer: str = ""  # female | older | younger: which of the therapist's clients fits the story


def _f(rule_id: str, region: str = "", side: str = "", note: str = "") -> FindingInput:
    return FindingInput(rule_id, region, side, note)


T, D, R = Stage.TREATMENT, Stage.DISCHARGED, DischargeReason

# The stories read as a table, one episode a row; the formatter would give each argument a line.
# fmt: off
HARBOUR_STORIES: list[Story] = [
    # Priya Natarajan: low back, post-surgical, sports
    Story(0, "low_back", "Chronic low back pain with right sciatica", T, 12, 2, code="M54.41",
          referral="renewed", event=Event.ADDENDUM),
    Story(0, "knee_replacement", "Right knee after total knee replacement", T, 5, 3, prefer="older",
          findings=(_f("recent_surgery", "knee", "right", "Total knee replacement seven weeks ago"),)),
    Story(0, "knee_replacement", "Left knee, six weeks after total knee replacement", Stage.INTAKE, last_visit=1,
          side="left", prefer="older", clearance=False,
          findings=(_f("recent_surgery", "knee", "left", "Total knee replacement six weeks ago"),)),
    Story(0, "ankle_sprain", "Left ankle sprain, soccer", D, 6, 35, side="left", code="S93.402D",
          discharge=R.GOALS_MET),
    Story(0, "low_back", "Low back pain after a fall on the ice", Stage.REFERRAL, last_visit=1, code="M54.50"),
    Story(0, "hip_strain", "Right hip flexor strain, track", T, 3, 4, prefer="younger"),
    Story(0, "low_back", "Low back strain lifting at work", Stage.ASSESSED, last_visit=2, code="S39.012D"),
    Story(0, "low_back", "Recurrent low back pain", D, 8, 60, course=Course.PLATEAU, code="M54.59",
          discharge=R.PLATEAU),
    # Daniel Kowalski: neck, tension headache, repetitive strain
    Story(1, "neck", "Neck pain from desk work", T, 7, 1),
    Story(1, "tension_headache", "Chronic tension-type headache", D, 8, 20, discharge=R.GOALS_MET),
    Story(1, "tennis_elbow", "Right tennis elbow", T, 4, 9, course=Course.PLATEAU, referral="expired"),
    Story(1, "carpal_tunnel", "Right carpal tunnel symptoms", Stage.INTAKE, last_visit=2,
          findings=(_f("neuropathy_reduced_sensation", "hand", "right", "Reduced sensation, thumb to ring finger"),)),
    Story(1, "neck", "Neck and shoulder pain", D, 3, 75, discharge=R.CLIENT_CHOICE,
          summary="Moving to Ottawa for work; discharged at the client's request with the home program and a copy "
          "of the notes for the next therapist."),
    Story(1, "tension_headache", "Tension headaches", Stage.REFERRAL, last_visit=3, code="G44.209"),
    Story(1, "neck", "Neck stiffness with cervical spondylosis", T, 3, 5, code="M47.812", prefer="older",
          findings=(_f("anticoagulant", note="Apixaban for atrial fibrillation"),),
          intake={"medications": "Apixaban 5 mg twice a day (atrial fibrillation); acetaminophen as needed"}),
    # Amélie Tremblay: fibromyalgia, stress and sleep, myalgia
    Story(2, "fibromyalgia", "Fibromyalgia: widespread pain and poor sleep", T, 9, 3, course=Course.SLOW),
    Story(2, "fibromyalgia", "Fibromyalgia flare", D, 3, 100, discharge=R.LOST),
    Story(2, "stress_sleep", "Stress, tension and poor sleep", T, 5, 6, referral="none", event=Event.FEVER),
    Story(2, "myalgia", "Upper back muscle spasm", D, 5, 50, code="M62.838", discharge=R.GOALS_MET),
    Story(2, "stress_sleep", "Jaw and neck tension with insomnia", Stage.ASSESSED, last_visit=4, code="G47.00",
          referral="none"),
    Story(2, "fibromyalgia", "Fibromyalgia with osteoporosis", Stage.INTAKE, last_visit=2, prefer="older",
          findings=(_f("osteoporosis", note="Bone density scan 2024; no fractures"),),
          intake={"conditions": "Fibromyalgia; osteoporosis", "medications": "Duloxetine 60 mg; alendronate weekly"}),
    Story(2, "myalgia", "Low back and thigh muscle aches", T, 2, 48, code="M79.18"),
    # Grace Lin: lymphedema, post-surgical
    Story(3, "lymphedema_arm", "Left arm lymphedema after mastectomy", T, 10, 2, side="left",
          referral="exhausted", prefer="female"),
    Story(3, "lymphedema_arm", "Right arm lymphedema", D, 3, 33, prefer="female", event=Event.INFECTION,
          discharge=R.REFERRED_OUT,
          summary="Redness, heat and new swelling of the right forearm at the fourth visit: possible cellulitis. "
          "No treatment; sent to the family physician the same day and referred back to the oncology lymphedema "
          "clinic."),
    Story(3, "shoulder_surgery", "Right shoulder after rotator cuff repair", T, 6, 4,
          findings=(_f("recent_surgery", "shoulder", "right", "Arthroscopic rotator cuff repair ten weeks ago"),)),
    Story(3, "lymphedema_arm", "Lymphedema of the left arm", Stage.REFERRAL, last_visit=2, side="left",
          code="I89.0", prefer="female"),
    Story(3, "shoulder_surgery", "Left shoulder stiffness after surgery", Stage.PLANNED, last_visit=3, side="left",
          code="Z98.890", intake={"surgeries": "Left shoulder arthroscopy, five months ago"}),
    Story(3, "lymphedema_arm", "Right arm swelling after lymph node removal", Stage.INTAKE, last_visit=1,
          prefer="female", clearance=False),
    # Marcus Bell: sports, low back, posture
    Story(4, "achilles", "Right calf and Achilles pain, marathon training", T, 4, 8, event=Event.DVT),
    Story(4, "low_back", "Low back pain, on blood thinners", Stage.PLANNED, last_visit=2, code="M54.50",
          prefer="older", event=Event.CONFLICT,
          findings=(_f("anticoagulant", note="Clopidogrel since a cardiac stent"),),
          intake={"medications": "Clopidogrel 75 mg daily; rosuvastatin", "surgeries": "Cardiac stent, 2023"}),
    Story(4, "posture", "Rounded shoulders and upper back ache", T, 6, 2, prefer="younger"),
    Story(4, "ankle_sprain", "Right ankle sprain, basketball", T, 4, 3, course=Course.WORSE, code="S93.401D"),
    Story(4, "low_back", "Low back pain with leg numbness", D, 4, 25, course=Course.WORSE, code="M54.16",
          discharge=R.REFERRED_OUT,
          summary="Worse over four visits with new numbness down the left leg: referred back to the family "
          "physician for assessment and imaging. Will resume when cleared."),
    Story(4, "hip_strain", "Right hip strain, hockey", Stage.REFERRAL, last_visit=0, prefer="younger"),
    Story(4, "low_back", "Low back pain, new runner", T, 2, 6, code="M54.50"),
    # Sofia Alvarez: migraine, tension headache, neck, thoracic
    Story(5, "migraine", "Migraine with neck tension", T, 6, 3),
    Story(5, "tension_headache", "Tension headaches at work", T, 3, 44, code="G44.219"),
    Story(5, "thoracic", "Mid-back pain between the shoulder blades", D, 5, 80, discharge=R.GOALS_MET),
    Story(5, "migraine", "Migraine in early pregnancy", Stage.INTAKE, last_visit=1, prefer="female",
          findings=(_f("pregnancy_first_trimester", note="Ten weeks; midwife aware"),),
          intake={"pregnancy_weeks": 10}),
    Story(5, "thoracic", "Upper back pain, new desk job", Stage.ASSESSED, last_visit=5),
]

NORTHSIDE_STORIES: list[Story] = [
    # Noor Haddad
    Story(0, "knee_replacement", "Right knee after total knee replacement", T, 4, 2, prefer="older",
          findings=(_f("recent_surgery", "knee", "right", "Total knee replacement eight weeks ago"),)),
    Story(0, "ankle_sprain", "Left ankle sprain, trail running", D, 5, 40, side="left", code="S93.402D",
          discharge=R.GOALS_MET),
    Story(0, "low_back", "Low back pain", Stage.REFERRAL, last_visit=1, code="M54.50"),
    # Priya Natarajan, who also works at Northside
    Story(1, "low_back", "Low back pain after gardening", T, 3, 4, code="S39.012D"),
]
# fmt: on


# What each demo therapist treats in the benchmark clinics (the same six as Harbour's).
SEED_PROFILES = [
    ["low_back", "knee_replacement", "hip_strain"],
    ["neck", "tension_headache", "tennis_elbow"],
    ["fibromyalgia", "stress_sleep", "myalgia"],
    ["lymphedema_arm", "shoulder_surgery"],
    ["ankle_sprain", "low_back", "posture", "achilles"],
    ["migraine", "tension_headache", "thoracic"],
]

PROVIDER_FOR = {
    "post_surgical": "Orthopaedic surgeon",
    "lymphedema": "Oncologist",
    "sports_injury": "Sports medicine physician",
    "migraine": "Neurologist",
    "fibromyalgia": "Rheumatologist",
}

# --- Words the notes are made of ------------------------------------------------------------

GENERIC = {
    "bad": ["Busy week; did the home program twice.", "Slept poorly most nights.", "Flared after a long Thursday."],
    "better": [
        "Felt looser for three days after the last session.",
        "Home program most days.",
        "A few pain-free hours each day now.",
    ],
    "good": ["Good week overall.", "Keeping up the home program.", "Back to most usual activities."],
    "worse": [
        "Worse since the last visit, not sure why.",
        "No better after the last session.",
        "Pain kept the client up two nights this week.",
    ],
}
PLAN_NEXT = [
    "Continue the plan; recheck pain and range next visit.",
    "Same plan; progress pressure on the {region} if tolerated.",
    "Continue; spend longer on the {region}.",
    "Review the home program next visit.",
    "Continue the plan.",
]
ALLERGIES = ["None known", "None known", "Nut oils (almond): use unscented lotion", "Latex", "Lanolin"]
CHECK_NOTES = [
    ("", ""),
    ("", ""),
    ("", ""),
    ("", ""),
    ("Mild headache yesterday, gone now.", ""),
    ("", "Started vitamin D."),
    ("Sore after gardening on the weekend.", ""),
]


@dataclass(frozen=True)
class Profile:
    condition: str  # a condition id from the knowledge base
    code: str  # a billable ICD-10-CM code of that condition
    title: str
    complaint: str
    history: str
    posture: str
    pain: tuple[tuple[str, str, str], ...]  # region, side, quality: the first is the worst
    rom: tuple[tuple[str, str, float], ...]  # motion, side, share of normal at the start
    psfs: tuple[str, ...]
    palpation: tuple[tuple[str, str, str, str], ...]  # region, side, kind, note
    treat: tuple[tuple[str, str], ...]  # where the plan's techniques go, in turn
    says: Mapping[str, tuple[str, ...]]  # "bad", "better", "good": what the client reports
    findings_seen: tuple[str, ...]  # objective findings at a visit
    modality: str = ""  # heat or cold
    max_pressure: int | None = None
    intake: Mapping[str, str] = field(default_factory=dict)
    findings: tuple[FindingInput, ...] = ()
    clearance: str = "Cleared for massage therapy; stay within the precautions on the referral."


PROFILES: dict[str, Profile] = {
    "low_back": Profile(
        "low_back_pain",
        "M54.50",
        "Low back pain",
        "Low back pain spreading into the {side} buttock",
        "Began four months ago after moving house. Worse sitting over 30 minutes and first thing in the morning, "
        "eased by walking. Family physician found no red flags; ibuprofen helps a little.",
        "Mild anterior pelvic tilt; guarded forward bend; weight shifted off the {side} leg.",
        pain=(("lower_back", "", "aching"), ("gluteal", "S", "aching"), ("thigh", "S", "tingling")),
        rom=(("thoracolumbar_flexion", "", 0.6), ("thoracolumbar_extension", "", 0.65)),
        psfs=("Sitting through a work meeting", "Putting on socks", "Lifting a laundry basket"),
        palpation=(
            ("lower_back", "", "hypertonic", "Erector spinae L3–L5, more on the {side}"),
            ("gluteal", "S", "trigger_point", "Gluteus medius, refers to the lateral hip"),
            ("hip", "S", "tender", "Piriformis tender on deep pressure"),
            ("lower_back", "", "adhesion", "Thoracolumbar fascia restricted"),
        ),
        treat=(("lower_back", ""), ("gluteal", "S"), ("hip", "S"), ("lower_back", "")),
        says={
            "bad": (
                "Sitting at work made the back and buttock ache by mid-afternoon.",
                "Woke stiff every morning; needed 20 minutes to loosen up.",
                "Sharp catch bending to the dishwasher on Sunday.",
            ),
            "better": (
                "Morning stiffness down to ten minutes.",
                "Sat through a two-hour meeting with one break.",
                "Buttock ache only after long drives now.",
            ),
            "good": (
                "Back aches only after gardening, gone by the morning.",
                "Walked 40 minutes with no pain.",
                "Hardly thinks about the back now.",
            ),
        },
        findings_seen=(
            "Lumbar erectors hypertonic, {side} more than the other side.",
            "Trigger point in the {side} gluteus medius reproduces the buttock ache.",
            "Forward bend to mid-shin, less guarded than last visit.",
            "Paraspinals softer; piriformis still tender.",
            "Slump test negative today.",
        ),
        modality="heat",
    ),
    "knee_replacement": Profile(
        "post_surgical",
        "Z47.1",
        "Knee after joint replacement",
        "Stiffness and swelling of the {side} knee after total knee replacement",
        "Total knee replacement for osteoarthritis; home on day two. Physiotherapy twice a week; the surgeon "
        "referred for swelling and thigh tightness. Incision healed, staples out.",
        "Walks with a cane, knee held slightly bent; quadriceps wasting on the {side}.",
        pain=(("knee", "S", "stiff"), ("thigh", "S", "aching"), ("lower_leg", "S", "aching")),
        rom=(("knee_flexion", "S", 0.65), ("hip_flexion", "S", 0.8)),
        psfs=("Climbing stairs", "Getting out of a low chair", "Walking to the grocery store"),
        palpation=(
            ("thigh", "S", "hypertonic", "Quadriceps and iliotibial band tight"),
            ("knee", "S", "edema", "Soft swelling around the patella"),
            ("lower_leg", "S", "tender", "Medial gastrocnemius tender"),
            ("thigh", "S", "adhesion", "Restriction just above the scar"),
        ),
        treat=(("thigh", "S"), ("lower_leg", "S"), ("hip", "S")),
        says={
            "bad": (
                "Knee swells by evening; ice helps. Stairs one at a time.",
                "Slept badly; the knee aches at night.",
            ),
            "better": (
                "Less swelling after the last session; up the stairs with the rail only.",
                "Physiotherapist measured the bend at 105°.",
            ),
            "good": ("Walked to the store and back without the cane.", "Only stiff after sitting through a film."),
        },
        findings_seen=(
            "Swelling around the knee less than last visit.",
            "Quadriceps tone high; IT band tender.",
            "Scar mobile in every direction, no redness.",
            "Knee bend improving, soft end-feel.",
        ),
        modality="cold",
        intake={"surgeries": "Total knee replacement, {side}", "implants": "Knee prosthesis, {side}"},
        findings=(FindingInput("implant_device", "knee", "S", "Knee prosthesis"),),
        clearance="Cleared for massage around the knee; stay off the incision until fully healed.",
    ),
    "shoulder_surgery": Profile(
        "post_surgical",
        "Z47.89",
        "Shoulder after surgery",
        "Stiff, painful {side} shoulder after rotator cuff repair",
        "Arthroscopic rotator cuff repair; out of the sling since week six. Physiotherapy for strengthening; the "
        "surgeon referred for soft-tissue work around the shoulder girdle.",
        "{side} shoulder elevated and drawn forward; holds the arm close to the body.",
        pain=(("shoulder", "S", "aching"), ("upper_arm", "S", "aching"), ("neck", "", "stiff")),
        rom=(("shoulder_flexion", "S", 0.6), ("shoulder_external_rotation", "S", 0.5)),
        psfs=("Reaching the top kitchen shelf", "Washing hair", "Sleeping on the operated side"),
        palpation=(
            ("upper_back", "", "trigger_point", "Upper trapezius and levator scapulae, {side}"),
            ("chest", "", "hypertonic", "Pectoralis minor short on the {side}"),
            ("upper_arm", "S", "tender", "Deltoid insertion"),
            ("upper_back", "", "hypertonic", "Rhomboids guarding"),
        ),
        treat=(("upper_back", ""), ("upper_arm", "S"), ("neck", "")),
        says={
            "bad": ("Night pain wakes the client twice.", "Shoulder sore after physio exercises yesterday."),
            "better": ("Can reach the second shelf now.", "Sleeping through most nights."),
            "good": ("Washed hair with both hands.", "Shoulder feels almost normal day to day."),
        },
        findings_seen=(
            "Upper trapezius less guarded.",
            "Pectoralis minor lengthening; shoulder sits lower.",
            "Flexion end-range less painful.",
            "Portal scars mobile, no redness.",
        ),
        modality="heat",
        clearance="Cleared for soft-tissue work; no passive stretching past the physiotherapist's limits.",
    ),
    "lymphedema_arm": Profile(
        "lymphedema",
        "I97.2",
        "Arm lymphedema",
        "Swelling and heaviness of the {side} arm after mastectomy",
        "Mastectomy with axillary node dissection two years ago; chemotherapy and radiation finished 18 months "
        "ago. Swelling began last spring. Wears a compression sleeve daily. The oncologist referred for manual "
        "lymphatic drainage.",
        "Guards the {side} arm; the shoulder on that side drawn forward.",
        pain=(("upper_arm", "S", "aching"), ("forearm", "S", "aching"), ("hand", "S", "tingling")),
        rom=(("shoulder_abduction", "S", 0.7), ("shoulder_flexion", "S", 0.8)),
        psfs=("Carrying a bag of groceries", "Typing for an hour", "Lifting a pot from the stove"),
        palpation=(
            ("upper_arm", "S", "edema", "Soft, non-pitting; 3 cm larger 10 cm above the elbow"),
            ("forearm", "S", "edema", "Mild swelling, skin intact"),
            ("chest", "", "adhesion", "Scar tissue toward the axilla"),
        ),
        treat=(("upper_arm", "S"), ("forearm", "S"), ("hand", "S")),
        says={
            "bad": (
                "Arm heavy and tight by evening; ring hard to take off.",
                "Hot weather made the swelling worse this week.",
            ),
            "better": (
                "Sleeve fits more loosely; less heaviness after typing.",
                "Doing the self-drainage each morning.",
            ),
            "good": ("Arm feels light most days.", "Carried the groceries home without a flare."),
        },
        findings_seen=(
            "Arm 1 cm smaller 10 cm above the elbow than last visit.",
            "Skin soft, no pitting, no redness.",
            "Axillary scar more mobile.",
            "Tissue softer over the forearm.",
        ),
        max_pressure=1,
        intake={
            "conditions": "Breast cancer, treatment completed; lymphedema of the {side} arm",
            "surgeries": "Mastectomy with axillary node dissection, {side}",
            "medications": "Letrozole 2.5 mg daily",
        },
        findings=(FindingInput("lymphedema", "upper_arm", "S", "Stage II, after axillary node dissection"),),
        clearance="Cleared for manual lymphatic drainage; keep wearing the sleeve between sessions.",
    ),
    "ankle_sprain": Profile(
        "sports_injury",
        "S93.401D",
        "Ankle sprain",
        "{side} ankle sprain, still swollen and weak",
        "Rolled the ankle six weeks ago. X-ray at the walk-in clinic showed no fracture. Back to walking; running "
        "hurts on the outside of the ankle.",
        "Offloads the {side} foot in standing; slight limp on stairs.",
        pain=(("ankle", "S", "aching"), ("lower_leg", "S", "stiff"), ("foot", "S", "sharp")),
        rom=(("ankle_dorsiflexion", "S", 0.6), ("foot_inversion", "S", 0.55)),
        psfs=("Running 5 km", "Going down stairs", "Walking on uneven ground"),
        palpation=(
            ("ankle", "S", "edema", "Residual swelling below the lateral malleolus"),
            ("lower_leg", "S", "hypertonic", "Peroneals and calf tight"),
            ("ankle", "S", "tender", "Anterior talofibular ligament tender"),
        ),
        treat=(("lower_leg", "S"), ("ankle", "S"), ("foot", "S"), ("lower_leg", "S")),
        says={
            "bad": ("Ankle puffy after a day on the feet.", "Turned it again slightly on a curb."),
            "better": ("Jogged 2 km with a brace, mild ache after.", "Stairs fine going up, careful going down."),
            "good": ("Ran 5 km without pain.", "Back at practice, no swelling after."),
        },
        findings_seen=(
            "Swelling below the lateral malleolus reduced.",
            "Peroneals less tight.",
            "Dorsiflexion improved in knee-to-wall test.",
            "Single-leg balance 20 s, was 8 s.",
        ),
        modality="cold",
    ),
    "hip_strain": Profile(
        "sports_injury",
        "S76.011D",
        "Hip strain",
        "Pain at the front of the {side} hip after sprinting",
        "Felt a pull in a sprint three weeks ago. The sports physician diagnosed a grade 1 hip flexor strain.",
        "Short stride on the {side}; lumbar extension in standing.",
        pain=(("hip", "S", "sharp"), ("thigh", "S", "aching"), ("lower_back", "", "stiff")),
        rom=(("hip_extension", "S", 0.6), ("hip_flexion", "S", 0.8)),
        psfs=("Sprinting", "Getting in and out of a car", "Climbing stairs two at a time"),
        palpation=(
            ("hip", "S", "tender", "Iliopsoas tender at its insertion"),
            ("thigh", "S", "hypertonic", "Rectus femoris and TFL tight"),
            ("lower_back", "", "hypertonic", "Quadratus lumborum guarding"),
        ),
        treat=(("thigh", "S"), ("hip", "S"), ("lower_back", ""), ("thigh", "S")),
        says={
            "bad": ("Hip catches getting out of the car.", "Sore after a short jog."),
            "better": ("Jogging 20 minutes, stiff after.", "Stairs two at a time with a twinge."),
            "good": ("Strides at practice with no pain.", "Hip feels normal."),
        },
        findings_seen=(
            "Thomas test: hip sits 10° off the table.",
            "Rectus femoris softer.",
            "Iliopsoas less tender.",
            "Quadratus lumborum calm.",
        ),
        modality="heat",
    ),
    "achilles": Profile(
        "sports_injury",
        "S86.011D",
        "Achilles strain",
        "{side} calf and Achilles pain after raising running mileage",
        "Marathon training; built up from 30 to 60 km a week. Pain at the start of runs for two months, worse on "
        "hills.",
        "Feet roll in slightly on both sides.",
        pain=(("lower_leg", "S", "aching"), ("ankle", "S", "stiff"), ("foot", "S", "aching")),
        rom=(("ankle_dorsiflexion", "S", 0.6), ("ankle_plantarflexion", "S", 0.85)),
        psfs=("Running 10 km", "Hill repeats", "Standing on tiptoe"),
        palpation=(
            ("lower_leg", "S", "trigger_point", "Medial gastrocnemius and soleus"),
            ("ankle", "S", "tender", "Achilles tendon 4 cm above the heel"),
            ("foot", "S", "adhesion", "Plantar fascia restricted"),
        ),
        treat=(("lower_leg", "S"), ("ankle", "S"), ("foot", "S"), ("lower_leg", "S")),
        says={
            "bad": ("Heel stiff for the first steps every morning.", "Had to stop a run at 6 km."),
            "better": ("Morning stiffness gone by breakfast.", "Ran 10 km on the flat."),
            "good": ("Hill session without pain.", "Back to full mileage."),
        },
        findings_seen=(
            "Soleus trigger point less active.",
            "Tendon less thickened to touch.",
            "Calf raise 15 reps without pain.",
            "Plantar fascia softer.",
        ),
        modality="heat",
    ),
    "neck": Profile(
        "neck_pain",
        "M54.2",
        "Neck pain",
        "Neck pain and stiffness from long days at a laptop",
        "Works from home at a laptop. Neck ache builds through the day with a band of tightness across the "
        "shoulders. No arm symptoms. Six months.",
        "Forward head posture; rounded shoulders; upper trapezius elevated.",
        pain=(("neck", "", "stiff"), ("shoulder", "S", "aching"), ("upper_back", "", "aching")),
        rom=(("cervical_rotation", "S", 0.7), ("cervical_extension", "", 0.7)),
        psfs=("Checking the blind spot while driving", "Working at the computer for two hours", "Reading in bed"),
        palpation=(
            ("neck", "", "trigger_point", "Suboccipitals and {side} levator scapulae"),
            ("shoulder", "S", "hypertonic", "Upper trapezius"),
            ("upper_back", "", "adhesion", "Rhomboid fascia restricted"),
            ("neck", "", "tender", "Scalenes tender"),
        ),
        treat=(("neck", ""), ("shoulder", "S"), ("upper_back", ""), ("neck", "")),
        says={
            "bad": ("Neck locked up after a long deadline week.", "Headache at the end of each workday."),
            "better": ("Turning to check the blind spot is easier.", "Set up a proper monitor; less ache by evening."),
            "good": ("Neck fine through a full workday.", "Only stiff after a long drive."),
        },
        findings_seen=(
            "Levator scapulae trigger point less active.",
            "Upper trapezius tone reduced.",
            "Rotation to the {side} improved.",
            "Suboccipitals release quickly now.",
        ),
        modality="heat",
    ),
    "tension_headache": Profile(
        "tension_headache",
        "G44.229",
        "Tension-type headache",
        "Near-daily headaches, a band around the forehead and temples",
        "Headaches most afternoons for a year, worse in busy periods at work. The family physician diagnosed "
        "chronic tension-type headache; neurological exam normal. Acetaminophen three or four days a week.",
        "Forward head; jaw clenched at rest.",
        pain=(("head", "", "aching"), ("neck", "", "stiff"), ("shoulder", "S", "aching")),
        rom=(("cervical_rotation", "S", 0.75), ("cervical_flexion", "", 0.8)),
        psfs=("Working a full day at the screen", "Reading for an hour", "Driving more than an hour"),
        palpation=(
            ("neck", "", "trigger_point", "Suboccipitals reproduce the forehead headache"),
            ("head", "", "tender", "Temporalis tender on both sides"),
            ("shoulder", "S", "trigger_point", "Upper trapezius refers to the temple"),
            ("face", "", "hypertonic", "Masseters tight"),
        ),
        treat=(("neck", ""), ("head", ""), ("shoulder", "S")),
        says={
            "bad": ("Headache five days out of seven.", "Woke with a headache twice this week."),
            "better": ("Three headaches this week, milder.", "Headaches start later in the day now."),
            "good": ("One headache in two weeks.", "No painkillers since the last visit."),
        },
        findings_seen=(
            "Suboccipital trigger points less active.",
            "Temporalis less tender.",
            "Jaw more relaxed at rest.",
            "Upper trapezius referral no longer reproduced.",
        ),
        modality="heat",
    ),
    "tennis_elbow": Profile(
        "repetitive_strain",
        "M77.11",
        "Tennis elbow",
        "Pain on the outside of the {side} elbow when gripping",
        "Carpenter; pain for three months, worse with a hammer or screwdriver. Wears a forearm brace at work.",
        "No obvious postural change; forearm extensors bulky.",
        pain=(("elbow", "S", "sharp"), ("forearm", "S", "aching"), ("wrist", "S", "aching")),
        rom=(("wrist_flexion", "S", 0.8), ("forearm_supination", "S", 0.85)),
        psfs=("Using a hammer for an hour", "Opening a jar", "Carrying a toolbox"),
        palpation=(
            ("elbow", "S", "tender", "Common extensor origin"),
            ("forearm", "S", "trigger_point", "Extensor carpi radialis brevis"),
            ("forearm", "S", "hypertonic", "Wrist extensors"),
        ),
        treat=(("forearm", "S"), ("elbow", "S"), ("upper_arm", "S")),
        says={
            "bad": ("Elbow sharp with every grip at work.", "Dropped a cup on Tuesday."),
            "better": ("Can finish the morning before the ache starts.", "Jar lids easier."),
            "good": ("Full day on the tools with the brace, no pain.", "Grip feels strong again."),
        },
        findings_seen=(
            "Extensor origin still tender.",
            "ECRB trigger point softer.",
            "Grip strength unchanged.",
            "Resisted wrist extension painful at 3/10.",
        ),
        modality="heat",
    ),
    "carpal_tunnel": Profile(
        "repetitive_strain",
        "G56.01",
        "Carpal tunnel symptoms",
        "Numbness and tingling in the {side} thumb and fingers at night",
        "Hairdresser for twenty years. Wakes at night with tingling and shakes the hand out. Nerve conduction study "
        "booked.",
        "Wrists held flexed at rest.",
        pain=(("hand", "S", "tingling"), ("wrist", "S", "aching"), ("forearm", "S", "aching")),
        rom=(("wrist_extension", "S", 0.8), ("wrist_flexion", "S", 0.85)),
        psfs=("Holding a hair dryer for 30 minutes", "Holding a phone to read", "Sleeping through the night"),
        palpation=(
            ("forearm", "S", "hypertonic", "Wrist flexors"),
            ("wrist", "S", "tender", "Over the carpal tunnel"),
            ("hand", "S", "hypertonic", "Thenar muscles"),
        ),
        treat=(("forearm", "S"), ("wrist", "S"), ("hand", "S")),
        says={
            "bad": ("Woke three nights with numb fingers.", "Dropped scissors at work."),
            "better": ("Night splint helps; woke once this week.", "Tingling only after long shifts."),
            "good": ("No night waking this week.", "Full shift without tingling."),
        },
        findings_seen=("Wrist flexors softer.", "Tinel's sign still positive.", "Thenar tone reduced."),
        intake={"conditions": "Carpal tunnel symptoms, {side} hand"},
    ),
    "fibromyalgia": Profile(
        "fibromyalgia",
        "M79.7",
        "Fibromyalgia",
        "Widespread aching, fatigue and poor sleep",
        "Fibromyalgia diagnosed by a rheumatologist three years ago. Flares with stress and poor sleep. Takes "
        "duloxetine; walks most days when able.",
        "Shoulders raised; shallow breathing.",
        pain=(("upper_back", "", "burning"), ("neck", "", "aching"), ("lower_back", "", "aching")),
        rom=(("cervical_rotation", "left", 0.85), ("thoracolumbar_flexion", "", 0.85)),
        psfs=("Walking the dog for 30 minutes", "Grocery shopping", "Working a full shift"),
        palpation=(
            ("neck", "", "tender", "Tender at the suboccipitals and upper trapezius"),
            ("upper_back", "", "hypertonic", "Rhomboids and mid-trapezius"),
            ("gluteal", "bilateral", "tender", "Gluteal tender points"),
            ("lower_back", "", "tender", "Widespread tenderness to light pressure"),
        ),
        treat=(("upper_back", ""), ("neck", ""), ("lower_back", "")),
        says={
            "bad": ("Flare after a family visit; everything aches.", "Exhausted; slept four hours most nights."),
            "better": ("Two good days in a row this week.", "Walked the dog every day."),
            "good": ("Best week in months.", "Sleeping six to seven hours."),
        },
        findings_seen=(
            "Tenderness to light touch less widespread.",
            "Breathing slower by the end of the session.",
            "Upper back tone reduced.",
            "Tolerated moderate pressure on the back today.",
        ),
        modality="heat",
        max_pressure=2,
        intake={"conditions": "Fibromyalgia", "medications": "Duloxetine 60 mg daily"},
    ),
    "stress_sleep": Profile(
        "stress_sleep",
        "Z73.3",
        "Stress and poor sleep",
        "Tension, poor sleep and jaw clenching in a stressful year",
        "Caring for a parent while working full time. Falls asleep late, wakes at 4 a.m. The family physician "
        "suggested massage alongside counselling.",
        "Shoulders raised; clenched jaw.",
        pain=(("neck", "", "stiff"), ("upper_back", "", "aching"), ("face", "", "aching")),
        rom=(("cervical_rotation", "S", 0.8),),
        psfs=("Sleeping through the night", "Concentrating at work for an afternoon", "Going to a yoga class"),
        palpation=(
            ("face", "", "hypertonic", "Masseters tight, worse on the {side}"),
            ("neck", "", "hypertonic", "Suboccipitals"),
            ("upper_back", "", "trigger_point", "Levator scapulae"),
        ),
        treat=(("upper_back", ""), ("neck", ""), ("lower_back", "")),
        says={
            "bad": ("Slept badly all week; jaw sore in the mornings.", "Hard week at home; shoulders up by the ears."),
            "better": ("Fell asleep faster after the sessions.", "Using the breathing exercise at bedtime."),
            "good": ("Sleeping through most nights.", "Feels calmer; jaw relaxed in the mornings."),
        },
        findings_seen=(
            "Breathing slowed within ten minutes.",
            "Masseters softer.",
            "Shoulders sit lower at rest.",
            "Fell asleep during the session.",
        ),
        modality="heat",
        max_pressure=3,
    ),
    "myalgia": Profile(
        "myalgia",
        "M79.18",
        "Muscle aches",
        "Aching, knotted back muscles after starting a physical job",
        "Started stocking shelves on night shifts two months ago. Aching across the back and thighs after shifts; "
        "no injury.",
        "Upright; slight guarding on bending.",
        pain=(("upper_back", "", "aching"), ("lower_back", "", "aching"), ("thigh", "S", "aching")),
        rom=(("thoracolumbar_rotation", "S", 0.75),),
        psfs=("Working a full night shift", "Lifting boxes overhead", "Playing soccer with friends"),
        palpation=(
            ("upper_back", "", "spasm", "Rhomboid spasm on the {side}"),
            ("lower_back", "", "hypertonic", "Erector spinae"),
            ("thigh", "S", "tender", "Quadriceps tender"),
        ),
        treat=(("upper_back", ""), ("lower_back", ""), ("thigh", "S")),
        says={
            "bad": ("Back knotted after every shift.", "Too sore to play soccer on the weekend."),
            "better": ("Ache fades by the afternoon after a shift.", "Stretching before work helps."),
            "good": ("Whole week of shifts without the back seizing.", "Back to soccer."),
        },
        findings_seen=("Rhomboid spasm eased.", "Erectors less tight.", "Rotation freer both ways."),
        modality="heat",
    ),
    "posture": Profile(
        "postural_imbalance",
        "R29.3",
        "Postural imbalance",
        "Upper back ache and rounded shoulders",
        "Student and part-time barista; hunched over a laptop. Aching between the shoulder blades by evening.",
        "Rounded shoulders, increased thoracic curve, forward head.",
        pain=(("upper_back", "", "aching"), ("chest", "", "stiff"), ("neck", "", "stiff")),
        rom=(("thoracolumbar_extension", "", 0.7), ("shoulder_flexion", "S", 0.85)),
        psfs=("Studying at a desk for two hours", "Carrying a backpack across campus", "Overhead press at the gym"),
        palpation=(
            ("chest", "", "hypertonic", "Pectoralis minor short on both sides"),
            ("upper_back", "", "hypotonic", "Lower trapezius long and weak"),
            ("upper_back", "", "trigger_point", "Rhomboids"),
        ),
        treat=(("chest", ""), ("upper_back", ""), ("neck", "")),
        says={
            "bad": ("Ache between the shoulder blades after every study session.", "Long shift at the café; sore."),
            "better": ("Remembering to sit back in the chair.", "Backpack less of a problem."),
            "good": ("Two-hour study block with no ache.", "Overhead press pain-free."),
        },
        findings_seen=("Pectoralis minor lengthening.", "Shoulders sit further back at rest.", "Rhomboids softer."),
        modality="heat",
    ),
    "migraine": Profile(
        "migraine",
        "G43.009",
        "Migraine",
        "Migraines two to four times a month, with neck tension before each",
        "Migraine without aura since the teens. A neurologist manages medication (sumatriptan at onset). Neck and "
        "shoulder tightness build the day before an attack.",
        "Forward head; upper trapezius raised.",
        pain=(("head", "", "throbbing"), ("neck", "", "stiff"), ("shoulder", "S", "aching")),
        rom=(("cervical_rotation", "S", 0.8), ("cervical_lateral_flexion", "S", 0.75)),
        psfs=("Working at the screen all day", "Exercising at the gym", "Driving at night"),
        palpation=(
            ("neck", "", "trigger_point", "Suboccipitals"),
            ("shoulder", "S", "trigger_point", "Upper trapezius refers behind the eye"),
            ("neck", "", "hypertonic", "Sternocleidomastoid"),
        ),
        treat=(("neck", ""), ("shoulder", "S"), ("head", "")),
        says={
            "bad": ("Two migraines since the last visit.", "Neck tight all week; felt one coming on."),
            "better": ("One migraine this month, shorter.", "Caught the neck tension early with the cold pack."),
            "good": ("No migraine for three weeks.", "Neck relaxed most days."),
        },
        findings_seen=(
            "Suboccipitals release faster.",
            "Upper trapezius referral less intense.",
            "SCM less tender.",
            "Neck rotation freer.",
        ),
        modality="cold",
    ),
    "thoracic": Profile(
        "thoracic_pain",
        "M54.6",
        "Mid-back pain",
        "Pain between the shoulder blades after long screen days",
        "Graphic designer; pain between the shoulder blades for three months, easing at weekends.",
        "Increased thoracic curve; shoulders drawn forward.",
        pain=(("upper_back", "", "aching"), ("chest", "", "stiff"), ("neck", "", "stiff")),
        rom=(("thoracolumbar_rotation", "S", 0.7), ("thoracolumbar_extension", "", 0.7)),
        psfs=("Working at the computer for three hours", "Swimming 20 lengths", "Carrying a full laundry basket"),
        palpation=(
            ("upper_back", "", "trigger_point", "Rhomboids and middle trapezius"),
            ("chest", "", "hypertonic", "Pectorals short"),
            ("upper_back", "", "adhesion", "Fascia over the thoracic spine restricted"),
        ),
        treat=(("upper_back", ""), ("chest", ""), ("upper_back", "")),
        says={
            "bad": ("Burning between the shoulder blades by lunchtime.", "Could not finish a swim."),
            "better": ("Ache starts later in the day.", "Swam 10 lengths."),
            "good": ("Full workday without the ache.", "Swam 20 lengths."),
        },
        findings_seen=("Rhomboid trigger points softer.", "Thoracic extension improved.", "Pectorals lengthening."),
        modality="heat",
    ),
}


def asked_at_visit(pain: int) -> dict[str, Any]:
    """Muscle tension and pain medication as a client tells them at a visit: both follow the pain
    the visit starts with, so they ease over an episode that goes well. Drawn from the pain alone,
    not from the demo's random numbers, so adding them changed nothing else the demo tells."""
    days = max(0, min(7, round((pain - 2) * 7 / 6)))
    if days >= 5:
        taken = "Ibuprofen 400 mg most days, twice on the worst."
    elif days >= 2:
        taken = "Ibuprofen 400 mg on bad days."
    elif days == 1:
        taken = "Paracetamol once, after a long day."
    else:
        taken = ""
    return {"muscle_tension": max(1, min(10, pain + 1)), "medication_days": days, "medication_note": taken}
