"""The pre-session check: its safety questions start unanswered and must be answered (defect 2),
and every date it records is the clinic's, in the API as on the page (defect 3)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from mend.accounts.services import api_token_create
from mend.clinical import queries, services
from mend.clinical.models import PreSessionCheck

# 22:30 on 6 December in Toronto is already 7 December in UTC.
LATE_EVENING_TORONTO = datetime(2026, 12, 7, 3, 30, tzinfo=UTC)


def test_the_check_form_starts_with_both_safety_questions_unanswered(episode, login):
    page = login("therapist").get(f"/episodes/{episode.pk}/check/").content.decode()
    for name in ("fever", "able_to_consent"):
        assert f'name="{name}"' in page
        radios = [chunk for chunk in page.split("<input")[1:] if f'name="{name}"' in chunk.split(">")[0]]
        assert len(radios) == 2
        assert not any("checked" in radio.split(">")[0] for radio in radios), name


def test_a_check_without_the_safety_answers_is_refused_and_nothing_is_saved(episode, login):
    response = login("therapist").post(
        f"/episodes/{episode.pk}/check/", {"checked_on": episode.started_on.isoformat(), "new_symptoms": "None"}
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert content.count("Answer this safety question") >= 2
    assert "None" in content  # what was typed is still there
    assert not PreSessionCheck.objects.filter(episode=episode).exists()


@pytest.mark.parametrize("missing", ["fever", "able_to_consent"])
def test_the_service_refuses_a_check_with_an_unanswered_safety_question(tess, episode, missing):
    data = {"fever": False, "able_to_consent": True}
    del data[missing]
    with pytest.raises(ValidationError) as refused:
        services.pre_session_check_record(actor=tess, episode=episode, data=data)
    assert list(refused.value.message_dict) == [missing]


def test_the_api_names_each_unanswered_safety_question(personas, episode, client):
    membership = personas.memberships["therapist"]
    token = api_token_create(user=membership.user, clinic=membership.clinic).raw
    response = client.post(
        f"/api/v1/episodes/{episode.pk}/checks",
        {},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"fever", "able_to_consent"}


def test_a_fever_reported_through_the_api_late_in_the_evening_blocks_the_clinics_today(personas, client):
    """At 22:30 in Toronto the API stores Toronto's date, so the fever blocks that day, not tomorrow."""
    with time_machine.travel(LATE_EVENING_TORONTO, tick=False):
        tess = personas.actor("therapist")
        episode = services.episode_open(actor=tess, client=personas.carol, data={"title": "Neck pain"})
        assert episode.started_on == date(2026, 12, 6)
        token = api_token_create(user=tess.user, clinic=tess.clinic).raw
        response = client.post(
            f"/api/v1/episodes/{episode.pk}/checks",
            {"fever": True, "able_to_consent": True},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert response.status_code == 201, response.content
        assert response.json()["checked_on"] == "2026-12-06"
        assert response.json()["screening"]["can_treat"] is False
        assert queries.screening_on(episode, date(2026, 12, 6)).can_treat_today is False
        assert queries.screening_on(episode, date(2026, 12, 7)).can_treat_today is True


def test_the_actor_today_is_the_clinics_date_not_utcs(personas):
    with time_machine.travel(LATE_EVENING_TORONTO, tick=False):
        assert personas.actor("therapist").today() == date(2026, 12, 6)
