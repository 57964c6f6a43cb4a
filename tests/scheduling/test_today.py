"""Today: a therapist's day in order with what each visit needs; the clinic's day for everyone else."""

from __future__ import annotations

import html
from datetime import datetime, time, timedelta

import pytest

from mend.audit.models import AuditEvent
from mend.clinical import services as clinical
from mend.clinical.models import TreatmentNote
from mend.clinical.services import FindingInput
from mend.core.availability import exact_local
from mend.scheduling.models import Appointment, AppointmentStatus
from mend.testing import Personas, Schedule, build_schedule

pytestmark = pytest.mark.clock  # "today" is the clinic's local date


@pytest.fixture
def schedule(personas: Personas) -> Schedule:
    return build_schedule(personas)


@pytest.fixture
def episode(personas, tess):
    return clinical.episode_open(
        actor=tess,
        client=personas.carol,
        data={"title": "Chronic low back pain", "condition": "low_back_pain", "started_on": tess.today()},
    )


def local(personas: Personas, hour: int, minute: int = 0, *, days: int = 0) -> datetime:
    return exact_local(personas.today + timedelta(days=days), time(hour, minute), personas.harbour.timezone)


def _appointment(personas: Personas, schedule: Schedule, starts_at: datetime, **kwargs) -> Appointment:
    # Rows made directly: the day is about what is shown, not about the booking's checks.
    kind = kwargs.pop("appointment_type", schedule.treatment)
    return Appointment.objects.create(
        clinic=personas.harbour,
        client=kwargs.pop("client", personas.carol),
        therapist=kwargs.pop("therapist", personas.memberships["therapist"]),
        room=kwargs.pop("room", personas.room),
        location=personas.location,
        appointment_type=kind,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=kind.duration_minutes),
        **kwargs,
    )


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _rows(response) -> list[Appointment]:
    return [row.appointment for row in response.context["day"].appointments]


def test_the_therapists_day_lists_their_local_days_appointments_in_order(login, personas, schedule):
    late = _appointment(personas, schedule, local(personas, 23, 30), client=personas.dan)
    early = _appointment(personas, schedule, local(personas, 0, 15))
    middle = _appointment(personas, schedule, local(personas, 13))
    # Not today in the clinic's zone, though the same UTC date as some of the above.
    _appointment(personas, schedule, local(personas, 0, 30, days=1))
    _appointment(personas, schedule, local(personas, 23, 0, days=-1))
    # Not Tess's, cancelled, or only a request: not on her day.
    _appointment(
        personas, schedule, local(personas, 10), therapist=personas.memberships["therapist2"], room=schedule.room2
    )
    _appointment(personas, schedule, local(personas, 15), status=AppointmentStatus.CANCELLED)
    _appointment(personas, schedule, local(personas, 17), status=AppointmentStatus.REQUESTED)

    response = login("therapist").get("/")
    assert _rows(response) == [early, middle, late]
    page = _text(response)
    assert "Your day" in page
    assert "Treatment 60 · Room 1" in page
    assert 'href="/schedule/"' in page


def test_owner_and_front_desk_see_the_clinics_day_across_therapists(login, personas, schedule):
    tess = _appointment(personas, schedule, local(personas, 10))
    theo = _appointment(
        personas, schedule, local(personas, 10), therapist=personas.memberships["therapist2"], room=schedule.room2
    )
    for persona in ("owner", "front_desk"):
        response = login(persona).get("/")
        assert {a.pk for a in _rows(response)} == {tess.pk, theo.pk}, persona
        assert "The clinic's day" in _text(response)


def test_front_desk_sees_booking_flags_but_nothing_clinical(login, personas, schedule, tess, episode):
    clinical.finding_add(actor=tess, episode=episode, finding=FindingInput("fever", note="Feverish since Monday"))
    clinical.referral_save(
        actor=tess,
        episode=episode,
        provider=personas.referrer,
        diagnoses=["M54.50"],
        data={"referred_on": personas.today - timedelta(days=3), "visits_authorised": 4, "reason": "Sciatica flare"},
    )
    _appointment(personas, schedule, local(personas, 10))

    page = _text(login("front_desk").get("/"))
    assert "Do not book: see therapist" in page
    assert "0 of 4 used, 3 left to book" in page
    for clinical_text in ("Fever", "Feverish", "Chronic low back pain", "Sciatica", "M54", "No treatment today"):
        assert clinical_text not in page, clinical_text
    assert f"/episodes/{episode.pk}/" not in page  # no chart link: the client's page instead
    assert f"/clients/{personas.carol.pk}/" in page

    therapist_page = _text(login("therapist").get("/"))
    assert "Fever or acute febrile illness" in therapist_page
    assert f"/episodes/{episode.pk}/" in therapist_page


