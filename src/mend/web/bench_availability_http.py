"""``mend bench``'s availability through the server: ``GET /api/v1/availability`` against ``mend serve``.

The pure engine's made-up clinic (:mod:`mend.web.bench_availability`: 20 therapists, 10 rooms at
two locations, four weeks of weekday hours, N appointments) is written to the bench database as a
clinic of its own per size, ``bench-availability-<N>``, once: the same therapists, rooms, hours,
days off and appointments, moved whole weeks forward so the four weeks lie after today (in local
wall-clock time). The appointment type is the engine's: 60 minutes with 5 minutes' buffer before and
10 after, needing a table, offered on a 15-minute grid. The appointments overlap one another as the
engine's do (at 100,000 they must), so each carries an override reason: PostgreSQL's exclusion
constraints leave recorded overrides alone, and the slot list counts them as busy all the same.

The request asks for the four weeks, every therapist, as the owner's bearer token: one request at
a time (the latency a client sees), after a few warm-up requests (each worker builds its cached
calendar once; see ``mend.scheduling.queries.availability``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db import transaction

from mend.accounts.models import User
from mend.accounts.services import api_token_create
from mend.clinics.models import Clinic, Location, Membership, Role, Room
from mend.core.availability import DEFAULT_STEP, exact_local
from mend.people.models import Client, TherapistProfile
from mend.platform import clock
from mend.scheduling.models import Appointment, AppointmentType, HoursException, WorkingHours
from mend.web import bench_availability as pure
from mend.web.bench import BenchError, Result, http_request, summarise

SIZES = pure.SIZES
QUICK_SIZES = pure.QUICK_SIZES
BASELINE = "/api/v1/me"
OVERRIDE = "bench data (made-up appointments overlap)"


@dataclass(frozen=True)
class BenchClinic:
    clinic: Clinic
    owner: User
    appointment_type: int
    first: date
    last: date
    appointments: int

    def path(self) -> str:
        query = {"appointment_type": self.appointment_type, "start": self.first, "end": self.last}
        return f"/api/v1/availability?{urlencode(query)}"


def _slug(appointments: int) -> str:
    return f"bench-availability-{appointments}"


def first_monday(today: date) -> date:
    """The first Monday after ``today``, counted in whole weeks from the engine's scenario."""
    weeks = (today - pure.FIRST).days // 7 + 1
    return pure.FIRST + timedelta(days=7 * weeks)


def _shifted(moment: datetime, days: int, zone: ZoneInfo) -> datetime:
    local = moment.astimezone(zone)
    return exact_local(local.date() + timedelta(days=days), local.time().replace(tzinfo=None), pure.ZONE)


def bench_clinic(appointments: int, *, today: date | None = None) -> BenchClinic:
    """The clinic with ``appointments`` appointments, written on first use; its four weeks after ``today``."""
    today = today or clock.local_today(pure.ZONE)
    slug = _slug(appointments)
    clinic = Clinic.objects.filter(slug=slug).first()
    if clinic is None:
        clinic = _write(appointments, slug, first_monday(today))
    owner = User.objects.get(memberships__clinic=clinic, memberships__role=Role.OWNER)
    kind = AppointmentType.objects.get(clinic=clinic)
    # The scenario gives someone the Friday of its first week off: that week is the clinic's first.
    day_off = HoursException.objects.filter(clinic=clinic).order_by("day").values_list("day", flat=True).first()
    if day_off is None:
        raise BenchError(f"the clinic {slug} has no days off: delete the bench database (mend bench --reset)")
    start = day_off - timedelta(days=day_off.weekday())
    if start <= today:
        raise BenchError(
            f"the clinic {slug} lies in the past (from {start}): delete the bench database (mend bench --reset)"
        )
    return BenchClinic(
        clinic=clinic,
        owner=owner,
        appointment_type=kind.pk,
        first=start,
        last=start + timedelta(days=7 * pure.WEEKS - 1),
        appointments=appointments,
    )


