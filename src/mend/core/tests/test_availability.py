from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mend.core.availability import (
    Appointment,
    AppointmentType,
    BusyIndex,
    ClinicCalendar,
    Closure,
    DateSpan,
    ExtraHours,
    Interval,
    Room,
    Therapist,
    WeeklyHours,
    booking_conflict,
    free_slots,
    is_free,
    local_instant,
)

TORONTO = ZoneInfo("America/Toronto")
DAY = date(2026, 12, 1)  # a Tuesday
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
TABLE = frozenset({"table"})
HOUR = timedelta(hours=1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TORONTO)


def every_day(start: time, end: time, location: int = 1) -> tuple[WeeklyHours, ...]:
    return tuple(WeeklyHours(weekday=w, start=start, end=end, location=location) for w in range(7))


def treatment(minutes: int = 60, *, before: int = 0, after: int = 0, needs: str | None = "table") -> AppointmentType:
    return AppointmentType(
        duration=timedelta(minutes=minutes),
        therapists=frozenset({1, 2}),
        buffer_before=timedelta(minutes=before),
        buffer_after=timedelta(minutes=after),
        room_capability=needs,
    )


def calendar(*, therapists=None, rooms=None, appointments=(), closures=()) -> ClinicCalendar:
    return ClinicCalendar(
        zone="America/Toronto",
        therapists=therapists or (Therapist(id=1, weekly=every_day(time(9), time(17))),),
        rooms=rooms or (Room(id=10, location=1, capabilities=TABLE),),
        appointments=tuple(appointments),
        closures=tuple(closures),
    )


def local_starts(slots, day: date = DAY) -> list[str]:
    return [s.start.astimezone(TORONTO).strftime("%H:%M") for s in slots if s.start.astimezone(TORONTO).date() == day]


def slots_on(cal: ClinicCalendar, kind: AppointmentType, day: date = DAY, *, now=LONG_AGO, step=15):
    return free_slots(calendar=cal, appointment_type=kind, first=day, last=day, now=now, step=timedelta(minutes=step))


# --- Worked examples -----------------------------------------------------------------------------


def test_buffers_on_both_sides_keep_new_bookings_clear_of_an_appointment():
    # Booked 10:00-11:00 with 15 minutes after: busy 10:00-11:15. A 60-minute treatment with
    # 15 minutes after needs 75 minutes clear of that: it ends by 10:00 or starts from 11:15.
    cal = calendar(
        therapists=(Therapist(id=1, weekly=every_day(time(8), time(13))),),
        appointments=[Appointment(at(DAY, 10), at(DAY, 11), 1, 10, buffer_after=timedelta(minutes=15))],
    )
    assert local_starts(slots_on(cal, treatment(after=15))) == [
        "08:00", "08:15", "08:30", "08:45", "11:15", "11:30", "11:45", "12:00",
    ]  # fmt: skip


def test_buffer_before_the_new_booking_also_keeps_it_clear():
    cal = calendar(appointments=[Appointment(at(DAY, 10), at(DAY, 11), 1, 10)])
    assert "11:00" not in local_starts(slots_on(cal, treatment(before=10)))
    assert "11:15" in local_starts(slots_on(cal, treatment(before=10)))


def test_an_appointments_own_buffer_before_keeps_the_previous_booking_clear():
    cal = calendar(
        therapists=(Therapist(id=1, weekly=every_day(time(8), time(13))),),
        appointments=[Appointment(at(DAY, 10), at(DAY, 11), 1, 10, buffer_before=timedelta(minutes=15))],
    )
    starts = local_starts(slots_on(cal, treatment()))
    assert "08:45" in starts and "09:00" not in starts


def test_half_open_appointments_may_meet_end_to_start():
    cal = calendar(appointments=[Appointment(at(DAY, 10), at(DAY, 11), 1, 10)])
    starts = local_starts(slots_on(cal, treatment()))
    assert "09:00" in starts and "11:00" in starts
    assert "09:15" not in starts and "10:45" not in starts


