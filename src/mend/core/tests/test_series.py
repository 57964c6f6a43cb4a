from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mend.core.availability import (
    Appointment,
    AppointmentType,
    ClinicCalendar,
    Room,
    Therapist,
    WeeklyHours,
    booking_conflict,
)
from mend.core.series import (
    MAX_OCCURRENCES,
    LocalTimeGap,
    SeriesError,
    SeriesRule,
    as_appointments,
    check_series,
    cut_from,
    expand_series,
    local_start,
    move_from,
    occurrence,
)

TORONTO = "America/Toronto"
LONDON = "Europe/London"
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
TUE, THU, SUN = 1, 3, 6
HOUR = timedelta(hours=1)


def local(moment: datetime | None, zone: str = TORONTO) -> str:
    assert moment is not None
    return f"{moment.astimezone(ZoneInfo(zone)):%Y-%m-%d %a %H:%M}"


def calendar(*, appointments=(), rooms=None, hours=(time(8), time(18))) -> ClinicCalendar:
    weekly = tuple(WeeklyHours(weekday=w, start=hours[0], end=hours[1], location=1) for w in range(7))
    return ClinicCalendar(
        zone=TORONTO,
        therapists=(Therapist(id=1, weekly=weekly),),
        rooms=rooms or (Room(id=10, location=1), Room(id=11, location=1)),
        appointments=tuple(appointments),
    )


TREATMENT = AppointmentType(duration=HOUR, therapists=frozenset({1}), buffer_after=timedelta(minutes=15))


def weekly(first_day: date, wall: time, count: int, zone: str = TORONTO, **more):
    return expand_series(rule=SeriesRule(first_day=first_day, wall=wall, count=count, **more), zone=zone)


# --- Expanding -----------------------------------------------------------------------------------


def test_a_weekly_series_across_torontos_fall_back_keeps_ten_oclock():
    sessions = weekly(date(2026, 10, 13), time(10), 10)
    assert [local(s.start) for s in sessions[2:5]] == [
        "2026-10-27 Tue 10:00",
        "2026-11-03 Tue 10:00",
        "2026-11-10 Tue 10:00",
    ]
    assert all(local(s.start).endswith("Tue 10:00") for s in sessions)
    # The instants move by an hour when the clocks do: EDT is UTC-4, EST UTC-5.
    assert sessions[2].start == datetime(2026, 10, 27, 14, tzinfo=UTC)
    assert sessions[3].start == datetime(2026, 11, 3, 15, tzinfo=UTC)
    assert [s.number for s in sessions] == list(range(1, 11))


def test_a_weekly_series_across_londons_fall_back_keeps_nine_oclock():
    sessions = weekly(date(2026, 10, 12), time(9), 4, zone=LONDON)
    assert [local(s.start, LONDON) for s in sessions] == [
        "2026-10-12 Mon 09:00",
        "2026-10-19 Mon 09:00",
        "2026-10-26 Mon 09:00",
        "2026-11-02 Mon 09:00",
    ]
    assert sessions[1].start == datetime(2026, 10, 19, 8, tzinfo=UTC)  # BST
    assert sessions[2].start == datetime(2026, 10, 26, 9, tzinfo=UTC)  # GMT


def test_twice_a_week_on_tuesdays_and_thursdays():
    sessions = weekly(date(2026, 12, 1), time(16, 30), 5, weekdays=frozenset({TUE, THU}))
    assert [local(s.start) for s in sessions] == [
        "2026-12-01 Tue 16:30",
        "2026-12-03 Thu 16:30",
        "2026-12-08 Tue 16:30",
        "2026-12-10 Thu 16:30",
        "2026-12-15 Tue 16:30",
    ]


def test_a_series_starting_midweek_begins_on_the_next_chosen_weekday():
    sessions = weekly(date(2026, 12, 2), time(9), 2, weekdays=frozenset({TUE, THU}))  # a Wednesday
    assert [s.day for s in sessions] == [date(2026, 12, 3), date(2026, 12, 8)]


