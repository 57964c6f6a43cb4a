"""The episode of care through its services: what a therapist relies on when writing the record."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction

from mend.audit.models import AuditEvent
from mend.clinical import queries, services
from mend.clinical.models import NoteStatus, TreatmentNote
from mend.clinical.seal import addendum_seal_ok, note_seal_ok
from mend.clinical.services import FindingInput, NoteLocked, PainInput, PsfsInput, RomInput, TechniqueInput
from mend.testing import intake_answers, signed_note

# clock: dates here are the clinic's; scripts/test.sh runs this module at hours where UTC's differ.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def test_referral_with_an_unknown_code_names_the_field(tess, episode):
    with pytest.raises(ValidationError) as error:
        services.referral_save(
            actor=tess, episode=episode, diagnoses=["M54.5", "Q99.999X"], data={"referred_on": tess.today()}
        )
    assert "heading" in " ".join(error.value.message_dict["diagnoses"])
    assert len(error.value.message_dict["diagnoses"]) == 2


def test_referral_that_expired_before_it_was_written_is_refused(tess, episode):
    today = tess.today()
    with pytest.raises(ValidationError) as error:
        services.referral_save(
            actor=tess,
            episode=episode,
            diagnoses=["M54.50"],
            data={"referred_on": today, "valid_until": today - timedelta(days=1)},
        )
    assert "before it was written" in error.value.message_dict["valid_until"][0]


def test_referral_counts_signed_visits_until_exhausted(tess, episode, referral):
    for _ in range(3):
        signed_note(tess, episode)
    chart = queries.chart(episode)
    status = chart.referral_status[referral.pk]
    assert (status.state, status.visits_used, status.visits_left) == ("exhausted", 3, 0)


def test_a_signed_note_is_locked_and_its_hash_checks(tess, episode):
    note = signed_note(tess, episode)
    assert note.status == NoteStatus.SIGNED and note_seal_ok(note)
    with pytest.raises(NoteLocked, match="addendum"):
        services.note_update(actor=tess, note=note, data={"subjective": "changed"})
    note.refresh_from_db()
    assert note.subjective == "Stiff in the mornings."


@pytest.mark.clock
def test_an_addendum_is_dated_on_the_clinics_calendar_in_the_timeline(tess, episode):
    """An addendum signed at 22:30 in Toronto belongs to that day there, whatever UTC's date."""
    note = signed_note(tess, episode)
    addendum = services.addendum_add(actor=tess, note=note, text="Pain was 5 before.", reason="Correction")
    events = queries.timeline_for_reading(tess, episode.pk)
    [event] = [e for e in events if e.kind == "addendum"]
    assert event.on == tess.today() == addendum.signed_at.astimezone(ZoneInfo("America/Toronto")).date()


