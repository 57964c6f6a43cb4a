"""Intake and screening pages: the health history, the pre-session check, findings and clearances,
as a therapist uses them, and who may open them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape

from mend.audit.models import Action, AuditEvent
from mend.clinical import queries, services
from mend.clinical.models import Clearance, HealthHistory, ScreeningFinding
from mend.clinical.services import FindingInput
from mend.testing import harbour_today, intake_answers

# clock: dates here are the clinic's; scripts/test.sh runs this module at hours where UTC's differ.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _history(**answers: str) -> dict[str, str]:
    """A health-history POST: every catalogue question answered no, except ``answers``."""
    from mend.clinical.screening import catalogue

    data = {
        "completed_on": harbour_today().isoformat(),
        "medications": "Apixaban 5 mg twice daily",
        "findings-TOTAL_FORMS": "1",
        "findings-INITIAL_FORMS": "0",
    }
    for rule_id in catalogue().rules:
        data[rule_id] = "no"
    data.update(answers)
    return data


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_intake_page_asks_every_catalogue_question_grouped_by_category(login, episode):
    from mend.clinical.screening import catalogue

    response = login("therapist").get(f"/episodes/{episode.pk}/intake/")
    assert response.status_code == 200
    html = response.content.decode()
    for rule in catalogue().rules.values():
        assert escape(rule.question) in html
        assert f'name="{rule.id}"' in html
    for legend in ("Whole body", "Precautions", "Local"):
        assert f"<legend>{legend}</legend>" in html
    assert 'name="recent_surgery__region"' in html and 'name="anticoagulant__region"' not in html
    assert "Carol" in html and episode.title in html and f'href="/episodes/{episode.pk}/"' in html


def test_intake_findings_change_the_screening_status(login, episode):
    response = login("therapist").post(
        f"/episodes/{episode.pk}/intake/",
        _history(
            anticoagulant="yes", recent_surgery="yes", recent_surgery__region="knee", recent_surgery__side="right"
        ),
    )
    assert response.status_code == 302 and response["Location"] == f"/episodes/{episode.pk}/"
    screening = queries.screening_on(episode, harbour_today())
    assert screening.status == "CLEARANCE"
    assert ("knee", "right") in screening.avoided_regions
    history = HealthHistory.objects.get(episode=episode)
    assert history.medications == "Apixaban 5 mg twice daily"
    assert sorted(f.rule_id for f in history.findings.all()) == ["anticoagulant", "recent_surgery"]
    follow = login("therapist").get(response["Location"])
    messages = [str(m) for m in follow.context["messages"]] if follow.context else []
    assert not messages or "Physician clearance needed" in messages[0]


def test_intake_message_names_the_status(login, episode, client):
    login("therapist")
    response = client.post(f"/episodes/{episode.pk}/intake/", _history(fever="yes"))
    assert response.status_code == 302
    from django.contrib.messages import get_messages

    text = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "No treatment today" in text and "Fever" in text


def test_intake_local_finding_without_region_is_refused_and_answers_kept(login, episode):
    response = login("therapist").post(
        f"/episodes/{episode.pk}/intake/",
        _history(open_wound="yes", open_wound__note="Graze on the shin", pregnancy_weeks="40"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Where on the body?" in html
    assert 'value="Graze on the shin"' in html and "Apixaban 5 mg twice daily</textarea>" in html
    assert 'value="yes" class="yn" id="id_open_wound_1" checked' in html or 'id="id_open_wound_1" checked' in html
    assert not HealthHistory.objects.filter(episode=episode).exists()


def test_lymphedema_asks_which_limb_and_side_and_restricts_that_limb_only(login, episode):
    """The follow-up starts unanswered and is required: without the limb and the side the
    restrictions could only hold everywhere (or on both arms)."""
    http = login("therapist")
    page = http.get(f"/episodes/{episode.pk}/intake/").content.decode()
    assert "Which limb or area is affected?" in page
    assert '<option value="" selected>' in page.split('name="lymphedema__region"')[1].split("</select>")[0]

    no_limb = http.post(f"/episodes/{episode.pk}/intake/", _history(lymphedema="yes"))
    assert no_limb.status_code == 400
    assert "Choose the region so the restrictions apply there." in no_limb.content.decode()
    no_side = http.post(f"/episodes/{episode.pk}/intake/", _history(lymphedema="yes", lymphedema__region="upper_arm"))
    assert no_side.status_code == 400
    assert "Which side? Choose left, right or both sides." in no_side.content.decode()
    assert not HealthHistory.objects.filter(episode=episode).exists()

    saved = http.post(
        f"/episodes/{episode.pk}/intake/",
        _history(lymphedema="yes", lymphedema__region="upper_arm", lymphedema__side="left"),
    )
    assert saved.status_code == 302
    finding = ScreeningFinding.objects.get(episode=episode, rule_id="lymphedema")
    assert (finding.region, finding.side) == ("upper_arm", "left")
    screening = queries.screening_on(episode, harbour_today())
    assert screening.restrictions == []  # nothing for the whole body
    assert {a.region for a in screening.by_action("MODIFY")} == {"upper_arm", "elbow", "forearm", "wrist", "hand"}
    chart = http.get(f"/episodes/{episode.pk}/").content.decode()
    # One flag for the limb, naming each part once, not one per region.
    assert chart.count("<strong>Lymphedema</strong> · left upper arm, elbow, forearm, wrist and hand") == 1
    assert "Here: Manual lymphatic drainage only, by a therapist trained in it; No heat or cold applications." in chart


def test_services_refuse_a_lymphedema_finding_without_its_limb_and_side(tess, episode):
    """Enforced where the write happens: an API call or an import gets the same refusal."""
    with pytest.raises(ValidationError) as no_limb:
        services.finding_add(actor=tess, episode=episode, finding=FindingInput("lymphedema"))
    assert "where on the body?" in no_limb.value.message_dict["region"][0]
    with pytest.raises(ValidationError) as no_side:
        services.health_history_record(
            actor=tess,
            episode=episode,
            data={},
            answers=intake_answers("lymphedema"),
            findings=[FindingInput("lymphedema", region="thigh")],
        )
    assert "which side?" in no_side.value.message_dict["findings"][0]
    assert not ScreeningFinding.objects.filter(episode=episode).exists()
    # A region without sides (the chest after a mastectomy) needs none.
    services.finding_add(actor=tess, episode=episode, finding=FindingInput("lymphedema", region="chest"))


def test_new_catalogue_questions_are_asked_and_act(login, episode):
    http = login("therapist")
    response = http.post(
        f"/episodes/{episode.pk}/intake/",
        _history(varicose_veins_mild="yes", varicose_veins_mild__region="lower_leg", varicose_veins_mild__side="right"),
    )
    assert response.status_code == 302
    screening = queries.screening_on(episode, harbour_today())
    assert screening.status == "MODIFY" and screening.pressure_cap is None
    assert [(a.region, a.pressure_cap) for a in screening.by_action("MODIFY")] == [("lower_leg", 3)]
    response = http.post(f"/episodes/{episode.pk}/intake/", _history(physician_consent_refused="yes"))
    assert response.status_code == 302
    assert queries.screening_on(episode, harbour_today()).status == "BLOCK"


def test_a_new_intake_asks_every_question_with_no_answer_chosen(login, episode):
    """A pre-selected "no" is an answer nobody gave: every catalogue question starts unanswered."""
    from mend.clinical.screening import catalogue

    html = login("therapist").get(f"/episodes/{episode.pk}/intake/").content.decode()
    radios = [chunk.split(">")[0] for chunk in html.split("<input")[1:] if 'type="radio"' in chunk.split(">")[0]]
    assert len(radios) == 2 * len(catalogue().rules)
    assert not [radio for radio in radios if "checked" in radio]


def test_an_intake_with_unanswered_questions_names_each_keeps_the_rest_and_saves_nothing(login, episode):
    from mend.clinical.screening import catalogue

    data = _history(anticoagulant="yes", allergies="Nut oils")
    del data["fever"], data["lymphedema"]
    response = login("therapist").post(f"/episodes/{episode.pk}/intake/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "2 questions not answered yet." in html
    rules = catalogue().rules
    summary = html.split('id="unanswered"')[1].split("</div>")[0]
    for rule_id in ("fever", "lymphedema"):
        # Named above the form by its question, linked to it, and flagged beside it.
        assert f'<a href="#q-{rule_id}">{escape(rules[rule_id].question)}</a>' in summary
        question = html.split(f'id="q-{rule_id}"')[1].split("</fieldset>")[0]
        assert "Answer this safety question: yes or no." in question
    assert "Answer this safety question" not in html.split('id="q-anticoagulant"')[1].split("</fieldset>")[0]
    # What was typed and answered is still there.
    assert "Nut oils</textarea>" in html and 'id="id_anticoagulant_1" checked' in html
    assert not HealthHistory.objects.filter(episode=episode).exists()
    assert not ScreeningFinding.objects.filter(episode=episode).exists()


def test_the_service_refuses_an_intake_without_an_explicit_answer_to_each_question(tess, episode):
    """Whoever calls it (page, API, import, demo): no answer is assumed, each missing one is named."""
    answers: dict[str, object] = {**intake_answers("anticoagulant"), "implant_device": None}
    del answers["fever"]
    with pytest.raises(ValidationError) as refused:
        services.health_history_record(actor=tess, episode=episode, data={}, answers=answers)
    assert set(refused.value.message_dict) == {"answers.fever", "answers.implant_device"}
    assert "Do you have a fever" in refused.value.message_dict["answers.fever"][0]
    with pytest.raises(ValidationError) as contradicted:
        services.health_history_record(
            actor=tess, episode=episode, data={}, answers=intake_answers(), findings=[FindingInput("anticoagulant")]
        )
    assert "Anticoagulant or antiplatelet medication: answered no" in contradicted.value.message_dict["findings"][0]
    assert not HealthHistory.objects.filter(episode=episode).exists()
    history = services.health_history_record(
        actor=tess, episode=episode, data={}, answers=intake_answers("anticoagulant")
    )
    assert history.answers["anticoagulant"] is True and history.answers["fever"] is False
    assert [f.rule_id for f in history.findings.all()] == ["anticoagulant"]


def test_a_re_intake_shows_the_last_answers_beside_the_questions_without_choosing_them(login, episode, tess):
    services.health_history_record(
        actor=tess,
        episode=episode,
        data={"completed_on": tess.today(), "allergies": "Nut oils"},
        answers=intake_answers("implant_device"),
        findings=[
            FindingInput("implant_device", region="knee", side="left"),
            FindingInput("implant_device", region="chest"),
        ],
    )
    html = login("therapist").get(f"/episodes/{episode.pk}/intake/").content.decode()
    assert "Nut oils</textarea>" in html
    radios = [chunk.split(">")[0] for chunk in html.split("<input")[1:] if 'type="radio"' in chunk.split(">")[0]]
    assert radios and not [radio for radio in radios if "checked" in radio]
    last = f"Last intake {tess.today():%-d %B %Y}"
    implant = html.split('id="q-implant_device"')[1].split("</fieldset>")[0]
    assert f"{last}: yes (Left knee; Chest)" in implant
    assert f"{last}: no" in html.split('id="q-fever"')[1].split("</fieldset>")[0]
    # Where the open finding was is filled in, ready for a "yes"; the second implant is an extra row.
    assert '<option value="knee" selected>' in implant
    assert '<option value="chest" selected>' in html


def test_a_new_intake_replaces_the_previous_answers(login, episode, tess):
    services.health_history_record(actor=tess, episode=episode, data={}, answers=intake_answers("anticoagulant"))
    response = login("therapist").post(f"/episodes/{episode.pk}/intake/", _history())
    assert response.status_code == 302
    assert queries.screening_on(episode, tess.today()).status == "PROCEED"
    assert HealthHistory.objects.filter(episode=episode).first().answers["anticoagulant"] is False


def test_pregnancy_weeks_must_agree_with_the_first_trimester_answer(login, episode):
    response = login("therapist").post(f"/episodes/{episode.pk}/intake/", _history(pregnancy_weeks="9"))
    assert response.status_code == 400
    assert "first trimester" in response.content.decode()


def test_pre_session_fever_blocks_today(login, episode):
    response = login("therapist").post(
        f"/episodes/{episode.pk}/check/",
        {
            "checked_on": harbour_today().isoformat(),
            "fever": "yes",
            "able_to_consent": "yes",
            "new_symptoms": "Chills since last night",
            "findings-TOTAL_FORMS": "1",
            "findings-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    today = harbour_today()
    assert queries.screening_on(episode, today).status == "BLOCK"
    assert queries.screening_on(episode, today + timedelta(days=1)).status == "PROCEED"


def test_pre_session_new_finding_needs_a_region(login, episode):
    data = {
        "checked_on": harbour_today().isoformat(),
        "fever": "no",
        "able_to_consent": "yes",
        "new_medications": "Prednisone",
        "findings-TOTAL_FORMS": "2",
        "findings-INITIAL_FORMS": "0",
        "findings-0-rule_id": "corticosteroid_long_term",
        "findings-1-rule_id": "acute_fracture",
        "findings-1-note": "Wrist, cast off last week",
    }
    response = login("therapist").post(f"/episodes/{episode.pk}/check/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Where on the body?" in html and 'value="Wrist, cast off last week"' in html
    assert "Prednisone</textarea>" in html
    data["findings-1-region"] = "wrist"
    data["findings-1-side"] = "left"
    assert login("therapist").post(f"/episodes/{episode.pk}/check/", data).status_code == 302
    screening = queries.screening_on(episode, harbour_today())
    assert ("wrist", "left") in screening.avoided_regions and screening.status == "AVOID_REGION"


def test_finding_add_and_resolve(login, episode):
    http = login("therapist")
    response = http.post(
        f"/episodes/{episode.pk}/findings/new/",
        {
            "rule_id": "varicose_veins_severe",
            "region": "lower_leg",
            "side": "left",
            "recorded_on": harbour_today(),
        },
    )
    assert response.status_code == 302
    finding = ScreeningFinding.objects.get(episode=episode)
    assert ("ankle", "left") in queries.screening_on(episode, harbour_today()).avoided_regions
    assert http.get(f"/findings/{finding.pk}/resolve/").status_code == 405
    assert http.post(f"/findings/{finding.pk}/resolve/").status_code == 302
    finding.refresh_from_db()
    assert finding.resolved_on == harbour_today()


def test_finding_add_with_unknown_rule_is_a_field_error(login, episode):
    response = login("therapist").post(
        f"/episodes/{episode.pk}/findings/new/", {"rule_id": "gremlins", "recorded_on": harbour_today()}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_clearance_lifts_the_clearance_status(login, episode, tess, personas):
    services.finding_add(actor=tess, episode=episode, finding=FindingInput("hypertension_uncontrolled"))
    http = login("therapist")
    page = http.get(f"/episodes/{episode.pk}/clearances/new/?rule=hypertension_uncontrolled")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<option value="hypertension_uncontrolled" selected>' in html
    response = http.post(
        f"/episodes/{episode.pk}/clearances/new/",
        {
            "rule_id": "hypertension_uncontrolled",
            "provider": personas.referrer.pk,
            "cleared_on": tess.today().isoformat(),
            "conditions": "Light pressure",
            "document": SimpleUploadedFile("clearance.pdf", PDF, content_type="application/pdf"),
        },
    )
    assert response.status_code == 302
    screening = queries.screening_on(episode, tess.today())
    assert screening.status == "MODIFY" and not screening.uncleared
    clearance = Clearance.objects.get(episode=episode)
    assert clearance.cleared_by == "Dr. Rita Referrer, Family physician"
    download = http.get(f"/clearances/{clearance.pk}/document/")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF
    assert AuditEvent.objects.filter(action=Action.VIEW, object_id=str(clearance.pk)).exists()


def test_clearance_offers_only_waiting_rules_and_checks_the_document(login, episode, tess):
    services.finding_add(actor=tess, episode=episode, finding=FindingInput("bleeding_disorder"))
    http = login("therapist")
    html = http.get(f"/episodes/{episode.pk}/clearances/new/").content.decode()
    assert 'value="bleeding_disorder"' in html and 'value="recent_surgery"' not in html
    response = http.post(
        f"/episodes/{episode.pk}/clearances/new/",
        {
            "rule_id": "bleeding_disorder",
            "cleared_by": "Dr. Hema Tology, haematologist",
            "cleared_on": tess.today().isoformat(),
            "document": SimpleUploadedFile("note.txt", b"just text", content_type="application/pdf"),
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "The clearance document must be a PDF, JPEG, PNG, HEIC or TIFF file; note.txt is not." in html
    assert 'value="Dr. Hema Tology, haematologist"' in html
    assert not Clearance.objects.exists()
    refused = http.post(
        f"/episodes/{episode.pk}/clearances/new/",
        {"rule_id": "recent_surgery", "cleared_by": "Dr. X", "cleared_on": tess.today().isoformat()},
    )
    assert refused.status_code == 400


def test_clearance_page_with_nothing_waiting_says_so(login, episode):
    html = login("therapist").get(f"/episodes/{episode.pk}/clearances/new/").content.decode()
    assert "No finding is waiting for a clearance today." in html


@pytest.mark.parametrize(
    ("persona", "status"), [("front_desk", 403), ("outsider", 404), ("therapist2", 404), ("owner", 200)]
)
def test_screening_pages_access(login, episode, tess, persona, status):
    finding = services.finding_add(actor=tess, episode=episode, finding=FindingInput("recent_surgery", region="knee"))
    clearance = services.clearance_record(
        actor=tess,
        episode=episode,
        data={"rule_id": "recent_surgery", "cleared_by": "Dr. Bone", "cleared_on": tess.today()},
        document=SimpleUploadedFile("c.pdf", PDF),
    )
    http = login(persona)
    for url in (
        f"/episodes/{episode.pk}/intake/",
        f"/episodes/{episode.pk}/check/",
        f"/episodes/{episode.pk}/findings/new/",
        f"/episodes/{episode.pk}/clearances/new/",
        f"/clearances/{clearance.pk}/document/",
    ):
        assert http.get(url).status_code == status, url
    resolved = http.post(f"/findings/{finding.pk}/resolve/")
    assert resolved.status_code == (302 if status == 200 else status)
    if status != 200:
        finding.refresh_from_db()
        assert finding.resolved_on is None
