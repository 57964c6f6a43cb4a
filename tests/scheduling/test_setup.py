"""The calendar's setup services: who may change what, and the refusals a clinic owner reads.

Owners and admins set up everything; a therapist only their own hours, exceptions and time off;
front desk nothing. Every refusal names the field the page shows it beside.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from mend.audit.models import AuditEvent
from mend.clinics.models import Location
from mend.scheduling.models import AppointmentType, Closure, HoursException, TimeOff, WorkingHours
from mend.scheduling.services import (
    appointment_type_save,
    closure_delete,
    closure_save,
    hours_exception_delete,
    hours_exception_save,
    time_off_delete,
    time_off_save,
    working_hours_delete,
    working_hours_save,
)
from mend.testing import Personas

MONDAY, SUNDAY = 0, 6
# America/Toronto springs forward on 14 March 2027: 02:00–03:00 does not exist that night.
SPRING_FORWARD = date(2027, 3, 14)


def add_hours(p: Personas, who: str = "owner", therapist: str = "therapist", **kwargs):
    kwargs.setdefault("weekday", MONDAY)
    kwargs.setdefault("start", time(9))
    kwargs.setdefault("end", time(17))
    kwargs.setdefault("location", p.location)
    return working_hours_save(actor=p.actor(who), therapist=p.memberships[therapist], **kwargs)


def audited(obj, action: str) -> bool:
    return AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk), action=action).exists()


def messages(error: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return error.value.message_dict


# --- Who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "admin", "therapist"])
def test_owners_admins_and_the_therapist_themselves_set_their_weekly_hours(personas, who):
    block = add_hours(personas, who)
    assert (block.weekday, block.start, block.end) == (MONDAY, time(9), time(17))
    assert block.clinic_id == personas.harbour.pk
    assert audited(block, "create")


@pytest.mark.parametrize("who", ["therapist2", "front_desk"])
def test_a_colleague_or_front_desk_cannot_set_a_therapists_hours(personas, who):
    with pytest.raises(PermissionDenied):
        add_hours(personas, who)
    with pytest.raises(PermissionDenied):
        hours_exception_save(
            actor=personas.actor(who), therapist=personas.memberships["therapist"], day=date(2027, 5, 3), kind="day_off"
        )
    with pytest.raises(PermissionDenied):
        time_off_save(
            actor=personas.actor(who), therapist=personas.memberships["therapist"], first_day=date(2027, 5, 3)
        )
    assert not WorkingHours.objects.exists() and not HoursException.objects.exists() and not TimeOff.objects.exists()


@pytest.mark.parametrize("who", ["therapist", "front_desk"])
def test_only_owners_and_admins_manage_appointment_types_and_closures(personas, who):
    actor = personas.actor(who)
    with pytest.raises(PermissionDenied):
        appointment_type_save(actor=actor, data={"name": "Treatment 45", "duration_minutes": 45})
    with pytest.raises(PermissionDenied):
        closure_save(actor=actor, first_day=date(2027, 12, 25))
    assert not AppointmentType.objects.exists() and not Closure.objects.exists()


def test_another_clinics_therapist_is_refused(personas):
    with pytest.raises(ValidationError) as error:
        add_hours(personas, "outsider", therapist="therapist")
    assert messages(error) == {"therapist": ["Not found in this clinic."]}


def test_a_front_desk_member_has_no_working_hours(personas):
    with pytest.raises(ValidationError) as error:
        add_hours(personas, therapist="front_desk")
    assert "therapist" in messages(error)


def test_a_therapist_removes_their_own_block_and_the_removal_is_audited(personas):
    block = add_hours(personas)
    pk = block.pk
    working_hours_delete(actor=personas.actor("therapist"), hours=block)
    assert not WorkingHours.objects.filter(pk=pk).exists()
    assert AuditEvent.objects.filter(object_type="scheduling.workinghours", object_id=str(pk), action="delete").exists()


def test_a_colleague_cannot_remove_a_therapists_block(personas):
    block = add_hours(personas)
    with pytest.raises(PermissionDenied):
        working_hours_delete(actor=personas.actor("therapist2"), hours=block)
    assert WorkingHours.objects.filter(pk=block.pk).exists()


# --- Weekly hours -------------------------------------------------------------------------------


def test_overlapping_blocks_on_the_same_weekday_are_refused_naming_the_other_block(personas):
    add_hours(personas, start=time(9), end=time(13))
    with pytest.raises(ValidationError) as error:
        add_hours(personas, start=time(12), end=time(17))
    assert messages(error) == {
        "start": [
            "These hours overlap Monday 09:00–13:00 at Harbourfront. Change the times, or remove that block first."
        ]
    }
    assert WorkingHours.objects.count() == 1


def test_back_to_back_blocks_and_the_same_hours_on_another_day_are_fine(personas):
    add_hours(personas, start=time(9), end=time(12))
    add_hours(personas, start=time(12), end=time(17))
    add_hours(personas, weekday=1, start=time(9), end=time(17))
    # Another therapist's hours never clash with Tess's.
    add_hours(personas, therapist="therapist2", start=time(9), end=time(17))
    assert WorkingHours.objects.count() == 4


def test_a_block_past_midnight_on_sunday_overlaps_monday_morning(personas):
    add_hours(personas, weekday=SUNDAY, start=time(22), end=time(2))
    with pytest.raises(ValidationError) as error:
        add_hours(personas, weekday=MONDAY, start=time(1), end=time(5))
    assert "Sunday 22:00–02:00 (past midnight)" in messages(error)["start"][0]
    add_hours(personas, weekday=MONDAY, start=time(2), end=time(6))


def test_a_block_at_another_location_still_overlaps(personas):
    """A therapist is in one place at a time."""
    uptown = Location.objects.create(clinic=personas.harbour, name="Uptown")
    add_hours(personas, start=time(9), end=time(13))
    with pytest.raises(ValidationError) as error:
        add_hours(personas, start=time(10), end=time(11), location=uptown)
    assert "start" in messages(error)


def test_changing_a_block_does_not_clash_with_itself(personas):
    block = add_hours(personas, start=time(9), end=time(13))
    changed = add_hours(personas, start=time(9, 30), end=time(16, 30), hours=block)
    assert changed.pk == block.pk and changed.start == time(9, 30)
    assert audited(changed, "update")


def test_hours_only_at_a_location_on_the_therapists_profile(personas):
    uptown = Location.objects.create(clinic=personas.harbour, name="Uptown")
    personas.therapist_profile.locations.set([personas.location])
    with pytest.raises(ValidationError) as error:
        add_hours(personas, location=uptown)
    assert messages(error) == {
        "location": [
            "Tess Therapist does not work at Uptown: add it to the locations on their profile first, or choose another."
        ]
    }
    assert add_hours(personas, location=personas.location).location == personas.location


def test_with_no_locations_on_the_profile_any_location_of_the_clinic_will_do(personas):
    uptown = Location.objects.create(clinic=personas.harbour, name="Uptown")
    assert add_hours(personas, location=uptown).location == uptown


def test_another_clinics_location_is_refused(personas):
    elsewhere = Location.objects.create(clinic=personas.northside, name="Northside Main")
    with pytest.raises(ValidationError) as error:
        add_hours(personas, location=elsewhere)
    assert messages(error) == {"location": ["Not a location of this clinic."]}


def test_a_block_that_ends_where_it_starts_is_refused(personas):
    with pytest.raises(ValidationError) as error:
        add_hours(personas, start=time(9), end=time(9))
    assert list(messages(error)) == ["end"]


# --- Exceptions ---------------------------------------------------------------------------------


def test_extra_hours_need_a_location_and_both_times(personas):
    with pytest.raises(ValidationError) as error:
        hours_exception_save(
            actor=personas.actor("therapist"),
            therapist=personas.memberships["therapist"],
            day=date(2027, 5, 8),
            kind="extra",
        )
    assert set(messages(error)) == {"start", "end", "location"}


def test_extra_hours_and_a_day_off_are_saved_and_a_second_day_off_is_refused(personas):
    tess = personas.actor("therapist")
    therapist = personas.memberships["therapist"]
    extra = hours_exception_save(
        actor=tess,
        therapist=therapist,
        day=date(2027, 5, 8),
        kind="extra",
        location=personas.location,
        start=time(10),
        end=time(14),
    )
    assert audited(extra, "create")
    off = hours_exception_save(
        actor=tess, therapist=therapist, day=date(2027, 5, 10), kind="day_off", location=personas.location
    )
    assert off.location is None and off.start is None  # a day off has no hours of its own
    with pytest.raises(ValidationError) as error:
        hours_exception_save(actor=tess, therapist=therapist, day=date(2027, 5, 10), kind="day_off")
    assert messages(error) == {"day": ["10 May 2027 is already a day off."]}
    with pytest.raises(ValidationError) as error:
        hours_exception_save(
            actor=tess,
            therapist=therapist,
            day=date(2027, 5, 8),
            kind="extra",
            location=personas.location,
            start=time(13),
            end=time(15),
        )
    assert "start" in messages(error)
    hours_exception_delete(actor=tess, exception=off)
    assert not HoursException.objects.filter(kind="day_off").exists()


# --- Time off -----------------------------------------------------------------------------------


def test_whole_days_of_time_off_and_one_day_when_no_last_day(personas):
    tess, therapist = personas.actor("therapist"), personas.memberships["therapist"]
    week = time_off_save(
        actor=tess, therapist=therapist, first_day=date(2027, 7, 5), last_day=date(2027, 7, 9), reason=" Holiday "
    )
    assert (week.first_day, week.last_day, week.starts_at, week.reason) == (
        date(2027, 7, 5),
        date(2027, 7, 9),
        None,
        "Holiday",
    )
    day = time_off_save(actor=tess, therapist=therapist, first_day=date(2027, 7, 12))
    assert day.last_day == date(2027, 7, 12)
    assert audited(week, "create") and audited(day, "create")


def test_hours_of_time_off_are_local_times_in_the_clinics_zone(personas):
    off = time_off_save(
        actor=personas.actor("therapist"),
        therapist=personas.memberships["therapist"],
        first_day=date(2027, 7, 5),
        start_time=time(13),
        end_time=time(15, 30),
    )
    zone = ZoneInfo("America/Toronto")
    assert off.starts_at.astimezone(zone).replace(tzinfo=None).isoformat() == "2027-07-05T13:00:00"
    assert off.ends_at - off.starts_at == timedelta(hours=2, minutes=30)


def test_a_time_off_start_in_the_spring_forward_gap_is_refused_with_the_engines_words(personas):
    with pytest.raises(ValidationError) as error:
        time_off_save(
            actor=personas.actor("therapist"),
            therapist=personas.memberships["therapist"],
            first_day=SPRING_FORWARD,
            start_time=time(2, 30),
            end_time=time(5),
        )
    assert messages(error) == {
        "start_time": [
            "02:30 does not exist on 14 March 2027 in America/Toronto: the clocks go forward that night. "
            "Choose a time outside the skipped hour."
        ]
    }
    assert not TimeOff.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start_time": time(13)}, "end_time"),
        ({"end_time": time(13)}, "start_time"),
        ({"start_time": time(15), "end_time": time(13)}, "end_time"),
        ({"last_day": date(2027, 7, 1)}, "last_day"),
    ],
)
def test_time_off_refusals_name_their_field(personas, kwargs, field):
    with pytest.raises(ValidationError) as error:
        time_off_save(
            actor=personas.actor("owner"),
            therapist=personas.memberships["therapist"],
            first_day=date(2027, 7, 5),
            **kwargs,
        )
    assert list(messages(error)) == [field]


def test_time_off_removed_by_the_owner_is_audited(personas):
    off = time_off_save(
        actor=personas.actor("owner"), therapist=personas.memberships["therapist"], first_day=date(2027, 7, 5)
    )
    pk = off.pk
    time_off_delete(actor=personas.actor("owner"), time_off=off)
    assert AuditEvent.objects.filter(object_type="scheduling.timeoff", object_id=str(pk), action="delete").exists()


# --- Closures -----------------------------------------------------------------------------------


def test_a_closure_at_every_location_or_one(personas):
    owner = personas.actor("owner")
    everywhere = closure_save(actor=owner, first_day=date(2027, 12, 25), last_day=date(2027, 12, 26), reason="Holidays")
    assert everywhere.location is None and audited(everywhere, "create")
    one = closure_save(actor=personas.actor("admin"), first_day=date(2027, 8, 2), location=personas.location)
    assert (one.last_day, one.location) == (date(2027, 8, 2), personas.location)
    closure_delete(actor=owner, closure=one)
    assert list(Closure.objects.all()) == [everywhere]


def test_closure_refusals_name_their_field(personas):
    owner = personas.actor("owner")
    with pytest.raises(ValidationError) as error:
        closure_save(actor=owner, first_day=date(2027, 12, 25), last_day=date(2027, 12, 24))
    assert list(messages(error)) == ["last_day"]
    elsewhere = Location.objects.create(clinic=personas.northside, name="Northside Main")
    with pytest.raises(ValidationError) as error:
        closure_save(actor=owner, first_day=date(2027, 12, 25), location=elsewhere)
    assert list(messages(error)) == ["location"]


# --- Appointment types ----------------------------------------------------------------------------

TREATMENT = {
    "name": "Treatment 60",
    "kind": "treatment",
    "duration_minutes": 60,
    "buffer_after_minutes": 15,
    "slot_interval_minutes": 30,
    "price": Decimal("110.00"),
    "room_capability": "table",
    "min_notice_minutes": 240,
    "horizon_days": 30,
    "same_day": False,
    "audience": "returning",
    "daily_cap": 6,
}


def test_an_appointment_type_with_its_rules_and_therapists(personas):
    therapists = [personas.memberships["therapist"], personas.memberships["therapist2"]]
    kind = appointment_type_save(actor=personas.actor("admin"), data={**TREATMENT, "therapists": therapists})
    kind.refresh_from_db()
    assert kind.clinic_id == personas.harbour.pk
    assert (kind.price, kind.step, kind.room_capability, kind.audience, kind.daily_cap, kind.same_day) == (
        Decimal("110.00"),
        timedelta(minutes=30),
        "table",
        "returning",
        6,
        False,
    )
    assert set(kind.therapists.all()) == set(therapists)
    assert audited(kind, "create")
    changed = appointment_type_save(
        actor=personas.actor("owner"),
        data={"price": "95.50", "therapists": therapists[:1]},
        appointment_type=kind,
    )
    assert changed.price == Decimal("95.50") and list(changed.therapists.all()) == therapists[:1]
    assert audited(changed, "update")


@pytest.mark.parametrize("who", ["front_desk", "outsider_therapist"])
def test_only_this_clinics_therapists_offer_a_type(personas, who):
    with pytest.raises(ValidationError) as error:
        appointment_type_save(
            actor=personas.actor("owner"), data={**TREATMENT, "therapists": [personas.memberships[who]]}
        )
    assert messages(error) == {"therapists": ["Only this clinic's active therapists can offer an appointment type."]}


def test_a_second_type_of_the_same_name_is_refused_naming_the_field(personas):
    appointment_type_save(actor=personas.actor("owner"), data=TREATMENT)
    with pytest.raises(ValidationError) as error:
        appointment_type_save(actor=personas.actor("owner"), data={**TREATMENT, "name": "treatment 60"})
    assert messages(error) == {"name": ["Another appointment type is already called “treatment 60”."]}
    # Another clinic may use the name.
    assert appointment_type_save(actor=personas.actor("outsider"), data=TREATMENT).clinic_id == personas.northside.pk


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "  "}, "name"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"slot_interval_minutes": 2}, "slot_interval_minutes"),
        ({"buffer_after_minutes": 500}, "buffer_after_minutes"),
        ({"price": Decimal("-1")}, "price"),
        ({"price": "12.345"}, "price"),
        ({"horizon_days": 0}, "horizon_days"),
        ({"daily_cap": 0}, "daily_cap"),
        ({"audience": "friends"}, "audience"),
        ({"room_capability": "sauna"}, "room_capability"),
    ],
)
def test_appointment_type_refusals_name_their_field(personas, change, field):
    with pytest.raises(ValidationError) as error:
        appointment_type_save(actor=personas.actor("owner"), data={**TREATMENT, **change})
    assert field in messages(error), messages(error)
    assert not AppointmentType.objects.exists()
    assert not AuditEvent.objects.filter(object_type="scheduling.appointmenttype").exists()
