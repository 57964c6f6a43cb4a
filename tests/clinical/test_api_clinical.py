"""The clinical record through the REST API: a whole episode, field errors, signed notes that
refuse change, the access policy on every route, audited reads, and bounded queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mend.audit.models import Action, AuditEvent
from mend.clinical import services
from mend.clinical.models import Episode, NoteStatus, TreatmentNote
from mend.clinical.services import FindingInput, PainInput, TechniqueInput
from mend.testing import harbour_today, intake_answers, signed_note

pytestmark = pytest.mark.django_db

API = "/api/v1"


def _ok(response, status=200):
    assert response.status_code == status, response.content[:600]
    return response.json()


def _field_errors(response, *fields):
    """A 422 in the API's one error shape, naming at least ``fields``."""
    assert response.status_code == 422, response.content[:600]
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["detail"]
    assert set(fields) <= set(body["errors"]), body["errors"]
    return body["errors"]


# --- A whole episode ----------------------------------------------------------------------------


@pytest.mark.clock
def test_a_whole_episode_through_the_api(api, personas):
    tess = api("therapist")
    today = harbour_today()
    start = today - timedelta(days=14)

    episode = _ok(
        tess.post(
            "/episodes",
            {
                "client_id": personas.carol.pk,
                "title": "Chronic low back pain",
                "condition": "low_back_pain",
                "started_on": str(start),
            },
        ),
        201,
    )
    assert episode["status"] == "open"
    assert episode["therapist_id"] == personas.therapist_profile.pk
    assert episode["client_name"] == "Carol Client"
    eid = episode["id"]

    # Referral: an unknown code is refused on the diagnoses field, and nothing is stored.
    referral = {
        "referred_on": str(start),
        "diagnoses": ["M54.50", "Q99.99X"],
        "provider_id": personas.referrer.pk,
        "visits_authorised": 6,
        "frequency": "1× per week",
        "valid_until": str(today + timedelta(days=60)),
        "reason": "Low back pain for six months",
    }
    errors = _field_errors(tess.post(f"/episodes/{eid}/referrals", referral), "diagnoses")
    assert any("Q99.99X" in message for message in errors["diagnoses"])
    assert _ok(tess.get(f"/episodes/{eid}/referrals")) == []
    referral = _ok(tess.post(f"/episodes/{eid}/referrals", {**referral, "diagnoses": ["m5450"]}), 201)
    assert [d["code"] for d in referral["diagnoses"]] == ["M54.50"]
    assert (referral["status"], referral["visits_used"], referral["visits_left"]) == ("received", 0, 6)
    assert referral["days_left"] == 60
    assert referral["provider_name"] == "Dr. Rita Referrer"

    # Intake: blood thinners cap pressure at level 2.
    history = _ok(
        tess.post(
            f"/episodes/{eid}/health-history",
            {
                "completed_on": str(start),
                "medications": "Apixaban 5 mg twice daily",
                "answers": intake_answers("anticoagulant"),
                "findings": [{"rule_id": "anticoagulant", "note": "Atrial fibrillation"}],
            },
        ),
        201,
    )
    assert [f["rule_id"] for f in history["findings"]] == ["anticoagulant"]
    assert history["answers"]["anticoagulant"] is True and history["answers"]["fever"] is False
    screening = _ok(tess.get(f"/episodes/{eid}/screening"))
    assert screening["status"] == "MODIFY"
    assert screening["pressure_cap"] == 2
    assert screening["can_treat"] is True
    (action,) = screening["actions"]
    assert (action["action"], action["rule_id"], action["pressure_cap"]) == ("MODIFY", "anticoagulant", 2)
    assert "no_deep_tissue" in action["restrictions"]
    # The day before the intake, nothing was known yet.
    assert _ok(tess.get(f"/episodes/{eid}/screening", {"on": str(start - timedelta(days=1))}))["status"] == "PROCEED"

    # Assessment: a shoulder flexion of 400° is refused on its row; the corrected one is stored.
    assessment = {
        "chief_complaint": "Low back pain, worse sitting",
        "assessed_on": str(start),
        "nprs": 7,
        "pain_regions": [{"region": "lower_back", "intensity": 7, "quality": "aching"}],
        "rom": [
            {"motion": "thoracolumbar_flexion", "degrees": 60},
            {"motion": "shoulder_flexion", "side": "left", "degrees": 400},
        ],
        "psfs": [
            {"activity": "Sitting through a meeting", "score": 3},
            {"activity": "Driving an hour", "score": 4},
            {"activity": "Tying shoes", "score": 5},
        ],
        "palpation": [{"region": "lower_back", "side": "left", "kind": "trigger_point", "note": "QL"}],
    }
    errors = _field_errors(tess.post(f"/episodes/{eid}/assessments", assessment), "rom.1")
    assert "400°" in errors["rom.1"][0]
    assert "rom.0" not in errors
    assessment["rom"][1]["degrees"] = 150
    stored = _ok(tess.post(f"/episodes/{eid}/assessments", assessment), 201)
    flexion = stored["rom"][0]
    assert (flexion["norm"], flexion["percent_of_normal"]) == (90, 66.7)
    assert flexion["norm_source"]
    assert stored["pain_regions"][0]["region_name"]
    assert stored["psfs_score"] == 4.0

    # A goal on pain.
    goal = _ok(
        tess.post(
            f"/episodes/{eid}/goals",
            {"description": "Pain at most 3/10", "measure": "nprs", "baseline": 7, "target": 3},
        ),
        201,
    )
    assert (goal["direction"], goal["state"], goal["latest"]) == ("lower", "progressing", 7.0)

    # The plan starts from the condition's suggestion; deep tissue conflicts with the blood thinners.
    suggestion = _ok(tess.get("/conditions/low_back_pain/plan-suggestion"))
    assert suggestion["condition"]["name"]
    plan = _ok(
        tess.put(
            f"/episodes/{eid}/plan",
            {
                "sessions_per_week": suggestion["sessions_per_week"],
                "weeks": suggestion["weeks"],
                "techniques": [
                    {"technique": "deep_tissue", "region": "lower_back"},
                    {"technique": "myofascial_release", "region": "lower_back", "pressure": 2},
                ],
                "home_program": [{"kind": "heat", "title": "Heat pack", "instructions": "15 minutes, evenings"}],
            },
        )
    )
    assert [(c["technique"], c["rule_id"]) for c in plan["conflicts"]] == [("deep_tissue", "anticoagulant")]
    assert plan["total_sessions"] == suggestion["sessions_per_week"] * suggestion["weeks"]
    assert _ok(tess.get(f"/episodes/{eid}/plan"))["conflicts"] == plan["conflicts"]

    # Three signed notes, each started pre-filled from the plan or the last note.
    note_ids = []
    for days_ago, pain in ((10, (6, 4)), (6, (5, 3)), (2, (3, 2))):
        draft = _ok(tess.post(f"/episodes/{eid}/notes", {"visit_on": str(today - timedelta(days=days_ago))}), 201)
        assert draft["status"] == "draft"
        assert draft["techniques"], "a new note starts from the plan or the last note"
        assert draft["screening"]["pressure_cap"] == 2
        saved = _ok(
            tess.patch(
                f"/notes/{draft['id']}",
                {
                    "subjective": "Sleeping better.",
                    "pain_pre": pain[0],
                    "pain_post": pain[1],
                    "modalities": ["heat"],
                    "techniques": [
                        {"technique": "myofascial_release", "region": "lower_back", "minutes": 40, "pressure": 2}
                    ],
                },
            )
        )
        assert [t["pressure"] for t in saved["techniques"]] == [2]
        signed = _ok(tess.post(f"/notes/{draft['id']}/sign"))
        assert signed["status"] == "signed"
        assert signed["hash_ok"] is True
        assert signed["referral_id"] == referral["id"]
        note_ids.append(draft["id"])
    # The next note starts from the last signed one.
    assert _ok(tess.get(f"/notes/{note_ids[-1]}"))["techniques"][0]["minutes"] == 40

    # A signed note refuses change, with a clear reason; it is amended instead.
    locked = tess.patch(f"/notes/{note_ids[0]}", {"subjective": "Rewritten later"})
    assert locked.status_code == 409
    assert "signed" in locked.json()["detail"] and "addendum" in locked.json()["detail"]
    assert tess.delete(f"/notes/{note_ids[0]}").status_code == 409
    assert TreatmentNote.objects.get(pk=note_ids[0]).subjective == "Sleeping better."
    addendum = _ok(
        tess.post(f"/notes/{note_ids[0]}/addenda", {"text": "Client also reported numbness.", "reason": "Late"}), 201
    )
    assert addendum["signed_by_name"] == "Tess Therapist" and addendum["content_hash"]
    note = _ok(tess.get(f"/notes/{note_ids[0]}"))
    assert [a["text"] for a in note["addenda"]] == ["Client also reported numbness."]
    assert note["subjective"] == "Sleeping better." and note["hash_ok"] is True

    # The chart summary before discharge.
    chart = _ok(tess.get(f"/episodes/{eid}"))
    assert chart["screening"]["status"] == "MODIFY"
    assert chart["active_referral"]["status"] == "active"
    assert (chart["active_referral"]["visits_used"], chart["active_referral"]["visits_left"]) == (3, 3)
    assert [(g["state"], g["latest"]) for g in chart["goals"]] == [("met", 3.0)]
    assert chart["plan"]["conflicts"][0]["technique"] == "deep_tissue"
    assert chart["counts"]["signed_notes"] == 3 and chart["counts"]["draft_notes"] == 0
    assert len(_ok(tess.get(f"/episodes/{eid}/notes"))["items"]) == 3

    discharged = _ok(
        tess.post(
            f"/episodes/{eid}/discharge",
            {"reason": "goals_met", "summary": "Pain down from 7 to 3.", "discharged_on": str(today)},
        )
    )
    assert (discharged["status"], discharged["discharge_reason"]) == ("discharged", "goals_met")
    assert discharged["discharge_outcomes"][0]["status"] == "met"
    assert _ok(tess.get(f"/referrals/{referral['id']}"))["status"] == "closed"
    kinds = [event["kind"] for event in _ok(tess.get(f"/episodes/{eid}/timeline"))]
    assert {"episode", "referral", "intake", "assessment", "note", "addendum", "discharge"} <= set(kinds)
    assert kinds.count("note") == 3
    assert _ok(tess.get("/episodes", {"status": "discharged", "client_id": personas.carol.pk}))["count"] == 1
    assert _ok(tess.get("/episodes", {"status": "open"}))["count"] == 0


