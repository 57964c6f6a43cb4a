"""The staff calendar pages: the grid, booking, moving, cancelling and status changes through them.

Who sees what: owners, admins and front desk see every appointment with its client; a therapist
sees every appointment, but a colleague's whose client is not on the therapist's care team only as
"Busy" (no name, no link, and its page is a 404). Front desk sees the booking flags, never a
clinical reason.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from mend.audit.models import AuditEvent
from mend.core.availability import exact_local
from mend.scheduling.models import Appointment, AppointmentStatus, AppointmentType, Closure, TimeOff
from mend.scheduling.services import appointment_book
from mend.testing import Personas, Schedule, build_schedule

ZONE = "America/Toronto"


@pytest.fixture
def schedule(personas: Personas) -> Schedule:
    return build_schedule(personas)


def ahead(p: Personas, days: int = 7) -> date:
    """A day far enough ahead that no frozen clock makes it the past."""
    return p.today + timedelta(days=days)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return exact_local(day, time(hour, minute), ZONE)


def book(p: Personas, s: Schedule, start: datetime, *, who: str = "therapist", client=None, **kwargs) -> Appointment:
    return appointment_book(
        clinic=p.harbour,
        actor=p.actor("front_desk"),
        client=client or p.carol,
        therapist=p.memberships[who],
        appointment_type=kwargs.pop("appointment_type", s.treatment),
        starts_at=start,
        now=kwargs.pop("now", start - timedelta(days=30)),
        **kwargs,
    )


def form(p: Personas, s: Schedule, day: date, hour: str, **overrides) -> dict[str, str]:
    data = {
        "client": str(p.carol.pk),
        "therapist": str(p.memberships["therapist"].pk),
        "appointment_type": str(s.treatment.pk),
        "day": day.isoformat(),
        "time": hour,
        "room": "",
    }
    data.update({k: str(v) for k, v in overrides.items()})
    return data


# --- The grid ------------------------------------------------------------------------------


def test_day_view_shows_each_therapist_with_their_appointments(login, personas, schedule):
    day = ahead(personas)
    book(personas, schedule, at(day, 10))
    page = login("front_desk").get(f"/schedule/?date={day}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Tess Therapist" in html and "Theo Therapist" in html
    assert "Carol Client" in html and "Treatment 60" in html and "10:00–11:00" in html
    # 09:00–17:00 worked: the grid starts at 09:00 (row 1) and the hours are shaded.
    assert 'class="cal-hours cal-at-1 cal-span-32"' in html
    assert '<span class="cal-hour cal-at-1">09:00</span>' in html
    # 10:00 is the fifth 15-minute row; 60 minutes span four.
    assert "cal-appt cal-at-5 cal-span-4" in html


def test_week_view_of_one_therapist_has_seven_days(login, personas, schedule):
    day = ahead(personas)
    book(personas, schedule, at(day, 9, 30))
    tess = personas.memberships["therapist"].pk
    html = login("owner").get(f"/schedule/?view=week&date={day}&therapist={tess}").content.decode()
    assert html.count('class="cal-head"') == 8  # the hours' column and seven days
    monday = day - timedelta(days=day.weekday())
    assert f'data-date="{monday}"' in html and f'data-date="{monday + timedelta(days=6)}"' in html
    assert "Carol Client" in html


def test_room_view_places_appointments_in_their_room(login, personas, schedule):
    day = ahead(personas)
    book(personas, schedule, at(day, 10), room=schedule.room2)
    html = login("owner").get(f"/schedule/?date={day}&by=room&room={schedule.room2.pk}").content.decode()
    assert "Room 2" in html and "Carol Client" in html
    html = login("owner").get(f"/schedule/?date={day}&by=room&room={personas.room.pk}").content.decode()
    assert "Carol Client" not in html


def test_time_off_and_closures_are_shown(login, personas, schedule):
    day = ahead(personas)
    TimeOff.objects.create(
        clinic=personas.harbour, therapist=personas.memberships["therapist"], first_day=day, last_day=day
    )
    TimeOff.objects.create(
        clinic=personas.harbour,
        therapist=personas.memberships["therapist2"],
        first_day=day,
        last_day=day,
        starts_at=at(day, 12),
        ends_at=at(day, 13),
    )
    html = login("front_desk").get(f"/schedule/?date={day}").content.decode()
    assert '<div class="cal-closed">Time off</div>' in html
    assert 'class="cal-off cal-at-13 cal-span-4"' in html  # 12:00–13:00 for Theo
    Closure.objects.create(clinic=personas.harbour, first_day=day, last_day=day, reason="Statutory holiday")
    html = login("front_desk").get(f"/schedule/?date={day}").content.decode()
    assert "Closed: Statutory holiday" in html


def test_navigation_moves_by_a_day_or_a_week_and_a_bad_date_shows_today(login, personas, schedule):
    http = login("owner")
    day = ahead(personas)
    html = http.get(f"/schedule/?date={day}").content.decode()
    assert f"date={day - timedelta(days=1)}&amp;view=day" in html
    assert f"date={day + timedelta(days=1)}&amp;view=day" in html
    html = http.get(f"/schedule/?date={day}&view=week").content.decode()
    assert f"date={day + timedelta(days=7)}&amp;view=week" in html
    page = http.get("/schedule/?date=not-a-date&view=fortnight&therapist=abc")
    assert page.status_code == 200
    assert f'value="{personas.today}"' in page.content.decode()


def test_schedule_is_in_the_main_navigation(login, personas):
    html = login("front_desk").get("/").content.decode()
    assert 'href="/schedule/"' in html


# --- Who sees what -------------------------------------------------------------------------


def test_therapist_sees_a_colleagues_client_only_as_busy(login, personas, schedule):
    """Dan is on nobody's care team: with Theo he shows to Tess as Busy; with Tess, by name."""
    day = ahead(personas)
    theirs = book(personas, schedule, at(day, 10), who="therapist2", client=personas.dan)
    html = login("therapist").get(f"/schedule/?date={day}").content.decode()
    assert "Dan Unassigned" not in html and "Busy" in html
    assert f"/schedule/appointments/{theirs.pk}/" not in html
    assert login("therapist").get(f"/schedule/appointments/{theirs.pk}/").status_code == 404
    mine = book(personas, schedule, at(day, 14), client=personas.dan)
    html = login("therapist").get(f"/schedule/?date={day}").content.decode()
    assert html.count("Dan Unassigned") == 1
    assert login("therapist").get(f"/schedule/appointments/{mine.pk}/").status_code == 200
    # Carol is on Tess's care team: Tess sees her with Theo too.
    book(personas, schedule, at(day, 15), who="therapist2")
    assert "Carol Client" in login("therapist").get(f"/schedule/?date={day}").content.decode()


