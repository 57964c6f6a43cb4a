"""The chart's outcome card, recording in clinic, sending a link, and the progress page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mend.audit.models import Action, AuditEvent
from mend.clinical import services as clinical
from mend.clinical.services import PsfsInput, RomInput
from mend.outcomes import services
from mend.outcomes.models import MeasureResponse, QuestionnaireLink
from mend.testing import harbour_today, signed_note

from .conftest import grow_responses, planned

# clock: dates here are the clinic's; scripts/test.sh runs this module at hours where UTC's differ.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def test_chart_card_shows_due_latest_change_and_responder(login, tess, episode):
    today = harbour_today()
    services.response_record(
        actor=tess, episode=episode, measure_id="nprs", answers=[7], collected_on=today - timedelta(days=14)
    )
    services.response_record(actor=tess, episode=episode, measure_id="nprs", answers=[4])
    page = login("therapist").get(f"/episodes/{episode.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Outcome measures" in text
    assert "+3 better" in text and "responder" in text  # 3 points ≥ the NPRS MCID of 2
    assert "Due now:" in text and "<strong>ODI</strong>" in text  # no ODI baseline yet
    assert f"/episodes/{episode.pk}/outcomes/odi/" in text
    assert f"/episodes/{episode.pk}/outcomes/send/" in text
    assert f"/episodes/{episode.pk}/progress/" in text
    assert "baseline, every 2 sessions, discharge" in text


def test_chart_card_flags_a_client_worse_by_the_mcid(login, tess, episode):
    today = harbour_today()
    services.response_record(
        actor=tess, episode=episode, measure_id="nprs", answers=[5], collected_on=today - timedelta(days=14)
    )
    services.response_record(actor=tess, episode=episode, measure_id="nprs", answers=[7])
    text = login("therapist").get(f"/episodes/{episode.pk}/").content.decode()
    assert "2 worse" in text and "−2 worse" not in text
    assert "worse by the MCID or more" in text and "below MCID" not in text
    assert "MCID 2 points" in text


def test_chart_card_of_a_discharged_episode_asks_for_nothing(login, tess, episode):
    clinical.episode_discharge(actor=tess, episode=episode, reason="plateau")
    text = login("therapist").get(f"/episodes/{episode.pk}/").content.decode()
    assert "Outcome measures" in text
    assert ">due</span>" not in text and "Due now:" not in text
    assert "not collected at discharge" in text


def test_chart_card_says_when_the_client_cannot_be_emailed(login, episode, personas):
    page = login("therapist").get(f"/episodes/{episode.pk}/").content.decode()
    assert "(no email consent)" in page
    personas.carol.email, personas.carol.consent_email = "carol@example.org", True
    personas.carol.save()
    assert "(no email consent)" not in login("therapist").get(f"/episodes/{episode.pk}/").content.decode()


def test_an_uncomputable_score_shows_not_computable_never_zero(login, tess, episode):
    services.response_record(
        actor=tess, episode=episode, measure_id="odi", answers=[1, None, None, None, None, 0, 1, 2, 1, 0]
    )
    text = login("therapist").get(f"/episodes/{episode.pk}/").content.decode()
    assert "not computable" in text
    progress = login("therapist").get(f"/episodes/{episode.pk}/progress/").content.decode()
    assert "not computable" in progress


def test_record_in_clinic_with_big_radio_scales(login, episode):
    http = login("therapist")
    page = http.get(f"/episodes/{episode.pk}/outcomes/nprs/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Your pain right now" in text  # NPRS wording ships
    assert text.count('type="radio" name="item_0"') == 11
    response = http.post(
        f"/episodes/{episode.pk}/outcomes/nprs/",
        {"item_0": "6", "collected_on": harbour_today().isoformat()},
    )
    assert response.status_code == 302 and response["Location"] == f"/episodes/{episode.pk}/"
    assert MeasureResponse.objects.get().value == 6


def test_licensed_measure_shows_item_ids_and_the_licence_note(login, episode, settings):
    settings.MEND_MEASURE_TEXT = ""  # no licensed wording loaded
    text = login("therapist").get(f"/episodes/{episode.pk}/outcomes/odi/").content.decode()
    assert "Wording licensed: load from local file" in text
    assert "MEND_MEASURE_TEXT" in text
    assert text.count('type="radio"') == 60  # 10 sections × 0–5


def test_record_form_keeps_answers_after_an_error(login, episode):
    http = login("therapist")
    future = (harbour_today() + timedelta(days=3)).isoformat()
    response = http.post(f"/episodes/{episode.pk}/outcomes/nprs/", {"item_0": "6", "collected_on": future})
    assert response.status_code == 400
    text = response.content.decode()
    assert "cannot be collected in the future" in text
    assert 'value="6" checked' in text
    assert not MeasureResponse.objects.exists()


def test_psfs_form_starts_from_the_assessments_activities(login, tess, episode):
    clinical.assessment_save(
        actor=tess,
        episode=episode,
        data={"kind": "initial", "assessed_on": harbour_today(), "chief_complaint": "Low back pain"},
        psfs=[PsfsInput("Sitting through a meeting", 3), PsfsInput("Lifting", 4), PsfsInput("Walking", 5)],
    )
    http = login("therapist")
    text = http.get(f"/episodes/{episode.pk}/outcomes/psfs/").content.decode()
    assert 'value="Sitting through a meeting"' in text
    # The question is asked once, above the activities, and each activity's group points to it.
    assert text.count('id="psfs-question"') == 1
    assert text.count('aria-describedby="psfs-question"') == text.count('<span class="scale-number">Activity ')
    assert text.count('<span class="scale-number">Activity ') >= 3
    response = http.post(
        f"/episodes/{episode.pk}/outcomes/psfs/",
        {"activity_0": "Sitting through a meeting", "item_0": "4", "activity_1": "Lifting", "item_1": "6",
         "activity_2": "Walking", "item_2": "8", "collected_on": harbour_today().isoformat()},
    )  # fmt: skip
    assert response.status_code == 302
    saved = MeasureResponse.objects.get()
    assert (saved.value, saved.item_labels) == (6.0, ["Sitting through a meeting", "Lifting", "Walking"])


def test_psfs_page_with_two_activities_says_it_takes_three_to_five(login, episode):
    """Stratford 1995: the page refuses two activities with the service's message, keeping them."""
    response = login("therapist").post(
        f"/episodes/{episode.pk}/outcomes/psfs/",
        {"activity_0": "Sitting through a meeting", "item_0": "4", "activity_1": "Lifting", "item_1": "6",
         "collected_on": harbour_today().isoformat()},
    )  # fmt: skip
    assert response.status_code == 400
    text = response.content.decode()
    assert "The PSFS takes 3 to 5 activities, each rated: 2 named, 2 rated." in text
    assert 'value="Lifting"' in text
    assert not MeasureResponse.objects.exists()