def test_every_second_week_until_an_end_date_inclusive():
    rule = SeriesRule(first_day=date(2026, 12, 1), wall=time(10), every_weeks=2, until=date(2027, 1, 12))
    assert [s.day for s in expand_series(rule=rule, zone=TORONTO)] == [
        date(2026, 12, 1),
        date(2026, 12, 15),
        date(2026, 12, 29),
        date(2027, 1, 12),
    ]


def test_count_and_end_date_stop_at_whichever_comes_first():
    rule = SeriesRule(first_day=date(2026, 12, 1), wall=time(10), count=10, until=date(2026, 12, 15))
    assert len(expand_series(rule=rule, zone=TORONTO)) == 3
    rule = SeriesRule(first_day=date(2026, 12, 1), wall=time(10), count=2, until=date(2027, 12, 15))
    assert len(expand_series(rule=rule, zone=TORONTO)) == 2


def test_a_session_in_the_spring_forward_gap_is_reported_not_shifted():
    sessions = weekly(date(2026, 3, 1), time(2, 30), 3)  # Sundays; 8 March 02:00 jumps to 03:00
    assert [s.start is None for s in sessions] == [False, True, False]
    assert sessions[1].error == (
        "02:30 does not exist on 8 March 2026 in America/Toronto: clocks go forward from 02:00 to 03:00. "
        "Choose a time before 02:00 or from 03:00."
    )
    assert local(sessions[2].start) == "2026-03-15 Sun 02:30"


def test_london_spring_forward_gap_names_londons_hour():
    with pytest.raises(LocalTimeGap, match="01:15 does not exist on 29 March 2026 in Europe/London: clocks go forward"):
        local_start(date(2026, 3, 29), time(1, 15), zone=LONDON)


def test_an_ambiguous_fall_back_time_is_the_earlier_instant():
    # 01:30 happens twice in Toronto on 1 November 2026: first in EDT (05:30 UTC), then in EST.
    assert local_start(date(2026, 11, 1), time(1, 30), zone=TORONTO) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert weekly(date(2026, 10, 25), time(1, 30), 2)[1].start == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"count": None}, "count"),
        ({"count": 0}, "count"),
        ({"count": MAX_OCCURRENCES + 1}, "count"),
        ({"weekdays": frozenset({7})}, "weekdays"),
        ({"every_weeks": 0}, "every_weeks"),
        ({"count": None, "until": date(2026, 11, 1)}, "until"),
        ({"wall": time(10, tzinfo=UTC)}, "wall"),
    ],
)
def test_a_bad_series_names_the_field(fields, field):
    values = {"first_day": date(2026, 12, 1), "wall": time(10), "count": 10} | fields
    with pytest.raises(SeriesError) as raised:
        SeriesRule(**values)
    assert raised.value.field == field


def test_an_end_date_years_away_is_refused_rather_than_expanded():
    rule = SeriesRule(first_day=date(2026, 12, 1), wall=time(10), weekdays=frozenset(range(7)), until=date(2030, 1, 1))
    with pytest.raises(SeriesError, match="at most 200 sessions") as raised:
        expand_series(rule=rule, zone=TORONTO)
    assert raised.value.field == "until"


# --- Editing -------------------------------------------------------------------------------------


def test_cut_from_a_session_keeps_the_ones_before_it():
    sessions = weekly(date(2026, 12, 1), time(10), 6)
    assert [s.number for s in cut_from(sessions, number=4)] == [1, 2, 3]
    assert cut_from(sessions, number=1) == ()
    with pytest.raises(SeriesError, match="no session 7"):
        cut_from(sessions, number=7)


def test_move_from_a_session_changes_day_and_time_of_it_and_the_rest_only():
    sessions = weekly(date(2026, 12, 1), time(10), 4)
    moved = move_from(sessions, number=3, zone=TORONTO, wall=time(14, 15), days=1)
    assert [local(s.start) for s in moved] == [
        "2026-12-01 Tue 10:00",
        "2026-12-08 Tue 10:00",
        "2026-12-16 Wed 14:15",
        "2026-12-23 Wed 14:15",
    ]
    assert [s.number for s in moved] == [1, 2, 3, 4]
    assert moved[:2] == sessions[:2]