def test_the_appointments_referral_warning_shows_on_the_day(login, personas, schedule, tess, episode):
    clinical.referral_save(
        actor=tess,
        episode=episode,
        provider=personas.referrer,
        diagnoses=["M54.50"],
        data={"referred_on": personas.today - timedelta(days=3), "visits_authorised": 1},
    )
    _appointment(personas, schedule, local(personas, 9))
    _appointment(personas, schedule, local(personas, 15))
    page = _text(login("front_desk").get("/"))
    assert page.count("Beyond authorisation: visit 2 of 1 authorised.") == 1


def test_status_buttons_mark_arrived_then_completed(login, personas, schedule):
    appointment = _appointment(personas, schedule, local(personas, 10))
    http = login("front_desk")
    page = _text(http.get("/"))
    assert f'action="/today/appointments/{appointment.pk}/status/"' in page
    assert 'value="arrived"' in page and 'value="no_show"' in page

    response = http.post(f"/today/appointments/{appointment.pk}/status/", {"status": "arrived"})
    assert response.status_code == 302 and response["Location"] == "/"
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.ARRIVED

    http = login("therapist")
    http.post(f"/today/appointments/{appointment.pk}/status/", {"status": "completed"})
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.COMPLETED
    assert AuditEvent.objects.filter(object_type="scheduling.appointment", object_id=str(appointment.pk)).count() == 2


def test_a_refused_status_is_a_message_on_the_day_not_an_error(login, personas, schedule):
    appointment = _appointment(personas, schedule, local(personas, 10), status=AppointmentStatus.COMPLETED)
    tomorrow = _appointment(personas, schedule, local(personas, 10, days=1), client=personas.dan)
    http = login("front_desk")
    response = http.post(f"/today/appointments/{appointment.pk}/status/", {"status": "no_show"}, follow=True)
    assert "A completed appointment cannot be marked no-show." in _text(response)
    response = http.post(f"/today/appointments/{tomorrow.pk}/status/", {"status": "arrived"}, follow=True)
    assert "That appointment's day has not come yet." in _text(response)
    response = http.post(f"/today/appointments/{tomorrow.pk}/status/", {"status": "lost"}, follow=True)
    assert "Choose arrived, completed, no-show or booked" in _text(response)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.COMPLETED


def test_a_therapist_cannot_mark_a_colleagues_appointment(login, personas, schedule):
    theirs = _appointment(
        personas, schedule, local(personas, 10), therapist=personas.memberships["therapist2"], room=schedule.room2
    )
    assert login("therapist").post(f"/today/appointments/{theirs.pk}/status/", {"status": "arrived"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == AppointmentStatus.BOOKED


def test_start_the_note_takes_its_minutes_and_date_from_the_appointment(login, personas, schedule, episode):
    _appointment(personas, schedule, local(personas, 10), appointment_type=schedule.initial)  # 30 minutes
    http = login("therapist")
    page = _text(http.get("/"))
    assert f'action="/episodes/{episode.pk}/notes/new/"' in page
    assert 'name="duration_minutes" value="30"' in page

    response = http.post(
        f"/episodes/{episode.pk}/notes/new/", {"visit_on": personas.today.isoformat(), "duration_minutes": "30"}
    )
    note = TreatmentNote.objects.get(episode=episode)
    assert response["Location"] == f"/notes/{note.pk}/edit/"
    assert (note.duration_minutes, note.visit_on) == (30, personas.today)


def test_a_session_length_out_of_range_names_the_field(login, personas, episode):
    response = login("therapist").post(f"/episodes/{episode.pk}/notes/new/", {"duration_minutes": "400"}, follow=True)
    assert "The session length runs from 5 to 180 minutes." in _text(response)
    assert not TreatmentNote.objects.filter(episode=episode).exists()


def test_only_the_visits_therapist_is_offered_to_start_its_note(login, personas, schedule, episode):
    _appointment(personas, schedule, local(personas, 10))
    page = _text(login("owner").get("/"))
    assert "Start the note" not in page
    assert f"/episodes/{episode.pk}/" in page  # the owner still gets the chart


def test_an_empty_day_says_so_and_offers_the_calendar(login, personas, schedule):
    for persona, words in (("therapist", "No appointments for you today."), ("front_desk", "Nobody is booked")):
        page = _text(login(persona).get("/"))
        assert words in page
        assert "Open the calendar" in page


def test_reading_the_day_is_audited(login, personas, schedule):
    _appointment(personas, schedule, local(personas, 10))
    login("front_desk").get("/")
    assert AuditEvent.objects.filter(object_type="scheduling.day").exists()
