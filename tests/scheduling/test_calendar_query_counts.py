"""The calendar pages run the same number of queries for 2 therapists with a few appointments and for
20 therapists with a busy week (tests/test_query_counts.py's method: measure, grow, measure again).

Queries of the week grid (``scheduling.queries.schedule.week_grid``): session and user, the
membership, therapists, rooms, the shown appointments with client, type and room, the requests
waiting, working hours, hour exceptions, time off, closures, a therapist's visible clients, the
booking flags (their own fixed number) and the audit row.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mend.accounts.models import User
from mend.clinics.models import Membership, Role
from mend.core.availability import exact_local
from mend.people.models import CareTeamMember, Client, TherapistProfile
from mend.scheduling.models import Appointment, AppointmentStatus, WorkingHours
from mend.testing import Personas, Schedule, build_schedule

ZONE = "America/Toronto"


@pytest.fixture
def schedule(personas: Personas) -> Schedule:
    return build_schedule(personas)


def _monday(p: Personas) -> date:
    day = p.today + timedelta(days=14)
    return day - timedelta(days=day.weekday())


def _grow(p: Personas, s: Schedule, therapists: int, per_day: int) -> None:
    """Harbour with ``therapists`` therapists each booked ``per_day`` hours a day all week (and one request)."""
    members = list(Membership.objects.filter(clinic=p.harbour, role=Role.THERAPIST).order_by("pk"))
    for i in range(len(members), therapists):
        user = User.objects.create_user(email=f"t{i}@test.example", password="x", full_name=f"Therapist {i:02d}")
        member = Membership.objects.create(clinic=p.harbour, user=user, role=Role.THERAPIST)
        TherapistProfile.objects.create(membership=member, clinic=p.harbour, display_name=user.full_name)
        WorkingHours.objects.bulk_create(
            WorkingHours(
                clinic=p.harbour, therapist=member, location=p.location, weekday=d, start=time(8), end=time(18)
            )
            for d in range(7)
        )
        members.append(member)
    Appointment.objects.filter(clinic=p.harbour).delete()
    clients = Client.objects.bulk_create(
        Client(clinic=p.harbour, legal_given_name=f"G{i}", legal_family_name=f"F{i}", date_of_birth=date(1980, 1, 1))
        for i in range(therapists)
    )
    # Half the clients on Tess's care team, so her view mixes names and "Busy".
    CareTeamMember.objects.bulk_create(
        CareTeamMember(clinic=p.harbour, client=c, therapist=p.memberships["therapist"]) for c in clients[::2]
    )
    monday = _monday(p)
    rows = []
    for n, member in enumerate(members):
        for d in range(7):
            for h in range(per_day):
                start = exact_local(monday + timedelta(days=d), time(9 + h), ZONE)
                rows.append(
                    Appointment(
                        clinic=p.harbour,
                        client=clients[n % len(clients)],
                        therapist=member,
                        location=p.location,
                        appointment_type=s.treatment,
                        starts_at=start,
                        ends_at=start + timedelta(minutes=45),
                        status=AppointmentStatus.BOOKED if h else AppointmentStatus.COMPLETED,
                    )
                )
    start = exact_local(monday, time(7), ZONE)
    rows.append(
        Appointment(
            clinic=p.harbour,
            client=clients[0],
            therapist=members[0],
            location=p.location,
            appointment_type=s.treatment,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            status=AppointmentStatus.REQUESTED,
        )
    )
    Appointment.objects.bulk_create(rows)


def _count(http, path: str) -> tuple[int, list[str]]:
    http.get(path)  # warm up
    with CaptureQueriesContext(connection) as captured:
        response = http.get(path)
    assert response.status_code == 200, response.content[:300]
    return len(captured.captured_queries), [q["sql"] for q in captured.captured_queries]


def _assert_same(small: tuple[int, list[str]], large: tuple[int, list[str]]) -> None:
    if small[0] != large[0]:
        pytest.fail("\n".join([f"small: {small[0]} queries", *small[1], "", f"large: {large[0]} queries", *large[1]]))


@pytest.mark.parametrize("persona", ["owner", "therapist", "front_desk"])
@pytest.mark.parametrize("query", ["view=week", "view=day", "view=week&by=room", "view=day&by=room"])
def test_calendar_queries_do_not_grow_with_therapists_and_appointments(login, personas, schedule, persona, query):
    http = login(persona)
    path = f"/schedule/?date={_monday(personas)}&{query}"
    _grow(personas, schedule, therapists=2, per_day=1)
    small = _count(http, path)
    _grow(personas, schedule, therapists=20, per_day=8)
    large = _count(http, path)
    assert Appointment.objects.filter(clinic=personas.harbour).count() == 20 * 7 * 8 + 1
    _assert_same(small, large)
    assert large[0] <= 25, large[0]


def test_appointment_page_queries_do_not_grow_with_its_history(login, personas, schedule):
    _grow(personas, schedule, therapists=2, per_day=1)
    appointment = Appointment.objects.filter(client__care_team__therapist=personas.memberships["therapist"]).first()
    http = login("owner")
    path = f"/schedule/appointments/{appointment.pk}/"
    small = _count(http, path)
    for hour in (10, 11, 12, 13, 14):
        start = exact_local(_monday(personas) + timedelta(days=1), time(hour), ZONE)
        data = {"day": start.date().isoformat(), "time": f"{hour}:00", "therapist": appointment.therapist_id}
        assert http.post(f"{path}move/", data).status_code == 302
    large = _count(http, path)
    _assert_same(small, large)
