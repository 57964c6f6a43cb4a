"""The schedule setup pages: what an owner or a therapist sees and can change, and what they are told.

Access per role for every route is in tests/test_access_matrix.py; here, what the pages do.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mend.clinics.models import Location, Room
from mend.scheduling.models import AppointmentType, Closure, HoursException, TimeOff, WorkingHours
from mend.testing import Personas


def text_of(response) -> str:
    """The page's text without its tags, as a person reads it."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.content.decode()))


def hours_url(p: Personas, who: str = "therapist") -> str:
    return f"/schedule/setup/therapists/{p.memberships[who].pk}/hours/"


def block(p: Personas, who: str = "therapist", **kwargs) -> WorkingHours:
    kwargs.setdefault("weekday", 0)
    kwargs.setdefault("start", time(9, 30))
    kwargs.setdefault("end", time(16, 30))
    return WorkingHours.objects.create(clinic=p.harbour, therapist=p.memberships[who], location=p.location, **kwargs)


TYPE_FORM = {
    "name": "Treatment 45",
    "kind": "treatment",
    "description": "Massage therapy for one or two areas.",
    "duration_minutes": "45",
    "price": "85.00",
    "is_active": "on",
    "buffer_before_minutes": "0",
    "buffer_after_minutes": "15",
    "slot_interval_minutes": "",
    "room_capability": "table",
    "bookable_online": "on",
    "min_notice_minutes": "120",
    "horizon_days": "60",
    "same_day": "on",
    "audience": "anyone",
    "daily_cap": "",
}


# --- Links ----------------------------------------------------------------------------------------


def test_the_clinic_settings_page_leads_to_the_schedule_setup(login):
    page = login("owner").get("/settings/")
    assert b'href="/schedule/setup/"' in page.content
    index = login("owner").get("/schedule/setup/")
    for path in (b"/schedule/setup/types/", b"/schedule/setup/closures/"):
        assert path in index.content
    assert b"Tess Therapist" in index.content and b"Theo Therapist" in index.content


def test_a_therapist_finds_their_own_hours_in_their_account_menu(login, personas):
    page = login("therapist").get("/")
    assert f'href="{hours_url(personas)}"'.encode() in page.content
    assert b'href="/schedule/setup/"' not in page.content


# --- Appointment types ----------------------------------------------------------------------------


def test_an_owner_creates_an_appointment_type_from_the_form(login, personas):
    http = login("owner")
    form = http.get("/schedule/setup/types/new/")
    assert b"hours 9:30" in form.content.lower()  # the slot interval explained
    tess = personas.memberships["therapist"]
    response = http.post("/schedule/setup/types/new/", {**TYPE_FORM, "therapists": [str(tess.pk)]})
    assert response.status_code == 302 and response["Location"] == "/schedule/setup/types/"
    kind = AppointmentType.objects.get(clinic=personas.harbour, name="Treatment 45")
    assert (kind.duration_minutes, kind.buffer_after_minutes, kind.slot_interval_minutes) == (45, 15, None)
    assert list(kind.therapists.all()) == [tess]
    listing = http.get("/schedule/setup/types/")
    assert b"Treatment 45" in listing.content and b"85.00 CAD" in listing.content
    edit = http.get(f"/schedule/setup/types/{kind.pk}/")
    assert f'value="{tess.pk}" id="id_therapists_0" checked'.encode() in edit.content
    response = http.post(f"/schedule/setup/types/{kind.pk}/", {**TYPE_FORM, "price": "90", "therapists": []})
    assert response.status_code == 302
    kind.refresh_from_db()
    assert str(kind.price) == "90.00" and not kind.therapists.exists()