@transaction.atomic
def _write(appointments: int, slug: str, monday: date) -> Clinic:
    calendar, kind, first, _last, _now = pure.scenario(appointments=appointments)
    shift = (monday - first).days
    zone = ZoneInfo(pure.ZONE)
    clinic = Clinic.objects.create(name=f"Availability bench ({appointments:,} appointments)", slug=slug)
    owner = User.objects.create_user(email=f"owner@{slug}.example.org", full_name="Bench Owner")
    Membership.objects.create(clinic=clinic, user=owner, role=Role.OWNER)
    locations = {
        number: Location.objects.create(clinic=clinic, name=f"Location {number}")
        for number in sorted({r.location for r in calendar.rooms})
    }
    rooms = {
        room.id: Room.objects.create(
            clinic=clinic,
            location=locations[room.location],
            name=f"Room {room.id}",
            capabilities=sorted(room.capabilities),
        )
        for room in calendar.rooms
    }
    therapists: dict[int, Membership] = {}
    for person in calendar.therapists:
        user = User.objects.create_user(
            email=f"therapist{person.id}@{slug}.example.org", full_name=f"Therapist {person.id}"
        )
        membership = Membership.objects.create(clinic=clinic, user=user, role=Role.THERAPIST)
        TherapistProfile.objects.create(membership=membership, clinic=clinic, display_name=f"Therapist {person.id}")
        therapists[person.id] = membership
    WorkingHours.objects.bulk_create(
        WorkingHours(
            clinic=clinic,
            therapist=therapists[person.id],
            location=locations[block.location],
            weekday=block.weekday,
            start=block.start,
            end=block.end,
        )
        for person in calendar.therapists
        for block in person.weekly
    )
    HoursException.objects.bulk_create(
        HoursException(
            clinic=clinic,
            therapist=therapists[person.id],
            day=day + timedelta(days=shift),
            kind=HoursException.Kind.DAY_OFF,
        )
        for person in calendar.therapists
        for day in person.days_off
    )
    treatment = AppointmentType.objects.create(
        clinic=clinic,
        name="Treatment 60",
        duration_minutes=int(kind.duration.total_seconds() // 60),
        buffer_before_minutes=int(kind.buffer_before.total_seconds() // 60),
        buffer_after_minutes=int(kind.buffer_after.total_seconds() // 60),
        slot_interval_minutes=int(DEFAULT_STEP.total_seconds() // 60),
        room_capability=kind.room_capability or "",
    )
    treatment.therapists.set(therapists.values())
    client = Client.objects.create(
        clinic=clinic, legal_given_name="Bench", legal_family_name="Client", date_of_birth=date(1980, 1, 1)
    )
    by_room_location = {room_id: row.location_id for room_id, row in rooms.items()}
    rows = []
    for booked in calendar.appointments:
        assert booked.therapist is not None and booked.room is not None
        start = _shifted(booked.start, shift, zone)
        rows.append(
            Appointment(
                clinic=clinic,
                client=client,
                therapist=therapists[booked.therapist],
                room=rooms[booked.room],
                location_id=by_room_location[booked.room],
                appointment_type=treatment,
                starts_at=start,
                ends_at=start + (booked.end - booked.start),
                buffer_before_minutes=int(booked.buffer_before.total_seconds() // 60),
                buffer_after_minutes=int(booked.buffer_after.total_seconds() // 60),
                override_reason=OVERRIDE,
            )
        )
    Appointment.objects.bulk_create(rows, batch_size=2000)
    return clinic


@dataclass(frozen=True)
class Row:
    appointments: int
    api: Result
    slots: int


def measure(base: tuple[str, int], clinics: Sequence[BenchClinic], *, repeat: int, warmup: int = 5) -> list[Row]:
    """p50/p95 of one availability request at a time through the server, per clinic; first the same
    for ``GET /api/v1/me`` (the floor: any signed request to that server on that machine then)."""
    rows = []
    targets: list[tuple[BenchClinic, str]] = [(clinics[0], BASELINE)] if clinics else []
    for found, path in [*targets, *((found, found.path()) for found in clinics)]:
        token = api_token_create(user=found.owner, clinic=found.clinic, name="mend bench availability").raw
        headers = {"Authorization": f"Bearer {token}"}
        samples: list[float] = []
        slots = 0
        for i in range(warmup + repeat):
            began = time.perf_counter()
            status, _headers, body = http_request(base, "GET", path, headers=headers)
            elapsed = (time.perf_counter() - began) * 1000
            if status != 200:
                raise BenchError(f"GET {path} answered {status}, not 200\n{body[:500].decode(errors='replace')}")
            if i >= warmup:
                samples.append(elapsed)
            slots = len(json.loads(body).get("slots", ()))
        if path == BASELINE:
            rows.append(Row(appointments=0, api=summarise("http_api_me", samples, queries=0), slots=0))
            continue
        name = f"http_availability_{found.appointments}"
        rows.append(Row(appointments=found.appointments, api=summarise(name, samples, queries=0), slots=slots))
    return rows


def format_table(rows: Sequence[Row]) -> str:
    lines = [
        f"GET /api/v1/availability through mend serve: {pure.THERAPISTS} therapists x {pure.ROOMS} rooms x "
        f"{pure.WEEKS} weeks, 60-minute type, 15-minute grid, one request at a time",
        f"{'appointments':>12}  {'api p50 ms':>10}  {'api p95 ms':>10}  {'slots':>7}",
    ]
    for row in rows:
        if row.api.name == "http_api_me":
            lines.append(f"{'GET /me':>12}  {row.api.p50_ms:10.2f}  {row.api.p95_ms:10.2f}  (the floor)")
            continue
        lines.append(f"{row.appointments:>12,}  {row.api.p50_ms:10.2f}  {row.api.p95_ms:10.2f}  {row.slots:>7,}")
    return "\n".join(lines)


def as_json(rows: Sequence[Row]) -> dict[str, Any]:
    """``{"me": {"api": …}, "<appointments>": {"api": {…, "slots": n}}}``."""
    return {
        ("me" if row.api.name == "http_api_me" else str(row.appointments)): {
            "api": row.api.as_json() | ({} if row.api.name == "http_api_me" else {"slots": row.slots})
        }
        for row in rows
    }