def test_the_database_refuses_to_change_a_signed_note(tess, episode):
    note = signed_note(tess, episode)
    with pytest.raises(DatabaseError), transaction.atomic():
        TreatmentNote.objects.filter(pk=note.pk).update(subjective="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        note.techniques.all().delete()


def test_an_addendum_amends_without_touching_the_note(tess, episode):
    note = signed_note(tess, episode)
    addendum = services.addendum_add(actor=tess, note=note, text="Pain was 5 before, not 6.", reason="Correction")
    note.refresh_from_db()
    assert note.pain_pre == 6 and note_seal_ok(note)
    assert len(addendum.content_hash) == 64 and addendum_seal_ok(addendum, note)


def test_fever_at_the_pre_session_check_stops_signing_that_day_only(tess, episode):
    today = tess.today()
    services.pre_session_check_record(
        actor=tess, episode=episode, data={"checked_on": today, "fever": True, "able_to_consent": True}
    )
    note = services.note_start(actor=tess, episode=episode, visit_on=today)
    services.note_update(
        actor=tess,
        note=note,
        data={"pain_pre": 5, "pain_post": 4},
        techniques=[TechniqueInput("swedish", "neck", 20, 2)],
    )
    with pytest.raises(ValidationError, match="no treatment"):
        services.note_sign(actor=tess, note=note)
    assert queries.screening_on(episode, today + timedelta(days=1)).status == "PROCEED"


def test_clearance_must_be_recorded_before_signing(tess, episode, personas):
    services.health_history_record(
        actor=tess,
        episode=episode,
        data={"medications": "Warfarin"},
        answers=intake_answers("recent_surgery"),
        findings=[FindingInput("recent_surgery", "knee", "left")],
    )
    note = services.note_start(actor=tess, episode=episode)
    services.note_update(
        actor=tess,
        note=note,
        data={"pain_pre": 5, "pain_post": 3},
        techniques=[TechniqueInput("swedish", "lower_back", 30, 2)],
    )
    with pytest.raises(ValidationError, match="clearance"):
        services.note_sign(actor=tess, note=note)
    services.clearance_record(
        actor=tess,
        episode=episode,
        data={
            "rule_id": "recent_surgery",
            "cleared_by": "Dr. Rita Referrer, family physician",
            "cleared_on": tess.today(),
        },
    )
    assert services.note_sign(actor=tess, note=note).is_signed


def test_assessment_refuses_impossible_values_and_keeps_nothing(tess, episode):
    with pytest.raises(ValidationError) as error:
        services.assessment_save(
            actor=tess,
            episode=episode,
            data={"chief_complaint": "Low back pain", "nprs": 11},
            pain=[PainInput("lower_back", 11)],
            rom=[RomInput("shoulder_flexion", 400, "left")],
        )
    errors = error.value.message_dict
    assert {"nprs", "pain_regions[0]", "rom[0]"} <= set(errors)
    assert "400°" in errors["rom[0]"][0]
    assert not episode.assessments.exists()


@pytest.mark.parametrize("count", [1, 2, 6])
def test_psfs_takes_three_to_five_activities(tess, episode, count):
    """Stratford 1995: the client names 3 to 5 activities. Whoever calls the service (page, API,
    import) gets the same refusal, naming the PSFS; an assessment without a PSFS is still fine."""
    with pytest.raises(ValidationError) as error:
        services.assessment_save(
            actor=tess,
            episode=episode,
            data={"chief_complaint": "Low back pain"},
            psfs=[PsfsInput(f"Activity {n}", 5) for n in range(count)],
        )
    assert error.value.message_dict["psfs"] == [
        f"The PSFS takes 3 to 5 activities, each rated; {count} {'was' if count == 1 else 'were'} given."
    ]
    assert not episode.assessments.exists()
    for fine in (0, 3, 5):
        saved = services.assessment_save(
            actor=tess,
            episode=episode,
            data={"chief_complaint": "Low back pain"},
            psfs=[PsfsInput(f"Activity {n}", 5) for n in range(fine)],
        )
        assert saved.psfs.count() == fine


def test_goals_follow_the_latest_measurement(tess, episode):
    services.assessment_save(
        actor=tess,
        episode=episode,
        data={"chief_complaint": "Low back pain", "nprs": 7},
        psfs=[PsfsInput("Bending to tie shoes", 3), PsfsInput("Sitting an hour", 4), PsfsInput("Lifting", 2)],
        rom=[RomInput("thoracolumbar_flexion", 50)],
    )
    services.goal_save(
        actor=tess,
        episode=episode,
        data={"description": "Pain 3 or less", "measure": "nprs", "baseline": 7, "target": 3},
    )
    services.goal_save(
        actor=tess,
        episode=episode,
        data={"description": "Tie shoes", "measure": "psfs:Bending to tie shoes", "baseline": 3, "target": 7},
    )
    signed_note(tess, episode, pain=(3, 2))
    goals = {g.label: g for g in queries.chart(episode).goals}
    assert goals["Pain 3 or less"].state == "met"
    assert goals["Tie shoes"].state == "progressing"


def test_plan_conflicting_with_screening_is_flagged(tess, episode):
    services.health_history_record(actor=tess, episode=episode, data={}, answers=intake_answers("anticoagulant"))
    services.plan_save(
        actor=tess,
        episode=episode,
        data={"sessions_per_week": 1, "weeks": 10, "session_minutes": 60},
        techniques=[{"technique": "deep_tissue", "region": "lower_back"}],
    )
    conflicts = queries.chart(episode).conflicts
    assert [c.rule_id for c in conflicts] == ["anticoagulant"]


def test_discharge_records_outcomes_and_closes_referrals(tess, episode, referral):
    services.goal_save(
        actor=tess, episode=episode, data={"description": "Pain ≤ 3", "measure": "nprs", "baseline": 7, "target": 3}
    )
    signed_note(tess, episode, pain=(3, 2))
    services.episode_discharge(actor=tess, episode=episode, reason="goals_met", summary="Back to gardening.")
    episode.refresh_from_db()
    assert episode.discharge_outcomes[0]["status"] == "met"
    referral.refresh_from_db()
    assert referral.closed_at is not None
    with pytest.raises(ValidationError):
        services.note_start(actor=tess, episode=episode)


def test_front_desk_cannot_write_the_clinical_record(personas, episode):
    with pytest.raises(PermissionDenied):
        services.note_start(actor=personas.actor("front_desk"), episode=episode)


def test_every_clinical_write_is_audited_with_the_client(tess, episode):
    signed_note(tess, episode)
    events = AuditEvent.objects.filter(object_type__startswith="clinical.")
    assert events.exists() and set(events.values_list("client_id", flat=True)) == {episode.client_id}


def test_the_latest_of_two_notes_on_one_day_is_the_one_written_last(tess, episode):
    services.goal_save(
        actor=tess, episode=episode, data={"description": "Pain ≤ 3", "measure": "nprs", "baseline": 7, "target": 3}
    )
    signed_note(tess, episode, pain=(6, 5))
    signed_note(tess, episode, pain=(4, 3))
    (goal,) = queries.chart(episode).goals
    assert goal.latest == 4