# --- Field errors --------------------------------------------------------------------------------


@pytest.fixture
def tess_actor(personas):
    return personas.actor("therapist")


@pytest.fixture
def episode(personas, tess_actor):
    return _open_episode(personas)


def _open_episode(personas):
    return services.episode_open(
        actor=personas.actor("therapist"),
        client=personas.carol,
        data={"title": "Neck pain", "condition": "neck_pain", "started_on": harbour_today() - timedelta(days=7)},
    )


def test_referral_that_expired_before_it_was_written_names_valid_until(api, episode):
    response = api("therapist").post(
        f"/episodes/{episode.pk}/referrals",
        {"referred_on": "2025-03-10", "valid_until": "2025-01-31", "diagnoses": ["M54.2"]},
    )
    errors = _field_errors(response, "valid_until")
    assert "before it was written" in errors["valid_until"][0]
    assert not episode.referrals.exists()


def test_a_heading_code_is_refused_with_its_billable_children(api, episode):
    errors = _field_errors(
        api("therapist").post(
            f"/episodes/{episode.pk}/referrals", {"referred_on": "2025-03-10", "diagnoses": ["M54.5"]}
        ),
        "diagnoses",
    )
    assert "not a billable code" in errors["diagnoses"][0]


def test_pain_of_11_and_impossible_values_name_their_rows(api, episode):
    response = api("therapist").post(
        f"/episodes/{episode.pk}/assessments",
        {
            "chief_complaint": "Neck pain",
            "nprs": 11,
            "pain_regions": [
                {"region": "neck", "intensity": 4},
                {"region": "shoulder", "side": "left", "intensity": 11},
            ],
            "psfs": [{"activity": "Driving", "score": 12}],
            "palpation": [{"region": "elbowish", "kind": "tender"}],
        },
    )
    errors = _field_errors(response, "nprs", "pain_regions.1", "psfs.0", "palpation.0")
    assert "pain_regions.0" not in errors
    assert not episode.assessments.exists()


