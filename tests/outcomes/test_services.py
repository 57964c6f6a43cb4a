"""Recording responses: the score comes from mend.outcomes.score and is stored unrounded, with its
version; an uncomputable score is stored as None, never 0; every write is audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from mend.audit.models import Action, AuditEvent
from mend.clinical import services as clinical_services
from mend.outcomes import score, services
from mend.outcomes.models import MeasureResponse, Source
from mend.outcomes.scoring import SCORING_VERSION, measures
from mend.testing import harbour_today, signed_note

# clock: dates here are the clinic's; scripts/test.sh runs this module at hours where UTC's differ.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]

ODI = [3, 2, 1, 2, 2, 1, 2, None, 2, 1]  # 16/45 → 35.555…% (one blank section)


def test_clinic_response_stores_the_unrounded_score_band_and_version(tess, episode):
    response = services.response_record(actor=tess, episode=episode, measure_id="odi", answers=ODI)
    response.refresh_from_db()
    expected = score("odi", ODI)
    assert response.value == pytest.approx(16 / 45 * 100) == pytest.approx(expected.value)
    assert response.band == expected.band
    assert response.answers == ODI
    assert response.answered == 9
    assert response.scoring_version == SCORING_VERSION
    assert response.source == Source.CLINIC
    assert response.recorded_by == tess.membership
    assert (response.clinic_id, response.client_id) == (episode.clinic_id, episode.client_id)


def test_ndi_keeps_its_raw_score(tess, episode):
    response = services.response_record(actor=tess, episode=episode, measure_id="ndi", answers=[2] * 10)
    assert (response.value, response.raw) == (40.0, 20.0)


def test_too_many_blanks_store_no_score_not_zero(tess, episode):
    answers = [1, None, None, None, 1, 0, 1, 2, 1, 0]  # ODI scores with at most two blank sections
    assert score("odi", answers) is None
    response = services.response_record(actor=tess, episode=episode, measure_id="odi", answers=answers)
    response.refresh_from_db()
    assert response.value is None and response.band == "" and not response.computable
    assert response.answers == answers


def test_psfs_keeps_the_activities(tess, episode):
    labels = ["Sitting", "Lifting", "Walking"]
    response = services.response_record(
        actor=tess, episode=episode, measure_id="psfs", answers=[3, 5, 7], item_labels=labels
    )
    assert response.value == 5.0 and response.item_labels == labels


def test_the_psfs_form_offers_as_many_activities_as_the_registry_allows():
    assert measures()["psfs"].activities.max == services.PSFS_MAX_ACTIVITIES


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ([4, 6], "2 named, 2 rated"),
        ([4, None, 6], "3 named, 2 rated"),  # an unrated activity does not count (the score skips it)
        ([4, 5, 6, 7, 8, 9], "6 named, 6 rated"),
    ],
)
def test_psfs_takes_three_to_five_rated_activities(tess, episode, answers, message):
    """Stratford 1995: the client names 3 to 5 activities and rates each. The service refuses
    others, so the page, the API and a questionnaire link all get the same clear message."""
    with pytest.raises(ValidationError) as caught:
        services.response_record(
            actor=tess,
            episode=episode,
            measure_id="psfs",
            answers=answers,
            item_labels=[f"Activity {n}" for n in range(len(answers))],
        )
    assert caught.value.message_dict["answers"] == [f"The PSFS takes 3 to 5 activities, each rated: {message}."]
    assert not MeasureResponse.objects.exists()


@pytest.mark.parametrize(
    ("measure", "answers", "field", "message"),
    [
        ("odi", [6, 0, 0, 0, 0, 0, 0, 0, 0, 0], "answers", "outside 0–5"),
        ("odi", [1, 2], "answers", "10 items"),
        ("nprs", [None], "answers", "Nothing was answered"),
        ("nprs", ["a lot"], "answers", "not a number"),
        ("nope", [1], "measure", "not a measure"),
        ("psfs", [4, 5, 6], "item_labels", "Name each activity"),
    ],
)
def test_answers_are_checked_against_the_registry(tess, episode, measure, answers, field, message):
    with pytest.raises(ValidationError) as caught:
        services.response_record(actor=tess, episode=episode, measure_id=measure, answers=answers)
    assert message in " ".join(caught.value.message_dict[field])
    assert not MeasureResponse.objects.exists()


def test_collection_day_cannot_be_in_the_future(tess, episode):
    with pytest.raises(ValidationError) as caught:
        services.response_record(
            actor=tess, episode=episode, measure_id="nprs", answers=[4],
            collected_on=harbour_today() + timedelta(days=1),
        )  # fmt: skip
    assert "collected_on" in caught.value.message_dict


def test_session_number_counts_signed_visits_up_to_the_day(tess, episode):
    today = harbour_today()
    signed_note(tess, episode, on=today - timedelta(days=14))
    signed_note(tess, episode, on=today - timedelta(days=7))
    first = services.response_record(
        actor=tess, episode=episode, measure_id="nprs", answers=[7], collected_on=today - timedelta(days=14)
    )
    later = services.response_record(actor=tess, episode=episode, measure_id="nprs", answers=[4])
    assert (first.session_number, later.session_number) == (1, 2)


def test_recording_is_audited_with_the_client(tess, episode):
    response = services.response_record(actor=tess, episode=episode, measure_id="nprs", answers=[5])
    event = AuditEvent.objects.filter(action=Action.CREATE, object_type="outcomes.measureresponse").get()
    assert (event.object_id, event.client_id, event.user_id) == (str(response.pk), episode.client_id, tess.user.pk)


def test_front_desk_cannot_record(personas, episode):
    with pytest.raises(PermissionDenied):
        services.response_record(actor=personas.actor("front_desk"), episode=episode, measure_id="nprs", answers=[5])


def test_a_measure_recorded_in_the_evening_is_dated_the_clinics_day(personas, tess):
    """21:00 in Toronto is 02:00 the next day in UTC: the measure belongs to Toronto's day, and
    dating it that day explicitly is not "in the future"."""
    import time_machine

    from mend.clinical import services as clinical

    with time_machine.travel(datetime(2026, 3, 10, 2, 0, tzinfo=UTC), tick=False):
        episode = clinical.episode_open(
            actor=tess, client=personas.carol, data={"title": "Neck", "started_on": date(2026, 3, 1)}
        )
        implicit = services.response_record(actor=tess, episode=episode, measure_id="nprs", answers=[5])
        assert implicit.collected_on == date(2026, 3, 9)
        explicit = services.response_record(
            actor=tess, episode=episode, measure_id="nprs", answers=[4], collected_on=date(2026, 3, 9)
        )
        assert explicit.collected_on == date(2026, 3, 9)


def test_a_discharged_episode_takes_no_new_measure_whoever_records_it(tess, episode):
    """The read-only rule lives in the service: a page, the API or an import all get the refusal."""
    services.response_record(actor=tess, episode=episode, measure_id="nprs", answers=[5])
    clinical_services.episode_discharge(actor=tess, episode=episode, reason="goals_met")
    with pytest.raises(ValidationError, match="read-only"):
        services.response_record(actor=tess, episode=episode, measure_id="nprs", answers=[2])
    assert MeasureResponse.objects.filter(episode=episode).count() == 1
