"""``mend bench``'s availability section: the pure engine on a made-up clinic, no database.

20 therapists and 10 rooms at two locations, weekly hours Monday to Friday (some therapists at one
location on Monday, Wednesday and Friday and at the other on Tuesday and Thursday), a Friday off
here and there, and N appointments spread at random over the four weeks' working hours (they may
overlap one another: the engine must cope with whatever the database holds, and at 100,000 they
must). The query: a 60-minute treatment needing a table, with buffers, over four weeks, every
15 minutes, for every therapist.
"""

from __future__ import annotations

import random
import time as clock
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mend.core import availability as av
from mend.web.bench import Result, summarise

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (100, 1_000)
THERAPISTS = 20
ROOMS = 10
WEEKS = 4
ZONE = "America/Toronto"
FIRST = date(2026, 11, 2)  # a Monday, the day after the fall-back change


def scenario(
    *, appointments: int, therapists: int = THERAPISTS, rooms: int = ROOMS, weeks: int = WEEKS, seed: int = 11
) -> tuple[av.ClinicCalendar, av.AppointmentType, date, date, datetime]:
    rng = random.Random(seed)
    zone = ZoneInfo(ZONE)
    room_list = tuple(
        av.Room(
            id=100 + i,
            location=1 if i < rooms // 2 else 2,
            capabilities=frozenset({"table", "hydrotherapy"} if i % 5 == 4 else {"table"}),
        )
        for i in range(rooms)
    )
    people = []
    for n in range(therapists):
        moves = n % 3 == 0  # one in three works at both locations
        home = 1 + n % 2
        weekly = tuple(
            av.WeeklyHours(
                weekday=weekday,
                start=time(9 if n % 4 else 8, 30 if n % 2 else 0),
                end=time(17, 0),
                location=(1 if weekday in (0, 2, 4) else 2) if moves else home,
            )
            for weekday in range(5)
        )
        days_off = frozenset({FIRST + timedelta(days=7 * (n % weeks) + 4)})
        people.append(av.Therapist(id=n + 1, weekly=weekly, days_off=days_off))
    last = FIRST + timedelta(days=7 * weeks - 1)
    booked = []
    lengths = (30, 45, 60, 90)
    for _ in range(appointments):
        therapist = rng.randrange(therapists) + 1
        day = FIRST + timedelta(days=rng.randrange(7 * weeks))
        while day.weekday() > 4:
            day -= timedelta(days=2)
        # As the database hands them over: aware, in UTC.
        start = (datetime.combine(day, time(9), zone) + timedelta(minutes=15 * rng.randrange(28))).astimezone(UTC)
        length = timedelta(minutes=rng.choice(lengths))
        booked.append(
            av.Appointment(
                start=start,
                end=start + length,
                therapist=therapist,
                room=rng.choice(room_list).id,
                buffer_after=timedelta(minutes=10),
            )
        )
    booked.sort(key=lambda a: a.start)  # as the scheduling query will order them (an index on start)
    calendar = av.ClinicCalendar(zone=ZONE, therapists=tuple(people), rooms=room_list, appointments=tuple(booked))
    kind = av.AppointmentType(
        duration=timedelta(minutes=60),
        therapists=frozenset(t.id for t in people),
        buffer_before=timedelta(minutes=5),
        buffer_after=timedelta(minutes=10),
        room_capability="table",
    )
    now = datetime.combine(FIRST, time(12), zone).astimezone(UTC)
    return calendar, kind, FIRST, last, now


@dataclass(frozen=True)
class Row:
    appointments: int
    query: Result  # free_slots with the busy index already built
    index: Result  # BusyIndex.build over every appointment
    slots: int


def measure(*, sizes: Sequence[int] = SIZES, repeat: int = 30, warmup: int = 3) -> list[Row]:
    """p50/p95 of the query and of building its busy index, per number of appointments."""
    rows = []
    for size in sizes:
        calendar, kind, first, last, now = scenario(appointments=size)
        builds: list[float] = []
        queries: list[float] = []
        found = 0
        for i in range(warmup + repeat):
            began = clock.perf_counter()
            busy = av.BusyIndex.build(calendar.appointments)
            built = clock.perf_counter()
            slots = av.free_slots(calendar=calendar, appointment_type=kind, first=first, last=last, now=now, busy=busy)
            done = clock.perf_counter()
            found = len(slots)
            if i >= warmup:
                builds.append((built - began) * 1000)
                queries.append((done - built) * 1000)
        name = f"availability_{size}"
        rows.append(
            Row(
                appointments=size,
                query=summarise(name, queries, queries=0),
                index=summarise(f"{name}_index", builds, queries=0),
                slots=found,
            )
        )
    return rows


def format_table(rows: Sequence[Row]) -> str:
    lines = [
        f"Availability engine (pure, no database): {THERAPISTS} therapists x {ROOMS} rooms x {WEEKS} weeks, "
        "60-minute type, 15-minute grid",
        f"{'appointments':>12}  {'query p50 ms':>12}  {'query p95 ms':>12}  {'index p50 ms':>12}  {'slots':>7}",
    ]
    for row in rows:
        lines.append(
            f"{row.appointments:>12,}  {row.query.p50_ms:12.2f}  {row.query.p95_ms:12.2f}  "
            f"{row.index.p50_ms:12.2f}  {row.slots:>7,}"
        )
    return "\n".join(lines)


def as_json(rows: Sequence[Row]) -> dict[str, Any]:
    return {
        str(row.appointments): {
            "query": row.query.as_json() | {"slots": row.slots},
            "index": row.index.as_json(),
        }
        for row in rows
    }