def test_psfs_with_two_activities_is_a_422_naming_the_psfs(api, episode):
    """Stratford 1995: 3 to 5 activities; the API refuses two as the page does."""
    response = api("therapist").post(
        f"/episodes/{episode.pk}/assessments",
        {
            "chief_complaint": "Neck pain",
            "psfs": [{"activity": "Driving", "score": 4}, {"activity": "Reading", "score": 6}],
        },
    )
    errors = _field_errors(response, "psfs")
    assert errors["psfs"] == ["The PSFS takes 3 to 5 activities, each rated; 2 were given."]
    assert not episode.assessments.exists()


def test_an_intake_without_every_answer_is_a_422_naming_each_question(api, episode):
    """No answer is assumed: a question left out or null is named, and nothing is recorded."""
    answers = intake_answers("anticoagulant") | {"fever": None}
    del answers["lymphedema"]
    response = api("therapist").post(
        f"/episodes/{episode.pk}/health-history", {"medications": "Apixaban", "answers": answers}
    )
    errors = _field_errors(response, "answers.fever", "answers.lymphedema")
    assert set(errors) == {"answers.fever", "answers.lymphedema"}
    assert "Do you have a fever" in errors["answers.fever"][0]
    assert set(_field_errors(api("therapist").post(f"/episodes/{episode.pk}/health-history", {}))) == {
        f"answers.{rule_id}" for rule_id in intake_answers()
    }
    assert not episode.health_histories.exists() and not episode.findings.exists()