def test_a_slot_needs_a_room_with_the_capability_free_at_that_time():
    rooms = (
        Room(id=10, location=1, capabilities=TABLE),
        Room(id=12, location=1, capabilities=frozenset({"table", "hydrotherapy"})),
    )
    # Another therapist holds the only hydrotherapy room 9:00-10:00.
    cal = calendar(rooms=rooms, appointments=[Appointment(at(DAY, 9), at(DAY, 10), 2, 12)])
    hydro = slots_on(cal, treatment(needs="hydrotherapy"))
    assert local_starts(hydro)[0] == "10:00"
    assert {s.room for s in hydro} == {12}
    # A plain treatment takes the other room at 9:00.
    plain = slots_on(cal, treatment())
    assert (local_starts(plain)[0], plain[0].room) == ("09:00", 10)


def test_the_room_is_at_the_location_where_the_therapist_works_that_day():
    monday, tuesday = date(2026, 11, 30), date(2026, 12, 1)
    weekly = (
        WeeklyHours(weekday=0, start=time(9), end=time(12), location=1),
        WeeklyHours(weekday=1, start=time(9), end=time(12), location=2),
    )
    rooms = (Room(id=10, location=1, capabilities=TABLE), Room(id=20, location=2, capabilities=TABLE))
    cal = calendar(therapists=(Therapist(id=1, weekly=weekly),), rooms=rooms)
    slots = free_slots(calendar=cal, appointment_type=treatment(), first=monday, last=tuesday, now=LONG_AGO)
    assert {s.room for s in slots if s.start.astimezone(TORONTO).date() == monday} == {10}
    assert {s.room for s in slots if s.start.astimezone(TORONTO).date() == tuesday} == {20}
    assert (
        booking_conflict(
            calendar=cal, appointment_type=treatment(), start=at(tuesday, 9), therapist=1, room=10, now=LONG_AGO
        )
        == "The room is at another location than the therapist works then."
    )
    # No room with hydrotherapy at the second location: nothing on Tuesday.
    rooms_hydro = (Room(id=10, location=1, capabilities=frozenset({"hydrotherapy"})), rooms[1])
    cal = calendar(therapists=(Therapist(id=1, weekly=weekly),), rooms=rooms_hydro)
    slots = free_slots(
        calendar=cal, appointment_type=treatment(needs="hydrotherapy"), first=monday, last=tuesday, now=LONG_AGO
    )
    assert {s.start.astimezone(TORONTO).date() for s in slots} == {monday}


def test_time_off_as_days_or_as_an_interval_removes_those_hours():
    whole_day = Therapist(id=1, weekly=every_day(time(9), time(17)), time_off=(DateSpan(DAY, DAY),))
    assert slots_on(calendar(therapists=(whole_day,)), treatment()) == []
    afternoon = Therapist(id=1, weekly=every_day(time(9), time(17)), time_off=(Interval(at(DAY, 12), at(DAY, 17)),))
    starts = local_starts(slots_on(calendar(therapists=(afternoon,)), treatment()))
    assert starts[0] == "09:00" and starts[-1] == "11:00"


def test_days_off_drop_the_template_and_extra_hours_add_to_it():
    therapist = Therapist(
        id=1,
        weekly=every_day(time(9), time(17)),
        days_off=frozenset({DAY}),
        extra=(ExtraHours(day=DAY, start=time(18), end=time(20), location=1),),
    )
    assert local_starts(slots_on(calendar(therapists=(therapist,)), treatment())) == [
        "18:00", "18:15", "18:30", "18:45", "19:00",
    ]  # fmt: skip


