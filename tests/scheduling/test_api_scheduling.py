"""The scheduling API's contract: free slots, appointment types, and booking, moving, cancelling and
status changes, each with its 409 (the time is not free), 422 (naming the field) and 404 (another
clinic's, or another care team's, id), and ``Idempotency-Key`` on booking."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine

from mend.audit.models import AuditEvent
from mend.clinics.models import Room
from mend.core.availability import exact_local
from mend.scheduling.models import Appointment, AppointmentStatus, IdempotencyKey, WorkingHours
from mend.scheduling.queries import appointments as availability_queries
from mend.scheduling.queries import availability
from mend.scheduling.services import appointment_book
from mend.testing import Personas, Schedule, build_schedule

ZONE = "America/Toronto"
DAY = date(2027, 3, 17)  # a Wednesday after any frozen test clock
NEXT = DAY + timedelta(days=1)


@pytest.fixture
def schedule(personas: Personas) -> Schedule:
    availability.clear_cache()
    return build_schedule(personas)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return exact_local(day, time(hour, minute), ZONE)


def iso(hour: int, minute: int = 0, day: date = DAY) -> str:
    return at(hour, minute, day).isoformat()


def booking(p: Personas, s: Schedule, **changes):
    body = {
        "client": p.carol.pk,
        "therapist": p.therapist_profile.pk,
        "appointment_type": s.treatment.pk,
        "start": iso(10),
    }
    return body | changes


def book_directly(p: Personas, s: Schedule, start: datetime, **kwargs) -> Appointment:
    kwargs.setdefault("client", p.carol)
    kwargs.setdefault("therapist", p.memberships["therapist"])
    return appointment_book(
        clinic=p.harbour, actor=p.actor("owner"), appointment_type=s.treatment, starts_at=start, **kwargs
    )


# --- Availability --------------------------------------------------------------------------------


def test_availability_lists_free_slots_in_the_clinics_zone_with_therapist_and_room(api, personas, schedule):
    response = api("front_desk").get(
        "/availability", {"appointment_type": schedule.treatment.pk, "start": DAY.isoformat(), "end": DAY.isoformat()}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["timezone"] == ZONE and body["start"] == iso(0)
    slots = body["slots"]
    # 60 minutes on the type's own grid from 09:00, both therapists, the last ending at 17:00.
    assert slots[0] == {
        "start": iso(9),
        "end": iso(10),
        "therapist": personas.therapist_profile.pk,
        "room": slots[0]["room"],
    }
    assert {s["start"] for s in slots} == {iso(h) for h in range(9, 17)}
    assert {s["therapist"] for s in slots} == {personas.therapist_profile.pk, personas.therapist2_profile.pk}
    assert all(s["start"].endswith("-04:00") for s in slots)  # EDT in March after the change


def test_availability_leaves_out_a_booked_time_and_its_buffer_and_narrows_to_one_therapist(api, personas, schedule):
    book_directly(personas, schedule, at(10))  # Tess 10:00–11:00, then 15 minutes
    response = api("owner").get(
        "/availability",
        {
            "appointment_type": schedule.treatment.pk,
            "start": iso(9),
            "end": iso(13),
            "therapist": personas.therapist_profile.pk,
        },
    )
    starts = [s["start"] for s in response.json()["slots"]]
    # 09:00 would run into 10:00 with its own 15-minute buffer, 11:00 into the booked one's; 12:00 fits.
    assert starts == [iso(12)]
    assert {s["therapist"] for s in response.json()["slots"]} == {personas.therapist_profile.pk}


def test_availability_sees_a_new_booking_at_once_though_it_keeps_the_calendar_cached(api, personas, schedule):
    query = {
        "appointment_type": schedule.treatment.pk,
        "start": iso(9),
        "end": iso(12),
        "therapist": personas.therapist_profile.pk,
    }
    owner = api("owner")
    assert [s["start"] for s in owner.get("/availability", query).json()["slots"]] == [iso(9), iso(10), iso(11)]
    appointment = book_directly(personas, schedule, at(10))
    assert owner.get("/availability", query).json()["slots"] == []  # 10:00 taken, 09:00 and 11:00 in buffers
    owner.post(f"/appointments/{appointment.pk}/cancel", {})
    assert [s["start"] for s in owner.get("/availability", query).json()["slots"]] == [iso(9), iso(10), iso(11)]


def test_availability_offers_nothing_before_now_and_the_cached_list_follows_the_clock(api, personas, schedule):
    query = {"appointment_type": schedule.treatment.pk, "start": DAY.isoformat(), "end": DAY.isoformat()}
    with time_machine.travel(at(8), tick=False):
        owner = api("owner")  # a token of that day
        assert {s["start"] for s in owner.get("/availability", query).json()["slots"]} == {iso(h) for h in range(9, 17)}
    with time_machine.travel(at(11, 30), tick=False):
        starts = {s["start"] for s in owner.get("/availability", query).json()["slots"]}
    assert starts == {iso(h) for h in range(12, 17)}


def test_availability_follows_a_move_to_another_therapist(api, personas, schedule):
    query = {"appointment_type": schedule.treatment.pk, "start": iso(9), "end": iso(12)}
    owner = api("owner")
    appointment = book_directly(personas, schedule, at(10))

    def theirs():
        slots = owner.get("/availability", query).json()["slots"]
        return {(s["therapist"], s["start"]) for s in slots}

    assert (personas.therapist_profile.pk, iso(10)) not in theirs()
    assert (personas.therapist2_profile.pk, iso(10)) in theirs()
    owner.post(
        f"/appointments/{appointment.pk}/reschedule", {"start": iso(10), "therapist": personas.therapist2_profile.pk}
    )
    assert (personas.therapist_profile.pk, iso(10)) in theirs()
    assert (personas.therapist2_profile.pk, iso(10)) not in theirs()


def test_availability_follows_a_change_of_hours_or_rooms_at_once(api, personas, schedule):
    query = {"appointment_type": schedule.treatment.pk, "start": DAY.isoformat(), "end": DAY.isoformat()}
    owner = api("owner")

    def tess_starts() -> set[str]:
        slots = owner.get("/availability", query).json()["slots"]
        return {s["start"] for s in slots if s["therapist"] == personas.therapist_profile.pk}

    assert tess_starts() == {iso(h) for h in range(9, 17)}
    hours = WorkingHours.objects.get(therapist=personas.memberships["therapist"], weekday=DAY.weekday())
    hours.end = time(12)  # an edit: same rows, same ids
    hours.save()
    assert tess_starts() == {iso(h) for h in range(9, 12)}
    Room.objects.filter(clinic=personas.harbour).update(is_active=False)
    assert owner.get("/availability", query).json()["slots"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2027-03-17T10:00:00"}, "start"),  # no offset
        ({"start": "yesterday"}, "start"),
        ({"end": "2027-03-10"}, "end"),  # before the start
        ({"end": "2027-07-01"}, "end"),  # more than 62 days
        ({"start": "9999-12-31", "end": "9999-12-31"}, "start"),  # past any calendar (and Python's dates)
        ({"start": "0001-01-01T00:00:00+00:00"}, "start"),
        ({"appointment_type": 999999}, "appointment_type"),
        ({"therapist": 999999}, "therapist"),
    ],
)
def test_availability_bad_input_is_422_naming_the_field(api, personas, schedule, query, field):
    params = {"appointment_type": schedule.treatment.pk, "start": DAY.isoformat(), "end": DAY.isoformat()} | query
    response = api("owner").get("/availability", params)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]


def test_availability_of_another_clinics_type_or_therapist_is_422(api, personas, schedule):
    outsider = api("outsider")
    params = {"appointment_type": schedule.treatment.pk, "start": DAY.isoformat(), "end": DAY.isoformat()}
    assert "appointment_type" in outsider.get("/availability", params).json()["errors"]


def test_appointment_types_lists_the_clinics_types_with_who_offers_them(api, personas, schedule):
    types = api("front_desk").get("/appointment-types").json()
    assert {t["name"] for t in types} == {"Treatment 60", "Initial consultation"}
    treatment = next(t for t in types if t["name"] == "Treatment 60")
    assert treatment["duration_minutes"] == 60 and treatment["buffer_after_minutes"] == 15
    assert treatment["therapists"] == sorted([personas.therapist_profile.pk, personas.therapist2_profile.pk])
    assert api("outsider").get("/appointment-types").json() == []


# --- Booking -------------------------------------------------------------------------------------


def test_booking_answers_201_with_the_appointment_in_the_clinics_zone_and_audits_it(api, personas, schedule):
    response = api("owner").post("/appointments", booking(personas, schedule))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["start"] == iso(10) and body["end"] == iso(11)
    assert body["therapist"] == personas.therapist_profile.pk and body["client"] == personas.carol.pk
    assert body["room"] == personas.room.pk and body["status"] == "booked" and body["channel"] == "api"
    appointment = Appointment.objects.get(pk=body["id"])
    assert appointment.starts_at == at(10)
    assert AuditEvent.objects.filter(object_type="scheduling.appointment", object_id=str(appointment.pk)).exists()


def test_an_offset_other_than_the_clinics_means_the_same_instant(api, personas, schedule):
    response = api("owner").post("/appointments", booking(personas, schedule, start="2027-03-17T14:00:00+00:00"))
    assert response.status_code == 201
    assert response.json()["start"] == iso(10)


def test_a_taken_time_is_409_with_the_reason(api, personas, schedule):
    owner = api("owner")
    assert owner.post("/appointments", booking(personas, schedule)).status_code == 201
    response = owner.post("/appointments", booking(personas, schedule, client=personas.dan.pk, start=iso(10, 30)))
    assert response.status_code == 409
    assert response.json() == {"detail": "The therapist has another appointment then (buffers included)."}
    assert Appointment.objects.filter(clinic=personas.harbour).count() == 1


def test_back_to_back_bookings_coexist(api, personas, schedule):
    owner = api("owner")
    first = booking(personas, schedule, appointment_type=schedule.initial.pk, start=iso(10))
    second = booking(personas, schedule, appointment_type=schedule.initial.pk, start=iso(10, 30))
    assert owner.post("/appointments", first).status_code == 201
    assert owner.post("/appointments", second).status_code == 201


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"start": "2027-03-17T10:00:00"}, "start", "UTC offset"),
        ({"start": "2027-03-14T02:30:00"}, "start", "does not exist in America/Toronto"),  # spring forward
        ({"start": "17 March, 10 am"}, "start", "UTC offset"),
        ({"client": 999999}, "client", "No such client"),
        ({"therapist": 999999}, "therapist", "No such therapist"),
        ({"appointment_type": 999999}, "appointment_type", "No such appointment type"),
        ({"room": 999999}, "room", "No such room"),
        ({"start": "2027-03-17T10:00:30-04:00"}, "start", "whole minute"),
        ({"client": "carol"}, "client", ""),
        ({"therapist": None}, "therapist", ""),
    ],
)
def test_bad_input_is_422_naming_the_field(api, personas, schedule, change, field, says):
    response = api("owner").post("/appointments", booking(personas, schedule, **change))
    assert response.status_code == 422, response.content
    errors = response.json()["errors"]
    assert field in errors, errors
    assert says in " ".join(errors[field])
    assert not Appointment.objects.filter(clinic=personas.harbour).exists()


def test_another_clinics_client_therapist_or_room_is_422_and_books_nothing(api, personas, schedule):
    owner = api("owner")
    response = owner.post(
        "/appointments",
        booking(personas, schedule, client=personas.stranger.pk, therapist=personas.outsider_profile.pk),
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"client", "therapist"}


def test_a_therapist_books_only_clients_of_their_care_team(api, personas, schedule):
    tess = api("therapist")
    assert tess.post("/appointments", booking(personas, schedule, client=personas.dan.pk)).status_code == 422
    assert tess.post("/appointments", booking(personas, schedule)).status_code == 201


def test_only_an_owner_or_admin_may_double_book_with_a_reason(api, personas, schedule):
    book_directly(personas, schedule, at(10))
    clash = booking(personas, schedule, client=personas.dan.pk, start=iso(10), override_reason="Short check-in")
    assert api("front_desk").post("/appointments", clash).status_code == 403
    response = api("admin").post("/appointments", clash | {"room": schedule.room2.pk})
    assert response.status_code == 201
    assert response.json()["override_reason"] == "Short check-in"


def test_front_desk_books_and_the_answer_carries_nothing_clinical(api, personas, schedule):
    response = api("front_desk").post("/appointments", booking(personas, schedule))
    assert response.status_code == 201
    assert set(response.json()) == {
        "id", "client", "client_name", "therapist", "therapist_name", "room", "room_name", "location",
        "appointment_type", "appointment_type_name", "start", "end", "status", "channel", "series_id",
        "override_reason", "client_notes", "cancel_reason", "cancelled_at", "sequence", "created_at", "updated_at",
    }  # fmt: skip


# --- Idempotency-Key -----------------------------------------------------------------------------


def test_a_retried_request_with_its_key_gets_the_first_answer_and_books_once(api, personas, schedule):
    owner = api("owner")
    owner.headers["HTTP_IDEMPOTENCY_KEY"] = "book-carol-1"
    first = owner.post("/appointments", booking(personas, schedule))
    again = owner.post("/appointments", booking(personas, schedule))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Appointment.objects.filter(clinic=personas.harbour).count() == 1
    # Key order in the body does not make it another request.
    reordered = dict(reversed(list(booking(personas, schedule).items())))
    assert owner.post("/appointments", reordered).json() == first.json()


def test_the_same_key_with_another_body_is_422_naming_the_header(api, personas, schedule):
    owner = api("owner")
    owner.headers["HTTP_IDEMPOTENCY_KEY"] = "book-carol-2"
    assert owner.post("/appointments", booking(personas, schedule)).status_code == 201
    response = owner.post("/appointments", booking(personas, schedule, start=iso(12)))
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["errors"]
    assert Appointment.objects.filter(clinic=personas.harbour).count() == 1


def test_a_conflict_is_stored_under_its_key_and_replayed(api, personas, schedule):
    book_directly(personas, schedule, at(10))
    owner = api("owner")
    owner.headers["HTTP_IDEMPOTENCY_KEY"] = "late"
    first = owner.post("/appointments", booking(personas, schedule, client=personas.dan.pk))
    assert first.status_code == 409
    again = owner.post("/appointments", booking(personas, schedule, client=personas.dan.pk))
    assert (again.status_code, again.json()) == (409, first.json())


def test_keys_are_per_clinic(api, personas, schedule):
    owner = api("owner")
    owner.headers["HTTP_IDEMPOTENCY_KEY"] = "shared"
    assert owner.post("/appointments", booking(personas, schedule)).status_code == 201
    outsider = api("outsider")
    outsider.headers["HTTP_IDEMPOTENCY_KEY"] = "shared"
    response = outsider.post("/appointments", booking(personas, schedule))
    assert response.status_code == 422  # Harbour's ids are unknown in Northside, not Harbour's stored answer
    assert "Idempotency-Key" not in response.json()["errors"]


@pytest.mark.parametrize("key", ["", "x" * 201])
def test_an_unusable_key_is_422_naming_the_header(api, personas, schedule, key):
    owner = api("owner")
    owner.headers["HTTP_IDEMPOTENCY_KEY"] = key
    response = owner.post("/appointments", booking(personas, schedule))
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["errors"]
    assert not IdempotencyKey.objects.exists()


# --- Reading -------------------------------------------------------------------------------------


def test_list_filters_by_range_therapist_and_client_and_is_audited(api, personas, schedule):
    first = book_directly(personas, schedule, at(10))
    second = book_directly(
        personas, schedule, at(12), client=personas.dan, therapist=personas.memberships["therapist2"]
    )
    third = book_directly(personas, schedule, at(10, day=NEXT))
    owner = api("owner")
    events = AuditEvent.objects.filter(object_type="scheduling.appointment_list").count()

    def ids(**query):
        response = owner.get("/appointments", query)
        assert response.status_code == 200
        return [a["id"] for a in response.json()["items"]]

    assert ids() == [first.pk, second.pk, third.pk]
    assert ids(start=DAY.isoformat(), end=DAY.isoformat()) == [first.pk, second.pk]
    assert ids(start=iso(10, 30), end=iso(11)) == [first.pk]  # overlapping the range
    assert ids(therapist=personas.therapist2_profile.pk) == [second.pk]
    assert ids(client=personas.carol.pk) == [first.pk, third.pk]
    assert ids(therapist=999999) == []
    assert AuditEvent.objects.filter(object_type="scheduling.appointment_list").count() == events + 6
    assert owner.get("/appointments", {"start": "2027-03-17T10:00"}).status_code == 422


def test_a_therapist_sees_their_own_and_their_care_teams_appointments(api, personas, schedule):
    theirs = book_directly(personas, schedule, at(10), client=personas.dan)  # Tess's, though Dan is not hers
    carols = book_directly(
        personas, schedule, at(10), therapist=personas.memberships["therapist2"], room=schedule.room2
    )
    other = book_directly(personas, schedule, at(13), client=personas.dan, therapist=personas.memberships["therapist2"])
    tess, theo = api("therapist"), api("therapist2")
    assert [a["id"] for a in tess.get("/appointments").json()["items"]] == [theirs.pk, carols.pk]
    assert tess.get(f"/appointments/{other.pk}").status_code == 404
    assert [a["id"] for a in theo.get("/appointments").json()["items"]] == [carols.pk, other.pk]


def test_read_one_is_audited_with_its_client_and_another_clinics_is_404(api, personas, schedule):
    appointment = book_directly(personas, schedule, at(10))
    response = api("front_desk").get(f"/appointments/{appointment.pk}")
    assert response.status_code == 200 and response.json()["id"] == appointment.pk
    assert AuditEvent.objects.filter(
        object_type="scheduling.appointment", object_id=str(appointment.pk), client_id=personas.carol.pk, action="view"
    ).exists()
    outsider = api("outsider")
    for call in (
        lambda: outsider.get(f"/appointments/{appointment.pk}"),
        lambda: outsider.post(f"/appointments/{appointment.pk}/cancel", {}),
        lambda: outsider.post(f"/appointments/{appointment.pk}/reschedule", {"start": iso(12)}),
        lambda: outsider.post(f"/appointments/{appointment.pk}/status", {"status": "arrived"}),
    ):
        response = call()
        assert response.status_code == 404 and response.json() == {"detail": "Not found."}
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED and appointment.starts_at == at(10)


# --- Changes -------------------------------------------------------------------------------------


def test_reschedule_moves_it_and_a_taken_time_is_409(api, personas, schedule):
    appointment = book_directly(personas, schedule, at(10))
    book_directly(personas, schedule, at(14), client=personas.dan)
    owner = api("owner")
    moved = owner.post(f"/appointments/{appointment.pk}/reschedule", {"start": iso(12)})
    assert moved.status_code == 200 and moved.json()["start"] == iso(12) and moved.json()["sequence"] == 1
    clash = owner.post(f"/appointments/{appointment.pk}/reschedule", {"start": iso(14, 30)})
    assert clash.status_code == 409 and "another appointment" in clash.json()["detail"]
    other = owner.post(
        f"/appointments/{appointment.pk}/reschedule", {"start": iso(14), "therapist": personas.therapist2_profile.pk}
    )
    assert other.status_code == 200 and other.json()["therapist"] == personas.therapist2_profile.pk
    assert other.json()["room"] != personas.room.pk  # Room 1 is Dan's at 14:00
    bad = owner.post(f"/appointments/{appointment.pk}/reschedule", {"start": "2027-03-17T15:00"})
    assert bad.status_code == 422 and "start" in bad.json()["errors"]


def test_cancel_frees_the_time_and_a_second_cancel_is_409(api, personas, schedule):
    appointment = book_directly(personas, schedule, at(10))
    owner = api("owner")
    response = owner.post(f"/appointments/{appointment.pk}/cancel", {"reason": "Client is unwell"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and response.json()["cancel_reason"] == "Client is unwell"
    assert owner.post(f"/appointments/{appointment.pk}/cancel", {}).status_code == 409
    assert owner.post("/appointments", booking(personas, schedule, client=personas.dan.pk)).status_code == 201


def test_status_changes_follow_the_day_and_the_order(api, personas, schedule):
    appointment = book_directly(personas, schedule, at(10))
    desk = api("front_desk")
    early = desk.post(f"/appointments/{appointment.pk}/status", {"status": "arrived"})
    assert early.status_code == 422 and "status" in early.json()["errors"]
    with time_machine.travel(at(9, 55), tick=False):
        desk = api("front_desk")  # a token of that day
        arrived = desk.post(f"/appointments/{appointment.pk}/status", {"status": "arrived"})
        assert arrived.status_code == 200 and arrived.json()["status"] == "arrived"
        assert desk.post(f"/appointments/{appointment.pk}/status", {"status": "no_show"}).status_code == 409
        assert desk.post(f"/appointments/{appointment.pk}/status", {"status": "completed"}).json()["status"] == (
            "completed"
        )
        bad = desk.post(f"/appointments/{appointment.pk}/status", {"status": "cancelled"})
        assert bad.status_code == 422 and "status" in bad.json()["errors"]


# --- The query the public booking uses ------------------------------------------------------------


def test_online_slots_keep_the_types_notice_and_daily_cap(personas, schedule):
    schedule.treatment.min_notice_minutes = 120
    schedule.treatment.daily_cap = 1
    schedule.treatment.save()
    book_directly(personas, schedule, at(15))  # Tess's one appointment of the day
    kind = availability_queries.appointment_types(personas.actor("owner")).get(pk=schedule.treatment.pk)
    slots = availability.available_slots(personas.harbour, kind, at(0), at(0, day=NEXT), online=True, now=at(8, 30))
    # Two hours' notice from 08:30: nothing before 10:30, so the grid's first is 11:00; Tess is at her cap.
    assert {s.start for s in slots} == {at(h) for h in range(11, 17)}
    assert {s.therapist for s in slots} == {personas.memberships["therapist2"].pk}
    staff = availability.available_slots(personas.harbour, kind, at(0), at(0, day=NEXT), now=at(8, 30))
    assert {s.start for s in staff} == {at(h) for h in range(9, 17)}  # staff are not held to the rules
