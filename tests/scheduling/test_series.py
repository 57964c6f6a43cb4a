"""Series from the plan of care: checked whole before saving, wall-clock time kept across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from mend.scheduling.models import Appointment, AppointmentStatus, HoursException
from mend.scheduling.services import (
    SeriesConflict,
    appointment_book,
    series_book,
    series_cancel_from,
    series_move_from,
    series_rule,
)
from mend.testing import Personas, Schedule, build_schedule

NOW = datetime(2026, 9, 1, 12, tzinfo=UTC)


@pytest.fixture
def schedule(personas: Personas) -> Schedule:
    return build_schedule(personas)


def _book_series(p: Personas, s: Schedule, rule, **kwargs):
    return series_book(
        actor=p.actor("front_desk"),
        clinic=p.harbour,
        client=p.carol,
        therapist=p.memberships["therapist"],
        appointment_type=s.treatment,
        rule=rule,
        now=NOW,
        **kwargs,
    )


def _local(appointment: Appointment, zone: str) -> tuple[date, time]:
    moment = appointment.starts_at.astimezone(ZoneInfo(zone))
    return moment.date(), moment.time()


def test_a_weekly_series_across_torontos_fall_back_keeps_ten_oclock(personas, schedule):
    # Tuesdays from 20 October 2026; Toronto falls back on Sunday 1 November.
    booked = _book_series(personas, schedule, series_rule(first_day=date(2026, 10, 20), wall=time(10), count=4))
    assert [_local(a, "America/Toronto")[1] for a in booked] == [time(10)] * 4
    assert [a.starts_at.astimezone(UTC).hour for a in booked] == [14, 14, 15, 15]
    assert len({a.series_id for a in booked}) == 1


def test_a_weekly_series_across_londons_fall_back_keeps_its_local_time(personas, schedule):
    personas.harbour.timezone = "Europe/London"
    personas.harbour.save()
    # Wednesdays 09:30 from 14 October 2026; London falls back on Sunday 25 October.
    booked = _book_series(personas, schedule, series_rule(first_day=date(2026, 10, 14), wall=time(9, 30), count=3))
    assert [_local(a, "Europe/London") for a in booked] == [
        (date(2026, 10, 14), time(9, 30)),
        (date(2026, 10, 21), time(9, 30)),
        (date(2026, 10, 28), time(9, 30)),
    ]
    assert [a.starts_at.astimezone(UTC).hour for a in booked] == [8, 8, 9]


def test_a_clash_in_week_five_of_twelve_is_reported_before_anything_is_saved(personas, schedule):
    week_five = datetime(2026, 10, 13, 10, tzinfo=ZoneInfo("America/Toronto"))  # 15 Sep + 4 weeks
    appointment_book(
        clinic=personas.harbour,
        actor=personas.actor("front_desk"),
        client=personas.dan,
        therapist=personas.memberships["therapist"],
        appointment_type=schedule.initial,
        starts_at=week_five,
        now=NOW,
    )
    with pytest.raises(SeriesConflict) as raised:
        _book_series(personas, schedule, series_rule(first_day=date(2026, 9, 15), wall=time(10), count=12))
    bad = [c.occurrence.number for c in raised.value.checks if not c.free]
    assert bad == [5]
    assert raised.value.occurrence == 5
    assert "session 5" in raised.value.message
    assert not Appointment.objects.filter(client=personas.carol).exists()


def test_a_session_in_the_spring_forward_gap_is_refused_with_its_words(personas, schedule):
    for day in (date(2027, 3, 7), date(2027, 3, 14)):  # Toronto springs forward on the 14th
        HoursException.objects.create(
            clinic=personas.harbour,
            therapist=personas.memberships["therapist"],
            day=day,
            kind="extra",
            location=personas.location,
            start=time(0),
            end=time(5),
        )
    with pytest.raises(SeriesConflict) as raised:
        _book_series(personas, schedule, series_rule(first_day=date(2027, 3, 7), wall=time(2, 30), count=2))
    gap = [c for c in raised.value.checks if not c.free]
    assert [c.occurrence.number for c in gap] == [2]
    assert "does not exist" in (gap[0].conflict or "")


def test_a_rule_without_an_end_names_the_field(personas, schedule):
    with pytest.raises(ValidationError) as error:
        series_rule(first_day=date(2026, 10, 20), wall=time(10))
    assert "count" in error.value.message_dict


def test_cut_and_move_from_one_session_on(personas, schedule):
    booked = _book_series(personas, schedule, series_rule(first_day=date(2026, 9, 15), wall=time(10), count=6))
    moved = series_move_from(actor=personas.actor("front_desk"), appointment=booked[3], wall=time(14), now=NOW)
    assert [_local(a, "America/Toronto")[1] for a in moved] == [time(14)] * 3
    first = Appointment.objects.get(pk=booked[0].pk)
    assert _local(first, "America/Toronto")[1] == time(10)
    later = series_move_from(actor=personas.actor("front_desk"), appointment=booked[4], days=7, now=NOW)
    assert _local(later[-1], "America/Toronto")[0] == date(2026, 10, 27)
    cut = series_cancel_from(actor=personas.actor("front_desk"), appointment=booked[4])
    assert len(cut) == 2
    active = Appointment.objects.filter(series_id=booked[0].series_id, status=AppointmentStatus.BOOKED).count()
    assert active == 4
