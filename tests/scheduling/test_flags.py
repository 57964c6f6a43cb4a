"""Booking flags: what every staff member sees before booking a client, and what only clinicians see."""

from __future__ import annotations

import dataclasses
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mend.clinical import services as clinical
from mend.clinical.services import FindingInput
from mend.core.availability import exact_local
from mend.scheduling.models import Appointment, AppointmentStatus
from mend.scheduling.queries.flags import (
    CLEARANCE_PENDING,
    DO_NOT_BOOK,
    BookingFlags,
    ClinicalFlags,
    booking_flags,
    referral_warnings,
)
from mend.testing import Personas, Schedule, build_schedule, signed_note

pytestmark = pytest.mark.clock  # visits ahead, expiry and today's screening are the clinic's dates


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


def _referral(tess, episode, personas, *, visits: int | None = 3, valid_days: int = 30):
    today = tess.today()
    return clinical.referral_save(
        actor=tess,
        episode=episode,
        provider=personas.referrer,
        diagnoses=["M54.50"],
        data={
            "referred_on": today - timedelta(days=10),
            "visits_authorised": visits,
            "valid_until": today + timedelta(days=valid_days),
            "reason": "Chronic low back pain, 6 months",
        },
    )


def at(personas: Personas, days: int, hour: int = 10) -> datetime:
    return exact_local(personas.today + timedelta(days=days), time(hour), personas.harbour.timezone)


def _appointment(personas: Personas, schedule: Schedule, starts_at: datetime, **kwargs) -> Appointment:
    # Rows made directly: these tests are about what is counted, not about the booking's checks.
    return Appointment.objects.create(
        clinic=personas.harbour,
        client=kwargs.pop("client", personas.carol),
        therapist=personas.memberships["therapist"],
        room=personas.room,
        location=personas.location,
        appointment_type=schedule.treatment,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        **kwargs,
    )


def test_visits_used_are_signed_notes_and_booked_are_appointments_ahead(personas, schedule, tess, episode):
    _referral(tess, episode, personas, visits=5)
    signed_note(tess, episode, on=personas.today - timedelta(days=7))
    _appointment(personas, schedule, at(personas, -7), status=AppointmentStatus.COMPLETED)  # counted by its note
    _appointment(personas, schedule, at(personas, -3), status=AppointmentStatus.NO_SHOW)  # no treatment
    _appointment(personas, schedule, at(personas, 2))
    _appointment(personas, schedule, at(personas, 9))
    _appointment(personas, schedule, at(personas, 16), status=AppointmentStatus.CANCELLED)

    flags = booking_flags(personas.actor("front_desk"), [personas.carol.pk], today=personas.today)
    auth = flags[personas.carol.pk].authorisation
    assert auth is not None
    assert (auth.visits_authorised, auth.visits_used, auth.visits_booked, auth.visits_left) == (5, 1, 2, 2)
    assert auth.valid_until == personas.today + timedelta(days=30)
    assert flags[personas.carol.pk].warnings == []


def test_a_visit_in_progress_counts_once_when_its_note_is_signed(personas, schedule, tess, episode):
    _referral(tess, episode, personas, visits=5)
    _appointment(personas, schedule, at(personas, 0, hour=0), status=AppointmentStatus.ARRIVED)
    auth = booking_flags(tess, [personas.carol.pk], today=personas.today)[personas.carol.pk].authorisation
    assert (auth.visits_used, auth.visits_booked) == (0, 1)
    signed_note(tess, episode)
    auth = booking_flags(tess, [personas.carol.pk], today=personas.today)[personas.carol.pk].authorisation
    assert (auth.visits_used, auth.visits_booked) == (1, 0)


def test_booking_the_last_authorised_visit_does_not_warn_and_one_more_does(personas, schedule, tess, episode):
    _referral(tess, episode, personas, visits=3)
    signed_note(tess, episode, on=personas.today - timedelta(days=2))
    _appointment(personas, schedule, at(personas, 3))
    front_desk = personas.actor("front_desk")

    assert referral_warnings(front_desk, client_id=personas.carol.pk, starts_at=at(personas, 10)) == []

    _appointment(personas, schedule, at(personas, 10))  # visit 3 of 3: all used or booked
    flags = booking_flags(front_desk, [personas.carol.pk], today=personas.today)[personas.carol.pk]
    assert flags.warnings == ["All 3 authorised visits are used or booked."]
    assert [w for _s, w in flags.authorisation.ahead] == [[], []]

    warnings = referral_warnings(front_desk, client_id=personas.carol.pk, starts_at=at(personas, 17))
    assert warnings == ["Beyond authorisation: visit 4 of 3 authorised."]


