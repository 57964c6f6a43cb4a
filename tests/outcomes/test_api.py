"""/api/v1: the measure registry, an episode's responses, questionnaire links."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mend.audit.models import Action, AuditEvent
from mend.outcomes import score
from mend.outcomes.models import MeasureResponse, QuestionnaireLink

from .conftest import grow_responses

# clock: dates here are the clinic's; scripts/test.sh runs this module at hours where UTC's differ.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def test_measures_lists_the_registry(api):
    response = api("therapist").get("/measures")
    assert response.status_code == 200
    body = {m["id"]: m for m in response.json()}
    assert body["nprs"]["mcid"]["absolute"] == 2 and body["nprs"]["construct"] == "Pain intensity"
    assert body["odi"]["ships_text"] is False and body["odi"]["item_text"] == []
    assert len(body["odi"]["item_ids"]) == 10


def test_measures_say_each_responder_rule_and_where_its_values_come_from(api):
    body = {m["id"]: m for m in api("therapist").get("/measures").json()}
    nprs, pss = body["nprs"]["mcid"], body["pss10"]["mcid"]
    assert (nprs["absolute"], nprs["relative"], nprs["rule"]) == (2, 0.3, "either")
    assert nprs["rule_text"] == "2 points or 30% better than baseline"
    assert set(nprs["sources"]) == {"absolute", "relative", "rule"} and "Ostelo" in nprs["sources"]["rule"]
    assert (pss["rule"], pss["rule_text"]) == ("both", "11 points and 28% better than baseline")
    assert body["pgic"]["mcid"]["rule"] is None and body["pgic"]["mcid"]["rule_text"] == "a latest answer of 2 or lower"


def test_post_and_list_responses(api, episode):
    odi = [3, 2, 1, 2, 2, 1, 2, None, 2, 1]
    created = api("therapist").post(f"/episodes/{episode.pk}/responses", {"measure": "odi", "answers": odi})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["score"] == pytest.approx(score("odi", odi).value) and body["computable"] is True
    assert body["source"] == "clinic" and body["answers"] == odi
    blank = api("therapist").post(
        f"/episodes/{episode.pk}/responses", {"measure": "odi", "answers": [1, None, None, None, 1, 0, 1, 2, 1, 0]}
    )
    assert blank.json()["score"] is None and blank.json()["computable"] is False
    listed = api("owner").get(f"/episodes/{episode.pk}/responses")
    assert listed.status_code == 200 and [r["measure"] for r in listed.json()] == ["odi", "odi"]
    assert AuditEvent.objects.filter(action=Action.VIEW, object_type="outcomes.response_list").exists()


def test_invalid_answers_name_the_field(api, episode):
    response = api("therapist").post(f"/episodes/{episode.pk}/responses", {"measure": "nprs", "answers": [11]})
    assert response.status_code == 422
    assert "outside 0–10" in response.json()["errors"]["answers"][0]
    assert not MeasureResponse.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("front_desk", 403), ("outsider", 404), ("therapist2", 404)])
def test_responses_follow_the_access_rules(api, episode, persona, status):
    assert api(persona).get(f"/episodes/{episode.pk}/responses").status_code == status
    post = api(persona).post(f"/episodes/{episode.pk}/responses", {"measure": "nprs", "answers": [3]})
    assert post.status_code == status
    link = api(persona).post(f"/episodes/{episode.pk}/questionnaire-links", {"measures": ["nprs"]})
    assert link.status_code == status


def test_questionnaire_link_is_created_and_emailed(
    api, episode, emailable, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api("therapist").post(f"/episodes/{episode.pk}/questionnaire-links", {"measures": ["nprs", "odi"]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sent_to"] == "carol@example.net" and body["url"].startswith("http://testserver/q/")
    assert len(mailoutbox) == 1 and body["url"] in mailoutbox[0].body
    assert QuestionnaireLink.objects.get().measures == ["nprs", "odi"]


def test_questionnaire_link_without_consent_is_422(api, episode):
    response = api("therapist").post(f"/episodes/{episode.pk}/questionnaire-links", {"measures": ["nprs"]})
    assert response.status_code == 422
    assert "agreed to be contacted by email" in response.json()["errors"]["__all__"][0]


def test_response_list_runs_the_same_queries_for_few_and_many(api, episode, tess):
    reader = api("therapist")
    path = f"/episodes/{episode.pk}/responses"
    counts = []
    for n in (3, 150):
        grow_responses(tess, episode, n)
        reader.get(path)
        with CaptureQueriesContext(connection) as captured:
            assert reader.get(path).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_the_api_reference_says_psfs_takes_three_to_five_activities(client):
    # Stratford 1995: the client names 3 to 5 activities; the service refuses fewer or more, so the
    # reference an integrator reads must not promise 1 to 5.
    schema = client.get("/api/v1/openapi.json").json()
    items = schema["components"]["schemas"]["MeasureOut"]["properties"]["items"]["description"]
    assert "3 to 5 activities" in items and "1–5" not in items