def test_moving_sessions_resolves_them_again_across_dst():
    # Saturdays 02:30, moved a day later from the second on: the Sunday of 8 March has no 02:30.
    sessions = weekly(date(2026, 2, 28), time(2, 30), 3)
    moved = move_from(sessions, number=2, zone=TORONTO, days=1)
    assert moved[1].day == date(2026, 3, 8) and moved[1].start is None and "clocks go forward" in moved[1].error
    # And at 03:30 instead, it exists again.
    assert move_from(moved, number=2, zone=TORONTO, wall=time(3, 30))[1].start == datetime(
        2026, 3, 8, 7, 30, tzinfo=UTC
    )


# --- Checking ------------------------------------------------------------------------------------


def test_a_twelve_week_series_with_a_clash_in_week_five_reports_week_five():
    sessions = weekly(date(2026, 12, 1), time(10), 12)
    week5 = sessions[4].start
    busy = Appointment(week5 + timedelta(minutes=30), week5 + timedelta(minutes=90), therapist=1, room=None)
    checks = check_series(
        calendar=calendar(appointments=[busy]),
        appointment_type=TREATMENT,
        therapist=1,
        room=10,
        occurrences=sessions,
        now=LONG_AGO,
    )
    assert [c.occurrence.number for c in checks if not c.free] == [5]
    assert checks[4].conflict == "The therapist has another appointment then (buffers included)."
    assert all(c.room == 10 for c in checks if c.free) and checks[4].room is None


def test_sessions_that_clash_with_each_other_are_reported():
    # A Tue & Thu series whose second session is moved onto the Tuesday, half an hour after the first.
    sessions = weekly(date(2026, 12, 1), time(10), 4, weekdays=frozenset({TUE, THU}))
    sessions = move_from(sessions, number=2, zone=TORONTO, wall=time(10, 30), days=-2)
    checks = check_series(
        calendar=calendar(), appointment_type=TREATMENT, therapist=1, room=None, occurrences=sessions, now=LONG_AGO
    )
    assert [c.free for c in checks] == [True, False, True, True]
    assert checks[1].conflict == "Overlaps session 1 of this series (Tue 1 Dec 10:00)."


def test_the_buffer_counts_between_sessions_of_one_series():
    # 10:00-11:00 plus 15 minutes after: a session at 11:00 the same day is too close, 11:15 is not.
    first = occurrence(1, date(2026, 12, 1), time(10), zone=TORONTO)
    for wall, free in ((time(11), False), (time(11, 15), True)):
        second = occurrence(2, date(2026, 12, 1), wall, zone=TORONTO)
        checks = check_series(
            calendar=calendar(),
            appointment_type=TREATMENT,
            therapist=1,
            room=10,
            occurrences=[first, second],
            now=LONG_AGO,
        )
        assert checks[1].free is free


def test_any_room_gives_each_session_the_first_free_room():
    sessions = weekly(date(2026, 12, 1), time(10), 3)
    room_taken = Appointment(sessions[1].start, sessions[1].start + HOUR, therapist=None, room=10)
    checks = check_series(
        calendar=calendar(appointments=[room_taken]),
        appointment_type=TREATMENT,
        therapist=1,
        room=None,
        occurrences=sessions,
        now=LONG_AGO,
    )
    assert [c.room for c in checks] == [10, 11, 10]


def test_any_room_reports_the_therapists_reason_when_no_room_would_do():
    sessions = weekly(date(2026, 12, 1), time(19), 1)  # after hours
    checks = check_series(
        calendar=calendar(), appointment_type=TREATMENT, therapist=1, room=None, occurrences=sessions, now=LONG_AGO
    )
    assert checks[0].conflict == "The therapist is not working then (hours, time off or closure)."
    sessions = weekly(date(2026, 12, 1), time(10), 1)
    both_taken = [Appointment(sessions[0].start, sessions[0].start + HOUR, None, room) for room in (10, 11)]
    checks = check_series(
        calendar=calendar(appointments=both_taken),
        appointment_type=TREATMENT,
        therapist=1,
        room=None,
        occurrences=sessions,
        now=LONG_AGO,
    )
    assert checks[0].conflict == "The room is booked then (buffers included)."