def test_moving_a_booked_visit_does_not_count_it_twice(personas, schedule, tess, episode):
    _referral(tess, episode, personas, visits=2)
    _appointment(personas, schedule, at(personas, 3))
    last = _appointment(personas, schedule, at(personas, 10))
    actor = personas.actor("front_desk")
    assert (
        referral_warnings(actor, client_id=personas.carol.pk, starts_at=at(personas, 12), exclude_appointment=last.pk)
        == []
    )


def test_booking_the_day_after_the_referral_expires_warns_and_on_its_last_day_does_not(
    personas, schedule, tess, episode
):
    referral = _referral(tess, episode, personas, visits=None, valid_days=5)
    actor = personas.actor("front_desk")
    last_day = referral.valid_until
    zone = personas.harbour.timezone
    # 23:30 on the last day is still inside it; 00:30 the next day is not (the clinic's dates, not UTC's).
    assert (
        referral_warnings(actor, client_id=personas.carol.pk, starts_at=exact_local(last_day, time(23, 30), zone)) == []
    )
    after = exact_local(last_day + timedelta(days=1), time(0, 30), zone)
    expected = f"After the referral expires ({last_day:%-d %b %Y})."
    assert referral_warnings(actor, client_id=personas.carol.pk, starts_at=after) == [expected]


def test_an_expired_referral_warns_the_front_desk(personas, schedule, tess, episode):
    referral = _referral(tess, episode, personas, visits=None, valid_days=5)
    flags = booking_flags(
        personas.actor("front_desk"), [personas.carol.pk], today=referral.valid_until + timedelta(days=1)
    )[personas.carol.pk]
    assert flags.warnings == [f"Referral expired on {referral.valid_until:%-d %b %Y}."]


def test_booked_beyond_authorisation_is_flagged_on_the_client_and_the_appointment(personas, schedule, tess, episode):
    _referral(tess, episode, personas, visits=1)
    first = at(personas, 2)
    second = at(personas, 9)
    _appointment(personas, schedule, first)
    _appointment(personas, schedule, second)
    flags = booking_flags(personas.actor("front_desk"), [personas.carol.pk], today=personas.today)[personas.carol.pk]
    assert flags.warnings == ["Booked beyond authorisation: 2 visits used or booked, 1 authorised."]
    assert flags.authorisation.appointment_warnings(first) == []
    assert flags.authorisation.appointment_warnings(second) == ["Beyond authorisation: visit 2 of 1 authorised."]


def test_no_referral_means_no_authorisation_and_no_warning(personas, schedule, tess, episode):
    flags = booking_flags(personas.actor("front_desk"), [personas.carol.pk], today=personas.today)
    assert flags[personas.carol.pk].authorisation is None
    assert referral_warnings(personas.actor("front_desk"), client_id=personas.carol.pk, starts_at=at(personas, 2)) == []


def test_front_desk_sees_do_not_book_without_the_finding(personas, schedule, tess, episode):
    clinical.finding_add(actor=tess, episode=episode, finding=FindingInput("fever", note="Feverish since Monday"))
    flags = booking_flags(personas.actor("front_desk"), [personas.carol.pk], today=personas.today)[personas.carol.pk]
    assert type(flags) is BookingFlags
    assert flags.booking_flag == DO_NOT_BOOK
    # Nothing clinical on the object: no attribute that could carry it, no text that names it.
    names = {f.name for f in dataclasses.fields(flags)}
    # Badges other apps add for booking (billing's package balance) carry no clinical reason either.
    assert names == {"client_id", "authorisation", "booking_flag", "badges"}
    assert not hasattr(flags, "screening") and not hasattr(flags, "due")
    text = repr(flags).lower()
    for clinical_word in ("fever", "feverish", "low back", "block", "refer"):
        assert clinical_word not in text