@pytest.mark.parametrize(("weeks", "first_trimester"), [(10, False), (13, False), (14, True)])
def test_an_intake_whose_weeks_contradict_the_first_trimester_answer_is_a_422(api, episode, weeks, first_trimester):
    """NYSED's first-trimester precautions follow the weeks pregnant (1–13), through the API as on the page."""
    answers = intake_answers() | {"pregnancy_first_trimester": first_trimester}
    response = api("therapist").post(
        f"/episodes/{episode.pk}/health-history", {"pregnancy_weeks": weeks, "answers": answers}
    )
    errors = _field_errors(response, "answers.pregnancy_first_trimester")
    assert f"{weeks} weeks" in errors["answers.pregnancy_first_trimester"][0]
    assert not episode.health_histories.exists()


def test_an_intake_ten_weeks_pregnant_avoids_the_abdomen_and_deep_sacral_work(api, episode):
    answers = intake_answers("pregnancy_first_trimester")
    response = api("therapist").post(
        f"/episodes/{episode.pk}/health-history", {"pregnancy_weeks": 10, "answers": answers}
    )
    assert response.status_code == 201, response.content
    actions = {(a["action"], a["region"]) for a in response.json()["screening"]["actions"]}
    assert {("AVOID_REGION", "abdomen"), ("MODIFY", "sacrum")} <= actions


def test_schema_errors_name_the_nested_field(api, episode):
    response = api("therapist").post(
        f"/episodes/{episode.pk}/assessments",
        {"chief_complaint": "Neck pain", "pain_regions": [{"region": "neck", "intensity": 3, "quality": "spicy"}]},
    )
    _field_errors(response, "pain_regions.0.quality")


def test_episode_input_errors_name_the_field(api, personas):
    tess = api("therapist")
    _field_errors(
        tess.post("/episodes", {"client_id": personas.carol.pk, "title": "X", "condition": "no_such_condition"}),
        "condition",
    )
    _field_errors(
        tess.post("/episodes", {"client_id": personas.carol.pk, "title": "X", "started_on": "soon"}), "started_on"
    )
    _field_errors(
        tess.post("/episodes", {"client_id": personas.carol.pk, "title": "X", "therapist_id": 999999}), "therapist_id"
    )
    assert not Episode.objects.exists()


def test_goal_and_plan_errors_name_the_field(api, episode):
    tess = api("therapist")
    _field_errors(
        tess.post(
            f"/episodes/{episode.pk}/goals", {"description": "Mood", "measure": "mood", "baseline": 1, "target": 2}
        ),
        "measure",
    )
    _field_errors(
        tess.post(
            f"/episodes/{episode.pk}/goals", {"description": "Pain", "measure": "nprs", "baseline": 7, "target": 14}
        ),
        "target",
    )
    response = tess.put(
        f"/episodes/{episode.pk}/plan",
        {"sessions_per_week": 9, "weeks": 6, "techniques": [{"technique": "reiki", "region": "neck"}]},
    )
    _field_errors(response, "sessions_per_week", "techniques.0")
    assert tess.get(f"/episodes/{episode.pk}/plan").status_code == 404


@pytest.mark.clock
def test_signing_on_a_day_screening_blocks_gives_the_reason(api, episode):
    tess = api("therapist")
    today = str(harbour_today())
    check = _ok(
        tess.post(f"/episodes/{episode.pk}/checks", {"checked_on": today, "fever": True, "able_to_consent": True}), 201
    )
    assert check["screening"]["status"] == "BLOCK"
    note = _ok(tess.post(f"/episodes/{episode.pk}/notes"), 201)
    tess.patch(
        f"/notes/{note['id']}",
        {
            "pain_pre": 5,
            "pain_post": 4,
            "techniques": [{"technique": "swedish", "region": "neck", "minutes": 20, "pressure": 2}],
        },
    )
    refused = tess.post(f"/notes/{note['id']}/sign")
    assert refused.status_code == 422
    assert "no treatment" in refused.json()["detail"].lower()
    assert TreatmentNote.objects.get(pk=note["id"]).status == NoteStatus.DRAFT
    # A draft can still be deleted.
    assert tess.delete(f"/notes/{note['id']}").status_code == 204
    assert not TreatmentNote.objects.filter(pk=note["id"]).exists()