def test_another_clinics_appointment_is_404(login, personas, schedule):
    appointment = book(personas, schedule, at(ahead(personas), 10))
    http = login("outsider")
    assert http.get(f"/schedule/appointments/{appointment.pk}/").status_code == 404
    for action in ("move", "cancel", "status"):
        assert http.post(f"/schedule/appointments/{appointment.pk}/{action}/", {}).status_code == 404
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.BOOKED
    assert b"Carol" not in http.get(f"/schedule/?date={ahead(personas)}").content


def test_front_desk_sees_booking_flags_without_clinical_reasons(login, personas, schedule, monkeypatch):
    """The flags module gives front desk only what booking needs; the page shows it and links no chart."""
    from mend.scheduling.queries import flags as flag_queries

    day = ahead(personas)
    appointment = book(personas, schedule, at(day, 10))

    def fake(actor, client_ids, *, today):
        return {
            cid: flag_queries.BookingFlags(client_id=cid, authorisation=None, booking_flag=flag_queries.DO_NOT_BOOK)
            for cid in client_ids
        }

    monkeypatch.setattr("mend.scheduling.queries.schedule.booking_flags", fake)
    http = login("front_desk")
    html = http.get(f"/schedule/?date={day}").content.decode()
    assert "Do not book: see therapist" in html
    detail = http.get(f"/schedule/appointments/{appointment.pk}/").content.decode()
    assert "Do not book: see therapist" in detail
    assert "/episodes/" not in detail and "Open the chart" not in detail


def test_appointment_page_is_audited_and_links_client_and_chart_for_clinical_roles(login, personas, schedule):
    from mend.clinical import services as clinical

    episode = clinical.episode_open(
        actor=personas.actor("therapist"),
        client=personas.carol,
        data={"title": "Low back pain", "started_on": personas.today},
    )
    appointment = book(personas, schedule, at(ahead(personas), 10))
    html = login("therapist").get(f"/schedule/appointments/{appointment.pk}/").content.decode()
    assert f'href="/clients/{personas.carol.pk}/"' in html
    assert f'href="/episodes/{episode.pk}/"' in html
    assert AuditEvent.objects.filter(
        action="view", object_type="scheduling.appointment", object_id=str(appointment.pk)
    ).exists()


# --- Booking ------------------------------------------------------------------------------


def test_book_form_is_prefilled_from_the_cell(login, personas, schedule):
    day = ahead(personas)
    tess = personas.memberships["therapist"].pk
    html = login("front_desk").get(f"/schedule/new/?therapist={tess}&date={day}&time=10:15").content.decode()
    assert f'<option value="{tess}" selected>' in html
    assert f'value="{day}"' in html and 'value="10:15"' in html
    assert "Double-book on purpose" not in html  # owners and admins only