def test_front_desk_sees_clearance_pending_until_the_clearance_is_recorded(personas, schedule, tess, episode):
    clinical.finding_add(actor=tess, episode=episode, finding=FindingInput("bleeding_disorder"))
    front_desk = personas.actor("front_desk")
    flags = booking_flags(front_desk, [personas.carol.pk], today=personas.today)[personas.carol.pk]
    assert flags.booking_flag == CLEARANCE_PENDING
    assert "bleeding" not in repr(flags).lower()
    clinical.clearance_record(
        actor=tess,
        episode=episode,
        data={"rule_id": "bleeding_disorder", "cleared_by": "Dr Osei, GP", "cleared_on": personas.today},
    )
    assert booking_flags(front_desk, [personas.carol.pk], today=personas.today)[personas.carol.pk].booking_flag == ""


def test_clinicians_get_the_screening_flags_and_measures_due(personas, schedule, tess, episode):
    clinical.finding_add(actor=tess, episode=episode, finding=FindingInput("fever"))
    flags = booking_flags(tess, [personas.carol.pk], today=personas.today)[personas.carol.pk]
    assert isinstance(flags, ClinicalFlags)
    assert flags.booking_flag == DO_NOT_BOOK
    assert [f.rule_ids for f in flags.screening] == [["fever"]]
    assert flags.screening[0].episode == episode


def test_a_resolved_finding_and_a_discharged_episode_flag_nothing(personas, schedule, tess, episode):
    finding = clinical.finding_add(actor=tess, episode=episode, finding=FindingInput("fever"))
    clinical.finding_resolve(actor=tess, finding=finding, on=personas.today)
    assert booking_flags(tess, [personas.carol.pk], today=personas.today)[personas.carol.pk].booking_flag == ""


def test_another_clinics_client_is_left_out(personas, schedule):
    flags = booking_flags(personas.actor("front_desk"), [personas.stranger.pk], today=personas.today)
    assert flags[personas.stranger.pk].authorisation is None
    assert flags[personas.stranger.pk].booking_flag == ""


def test_the_number_of_queries_does_not_grow_with_the_clients(personas, schedule, tess, episode):
    _referral(tess, episode, personas)
    clinical.finding_add(actor=tess, episode=episode, finding=FindingInput("bleeding_disorder"))

    def count(client_ids: list[int]) -> int:
        with CaptureQueriesContext(connection) as queries:
            booking_flags(personas.actor("owner"), client_ids, today=personas.today)
        return len(queries)

    few = count([personas.carol.pk])
    many = count([personas.carol.pk, personas.dan.pk, *range(10_000, 10_040)])
    assert few == many


def test_the_chart_shows_visits_booked_ahead_and_the_warning_beyond_authorisation(
    login, personas, schedule, tess, episode
):
    _referral(tess, episode, personas, visits=1)
    _appointment(personas, schedule, at(personas, 2))
    _appointment(personas, schedule, at(personas, 9))
    page = login("therapist").get(f"/episodes/{episode.pk}/").content.decode()
    assert "Visits booked against the referral" in page
    assert "0 of 1 visits used · 2 booked ahead · 0 left to book" in page
    assert "Booked beyond authorisation: 2 visits used or booked, 1 authorised." in page
    assert "Beyond authorisation: visit 2 of 1 authorised." in page


def test_the_chart_of_a_client_without_a_referral_adds_nothing(login, personas, schedule, tess, episode):
    page = login("therapist").get(f"/episodes/{episode.pk}/").content.decode()
    assert "Visits booked against the referral" not in page


def test_booking_beyond_authorisation_on_the_calendar_books_and_warns_the_front_desk(
    login, personas, schedule, tess, episode
):
    _referral(tess, episode, personas, visits=1)
    _appointment(personas, schedule, at(personas, 2))  # the one visit authorised
    day = personas.today + timedelta(days=3)
    form = {
        "client": personas.carol.pk,
        "therapist": personas.memberships["therapist"].pk,
        "appointment_type": schedule.initial.pk,
        "day": day.isoformat(),
        "time": "11:00",
    }
    response = login("front_desk").post("/schedule/new/", form, follow=True)
    assert response.status_code == 200
    assert Appointment.objects.filter(client=personas.carol, status=AppointmentStatus.BOOKED).count() == 2
    assert "Beyond authorisation: visit 2 of 1 authorised." in response.content.decode()