def test_any_room_prefers_the_therapists_reason_to_a_room_elsewhere():
    # Room 11 is at another location: its reason says nothing about why room 10 will not do.
    rooms = (Room(id=10, location=1), Room(id=11, location=2))
    sessions = weekly(date(2026, 12, 1), time(10), 1)
    start = sessions[0].start

    def only_check(*booked):
        cal = calendar(appointments=booked, rooms=rooms)
        return check_series(
            calendar=cal, appointment_type=TREATMENT, therapist=1, room=None, occurrences=sessions, now=LONG_AGO
        )[0]

    assert only_check(Appointment(start, start + HOUR, therapist=1, room=None)).conflict == (
        "The therapist has another appointment then (buffers included)."
    )
    assert only_check(Appointment(start, start + HOUR, therapist=None, room=10)).conflict == (
        "No suitable room is free then (each is booked or at another location)."
    )
    assert only_check().room == 10


def test_a_gap_session_and_a_past_session_are_reported_in_the_check():
    sessions = weekly(date(2026, 3, 1), time(2, 30), 3)
    night = calendar(hours=(time(0), time(6)))
    checks = check_series(
        calendar=night,
        appointment_type=TREATMENT,
        therapist=1,
        room=10,
        occurrences=sessions,
        now=datetime(2026, 3, 2, tzinfo=UTC),
    )
    assert checks[0].conflict == "That time has passed."
    assert checks[1].conflict is not None and checks[1].conflict.startswith("02:30 does not exist on 8 March 2026")
    assert checks[2].free


# --- Properties ----------------------------------------------------------------------------------

ZONES = st.sampled_from([TORONTO, LONDON, "Australia/Lord_Howe", "Asia/Kolkata", "America/St_Johns"])
ANY_MINUTE = st.integers(0, 24 * 60 - 1)
OPEN_QUARTERS = st.integers(7 * 4, 18 * 4).map(lambda q: q * 15)  # minutes, mostly inside 08:00-18:00 hours