def test_a_closure_of_the_clinic_or_of_the_therapists_location_removes_those_hours():
    closed = calendar(closures=[Closure(DateSpan(DAY, DAY))])
    assert slots_on(closed, treatment()) == []
    other_location = calendar(closures=[Closure(DateSpan(DAY, DAY), location=2)])
    assert slots_on(other_location, treatment()) != []
    morning = calendar(closures=[Closure(Interval(at(DAY, 9), at(DAY, 13)), location=1)])
    assert local_starts(slots_on(morning, treatment()))[0] == "13:00"


def test_no_slot_before_now_and_the_grid_keeps_its_alignment():
    now = at(DAY, 11, 7)
    starts = local_starts(slots_on(calendar(), treatment(), now=now))
    assert starts[0] == "11:15"
    # Half a second after 11:15, 11:15 has passed.
    assert (
        local_starts(slots_on(calendar(), treatment(), now=at(DAY, 11, 15) + timedelta(milliseconds=500)))[0] == "11:30"
    )
    assert (
        booking_conflict(
            calendar=calendar(), appointment_type=treatment(), start=at(DAY, 11), therapist=1, room=10, now=now
        )
        == "That time has passed."
    )


def test_the_grid_starts_from_the_therapists_first_hour():
    # Hours from 9:30 with a 60-minute step offer 9:30, 10:30 ... 15:30.
    cal = calendar(therapists=(Therapist(id=1, weekly=every_day(time(9, 30), time(16, 30))),))
    starts = local_starts(slots_on(cal, treatment(), step=60))
    assert starts == ["09:30", "10:30", "11:30", "12:30", "13:30", "14:30", "15:30"]
    assert (
        booking_conflict(
            calendar=cal,
            appointment_type=treatment(),
            start=at(DAY, 10),
            therapist=1,
            room=10,
            now=LONG_AGO,
            step=HOUR,
        )
        == "That start is not on the booking grid."
    )
    assert is_free(calendar=cal, appointment_type=treatment(), start=at(DAY, 10), therapist=1, room=10, now=LONG_AGO)


def test_spring_forward_day_keeps_wall_clock_hours():
    spring = date(2026, 3, 8)  # Toronto: 02:00 EST becomes 03:00 EDT
    starts = local_starts(slots_on(calendar(), treatment(), spring), spring)
    assert starts[0] == "09:00" and starts[-1] == "16:00" and len(starts) == 29
    assert slots_on(calendar(), treatment(), spring)[0].start == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)


def test_fall_back_day_keeps_wall_clock_hours():
    autumn = date(2026, 11, 1)  # Toronto: 02:00 EDT becomes 01:00 EST
    slots = slots_on(calendar(), treatment(), autumn)
    starts = local_starts(slots, autumn)
    assert starts[0] == "09:00" and starts[-1] == "16:00" and len(starts) == 29
    assert slots[0].start == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)


def test_the_spring_forward_gap_offers_no_start_and_a_night_block_is_shorter():
    spring = date(2026, 3, 8)
    night = calendar(therapists=(Therapist(id=1, weekly=every_day(time(0), time(4))),))
    # 00:00-04:00 on the clock is three real hours that day; 02:00-02:59 does not exist.
    assert local_starts(slots_on(night, treatment(), spring), spring) == [
        "00:00", "00:15", "00:30", "00:45", "01:00", "01:15", "01:30", "01:45", "03:00",
    ]  # fmt: skip


def test_a_nonexistent_wall_time_is_the_instant_of_the_change():
    # 02:30 on 2026-03-08 does not exist in Toronto: it becomes 07:00 UTC, where 03:00 EDT begins.
    assert local_instant(date(2026, 3, 8), time(2, 30), TORONTO) == int(datetime(2026, 3, 8, 7, tzinfo=UTC).timestamp())


def test_an_ambiguous_wall_time_is_the_earlier_instant():
    # 01:30 on 2026-11-01 happens twice in Toronto: first at 05:30 UTC (EDT), then at 06:30 UTC (EST).
    assert local_instant(date(2026, 11, 1), time(1, 30), TORONTO) == int(
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC).timestamp()
    )


