from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mend.core.availability import (
    Appointment,
    AppointmentType,
    ClinicCalendar,
    Room,
    Slot,
    Therapist,
    WeeklyHours,
    free_slots,
)
from mend.core.booking_rules import (
    BOOK,
    Audience,
    BookingRules,
    Outcome,
    RulesError,
    Verdict,
    check_booking_rules,
    daily_counts,
    filter_slots,
)

ZONE = "America/Toronto"
TORONTO = ZoneInfo(ZONE)
NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # Tuesday 1 December, 09:00 in Toronto
SECOND = timedelta(seconds=1)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TORONTO)


def check(rules: BookingRules, start: datetime, *, now=NOW, returning=True, booked=0, by_staff=False) -> Verdict:
    return check_booking_rules(
        rules=rules,
        start=start,
        now=now,
        zone=ZONE,
        returning_client=returning,
        booked_that_day=booked,
        by_staff=by_staff,
    )


# --- Worked examples -----------------------------------------------------------------------------


def test_default_rules_limit_nothing():
    assert check(BookingRules(), NOW) == BOOK
    assert check(BookingRules(), NOW + timedelta(days=3650), returning=False, booked=40) == BOOK


def test_minimum_notice_refuses_one_second_short_and_accepts_exactly_the_notice():
    rules = BookingRules(min_notice=timedelta(hours=24))
    assert check(rules, NOW + timedelta(hours=24) - SECOND) == Verdict(
        Outcome.REFUSE, "Online bookings need at least 24 hours of notice."
    )
    assert check(rules, NOW + timedelta(hours=24)) == BOOK
    assert check(rules, NOW + timedelta(hours=24) + SECOND) == BOOK


def test_staff_bookings_skip_notice_horizon_and_same_day():
    rules = BookingRules(min_notice=timedelta(hours=24), horizon_days=7, same_day=False)
    assert check(rules, NOW + timedelta(hours=1)).outcome is Outcome.REFUSE
    assert check(rules, NOW + timedelta(hours=1), by_staff=True) == BOOK
    assert check(rules, NOW + timedelta(days=60), by_staff=True) == BOOK


def test_the_horizon_counts_the_clinics_local_dates():
    # 23:30 on 1 December in Toronto is already 2 December in UTC; 30 days ahead is 31 December.
    late = local(date(2026, 12, 1), 23, 30)
    rules = BookingRules(horizon_days=30)
    assert check(rules, local(date(2026, 12, 31), 23), now=late) == BOOK
    refused = check(rules, local(date(2027, 1, 1), 0), now=late)
    assert refused == Verdict(
        Outcome.REFUSE, "Online bookings open 30 days ahead: the last day open now is 31 December 2026."
    )


def test_same_day_off_refuses_the_rest_of_today_in_the_clinics_zone():
    evening = local(date(2026, 12, 1), 20)  # already 2 December in UTC
    rules = BookingRules(same_day=False)
    assert check(rules, local(date(2026, 12, 1), 21), now=evening) == Verdict(
        Outcome.REFUSE, "This service cannot be booked online for today."
    )
    assert check(rules, local(date(2026, 12, 2), 8), now=evening) == BOOK


def test_returning_clients_only_refuses_a_new_client():
    rules = BookingRules(audience=Audience.RETURNING_ONLY)
    assert check(rules, NOW, returning=True) == BOOK
    verdict = check(rules, NOW, returning=False)
    assert verdict.outcome is Outcome.REFUSE and "returning clients" in (verdict.reason or "")
    assert check(rules, NOW, returning=False, by_staff=True) == BOOK


def test_new_clients_by_request_makes_a_request_not_a_refusal():
    rules = BookingRules(audience=Audience.NEW_BY_REQUEST)
    assert check(rules, NOW, returning=True) == BOOK
    assert check(rules, NOW, returning=False).outcome is Outcome.REQUEST
    assert check(rules, NOW, returning=False, by_staff=True) == BOOK  # staff booking it is the approval


def test_a_refusal_wins_over_a_request():
    rules = BookingRules(audience=Audience.NEW_BY_REQUEST, min_notice=timedelta(hours=2))
    assert check(rules, NOW + timedelta(hours=1), returning=False).outcome is Outcome.REFUSE


def test_the_daily_cap_counts_the_booking_asked_for_and_holds_for_staff():
    rules = BookingRules(daily_cap=3)
    assert check(rules, NOW, booked=2) == BOOK
    full = Verdict(Outcome.REFUSE, "The therapist takes at most 3 appointments a day, and that day is full.")
    assert check(rules, NOW, booked=3) == full
    assert check(rules, NOW, booked=3, by_staff=True) == full


