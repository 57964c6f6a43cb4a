"""The booking service: every route books through it, so its checks are the clinic's guarantees."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from mend.audit.models import AuditEvent
from mend.core.availability import exact_local
from mend.scheduling.models import Appointment, AppointmentStatus, HoursException, TimeOff
from mend.scheduling.services import (
    BookingConflict,
    appointment_book,
    appointment_cancel,
    appointment_move,
    appointment_status_set,
    overlapping_active,
)
from mend.testing import Personas, Schedule, build_schedule

ZONE = "America/Toronto"
# A Wednesday well after any frozen test clock, so "now" never interferes unless a test says so.
DAY = date(2027, 3, 17)
NOW = exact_local(date(2027, 3, 1), time(8), ZONE)


@pytest.fixture
def schedule(personas: Personas) -> Schedule:
    return build_schedule(personas)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return exact_local(day, time(hour, minute), ZONE)


def book(p: Personas, s: Schedule, start: datetime, *, who: str = "therapist", **kwargs):
    kwargs.setdefault("client", p.carol)
    kwargs.setdefault("appointment_type", s.treatment)
    kwargs.setdefault("now", NOW)
    return appointment_book(
        clinic=p.harbour,
        actor=kwargs.pop("actor", p.actor("front_desk")),
        therapist=p.memberships[who],
        starts_at=start,
        **kwargs,
    )


def test_a_booking_is_saved_with_its_room_and_buffers_and_audited(personas, schedule):
    appointment = book(personas, schedule, at(10))
    assert appointment.ends_at == at(11)
    assert appointment.room_id == personas.room.pk  # the first suitable room, in the clinic's order
    assert appointment.buffer_after_minutes == 15
    assert AuditEvent.objects.filter(object_type="scheduling.appointment", object_id=str(appointment.pk)).exists()


def test_half_open_ranges_let_back_to_back_appointments_coexist(personas, schedule):
    book(personas, schedule, at(10), appointment_type=schedule.initial)
    second = book(personas, schedule, at(10, 30), appointment_type=schedule.initial)
    assert second.starts_at == at(10, 30)


def test_the_same_therapist_and_time_is_refused_with_a_reason(personas, schedule):
    book(personas, schedule, at(10))
    with pytest.raises(BookingConflict, match="another appointment"):
        book(personas, schedule, at(10, 30), client=personas.dan)
    assert overlapping_active(personas.harbour.pk) == []


def test_a_hand_made_booking_inside_a_neighbours_buffer_is_refused(personas, schedule):
    book(personas, schedule, at(10))  # 10:00–11:00, then 15 minutes to turn the room over
    with pytest.raises(BookingConflict, match="buffers"):
        book(personas, schedule, at(11, 10), client=personas.dan)
    assert book(personas, schedule, at(11, 15), client=personas.dan).starts_at == at(11, 15)


def test_outside_working_hours_time_off_and_day_off_are_refused(personas, schedule):
    with pytest.raises(BookingConflict, match="not working"):
        book(personas, schedule, at(16, 30))  # would end 17:30
    TimeOff.objects.create(
        clinic=personas.harbour, therapist=personas.memberships["therapist"], first_day=DAY, last_day=DAY
    )
    with pytest.raises(BookingConflict, match="not working"):
        book(personas, schedule, at(10))
    HoursException.objects.create(
        clinic=personas.harbour, therapist=personas.memberships["therapist2"], day=DAY, kind="day_off"
    )
    with pytest.raises(BookingConflict, match="not working"):
        book(personas, schedule, at(10), who="therapist2")


def test_a_room_is_never_shared_even_by_two_therapists(personas, schedule):
    book(personas, schedule, at(10), room=personas.room)
    with pytest.raises(BookingConflict, match="room is booked"):
        book(personas, schedule, at(10), who="therapist2", client=personas.dan, room=personas.room)
    # Without a room asked for, the other one is assigned.
    other = book(personas, schedule, at(10), who="therapist2", client=personas.dan)
    assert other.room_id == schedule.room2.pk


def test_a_room_without_the_capability_is_refused(personas, schedule):
    schedule.room2.capabilities = ["accessible"]
    schedule.room2.save()
    with pytest.raises(BookingConflict, match="room lacks"):
        book(personas, schedule, at(10), room=schedule.room2)


def test_another_clinics_client_is_refused(personas, schedule):
    with pytest.raises(ValidationError) as error:
        book(personas, schedule, at(10), client=personas.stranger)
    assert "client" in error.value.message_dict


def test_a_naive_start_is_refused_naming_the_field(personas, schedule):
    with pytest.raises(ValidationError) as error:
        book(personas, schedule, datetime(2027, 3, 17, 10))
    assert "start" in error.value.message_dict


def test_a_start_in_the_past_is_refused(personas, schedule):
    with pytest.raises(BookingConflict, match="passed"):
        book(personas, schedule, at(10), now=at(10, 1))


def test_only_an_owner_or_admin_may_double_book_and_only_with_a_reason(personas, schedule):
    book(personas, schedule, at(10))
    with pytest.raises(PermissionDenied):
        book(personas, schedule, at(10), client=personas.dan, override_reason="Quick check-in")
    extra = book(
        personas,
        schedule,
        at(10),
        client=personas.dan,
        actor=personas.actor("owner"),
        override_reason="Quick check-in",
        appointment_type=schedule.initial,
        room=schedule.room2,
    )
    assert extra.override_reason == "Quick check-in"
    # An override still respects the hours.
    with pytest.raises(BookingConflict, match="not working"):
        book(personas, schedule, at(18), actor=personas.actor("owner"), override_reason="Late")


def test_cancelling_frees_the_time_and_a_second_cancel_is_a_conflict(personas, schedule):
    first = book(personas, schedule, at(10))
    cancelled = appointment_cancel(actor=personas.actor("front_desk"), appointment=first, reason="Client ill")
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert cancelled.sequence == 1
    assert book(personas, schedule, at(10), client=personas.dan).starts_at == at(10)
    with pytest.raises(BookingConflict, match="already cancelled"):
        appointment_cancel(actor=personas.actor("front_desk"), appointment=first)


def test_moving_checks_the_new_time_without_counting_itself(personas, schedule):
    first = book(personas, schedule, at(10))
    moved = appointment_move(actor=personas.actor("front_desk"), appointment=first, starts_at=at(10, 30), now=NOW)
    assert (moved.starts_at, moved.ends_at, moved.sequence) == (at(10, 30), at(11, 30), 1)
    book(personas, schedule, at(14), client=personas.dan)
    with pytest.raises(BookingConflict):
        appointment_move(actor=personas.actor("front_desk"), appointment=moved, starts_at=at(14, 30), now=NOW)


def test_status_follows_the_day(personas, schedule):
    appointment = book(personas, schedule, at(10))
    with pytest.raises(ValidationError):
        appointment_status_set(actor=personas.actor("front_desk"), appointment=appointment, status="arrived", now=NOW)
    arrived = appointment_status_set(
        actor=personas.actor("front_desk"), appointment=appointment, status="arrived", now=at(9, 55)
    )
    assert arrived.status == AppointmentStatus.ARRIVED
    with pytest.raises(BookingConflict):
        appointment_status_set(actor=personas.actor("front_desk"), appointment=arrived, status="no_show", now=at(10))


def test_two_requests_for_one_time_the_second_approval_is_a_conflict(personas, schedule):
    first = book(personas, schedule, at(10), status=AppointmentStatus.REQUESTED, channel=Appointment.Channel.ONLINE)
    second = book(
        personas,
        schedule,
        at(10),
        client=personas.dan,
        status=AppointmentStatus.REQUESTED,
        channel=Appointment.Channel.ONLINE,
    )
    appointment_status_set(actor=personas.actor("front_desk"), appointment=first, status="booked", now=NOW)
    with pytest.raises(BookingConflict):
        appointment_status_set(actor=personas.actor("front_desk"), appointment=second, status="booked", now=NOW)
    assert overlapping_active(personas.harbour.pk) == []


def test_online_bookings_stay_on_the_grid(personas, schedule):
    with pytest.raises(BookingConflict, match="grid"):
        book(personas, schedule, at(10, 15), channel=Appointment.Channel.ONLINE)
    assert book(personas, schedule, at(10), channel=Appointment.Channel.ONLINE).starts_at == at(10)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the exclusion constraints are PostgreSQL's")
def test_postgresql_refuses_an_overlap_written_past_the_service(personas, schedule):
    first = book(personas, schedule, at(10))
    clash = Appointment(
        clinic=personas.harbour,
        client=personas.dan,
        therapist=first.therapist,
        room=schedule.room2,
        location=personas.location,
        appointment_type=schedule.treatment,
        starts_at=at(10, 59),
        ends_at=at(11, 59),
    )
    with pytest.raises(IntegrityError, match="appointment_no_therapist_overlap"), transaction.atomic():
        clash.save()
    clash.starts_at, clash.ends_at = at(11), at(12)  # half-open: touching is not overlapping
    clash.save()
    assert clash.pk is not None


def test_bookings_across_the_dst_change_keep_their_local_time(personas, schedule):
    # Toronto falls back on 2027-11-07: a 10:00 booking either side is 10:00 on the clock.
    before = book(personas, schedule, at(10, day=date(2027, 11, 6)))
    after = book(personas, schedule, at(10, day=date(2027, 11, 8)))
    before.refresh_from_db()
    after.refresh_from_db()
    assert after.starts_at - before.starts_at == timedelta(days=2, hours=1)  # read back in UTC
    assert [a.starts_at.astimezone(ZoneInfo(ZONE)).time() for a in (before, after)] == [time(10), time(10)]


def test_an_appointment_over_the_fall_back_hour_lasts_its_real_duration(personas, schedule):
    # 90 minutes from 01:30 EDT on 2027-11-07 end at 02:00 EST: an hour and a half, not two and a half.
    long = schedule.treatment
    long.duration_minutes, long.buffer_after_minutes = 90, 0
    long.save()

    HoursException.objects.create(
        clinic=personas.harbour,
        therapist=personas.memberships["therapist"],
        day=date(2027, 11, 7),
        kind="extra",
        location=personas.location,
        start=time(0),
        end=time(4),
    )
    appointment = book(personas, schedule, at(1, 30, day=date(2027, 11, 7)))
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=90)
    assert appointment.ends_at.astimezone(ZoneInfo(ZONE)).time() == time(2)


def test_online_minimum_notice_holds_to_the_second(personas, schedule):
    schedule.treatment.min_notice_minutes = 120
    schedule.treatment.save()
    online = Appointment.Channel.ONLINE
    with pytest.raises(BookingConflict, match="notice"):
        book(personas, schedule, at(10), channel=online, now=at(8) + timedelta(seconds=1))
    assert book(personas, schedule, at(10), channel=online, now=at(8) - timedelta(seconds=1)).starts_at == at(10)
    # Staff book at short notice: the rule is for clients booking themselves.
    assert book(personas, schedule, at(12), who="therapist2", now=at(11, 59)).starts_at == at(12)


def test_the_daily_cap_counts_every_active_appointment_of_the_day(personas, schedule):
    schedule.initial.daily_cap = 2
    schedule.initial.save()
    kind = schedule.initial
    book(personas, schedule, at(9), appointment_type=kind)
    book(personas, schedule, at(10), appointment_type=kind)
    with pytest.raises(BookingConflict, match="at most 2"):
        book(personas, schedule, at(11), appointment_type=kind)
    assert book(personas, schedule, at(11), appointment_type=kind, who="therapist2").starts_at == at(11)


def test_a_new_client_online_for_a_by_request_type_gets_a_request(personas, schedule):
    schedule.initial.audience = "new_by_request"
    schedule.initial.save()
    asked = book(
        personas,
        schedule,
        at(10),
        appointment_type=schedule.initial,
        channel=Appointment.Channel.ONLINE,
        returning_client=False,
        actor=None,
    )
    assert asked.status == AppointmentStatus.REQUESTED