def test_appointment_type_errors_are_shown_beside_their_fields(login, personas):
    AppointmentType.objects.create(clinic=personas.harbour, name="Treatment 45", duration_minutes=45)
    http = login("owner")
    response = http.post("/schedule/setup/types/new/", {**TYPE_FORM, "slot_interval_minutes": "2", "daily_cap": "0"})
    assert response.status_code == 400
    form = response.context["form"]
    assert "slot_interval_minutes" in form.errors
    assert AppointmentType.objects.count() == 1
    # The name is checked by the service once the form is otherwise right.
    response = http.post("/schedule/setup/types/new/", TYPE_FORM)
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == ["Another appointment type is already called “Treatment 45”."]
    assert b"Another appointment type is already called" in response.content
    assert b'id="id_name_error"' in response.content


def test_offering_a_type_by_another_clinics_therapist_is_refused(login, personas):
    response = login("owner").post(
        "/schedule/setup/types/new/", {**TYPE_FORM, "therapists": [str(personas.memberships["outsider_therapist"].pk)]}
    )
    assert response.status_code == 400
    assert "therapists" in response.context["form"].errors
    assert not AppointmentType.objects.exists()


def test_another_clinics_appointment_type_is_404(login, personas):
    theirs = AppointmentType.objects.create(clinic=personas.northside, name="Theirs", duration_minutes=30)
    http = login("owner")
    assert http.get(f"/schedule/setup/types/{theirs.pk}/").status_code == 404
    assert http.post(f"/schedule/setup/types/{theirs.pk}/", {**TYPE_FORM, "name": "Taken"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


# --- A therapist's hours ------------------------------------------------------------------------------


def test_the_week_table_shows_each_day_and_its_blocks(login, personas):
    block(personas, weekday=0)
    block(personas, weekday=2, start=time(12), end=time(20))
    page = login("therapist").get(hours_url(personas))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Your working hours" in text
    assert "09:30–16:30" in text and "12:00–20:00" in text and "at Harbourfront" in text
    assert text.count("Not working") == 5
    assert "15 h a week" in text


def test_a_therapist_adds_a_block_and_an_overlap_is_refused_beside_the_field(login, personas):
    http = login("therapist")
    data = {"hours-weekday": "0", "hours-start": "09:30", "hours-end": "16:30", "hours-location": personas.location.pk}
    response = http.post(f"{hours_url(personas)}add/", data)
    assert response.status_code == 302 and response["Location"] == hours_url(personas)
    assert WorkingHours.objects.filter(therapist=personas.memberships["therapist"]).count() == 1
    response = http.post(f"{hours_url(personas)}add/", {**data, "hours-start": "16:00", "hours-end": "18:00"})
    assert response.status_code == 400
    assert "These hours overlap Monday 09:30–16:30 at Harbourfront" in response.content.decode()
    assert b'id="id_hours-start_error"' in response.content
    assert WorkingHours.objects.count() == 1


def test_a_therapist_removes_a_block(login, personas):
    row = block(personas)
    response = login("therapist").post(f"{hours_url(personas)}{row.pk}/remove/")
    assert response.status_code == 302
    assert not WorkingHours.objects.exists()


def test_a_block_of_another_therapist_cannot_be_removed_through_ones_own_page(login, personas):
    theirs = block(personas, "therapist2")
    response = login("therapist").post(f"{hours_url(personas)}{theirs.pk}/remove/")
    assert response.status_code == 404
    assert WorkingHours.objects.filter(pk=theirs.pk).exists()


def test_another_clinic_cannot_touch_harbours_hours(login, personas):
    row = block(personas)
    http = login("outsider")
    assert http.get(hours_url(personas)).status_code == 404
    assert http.post(f"{hours_url(personas)}{row.pk}/remove/").status_code == 404
    data = {"hours-weekday": "1", "hours-start": "09:00", "hours-end": "10:00", "hours-location": personas.location.pk}
    assert http.post(f"{hours_url(personas)}add/", data).status_code == 404
    assert list(WorkingHours.objects.all()) == [row]


def test_front_desk_and_a_colleague_cannot_change_a_therapists_hours(login, personas):
    row = block(personas)
    for who in ("front_desk", "therapist2"):
        http = login(who)
        assert http.get(hours_url(personas)).status_code == 403
        assert http.post(f"{hours_url(personas)}{row.pk}/remove/").status_code == 403
    assert WorkingHours.objects.filter(pk=row.pk).exists()


@pytest.mark.clock  # the lists show what is to come from the clinic's today
def test_exceptions_and_time_off_are_added_listed_and_removed(login, personas):
    http = login("owner")
    soon = personas.today + timedelta(days=3)
    response = http.post(
        f"{hours_url(personas)}exceptions/add/", {"exception-day": soon.isoformat(), "exception-kind": "day_off"}
    )
    assert response.status_code == 302
    response = http.post(
        f"{hours_url(personas)}time-off/add/",
        {
            "off-first_day": soon.isoformat(),
            "off-start_time": "13:00",
            "off-end_time": "15:00",
            "off-reason": "Dentist",
        },
    )
    assert response.status_code == 302
    page = text_of(http.get(hours_url(personas)))
    assert f"{soon:%a} {soon.day} {soon:%b %Y}: day off" in page
    assert "13:00 – 15:00" in page and "Dentist" in page
    exception, off = HoursException.objects.get(), TimeOff.objects.get()
    assert http.post(f"{hours_url(personas)}exceptions/{exception.pk}/remove/").status_code == 302
    assert http.post(f"{hours_url(personas)}time-off/{off.pk}/remove/").status_code == 302
    assert not HoursException.objects.exists() and not TimeOff.objects.exists()


def test_time_off_in_the_spring_forward_gap_is_refused_on_the_page(login, personas):
    response = login("therapist").post(
        f"{hours_url(personas)}time-off/add/",
        {"off-first_day": "2027-03-14", "off-start_time": "02:30", "off-end_time": "05:00"},
    )
    assert response.status_code == 400
    assert "02:30 does not exist on 14 March 2027 in America/Toronto" in response.content.decode()
    assert b'id="id_off-start_time_error"' in response.content
    assert not TimeOff.objects.exists()


def test_extra_hours_without_times_say_what_is_missing(login, personas):
    response = login("therapist").post(
        f"{hours_url(personas)}exceptions/add/",
        {"exception-day": "2027-05-08", "exception-kind": "extra", "exception-location": personas.location.pk},
    )
    assert response.status_code == 400
    errors = response.context["exception_form"].errors
    assert errors == {"start": ["Give the time the hours start."], "end": ["Give the time the hours end."]}
    assert not HoursException.objects.exists()


# --- Closures -----------------------------------------------------------------------------------


@pytest.mark.clock
def test_an_admin_adds_and_removes_a_closure(login, personas):
    http = login("admin")
    day = personas.today + timedelta(days=10)
    response = http.post("/schedule/setup/closures/add/", {"first_day": day.isoformat(), "reason": "Staff training"})
    assert response.status_code == 302 and response["Location"] == "/schedule/setup/closures/"
    page = http.get("/schedule/setup/closures/").content.decode()
    assert "Staff training" in page and "all locations" in page
    closure = Closure.objects.get()
    assert http.post(f"/schedule/setup/closures/{closure.pk}/remove/").status_code == 302
    assert not Closure.objects.exists()


def test_a_closure_ending_before_it_starts_is_refused_beside_the_field(login):
    response = login("owner").post(
        "/schedule/setup/closures/add/", {"first_day": "2027-12-25", "last_day": "2027-12-24"}
    )
    assert response.status_code == 400
    assert b'id="id_last_day_error"' in response.content
    assert not Closure.objects.exists()


def test_another_clinics_closure_is_404(login, personas):
    theirs = Closure.objects.create(
        clinic=personas.northside, first_day=date(2027, 12, 25), last_day=date(2027, 12, 25)
    )
    assert login("owner").post(f"/schedule/setup/closures/{theirs.pk}/remove/").status_code == 404
    assert Closure.objects.filter(pk=theirs.pk).exists()


# --- Rooms and their capabilities (the clinic settings' room form) --------------------------------------


def test_the_room_form_shows_and_saves_capabilities(login, personas):
    http = login("owner")
    form = http.get(f"/settings/rooms/{personas.room.pk}/").content.decode()
    assert "Treatment table" in form and "Hydrotherapy" in form and "Wheelchair accessible" in form
    assert 'value="table" id="id_capabilities_0" checked' in form  # a new room has a table
    response = http.post(
        f"/settings/rooms/{personas.room.pk}/",
        {
            "name": "Room 1",
            "location": personas.location.pk,
            "capabilities": ["accessible", "hydrotherapy"],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    personas.room.refresh_from_db()
    assert personas.room.capabilities == ["accessible", "hydrotherapy"]
    form = http.get(f"/settings/rooms/{personas.room.pk}/").content.decode()
    assert 'value="hydrotherapy" id="id_capabilities_1" checked' in form
    assert 'value="table" id="id_capabilities_0" checked' not in form
    response = http.post(
        "/settings/rooms/new/", {"name": "Room 3", "location": personas.location.pk, "capabilities": ["sauna"]}
    )
    assert response.status_code == 400
    assert not Room.objects.filter(name="Room 3").exists()


# --- Queries: the same number however many rows -------------------------------------------------------


def _queries(http, path: str) -> int:
    http.get(path)  # warm up: session, first-visit work
    with CaptureQueriesContext(connection) as captured:
        response = http.get(path)
    assert response.status_code == 200, response.content[:300]
    return len(captured.captured_queries)


def _grow(p: Personas, size: int) -> None:
    """``size`` more of everything the setup pages list, for Tess and the clinic."""
    tess, theo = p.memberships["therapist"], p.memberships["therapist2"]
    start = WorkingHours.objects.filter(therapist=tess).count()
    places = Location.objects.bulk_create(
        Location(clinic=p.harbour, name=f"Site {Location.objects.count() + i}") for i in range(size)
    )
    for i in range(size):
        slot = start + i
        WorkingHours.objects.create(
            clinic=p.harbour,
            therapist=tess,
            location=places[i],
            weekday=slot % 7,
            start=time(slot // 7),
            end=time(slot // 7, 30),
        )
        day = date(2030, 1, 1) + timedelta(days=Closure.objects.count())
        HoursException.objects.create(clinic=p.harbour, therapist=tess, day=day, kind="day_off")
        TimeOff.objects.create(clinic=p.harbour, therapist=tess, first_day=day, last_day=day)
        Closure.objects.create(clinic=p.harbour, first_day=day, last_day=day, location=places[i])
        kind = AppointmentType.objects.create(
            clinic=p.harbour, name=f"Type {AppointmentType.objects.count()}", duration_minutes=30
        )
        kind.therapists.set([tess, theo])


# Every page starts with the session, the user and the active membership (3 queries).
SETUP_PAGES = [
    # + the types' counts, the closures to come, the therapists with their number of blocks
    pytest.param("/schedule/setup/", 6, id="index"),
    # + the types, + who offers them (with names)
    pytest.param("/schedule/setup/types/", 5, id="types"),
    # + the closures to come with their locations, + the locations to choose
    pytest.param("/schedule/setup/closures/", 5, id="closures"),
    # + the therapist, + the week's blocks, + exceptions, + time off to come (each with its location),
    # + whether the profile lists locations, + the locations to choose
    pytest.param("HOURS", 9, id="hours"),
    # + the therapists who may offer it
    pytest.param("/schedule/setup/types/new/", 4, id="new-type"),
]


@pytest.mark.parametrize(("path", "expected"), SETUP_PAGES)
def test_setup_pages_run_the_same_queries_with_few_and_many_rows(login, personas, path, expected):
    http = login("owner")
    path = hours_url(personas) if path == "HOURS" else path
    _grow(personas, 2)
    few = _queries(http, path)
    _grow(personas, 20)
    many = _queries(http, path)
    assert few == many == expected, (few, many)