def test_the_fall_back_night_block_offers_the_repeated_hour_twice():
    autumn = date(2026, 11, 1)
    night = calendar(therapists=(Therapist(id=1, weekly=every_day(time(0), time(4))),))
    slots = slots_on(night, treatment(), autumn)
    # 00:00-04:00 on the clock is five real hours that day.
    assert len(slots) == 17
    assert local_starts(slots, autumn).count("01:15") == 2


def test_booking_conflict_names_what_is_wrong():
    cal = calendar(appointments=[Appointment(at(DAY, 10), at(DAY, 11), 1, None)])

    def why(**kwargs):
        args = {"start": at(DAY, 9), "therapist": 1, "room": 10, "now": LONG_AGO} | kwargs
        return booking_conflict(calendar=cal, appointment_type=treatment(), **args)

    assert why() is None
    assert why(start=at(DAY, 9, 30)) == "The therapist has another appointment then (buffers included)."
    assert why(start=at(DAY, 16, 30)) == "The therapist is not working then (hours, time off or closure)."
    assert why(therapist=3) == "This therapist does not offer this appointment type."
    assert why(room=99) == "This room lacks what this appointment type needs."
    booked_room = calendar(appointments=[Appointment(at(DAY, 9), at(DAY, 10), 2, 10)])
    assert (
        booking_conflict(
            calendar=booked_room, appointment_type=treatment(), start=at(DAY, 9), therapist=1, room=10, now=LONG_AGO
        )
        == "The room is booked then (buffers included)."
    )


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        free_slots(calendar=calendar(), appointment_type=treatment(), first=DAY, last=DAY, now=datetime(2026, 1, 1))


# --- Properties ----------------------------------------------------------------------------------

PROPERTY_DAYS = (date(2026, 12, 1), date(2026, 12, 2))
QUARTERS = st.integers(min_value=7 * 4, max_value=20 * 4)  # quarter hours from 07:00 to 20:00