def test_booking_through_the_page(login, personas, schedule):
    day = ahead(personas)
    response = login("front_desk").post("/schedule/new/", form(personas, schedule, day, "10:00"))
    assert response.status_code == 302, response.content[:500]
    appointment = Appointment.objects.get(client=personas.carol)
    assert appointment.starts_at == at(day, 10)
    assert appointment.room_id == personas.room.pk  # any suitable room: chosen automatically
    assert response["Location"] == f"/schedule/?date={day}"


def test_a_conflict_is_shown_beside_the_form_with_409(login, personas, schedule):
    day = ahead(personas)
    book(personas, schedule, at(day, 10))
    response = login("front_desk").post(
        "/schedule/new/", form(personas, schedule, day, "10:30", client=personas.dan.pk)
    )
    assert response.status_code == 409
    assert "Not booked:" in response.content.decode()
    assert Appointment.objects.count() == 1


def test_a_time_in_the_spring_forward_gap_is_refused_by_name(login, personas, schedule):
    gap_day = date(2027, 3, 14)  # America/Toronto springs forward at 02:00
    response = login("owner").post("/schedule/new/", form(personas, schedule, gap_day, "02:30"))
    assert response.status_code == 422
    html = response.content.decode()
    assert "does not exist on 14 March 2027" in html and 'id="id_time_error"' in html
    assert not Appointment.objects.exists()


def test_bad_input_names_the_field(login, personas, schedule):
    response = login("front_desk").post(
        "/schedule/new/", form(personas, schedule, ahead(personas), "", client="999999", therapist="abc")
    )
    assert response.status_code == 422
    html = response.content.decode()
    for field in ("client", "therapist", "time"):
        assert f'id="id_{field}_error"' in html, field


def test_only_an_owner_or_admin_double_books_on_purpose(login, personas, schedule):
    day = ahead(personas)
    book(personas, schedule, at(day, 10))
    overlapping = form(personas, schedule, day, "10:00", client=personas.dan.pk, override_reason="Short check-in")
    # Front desk has no such field: the reason is ignored and the constraint holds.
    assert login("front_desk").post("/schedule/new/", overlapping).status_code == 409
    response = login("owner").post("/schedule/new/", overlapping)
    assert response.status_code == 302
    assert Appointment.objects.get(client=personas.dan).override_reason == "Short check-in"


def test_client_search_narrows_the_choices(login, personas, schedule):
    html = login("front_desk").get("/schedule/new/?q=Unassigned").content.decode()
    assert "Dan Unassigned" in html and "Carol Client" not in html


# --- Move, cancel, status --------------------------------------------------------------------


def test_moving_through_the_form(login, personas, schedule):
    day = ahead(personas)
    appointment = book(personas, schedule, at(day, 10))
    theo = personas.memberships["therapist2"].pk
    data = {"day": day.isoformat(), "time": "13:00", "therapist": theo, "room": ""}
    response = login("front_desk").post(f"/schedule/appointments/{appointment.pk}/move/", data)
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.therapist_id, appointment.sequence) == (at(day, 13), theo, 1)
    history = login("front_desk").get(f"/schedule/appointments/{appointment.pk}/").content.decode()
    assert "Changed 1 time since it was booked" in history and "Changed by frank@test.example" in history


def test_a_move_onto_a_taken_time_is_409_on_the_page_and_in_json(login, personas, schedule):
    day = ahead(personas)
    appointment = book(personas, schedule, at(day, 10))
    book(personas, schedule, at(day, 13), client=personas.dan)
    data = {"day": day.isoformat(), "time": "13:30", "therapist": personas.memberships["therapist"].pk}
    http = login("front_desk")
    page = http.post(f"/schedule/appointments/{appointment.pk}/move/", data)
    assert page.status_code == 409 and "Not changed:" in page.content.decode()
    answer = http.post(f"/schedule/appointments/{appointment.pk}/move/", data, HTTP_ACCEPT="application/json")
    assert answer.status_code == 409 and answer.json()["ok"] is False and answer.json()["error"]
    bad = http.post(f"/schedule/appointments/{appointment.pk}/move/", {"day": "soon"}, HTTP_ACCEPT="application/json")
    assert bad.status_code == 422 and "Date" in bad.json()["error"]
    appointment.refresh_from_db()
    assert appointment.starts_at == at(day, 10)


def test_a_drag_moves_with_json(login, personas, schedule):
    day = ahead(personas)
    appointment = book(personas, schedule, at(day, 10))
    data = {"day": day.isoformat(), "time": "11:15", "therapist": personas.memberships["therapist"].pk}
    answer = login("owner").post(f"/schedule/appointments/{appointment.pk}/move/", data, HTTP_ACCEPT="application/json")
    assert answer.status_code == 200 and answer.json() == {"ok": True, "url": f"/schedule/?date={day}"}
    appointment.refresh_from_db()
    assert appointment.starts_at == at(day, 11, 15)


