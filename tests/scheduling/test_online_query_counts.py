"""The public booking's pages run the same number of queries on a quiet clinic and a busy one.

Each test measures a page, grows the clinic (more services and therapists offering them, or a week
full of appointments), and measures the same page again; a mismatch lists both sets of SQL.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mend.core.availability import exact_local
from mend.people.models import Client
from mend.scheduling.models import Appointment, AppointmentType, Hold
from mend.testing import Personas, Schedule, build_schedule

ZONE = "America/Toronto"
NOW = exact_local(date(2027, 3, 15), time(8), ZONE)


@pytest.fixture
def schedule(personas: Personas) -> Schedule:
    return build_schedule(personas)


def _count(http, path: str) -> tuple[int, list[str]]:
    http.get(path)  # warm up: the session's first write
    with CaptureQueriesContext(connection) as captured:
        response = http.get(path)
    assert response.status_code == 200, response.content[:300]
    return len(captured.captured_queries), [q["sql"] for q in captured.captured_queries]


def _same(small: tuple[int, list[str]], large: tuple[int, list[str]]) -> None:
    assert small[0] == large[0], "\n".join(["small:", *small[1], "", "large:", *large[1]])


def _more_services(p: Personas, s: Schedule, count: int) -> None:
    therapists = list(s.treatment.therapists.all())
    for i in range(count):
        kind = AppointmentType.objects.create(
            clinic=p.harbour, name=f"Treatment {i}", duration_minutes=45, description=f"Service {i}"
        )
        kind.therapists.set(therapists)


def _busy_week(p: Personas, s: Schedule) -> None:
    """Every hour of the week booked for one therapist, each with its own client."""
    tess = p.memberships["therapist"]
    rows = []
    for day in range(7):
        for hour in range(9, 16):
            start = exact_local(date(2027, 3, 15) + timedelta(days=day), time(hour), ZONE)
            client = Client.objects.create(
                clinic=p.harbour,
                legal_given_name="Busy",
                legal_family_name=f"{day}-{hour}",
                date_of_birth=date(1980, 1, 1),
            )
            rows.append(
                Appointment(
                    clinic=p.harbour,
                    client=client,
                    therapist=tess,
                    room=p.room,
                    location=p.location,
                    appointment_type=s.initial,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=30),
                )
            )
    Appointment.objects.bulk_create(rows)


def test_service_list_with_more_services(client, personas, schedule):
    # Queries: the clinic by slug; its online services; the therapists offering them (one prefetch).
    small = _count(client, "/book/harbour/")
    _more_services(personas, schedule, 12)
    _same(small, _count(client, "/book/harbour/"))


def test_therapist_choice_with_more_therapists_offering(client, personas, schedule):
    path = f"/book/harbour/{schedule.treatment.pk}/"
    small = _count(client, path)
    schedule.treatment.therapists.add(personas.memberships["outsider_therapist"])  # not Harbour's: not listed
    _same(small, _count(client, path))
    assert "Outsider" not in client.get(path).content.decode()


@pytest.mark.parametrize("therapist", ["any", "tess"])
def test_slot_list_with_a_busy_week(client, personas, schedule, therapist):
    # Queries: clinic, type and its therapists; the calendar's hours, exceptions, time off, external
    # calendars, appointments, holds, rooms and closures; the daily cap's counts.
    chosen = personas.memberships["therapist"].pk if therapist == "tess" else "any"
    path = f"/book/harbour/{schedule.treatment.pk}/times/?therapist={chosen}"
    with time_machine.travel(NOW, tick=False):
        small = _count(client, path)
        _busy_week(personas, schedule)
        _same(small, _count(client, path))


def test_details_page_with_more_holds(client, personas, schedule):
    start = exact_local(date(2027, 3, 17), time(10), ZONE)

    def hold(token: str, hour: int = 10) -> Hold:
        begin = start.replace(hour=hour)
        return Hold.objects.create(
            clinic=personas.harbour,
            therapist=personas.memberships["therapist"],
            appointment_type=schedule.treatment,
            starts_at=begin,
            ends_at=begin + timedelta(hours=1),
            token=token,
            expires_at=NOW + timedelta(minutes=10),
        )

    mine = hold("mine")
    with time_machine.travel(NOW, tick=False):
        small = _count(client, f"/book/harbour/hold/{mine.token}/")
        for hour in range(11, 16):
            hold(f"other-{hour}", hour)
        _same(small, _count(client, f"/book/harbour/hold/{mine.token}/"))