@pytest.mark.clock
def test_clearance_lets_a_note_be_signed(api, episode, personas):
    tess = api("therapist")
    finding = _ok(tess.post(f"/episodes/{episode.pk}/findings", {"rule_id": "hypertension_uncontrolled"}), 201)
    assert finding["active"] is True
    assert "hypertension_uncontrolled" in _ok(tess.get(f"/episodes/{episode.pk}/screening"))["uncleared"]
    _field_errors(
        tess.post(f"/episodes/{episode.pk}/clearances", {"rule_id": "fever", "cleared_on": "2025-01-01"}), "rule_id"
    )
    clearance = _ok(
        tess.post(
            f"/episodes/{episode.pk}/clearances",
            {
                "rule_id": "hypertension_uncontrolled",
                "provider_id": personas.referrer.pk,
                "cleared_on": str(harbour_today()),
            },
        ),
        201,
    )
    assert clearance["cleared_by"].startswith("Dr. Rita Referrer")
    screening = _ok(tess.get(f"/episodes/{episode.pk}/screening"))
    assert screening["uncleared"] == [] and any(a["cleared"] for a in screening["actions"])
    resolved = _ok(tess.post(f"/findings/{finding['id']}/resolve"))
    assert resolved["resolved_on"] == str(harbour_today())


def test_a_lymphedema_finding_names_its_limb_and_side_or_is_a_422(api, episode):
    tess = api("therapist")
    errors = _field_errors(tess.post(f"/episodes/{episode.pk}/findings", {"rule_id": "lymphedema"}), "region")
    assert "where on the body?" in errors["region"][0]
    no_side = {"rule_id": "lymphedema", "region": "upper_arm"}
    errors = _field_errors(tess.post(f"/episodes/{episode.pk}/findings", no_side), "side")
    assert "which side?" in errors["side"][0]
    _ok(tess.post(f"/episodes/{episode.pk}/findings", {**no_side, "side": "right"}), 201)
    screening = _ok(tess.get(f"/episodes/{episode.pk}/screening"))
    assert screening["restrictions"] == [] and screening["pressure_cap"] is None
    limb = {(a["region"], a["side"]) for a in screening["actions"] if a["action"] == "MODIFY"}
    assert limb == {(r, "right") for r in ("upper_arm", "elbow", "forearm", "wrist", "hand")}
    rule = {r["id"]: r for r in _ok(tess.get("/screening/catalogue"))["rules"]}["lymphedema"]
    assert rule["needs_side"] and rule["follow_up"] and rule["source_note"]


def test_catalogue_and_code_search(api):
    tess = api("therapist")
    catalogue = _ok(tess.get("/screening/catalogue"))
    rules = {rule["id"]: rule for rule in catalogue["rules"]}
    assert {"fever", "anticoagulant", "dvt_suspected", "impaired_consent"} <= set(rules)
    assert rules["anticoagulant"]["actions"][0]["pressure_cap"] == 2
    assert all(source["text"] for source in rules["fever"]["sources"])
    codes = _ok(tess.get("/icd10", {"q": "M54.5"}))
    assert "M54.50" in [c["code"] for c in codes]
    assert "M54.5" not in [c["code"] for c in codes]
    assert tess.get("/conditions/no_such_thing/plan-suggestion").status_code == 404


# --- Access --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def module_record(module_db, module_personas) -> dict[str, int]:
    return module_db(lambda: _write_record(module_personas))


@pytest.fixture
def record(db, module_record) -> dict[str, int]:
    """One of each clinical object of Carol's, for walking every route: written once for the module,
    and what a test changes is rolled back after it."""
    return dict(module_record)


def _write_record(personas) -> dict[str, int]:
    tess_actor = personas.actor("therapist")
    episode = _open_episode(personas)
    today = harbour_today()
    referral = services.referral_save(
        actor=tess_actor, episode=episode, data={"referred_on": today - timedelta(days=5)}, diagnoses=["M54.2"]
    )
    finding = services.finding_add(actor=tess_actor, episode=episode, finding=FindingInput("osteoporosis"))
    assessment = services.assessment_save(
        actor=tess_actor, episode=episode, data={"chief_complaint": "Neck pain"}, pain=[PainInput("neck", 5)]
    )
    goal = services.goal_save(
        actor=tess_actor, episode=episode, data={"measure": "nprs", "baseline": 5, "target": 2, "description": "Pain"}
    )
    services.plan_save(
        actor=tess_actor,
        episode=episode,
        data={"sessions_per_week": 1, "weeks": 6},
        techniques=[{"technique": "swedish", "region": "neck"}],
    )
    signed = signed_note(tess_actor, episode)
    draft = services.note_start(actor=tess_actor, episode=episode)
    services.note_update(
        actor=tess_actor,
        note=draft,
        data={"pain_pre": 4, "pain_post": 2},
        techniques=[TechniqueInput("swedish", "neck", 30, 2)],
    )
    return {
        "episode": episode.pk,
        "referral": referral.pk,
        "finding": finding.pk,
        "assessment": assessment.pk,
        "goal": goal.pk,
        "signed": signed.pk,
        "draft": draft.pk,
        "client": personas.carol.pk,
    }