@st.composite
def scenarios(draw):
    rooms = tuple(
        Room(
            id=10 + i, location=draw(st.sampled_from([1, 2])), capabilities=draw(st.sampled_from([TABLE, frozenset()]))
        )
        for i in range(draw(st.integers(1, 3)))
    )
    therapists = []
    for tid in (1, 2)[: draw(st.integers(1, 2))]:
        weekly = []
        for day in PROPERTY_DAYS:
            a, b = sorted(draw(st.lists(QUARTERS, min_size=2, max_size=2, unique=True)))
            weekly.append(
                WeeklyHours(
                    weekday=day.weekday(),
                    start=time(a // 4, a % 4 * 15),
                    end=time(b // 4, b % 4 * 15),
                    location=draw(st.sampled_from([1, 2])),
                )
            )
        off = ()
        if draw(st.booleans()):
            q = draw(QUARTERS)
            start = at(PROPERTY_DAYS[0], q // 4, q % 4 * 15)
            off = (Interval(start, start + timedelta(minutes=draw(st.integers(15, 240)))),)
        therapists.append(Therapist(id=tid, weekly=tuple(weekly), time_off=off))
    appointments = draw(st.lists(appointment_strategy(rooms), max_size=8))
    kind = AppointmentType(
        duration=timedelta(minutes=draw(st.sampled_from([30, 45, 60, 90]))),
        therapists=frozenset({1, 2}),
        buffer_before=timedelta(minutes=draw(st.sampled_from([0, 5, 15]))),
        buffer_after=timedelta(minutes=draw(st.sampled_from([0, 10, 15]))),
        room_capability=draw(st.sampled_from(["table", None])),
    )
    cal = ClinicCalendar(
        zone="America/Toronto", therapists=tuple(therapists), rooms=rooms, appointments=tuple(appointments)
    )
    return cal, kind


def appointment_strategy(rooms):
    @st.composite
    def one(draw):
        day = draw(st.sampled_from(PROPERTY_DAYS))
        minutes = draw(st.integers(6 * 60, 21 * 60))  # any minute, off the grid too
        start = at(day, minutes // 60, minutes % 60)
        return Appointment(
            start=start,
            end=start + timedelta(minutes=draw(st.integers(10, 120))),
            therapist=draw(st.sampled_from([1, 2, None])),
            room=draw(st.sampled_from([r.id for r in rooms] + [None])),
            buffer_before=timedelta(minutes=draw(st.sampled_from([0, 5, 15]))),
            buffer_after=timedelta(minutes=draw(st.sampled_from([0, 10, 15]))),
        )

    return one()


def all_slots(cal, kind):
    return free_slots(calendar=cal, appointment_type=kind, first=PROPERTY_DAYS[0], last=PROPERTY_DAYS[-1], now=LONG_AGO)


def overlaps(a0, a1, b0, b1) -> bool:
    return a0 < b1 and b0 < a1


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_no_slot_overlaps_a_booking_of_its_therapist_or_room_buffers_included(scenario):
    cal, kind = scenario
    for slot in all_slots(cal, kind):
        mine0, mine1 = slot.start - kind.buffer_before, slot.end + kind.buffer_after
        for booked in cal.appointments:
            if booked.therapist == slot.therapist or booked.room == slot.room:
                theirs0, theirs1 = booked.start - booked.buffer_before, booked.end + booked.buffer_after
                assert not overlaps(mine0, mine1, theirs0, theirs1), (slot, booked)


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_every_slot_lies_within_working_hours_at_its_rooms_location_and_outside_time_off(scenario):
    cal, kind = scenario
    rooms = {r.id: r for r in cal.rooms}
    for slot in all_slots(cal, kind):
        therapist = next(t for t in cal.therapists if t.id == slot.therapist)
        day = slot.start.astimezone(TORONTO).date()
        assert any(
            h.weekday == day.weekday()
            and h.location == rooms[slot.room].location
            and at(day, h.start.hour, h.start.minute) <= slot.start
            and slot.end <= at(day, h.end.hour, h.end.minute)
            for h in therapist.weekly
        ), slot
        for off in therapist.time_off:
            assert isinstance(off, Interval)
            assert not overlaps(slot.start, slot.end, off.start, off.end)
        assert kind.room_capability is None or kind.room_capability in rooms[slot.room].capabilities


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_a_start_is_offered_exactly_when_is_free_says_a_room_is_free(scenario):
    cal, kind = scenario
    busy = BusyIndex.build(cal.appointments)
    offered = {(s.start, s.therapist): s.room for s in all_slots(cal, kind)}
    for day in PROPERTY_DAYS:
        for quarter in range(6 * 4, 22 * 4):
            start = at(day, quarter // 4, quarter % 4 * 15).astimezone(UTC)
            for therapist in cal.therapists:
                free_rooms = [
                    r.id
                    for r in cal.rooms
                    if is_free(
                        calendar=cal,
                        appointment_type=kind,
                        start=start,
                        therapist=therapist.id,
                        room=r.id,
                        now=LONG_AGO,
                        step=timedelta(minutes=15),
                        busy=busy,
                    )
                ]
                room = offered.get((start, therapist.id))
                assert (room is not None) == bool(free_rooms), (start, therapist.id, free_rooms)
                if room is not None:
                    assert room == free_rooms[0]  # the first free room in the calendar's order


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.data())
def test_adding_an_appointment_never_adds_a_slot(scenario, data):
    cal, kind = scenario
    extra = data.draw(appointment_strategy(cal.rooms))
    before = {(s.start, s.therapist) for s in all_slots(cal, kind)}
    more = ClinicCalendar(
        zone=cal.zone, therapists=cal.therapists, rooms=cal.rooms, appointments=(*cal.appointments, extra)
    )
    after = {(s.start, s.therapist) for s in all_slots(more, kind)}
    assert after <= before