@st.composite
def rules(draw, *, first=date(2026, 1, 1), last=date(2026, 12, 31), minutes=ANY_MINUTE, most=30):
    minutes = draw(minutes)
    return SeriesRule(
        first_day=draw(st.dates(first, last)),
        wall=time(minutes // 60, minutes % 60),
        weekdays=draw(st.frozensets(st.integers(0, 6), max_size=3)),
        every_weeks=draw(st.integers(1, 4)),
        count=draw(st.integers(1, most)),
    )


@given(rule=rules(), zone=ZONES)
def test_sessions_keep_their_local_time_weekday_and_count(rule, zone):
    sessions = expand_series(rule=rule, zone=zone)
    tz = ZoneInfo(zone)
    assert len(sessions) == rule.count
    assert [s.number for s in sessions] == list(range(1, rule.count + 1))
    days = [s.day for s in sessions]
    assert days == sorted(set(days)) and days[0] >= rule.first_day
    monday = rule.first_day - timedelta(days=rule.first_day.weekday())
    for s in sessions:
        assert s.day.weekday() in rule.days and s.wall == rule.wall
        assert ((s.day - monday).days // 7) % rule.every_weeks == 0
        naive = datetime.combine(s.day, rule.wall)
        exists = naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive
        if s.start is None:
            assert not exists and s.error is not None and "does not exist" in s.error
        else:
            assert exists and s.start.tzinfo is UTC
            assert s.start.astimezone(tz).replace(tzinfo=None) == naive


SERIES_DAYS = (date(2026, 11, 30), date(2026, 12, 20))


@st.composite
def series_scenarios(draw):
    kind = AppointmentType(
        duration=timedelta(minutes=draw(st.sampled_from([30, 60, 90]))),
        therapists=frozenset({1}),
        buffer_before=timedelta(minutes=draw(st.sampled_from([0, 10]))),
        buffer_after=timedelta(minutes=draw(st.sampled_from([0, 15]))),
    )
    rule = draw(rules(first=SERIES_DAYS[0], last=SERIES_DAYS[0] + timedelta(days=6), minutes=OPEN_QUARTERS, most=8))
    sessions = expand_series(rule=rule, zone=TORONTO)
    # Some sessions moved, so that sessions of the series may clash with each other.
    if draw(st.booleans()):
        minutes = draw(OPEN_QUARTERS)
        sessions = move_from(
            sessions,
            number=draw(st.integers(1, len(sessions))),
            zone=TORONTO,
            wall=time(minutes // 60, minutes % 60),
            days=draw(st.integers(-3, 3)),
        )
    # And one more session near another one on the same day.
    if draw(st.booleans()):
        near = draw(st.sampled_from(sessions))
        minutes = near.wall.hour * 60 + near.wall.minute + draw(st.integers(-6, 6)) * 15
        if 0 <= minutes < 24 * 60:
            extra = occurrence(len(sessions) + 1, near.day, time(minutes // 60, minutes % 60), zone=TORONTO)
            sessions = (*sessions, extra)
    # Appointments anywhere in those weeks, or near a session, for the therapist, a room or both.
    anchors = [s.start for s in sessions if s.start is not None]
    booked = []
    for _ in range(draw(st.integers(0, 12))):
        if anchors and draw(st.booleans()):
            start = draw(st.sampled_from(anchors)) + timedelta(minutes=draw(st.integers(-8, 8)) * 15)
        else:
            minutes = draw(st.integers(7 * 60, 19 * 60))
            start = datetime.combine(draw(st.dates(*SERIES_DAYS)), time(minutes // 60, minutes % 60), ZoneInfo(TORONTO))
        booked.append(
            Appointment(
                start,
                start + timedelta(minutes=draw(st.sampled_from([30, 60, 90]))),
                therapist=draw(st.sampled_from([1, 2, None])),
                room=draw(st.sampled_from([10, 11, None])),
                buffer_after=timedelta(minutes=draw(st.sampled_from([0, 15]))),
            )
        )
    rooms = (Room(id=10, location=1), Room(id=11, location=draw(st.sampled_from([1, 1, 2]))))
    return calendar(appointments=booked, rooms=rooms), kind, sessions, draw(st.sampled_from([10, 11, None]))


@settings(max_examples=150, deadline=None)
@given(scenario=series_scenarios())
def test_every_reported_conflict_is_real_and_every_free_session_is_free(scenario):
    cal, kind, sessions, room = scenario
    now = datetime(2026, 12, 2, tzinfo=UTC)
    checks = check_series(calendar=cal, appointment_type=kind, therapist=1, room=room, occurrences=sessions, now=now)
    assert [c.occurrence for c in checks] == list(sessions)
    for i, check in enumerate(checks):
        # The calendar as it would be with the series' free sessions before this one saved.
        with_earlier = ClinicCalendar(
            zone=cal.zone,
            therapists=cal.therapists,
            rooms=cal.rooms,
            appointments=cal.appointments + as_appointments(checks[:i], appointment_type=kind, therapist=1),
        )
        start = check.occurrence.start
        if check.free:
            assert start is not None and check.room is not None and (room is None or check.room == room)
            assert (
                booking_conflict(
                    calendar=with_earlier, appointment_type=kind, start=start, therapist=1, room=check.room, now=now
                )
                is None
            )
        elif start is not None:
            for candidate in [room] if room is not None else [r.id for r in cal.rooms]:
                assert (
                    booking_conflict(
                        calendar=with_earlier, appointment_type=kind, start=start, therapist=1, room=candidate, now=now
                    )
                    is not None
                )