# (method, path, body) for every clinical route that concerns one of Carol's objects.
ROUTES = [
    ("get", "/episodes/{episode}", None),
    ("patch", "/episodes/{episode}", {"title": "Renamed"}),
    ("post", "/episodes/{episode}/discharge", {"reason": "plateau"}),
    ("get", "/episodes/{episode}/timeline", None),
    ("get", "/episodes/{episode}/referrals", None),
    ("post", "/episodes/{episode}/referrals", {"referred_on": "2025-01-01", "diagnoses": ["M54.2"]}),
    ("get", "/referrals/{referral}", None),
    ("patch", "/referrals/{referral}", {"frequency": "2× per week"}),
    ("post", "/referrals/{referral}/close", None),
    ("get", "/episodes/{episode}/screening", None),
    ("get", "/episodes/{episode}/findings", None),
    ("post", "/episodes/{episode}/findings", {"rule_id": "fever"}),
    ("post", "/findings/{finding}/resolve", None),
    ("post", "/episodes/{episode}/health-history", {"medications": "None", "answers": intake_answers()}),
    ("post", "/episodes/{episode}/checks", {"fever": False, "able_to_consent": True}),
    ("get", "/episodes/{episode}/clearances", None),
    (
        "post",
        "/episodes/{episode}/clearances",
        {"rule_id": "hypertension_uncontrolled", "cleared_by": "Dr X", "cleared_on": "2025-01-01"},
    ),
    ("get", "/episodes/{episode}/assessments", None),
    ("post", "/episodes/{episode}/assessments", {"chief_complaint": "Neck"}),
    ("get", "/assessments/{assessment}", None),
    ("put", "/assessments/{assessment}", {"chief_complaint": "Neck"}),
    ("get", "/episodes/{episode}/goals", None),
    ("post", "/episodes/{episode}/goals", {"description": "Pain", "measure": "nprs", "baseline": 5, "target": 1}),
    ("patch", "/goals/{goal}", {"target": 1}),
    ("delete", "/goals/{goal}", None),
    ("get", "/episodes/{episode}/plan", None),
    ("put", "/episodes/{episode}/plan", {"sessions_per_week": 1, "weeks": 4}),
    ("get", "/episodes/{episode}/notes", None),
    ("post", "/episodes/{episode}/notes", None),
    ("get", "/notes/{signed}", None),
    ("patch", "/notes/{draft}", {"subjective": "Taken over"}),
    ("post", "/notes/{draft}/sign", None),
    ("post", "/notes/{signed}/addenda", {"text": "Taken over"}),
    ("delete", "/notes/{draft}", None),
]
ROUTE_IDS = [f"{method} {path}" for method, path, _ in ROUTES]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize(("persona", "expected"), [("front_desk", 403), ("outsider", 404), ("therapist2", 404)])
def test_clinical_routes_refuse_who_may_not_see_them(api, record, method, path, body, persona, expected):
    """Front desk: 403 (the record exists, the role may not open it). Another clinic, or a therapist
    not on Carol's care team: 404, and nothing of the record in the answer. Nothing changes."""
    http = api(persona)
    events = AuditEvent.objects.count()
    response = http.call(method, path.format(**record), body)
    assert response.status_code == expected, response.content[:300]
    assert response.json()["detail"]
    for secret in (b"Neck pain", b"Caroline", b"Carol", b"M54.2"):
        assert secret not in response.content
    assert AuditEvent.objects.count() == events
    assert Episode.objects.get(pk=record["episode"]).title == "Neck pain"


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=ROUTE_IDS)
def test_clinical_routes_answer_carols_therapist(api, record, method, path, body):
    response = api("therapist").call(method, path.format(**record), body)
    if path.endswith("/discharge"):
        # The record holds a draft note, which must be signed or deleted first.
        assert response.status_code == 422 and "draft" in response.json()["errors"]["__all__"][0]
        return
    assert response.status_code in (200, 201, 204), (response.status_code, response.content[:300])


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, _ in ROUTES if m == "get"])
@pytest.mark.parametrize("persona", ["owner", "admin"])
def test_owners_and_admins_read_every_clinical_record(api, record, persona, method, path):
    assert api(persona).get(path.format(**record)).status_code == 200


def test_knowledge_routes_are_closed_to_front_desk(api, record):
    front_desk = api("front_desk")
    for path in ("/icd10?q=neck", "/screening/catalogue", "/conditions/neck_pain/plan-suggestion", "/episodes"):
        assert front_desk.get(path).status_code == 403, path
    assert front_desk.post("/episodes", {"client_id": record["client"], "title": "X"}).status_code == 403