def test_send_page_explains_a_missing_consent(login, episode):
    text = login("therapist").get(f"/episodes/{episode.pk}/outcomes/send/").content.decode()
    assert "has not agreed to be contacted by email" in text


def test_send_page_is_audited_as_a_read_of_the_episode(login, episode):
    login("therapist").get(f"/episodes/{episode.pk}/outcomes/send/")
    event = AuditEvent.objects.get(object_type="outcomes.send")
    assert (event.action, event.object_id, event.client_id) == (Action.VIEW, str(episode.pk), episode.client_id)


def test_send_page_preselects_a_measure_due_by_signed_sessions(login, tess, episode, emailable):
    """NPRS is planned every 2 sessions: after two signed visits since its baseline it is due, and
    the send page ticks it (it counts the signed visits, as the chart does)."""
    today = harbour_today()
    services.response_record(
        actor=tess, episode=episode, measure_id="nprs", answers=[6], collected_on=today - timedelta(days=10)
    )
    signed_note(tess, episode, on=today - timedelta(days=7))
    signed_note(tess, episode, on=today - timedelta(days=3))
    text = login("therapist").get(f"/episodes/{episode.pk}/outcomes/send/").content.decode()
    assert re.search(r'<input[^>]*value="nprs"[^>]*checked', text), text


def test_send_page_emails_the_link(login, episode, emailable, mailoutbox, django_capture_on_commit_callbacks):
    http = login("therapist")
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(f"/episodes/{episode.pk}/outcomes/send/", {"measures": ["nprs", "odi"]})
    assert response.status_code == 302
    assert len(mailoutbox) == 1 and "http://testserver/q/" in mailoutbox[0].body
    assert QuestionnaireLink.objects.get().measures == ["nprs", "odi"]


def test_progress_page_draws_svg_charts_with_band_goal_and_sessions(login, tess, episode):
    today = harbour_today()
    clinical.assessment_save(
        actor=tess,
        episode=episode,
        data={"kind": "initial", "assessed_on": today - timedelta(days=20), "chief_complaint": "Low back pain"},
        rom=[RomInput("thoracolumbar_flexion", 40)],
    )
    clinical.assessment_save(
        actor=tess,
        episode=episode,
        data={"kind": "re_evaluation", "assessed_on": today, "chief_complaint": "Low back pain"},
        rom=[RomInput("thoracolumbar_flexion", 55)],
    )
    clinical.goal_save(
        actor=tess, episode=episode,
        data={"description": "Pain <b>down</b> to 3", "measure": "nprs", "baseline": 7, "target": 3},
    )  # fmt: skip
    signed_note(tess, episode, on=today - timedelta(days=14))
    services.response_record(
        actor=tess, episode=episode, measure_id="nprs", answers=[7], collected_on=today - timedelta(days=20)
    )
    services.response_record(actor=tess, episode=episode, measure_id="nprs", answers=[4])
    page = login("therapist").get(f"/episodes/{episode.pk}/progress/")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count("<svg") >= 2 and "<script" not in text.split("<svg", 1)[1]
    assert "Baseline ± MCID (2)" in text
    assert "Goal: Pain &lt;b&gt;down&lt;/b&gt; to 3" in text  # goal text is escaped inside the SVG
    assert "Session days" in text
    assert "Range of motion, % of normal" in text and "Normal (100%)" in text


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("therapist", 200), ("therapist2", 404), ("front_desk", 403), ("outsider", 404)],
)
@pytest.mark.parametrize(
    "path", ["/episodes/{}/progress/", "/episodes/{}/outcomes/nprs/", "/episodes/{}/outcomes/send/"]
)
def test_outcome_pages_follow_the_clinical_access_rules(login, episode, persona, status, path):
    assert login(persona).get(path.format(episode.pk)).status_code == status