def test_cancel_with_a_reason_and_a_second_cancel_is_409(login, personas, schedule):
    appointment = book(personas, schedule, at(ahead(personas), 10))
    http = login("front_desk")
    response = http.post(f"/schedule/appointments/{appointment.pk}/cancel/", {"reason": "Client is unwell"})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancel_reason) == (AppointmentStatus.CANCELLED, "Client is unwell")
    again = http.post(f"/schedule/appointments/{appointment.pk}/cancel/", {"reason": "again"})
    assert again.status_code == 409 and "already cancelled" in again.content.decode()


@pytest.mark.clock
def test_mark_arrived_completed_and_no_show(login, personas, schedule):
    today = personas.today
    appointment = book(personas, schedule, at(today, 9), now=at(today, 0) - timedelta(days=1))
    http = login("front_desk")
    for status in ("arrived", "completed"):
        response = http.post(f"/schedule/appointments/{appointment.pk}/status/", {"status": status})
        assert response.status_code == 302, response.content[:400]
        appointment.refresh_from_db()
        assert appointment.status == status
    other = book(personas, schedule, at(today, 12), client=personas.dan, now=at(today, 0) - timedelta(days=1))
    assert http.post(f"/schedule/appointments/{other.pk}/status/", {"status": "no_show"}).status_code == 302
    # A day that has not come cannot be marked; the page says why.
    later = book(personas, schedule, at(ahead(personas), 10))
    refused = http.post(f"/schedule/appointments/{later.pk}/status/", {"status": "arrived"})
    assert refused.status_code == 422 and "has not come yet" in refused.content.decode()
    nonsense = http.post(f"/schedule/appointments/{later.pk}/status/", {"status": "teleported"})
    assert nonsense.status_code == 422


def test_requests_are_listed_and_a_second_overlapping_approval_is_409(login, personas, schedule):
    day = ahead(personas)
    first = book(personas, schedule, at(day, 10), status=AppointmentStatus.REQUESTED)
    second = book(personas, schedule, at(day, 10, 30), client=personas.dan, status=AppointmentStatus.REQUESTED)
    http = login("front_desk")
    html = http.get(f"/schedule/?date={day}").content.decode()
    assert "Requests to approve" in html and "Approve Carol Client" in html and "Approve Dan Unassigned" in html
    ok = http.post(f"/schedule/appointments/{first.pk}/status/", {"status": "booked", "next": "/schedule/"})
    assert ok.status_code == 302 and ok["Location"] == "/schedule/"
    refused = http.post(f"/schedule/appointments/{second.pk}/status/", {"status": "booked"})
    assert refused.status_code == 409 and "Not changed:" in refused.content.decode()
    declined = http.post(f"/schedule/appointments/{second.pk}/cancel/", {"reason": "Request declined"})
    assert declined.status_code == 302
    second.refresh_from_db()
    assert second.status == AppointmentStatus.CANCELLED


def test_appointment_type_inactive_is_not_offered(login, personas, schedule):
    AppointmentType.objects.filter(pk=schedule.initial.pk).update(is_active=False)
    html = login("front_desk").get("/schedule/new/").content.decode()
    assert "Initial consultation" not in html and "Treatment 60" in html


@pytest.mark.clock  # the referral's dates are the clinic's
def test_booking_beyond_the_referral_warns_and_the_grid_shows_visits_left(login, personas, schedule):
    """One visit authorised: the first booking shows "0 visits left", the second warns yet is booked."""
    from mend.clinical import services as clinical

    tess = personas.actor("therapist")
    episode = clinical.episode_open(
        actor=tess, client=personas.carol, data={"title": "Low back pain", "started_on": tess.today()}
    )
    clinical.referral_save(
        actor=tess,
        episode=episode,
        provider=personas.referrer,
        diagnoses=["M54.50"],
        data={
            "referred_on": tess.today(),
            "visits_authorised": 1,
            "valid_until": tess.today() + timedelta(days=30),
            "reason": "Chronic low back pain, 6 months",
        },
    )
    day = ahead(personas)
    http = login("front_desk")
    assert http.post("/schedule/new/", form(personas, schedule, day, "10:00")).status_code == 302
    html = http.get(f"/schedule/?date={day}").content.decode()
    assert "0 visits left" in html and "Chronic low back pain" not in html
    second = http.post("/schedule/new/", form(personas, schedule, day, "14:00"), follow=True)
    assert second.content.decode().count("Beyond authorisation: visit 2 of 1 authorised.") == 1
    assert Appointment.objects.filter(client=personas.carol).count() == 2