def test_lists_show_only_what_the_token_may_see(api, record, personas):
    assert _ok(api("owner").get("/episodes"))["count"] == 1
    assert _ok(api("therapist").get("/episodes", {"client_id": personas.carol.pk}))["count"] == 1
    assert _ok(api("therapist2").get("/episodes"))["count"] == 0
    assert _ok(api("outsider").get("/episodes", {"client_id": personas.carol.pk}))["count"] == 0
    # Opening an episode for a client the token cannot see answers as if the client did not exist.
    for persona in ("outsider", "therapist2"):
        response = api(persona).post("/episodes", {"client_id": personas.carol.pk, "title": "Taken over"})
        assert response.status_code == 404
    assert Episode.objects.count() == 1


# --- Audit ---------------------------------------------------------------------------------------


def test_api_reads_are_audited_with_the_client(api, record, personas):
    tess = api("therapist")
    reads = [
        f"/episodes/{record['episode']}",
        f"/episodes/{record['episode']}/timeline",
        f"/episodes/{record['episode']}/referrals",
        f"/referrals/{record['referral']}",
        f"/episodes/{record['episode']}/screening",
        f"/episodes/{record['episode']}/findings",
        f"/episodes/{record['episode']}/assessments",
        f"/assessments/{record['assessment']}",
        f"/episodes/{record['episode']}/goals",
        f"/episodes/{record['episode']}/notes",
        f"/notes/{record['signed']}",
        "/episodes",
    ]
    for path in reads:
        before = AuditEvent.objects.count()
        _ok(tess.get(path))
        new = list(AuditEvent.objects.order_by("id")[before:])
        assert len(new) == 1, path
        event = new[0]
        assert (event.action, event.client_id, event.user_id) == (Action.VIEW, personas.carol.pk, personas.therapist.pk)
        assert event.clinic_id == personas.harbour.pk
    note_read = AuditEvent.objects.filter(object_type="clinical.treatmentnote", object_id=str(record["signed"]))
    assert note_read.filter(action=Action.VIEW).exists()


def test_api_writes_are_audited_with_the_client(api, record, personas):
    tess = api("therapist")
    before = AuditEvent.objects.count()
    _ok(tess.patch(f"/notes/{record['draft']}", {"subjective": "Better"}))
    event = AuditEvent.objects.order_by("-id").first()
    assert AuditEvent.objects.count() == before + 1
    assert (event.action, event.client_id, event.object_type) == (
        Action.UPDATE,
        personas.carol.pk,
        "clinical.treatmentnote",
    )


# --- Queries -------------------------------------------------------------------------------------


def _queries(request) -> tuple[int, list[str]]:
    request()  # warm up
    with CaptureQueriesContext(connection) as captured:
        response = request()
    assert response.status_code == 200, response.content[:300]
    return len(captured.captured_queries), [q["sql"] for q in captured.captured_queries]


def _same(small, large) -> None:
    if small[0] != large[0]:
        pytest.fail("\n".join([f"small: {small[0]} queries", *small[1], "", f"large: {large[0]} queries", *large[1]]))


def _add_signed_notes(actor, episode, count: int) -> None:
    # Signed notes made through the service, each with a technique and an addendum.
    for _ in range(count):
        note = signed_note(actor, episode)
        services.addendum_add(actor=actor, note=note, text="Also: slept well.")


@pytest.mark.parametrize("path", ["/episodes/{id}", "/episodes/{id}/notes", "/episodes/{id}/timeline"])
def test_episode_reads_run_the_same_queries_with_more_notes(api, tess_actor, episode, path):
    """Token (2) and its touch (1), the loader, the chart's or page's own reads and the audit row:
    the count does not grow with the number of notes, techniques or addenda."""
    tess = api("therapist")
    services.referral_save(
        actor=tess_actor, episode=episode, data={"referred_on": harbour_today()}, diagnoses=["M54.2"]
    )
    _add_signed_notes(tess_actor, episode, 3)
    small = _queries(lambda: tess.get(path.format(id=episode.pk)))
    _add_signed_notes(tess_actor, episode, 27)
    large = _queries(lambda: tess.get(path.format(id=episode.pk)))
    _same(small, large)


def test_episode_list_runs_the_same_queries_for_more_episodes(api, tess_actor, personas):
    """One audit row per client on the page; with one client the count is fixed however many episodes."""
    owner = api("owner")

    def open_episodes(count: int) -> None:
        for n in range(count):
            services.episode_open(actor=tess_actor, client=personas.carol, data={"title": f"Episode {n}"})

    open_episodes(2)
    small = _queries(lambda: owner.get("/episodes"))
    open_episodes(20)
    large = _queries(lambda: owner.get("/episodes"))
    _same(small, large)