def test_unknown_measure_is_404(login, episode):
    assert login("therapist").get(f"/episodes/{episode.pk}/outcomes/banana/").status_code == 404


def _count(http, path):
    http.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = http.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries), [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("path", ["/episodes/{}/", "/episodes/{}/progress/"])
def test_chart_and_progress_run_the_same_queries_with_few_and_many_responses(login, tess, episode, path):
    """The chart adds two queries for the card (responses, open links); the progress page reads
    responses, plan, signed visit days, goals, assessments + ROM. None per response."""
    http = login("therapist")
    grow_responses(tess, episode, 3)
    small = _count(http, path.format(episode.pk))
    grow_responses(tess, episode, 120)
    large = _count(http, path.format(episode.pk))
    if small[0] != large[0]:
        pytest.fail("\n".join([f"small: {small[0]}", *small[1], "", f"large: {large[0]}", *large[1]]))


def _open_planned_episode(tess, client, title):
    episode = clinical.episode_open(
        actor=tess, client=client, data={"title": title, "started_on": harbour_today() - timedelta(days=7)}
    )
    clinical.plan_save(
        actor=tess,
        episode=episode,
        data={
            "sessions_per_week": 1,
            "weeks": 4,
            "session_minutes": 60,
            "measures": [planned("nprs")],
        },
        techniques=[{"technique": "swedish", "region": "neck", "side": "", "pressure": 2}],
    )
    return episode


def test_today_lists_the_measures_due_with_record_links(login, tess, episode):
    http = login("therapist")
    text = http.get("/").content.decode()
    assert "Outcome measures due" in text
    assert f"/episodes/{episode.pk}/outcomes/odi/" in text and "Chronic low back pain" in text
    services.response_record(actor=tess, episode=episode, measure_id="nprs", answers=[6])
    services.response_record(actor=tess, episode=episode, measure_id="odi", answers=[2] * 10)
    services.response_record(
        actor=tess, episode=episode, measure_id="psfs", answers=[4, 5, 6], item_labels=["Sitting", "Lifting", "Walking"]
    )
    text = http.get("/").content.decode()
    assert f"/episodes/{episode.pk}/outcomes/" not in text
    assert "No outcome measure of your clients' plans of care is due." in text
    # Owners and front desk have no caseload of their own: no such list.
    assert "Outcome measures due" not in login("owner").get("/").content.decode()


def test_today_reads_what_is_due_in_the_same_queries_however_many_episodes(login, tess, personas, episode):
    http = login("therapist")

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert http.get("/").status_code == 200
        return len(captured.captured_queries)

    few = count()
    for n in range(3):
        _open_planned_episode(tess, personas.carol, f"Neck pain {n}")
    many = count()
    assert few == many
    assert http.get("/").content.decode().count("/outcomes/nprs/") == 4


def test_too_few_answers_ask_before_saving_as_not_computable(login, episode):
    http = login("therapist")
    url = f"/episodes/{episode.pk}/outcomes/odi/"
    posted = {"item_0": "2", "item_1": "3", "item_2": "1", "collected_on": harbour_today().isoformat()}
    asked = http.post(url, posted)
    assert asked.status_code == 400
    text = asked.content.decode()
    assert "Only 3 of 10 items are answered: too few to compute the ODI score." in text
    assert 'name="save_incomplete"' in text
    assert re.search(r'name="item_1" id="[^"]+" value="3" checked', text)  # nothing chosen is lost
    assert not MeasureResponse.objects.exists()
    saved = http.post(url, {**posted, "save_incomplete": "on"})
    assert saved.status_code == 302
    response = MeasureResponse.objects.get()
    assert (response.value, response.answered) == (None, 3)
    # Enough answers to score: saved at once, no question asked.
    enough = {f"item_{n}": "2" for n in range(9)} | {"collected_on": harbour_today().isoformat()}
    assert http.post(url, enough).status_code == 302
    assert MeasureResponse.objects.filter(value__isnull=False).count() == 1


def test_today_with_clinical_lists_is_audited(login, episode):
    from mend.audit.models import AuditEvent

    login("therapist").get("/")
    assert AuditEvent.objects.filter(object_type="clinical.today", action="view").count() == 1
    login("owner").get("/")  # no caseload lists: nothing clinical was read
    assert AuditEvent.objects.filter(object_type="clinical.today").count() == 1