@pytest.mark.parametrize(
    ("notice", "words"),
    [
        (timedelta(hours=24), "24 hours"),
        (timedelta(days=2), "2 days"),
        (timedelta(hours=1, minutes=30), "1 hour 30 minutes"),
        (timedelta(minutes=45), "45 minutes"),
        (timedelta(minutes=1), "1 minute"),
    ],
)
def test_the_notice_is_stated_as_a_clinic_would(notice, words):
    verdict = check(BookingRules(min_notice=notice), NOW)
    assert verdict.reason == f"Online bookings need at least {words} of notice."


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"min_notice": timedelta(minutes=-1)}, "min_notice"),
        ({"horizon_days": -1}, "horizon_days"),
        ({"daily_cap": 0}, "daily_cap"),
    ],
)
def test_rules_that_make_no_sense_name_the_setting(fields, field):
    with pytest.raises(RulesError) as raised:
        BookingRules(**fields)
    assert raised.value.field == field


def test_daily_counts_use_the_local_day_of_the_start():
    late = local(date(2026, 12, 1), 23)  # 2 December in UTC
    counts = daily_counts(
        [
            Appointment(late, late + timedelta(hours=1), therapist=1, room=10),
            Appointment(local(date(2026, 12, 1), 9), local(date(2026, 12, 1), 10), therapist=1, room=10),
            Appointment(local(date(2026, 12, 1), 9), local(date(2026, 12, 1), 10), therapist=None, room=11),
        ],
        zone=ZONE,
    )
    assert counts == {(1, date(2026, 12, 1)): 2}


def test_the_public_slot_list_leaves_out_what_the_rules_refuse():
    weekly = tuple(WeeklyHours(weekday=w, start=time(9), end=time(12), location=1) for w in range(7))
    booked = [
        Appointment(local(date(2026, 12, 3), 9), local(date(2026, 12, 3), 10), therapist=1, room=10),
        Appointment(local(date(2026, 12, 3), 10), local(date(2026, 12, 3), 11), therapist=1, room=10),
    ]
    cal = ClinicCalendar(
        zone=ZONE,
        therapists=(Therapist(id=1, weekly=weekly),),
        rooms=(Room(id=10, location=1), Room(id=11, location=1)),
        appointments=tuple(booked),
    )
    kind = AppointmentType(duration=timedelta(hours=1), therapists=frozenset({1}))
    slots = free_slots(
        calendar=cal,
        appointment_type=kind,
        first=date(2026, 12, 1),
        last=date(2026, 12, 5),
        now=NOW,
        step=timedelta(hours=1),
    )
    rules = BookingRules(min_notice=timedelta(hours=26), same_day=False, horizon_days=3, daily_cap=2)
    kept = filter_slots(slots, rules=rules, now=NOW, zone=ZONE, day_counts=daily_counts(booked, zone=ZONE))
    # Today is same-day; 2 December before 11:00 is inside the notice; 3 December is full; 5 December
    # is past the horizon.
    assert [f"{s.start.astimezone(TORONTO):%d %H:%M}" for s in kept] == ["02 11:00", "04 09:00", "04 10:00", "04 11:00"]


# --- Properties ----------------------------------------------------------------------------------

SPANS = st.integers(0, 4 * 24 * 60).map(lambda minutes: timedelta(minutes=minutes))
MOMENTS = st.integers(0, 10 * 24 * 3600).map(lambda seconds: NOW + timedelta(seconds=seconds))
RULES = st.builds(
    BookingRules,
    min_notice=SPANS,
    horizon_days=st.none() | st.integers(0, 8),
    same_day=st.booleans(),
    audience=st.sampled_from(Audience),
    daily_cap=st.none() | st.integers(1, 4),
)


@given(notices=st.lists(SPANS, min_size=2, max_size=2), start=MOMENTS, rules=RULES, returning=st.booleans())
def test_a_longer_notice_never_accepts_what_a_shorter_one_refuses(notices, start, rules, returning):
    shorter, longer = sorted(notices)
    with_shorter = BookingRules(**{**_fields(rules), "min_notice": shorter})
    with_longer = BookingRules(**{**_fields(rules), "min_notice": longer})
    if check(with_shorter, start, returning=returning).outcome is Outcome.REFUSE:
        assert check(with_longer, start, returning=returning).outcome is Outcome.REFUSE


@given(
    rules=RULES,
    starts=st.lists(st.tuples(MOMENTS, st.sampled_from([1, 2])), max_size=20),
    counts=st.dictionaries(
        st.tuples(st.sampled_from([1, 2]), st.dates(date(2026, 12, 1), date(2026, 12, 12))), st.integers(0, 5)
    ),
)
def test_the_slot_list_keeps_exactly_what_the_check_accepts(rules, starts, counts):
    slots = [Slot(start, start + timedelta(hours=1), therapist, 10) for start, therapist in starts]
    kept = filter_slots(slots, rules=rules, now=NOW, zone=ZONE, day_counts=counts)
    accepted = [
        slot
        for slot in slots
        if check(
            rules,
            slot.start,
            returning=True,
            booked=counts.get((slot.therapist, slot.start.astimezone(TORONTO).date()), 0),
        ).outcome
        is not Outcome.REFUSE
    ]
    assert kept == accepted


def _fields(rules: BookingRules) -> dict:
    return {name: getattr(rules, name) for name in BookingRules.__dataclass_fields__}