# --- Documentation -------------------------------------------------------------------------------


def test_openapi_describes_the_clinical_routes(client, db):
    document = _ok(client.get(f"{API}/openapi.json"))
    paths = document["paths"]
    for path in (
        "/api/v1/episodes",
        "/api/v1/episodes/{episode_id}",
        "/api/v1/episodes/{episode_id}/referrals",
        "/api/v1/icd10",
        "/api/v1/episodes/{episode_id}/screening",
        "/api/v1/screening/catalogue",
        "/api/v1/assessments/{assessment_id}",
        "/api/v1/goals/{goal_id}",
        "/api/v1/episodes/{episode_id}/plan",
        "/api/v1/conditions/{condition_id}/plan-suggestion",
        "/api/v1/notes/{note_id}/sign",
        "/api/v1/notes/{note_id}/addenda",
    ):
        assert path in paths, path
    tags = {tag for item in paths.values() for operation in item.values() for tag in operation.get("tags", ())}
    assert {"episodes", "referrals", "screening", "assessments", "goals", "plans", "notes"} <= tags
    assert "409" in paths["/api/v1/notes/{note_id}"]["patch"]["responses"]


def test_note_techniques_over_the_session_length_are_refused(api, tess_actor, episode):
    tess = api("therapist")
    note = services.note_start(actor=tess_actor, episode=episode)
    rows = [{"technique": "myofascial_release", "region": "neck", "minutes": 50, "pressure": 2}] * 2
    errors = _field_errors(tess.patch(f"/notes/{note.pk}", {"duration_minutes": 60, "techniques": rows}), "techniques")
    assert "100 minutes" in errors["techniques"][0]


def test_discharge_errors_name_the_payload_fields(api, episode):
    tess = api("therapist")
    errors = _field_errors(
        tess.post(f"/episodes/{episode.pk}/discharge", {"reason": "bored", "discharged_on": "2000-01-01"}),
        "reason",
        "discharged_on",
    )
    assert "discharge_reason" not in errors
    episode.refresh_from_db()
    assert episode.is_open


@pytest.mark.clock
def test_patch_changes_only_what_is_sent(api, episode):
    tess = api("therapist")
    referral = _ok(
        tess.post(
            f"/episodes/{episode.pk}/referrals",
            {"referred_on": str(harbour_today()), "diagnoses": ["M54.2"], "visits_authorised": 4},
        ),
        201,
    )
    changed = _ok(tess.patch(f"/referrals/{referral['id']}", {"frequency": "2× per week", "visits_authorised": None}))
    assert changed["frequency"] == "2× per week"
    assert changed["visits_authorised"] is None and changed["visits_left"] is None
    assert [d["code"] for d in changed["diagnoses"]] == ["M54.2"]
    _field_errors(tess.patch(f"/referrals/{referral['id']}", {"diagnoses": ["ZZZ"]}), "diagnoses")

    renamed = _ok(tess.patch(f"/episodes/{episode.pk}", {"title": "Neck and shoulder pain"}))
    assert (renamed["title"], renamed["condition"]) == ("Neck and shoulder pain", "neck_pain")
    _field_errors(tess.patch(f"/episodes/{episode.pk}", {"condition": "no_such_condition"}), "condition")
    episode.refresh_from_db()
    assert (episode.title, episode.condition) == ("Neck and shoulder pain", "neck_pain")


def test_muscle_tension_and_medication_days_round_trip_and_bad_values_are_a_422(api, tess_actor, episode):
    tess = api("therapist")
    note = services.note_start(actor=tess_actor, episode=episode)
    saved = _ok(
        tess.patch(
            f"/notes/{note.pk}",
            {"muscle_tension": 7, "medication_days": 4, "medication_note": "ibuprofen 400 mg ×2 on bad days"},
        )
    )
    assert (saved["muscle_tension"], saved["medication_days"], saved["medication_note"]) == (
        7,
        4,
        "ibuprofen 400 mg ×2 on bad days",
    )
    errors = _field_errors(tess.patch(f"/notes/{note.pk}", {"muscle_tension": 11, "medication_days": 8}),
                           "muscle_tension", "medication_days")  # fmt: skip
    assert errors["medication_days"] == ["Days with pain medication count the last 7 days: a whole number from 0 to 7."]
    read = _ok(tess.get(f"/notes/{note.pk}"))
    assert (read["muscle_tension"], read["medication_days"]) == (7, 4)
    # null clears them; the note text stays text.
    cleared = _ok(tess.patch(f"/notes/{note.pk}", {"muscle_tension": None, "medication_note": None}))
    assert (cleared["muscle_tension"], cleared["medication_note"]) == (None, "")
