"""Free slots for a date range: ``clinic_calendar`` + ``free_slots``, kept fast by a per-process cache.

Loading and indexing a month of a busy clinic (10,000 appointments) costs tens of milliseconds,
while the engine's query on a built :class:`~mend.core.availability.BusyIndex` costs a few. So each
process keeps the last calendars it built, with their busy index, keyed by clinic and window, and
reuses one only while its **version stamp** still matches the database. The stamp is read with a
handful of small queries every time:

- the appointments whose start lies in the window widened by two days (a superset of those the
  calendar loads: an appointment lasts at most eight hours and the calendar's margin is a day):
  their count, how many are active, the highest id, the sum of their ``sequence`` and the latest
  ``updated_at``. Every booking, move, cancellation and status change goes through the booking
  service, which saves the row and raises its sequence, so any of them changes the stamp;
- the ids of the holds unexpired now in that window (a hold running out changes it too);
- the rows of the small tables themselves (working hours, exceptions, time off, closures, rooms)
  and each external calendar's id and load time: a few hundred values, cheaper to compare than
  to reason about.

A stale entry is never used: when anything differs, the calendar is loaded again through
``clinic_calendar`` (the one loader the booking check uses too, so the slot list and the check
cannot disagree). Each gunicorn worker has its own cache; nothing is shared or invalidated
across processes, so none can serve another's stale copy.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import Count, Max, Model, Q, Sum
from django.utils import timezone

from mend.clinics.models import Clinic
from mend.clinics.models import Room as RoomRow
from mend.core import availability as av
from mend.core import booking_rules as br
from mend.platform import clock
from mend.platform.actor import Actor
from mend.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentType,
    Closure,
    ExternalCalendar,
    Hold,
    HoursException,
    TimeOff,
    WorkingHours,
)
from mend.scheduling.queries.calendar import appointment_type_value, clinic_calendar, window

# Slot lists kept per calendar (one per type and therapist asked about).
SLOT_LISTS = 32
# Calendars kept per process (each a month of one clinic at most, a few MB at 10,000 appointments).
CACHE_SIZE = 8
# The stamp's reach beyond the window: the calendar's one-day margin plus the longest appointment.
_STAMP_MARGIN = timedelta(days=2)


@dataclass
class _Entry:
    stamp: Hashable
    calendar: av.ClinicCalendar
    busy: av.BusyIndex
    day_counts: dict[tuple[int, date], int] | None = field(default=None)
    # Every slot of the window for a type (and step), whatever the time now: a request keeps those
    # after now and inside its range, so asking again costs a filter, not the engine.
    slots: dict[tuple[av.AppointmentType, timedelta], list[av.Slot]] = field(default_factory=dict)


_cache: OrderedDict[tuple[int, str, date, date], _Entry] = OrderedDict()
_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every cached calendar (tests that measure a cold load)."""
    with _lock:
        _cache.clear()


def _column(model: type[Model], name: str) -> str:
    found = model._meta.get_field(name)
    column = getattr(found, "column", None)
    if not isinstance(column, str):
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return column


def _signature(table: str, model: type[Model], fields: tuple[str, ...], where: str) -> str:
    """SQL for each row as one text, ``table,id,field,…`` (empty for NULL), for the stamp's one query.

    Written out rather than built from ORM expressions: compiling six nested concatenations cost
    more than running the query."""
    quote = connection.ops.quote_name
    columns = [quote(_column(model, name)) for name in ("id", *fields)]
    text = " || ',' || ".join(f"COALESCE(CAST({column} AS TEXT), '')" for column in columns)
    # Only model metadata and literals of this module: nothing from a request reaches the text.
    return f"SELECT '{table}' || {text} FROM {quote(model._meta.db_table)} WHERE {quote('clinic_id')} = %s{where}"  # noqa: S608


_DAYS = " AND {day} >= %s AND {day} <= %s"
_SPAN = " AND {last} >= %s AND {first} <= %s"
_SMALL_SQL = " UNION ALL ".join(
    [
        _signature("h", WorkingHours, ("therapist_id", "weekday", "start", "end", "location_id"), ""),
        _signature(
            "x",
            HoursException,
            ("therapist_id", "kind", "day", "start", "end", "location_id"),
            _DAYS.format(day='"day"'),
        ),
        _signature(
            "t",
            TimeOff,
            ("therapist_id", "first_day", "last_day", "starts_at", "ends_at"),
            _SPAN.format(last='"last_day"', first='"first_day"'),
        ),
        _signature(
            "c", Closure, ("location_id", "first_day", "last_day"), _SPAN.format(last='"last_day"', first='"first_day"')
        ),
        _signature("r", RoomRow, ("location_id", "is_active", "name", "capabilities"), ""),
        _signature("e", ExternalCalendar, ("therapist_id", "loaded_at"), ""),
    ]
)


def _stamp(clinic_id: int, zone: str, first: date, last: date, now: datetime) -> Hashable:
    start, end = window(zone, first, last)
    low, high = start - _STAMP_MARGIN, end + _STAMP_MARGIN
    booked = Appointment.objects.filter(clinic_id=clinic_id, starts_at__gte=low, starts_at__lt=high).aggregate(
        rows=Count("pk"),
        active=Count("pk", filter=Q(status__in=ACTIVE_STATUSES)),
        top=Max("pk"),
        sequences=Sum("sequence"),
        changed=Max("updated_at"),
    )
    holds = tuple(
        Hold.objects.filter(clinic_id=clinic_id, expires_at__gt=now, starts_at__lt=high, ends_at__gt=low)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    margin = timedelta(days=1)
    # The small tables' rows, each as one text, in one query (the windows are clinic_calendar's).
    params: list[int | date] = [
        clinic_id,
        clinic_id,
        first - margin,
        last,
        clinic_id,
        first - margin,
        last + margin,
        clinic_id,
        first - margin,
        last + margin,
        clinic_id,
        clinic_id,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_SMALL_SQL, params)
        small_key = tuple(sorted(row[0] for row in cursor.fetchall()))
    return (tuple(sorted(booked.items())), holds, small_key)


def _entry(clinic_id: int, zone: str, first: date, last: date, now: datetime) -> _Entry:
    key = (clinic_id, zone, first, last)
    stamp = _stamp(clinic_id, zone, first, last, now)
    with _lock:
        found = _cache.get(key)
        if found is not None and found.stamp == stamp:
            _cache.move_to_end(key)
            return found
    calendar = clinic_calendar(clinic_id=clinic_id, zone=zone, first=first, last=last, now=now)
    entry = _Entry(stamp=stamp, calendar=calendar, busy=av.BusyIndex.build(calendar.appointments))
    with _lock:
        _cache[key] = entry
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return entry


def _day_counts(entry: _Entry, clinic_id: int, zone: str, first: date, last: date) -> dict[tuple[int, date], int]:
    """Active appointments per therapist and local day (the daily cap's count), kept with the entry."""
    if entry.day_counts is None:
        start, end = window(zone, first, last)
        rows = Appointment.objects.filter(
            clinic_id=clinic_id, status__in=ACTIVE_STATUSES, starts_at__gte=start, starts_at__lt=end
        ).values_list("therapist_id", "starts_at")
        counts = br.daily_counts(
            (av.Appointment(start=at, end=at, therapist=therapist, room=None) for therapist, at in rows), zone=zone
        )
        entry.day_counts = dict(counts)
    return entry.day_counts


def _start(slot: av.Slot) -> datetime:
    return slot.start


def booking_rules(kind: AppointmentType) -> br.BookingRules:
    """An appointment type's online booking rules as the pure core's value."""
    return br.BookingRules(
        min_notice=timedelta(minutes=kind.min_notice_minutes),
        horizon_days=kind.horizon_days,
        same_day=kind.same_day,
        audience=br.Audience(kind.audience),
        daily_cap=kind.daily_cap,
    )


def available_slots(
    actor_or_clinic: Actor | Clinic,
    appointment_type: AppointmentType,
    start: datetime,
    end: datetime,
    *,
    therapist: int | None = None,
    online: bool = False,
    now: datetime | None = None,
) -> list[av.Slot]:
    """Free slots of ``appointment_type`` starting at or after ``start`` and ending by ``end`` (aware).

    ``therapist`` (a membership id) narrows them to one therapist. Slots follow the type's grid
    (its slot interval, else its duration) from the start of each block of hours. ``online``
    applies the type's booking rules (notice, horizon, same day, daily cap) as the public booking
    does. Not audited: a slot list names no client.
    """
    clinic = actor_or_clinic.clinic if isinstance(actor_or_clinic, Actor) else actor_or_clinic
    now = now or timezone.now()
    zone = clinic.timezone
    # ``end`` is exclusive: a range ending at midnight does not reach into the next day.
    first, last = clock.local_date(start, zone), clock.local_date(end - timedelta(microseconds=1), zone)
    entry = _entry(clinic.pk, zone, first, last, now)
    value = appointment_type_value(appointment_type, None if therapist is None else [therapist])
    key = (value, appointment_type.step)
    every = entry.slots.get(key)
    if every is None:
        # ``now`` only drops starts before it, so the list for the whole window serves any now.
        every = av.free_slots(
            calendar=entry.calendar,
            appointment_type=value,
            first=first,
            last=last,
            now=window(zone, first, last)[0],
            step=appointment_type.step,
            busy=entry.busy,
        )
        if len(entry.slots) >= SLOT_LISTS:
            entry.slots.clear()
        entry.slots[key] = every
    # Slots are in start order and all last the type's duration: those from ``max(start, now)`` and
    # ending by ``end`` are one run of the list (found by bisection, in UTC like the slots).
    low = bisect_left(every, max(start, now).astimezone(UTC), key=_start)
    high = bisect_right(every, (end - appointment_type.duration).astimezone(UTC), key=_start)
    slots = every[low:high]
    if online:
        slots = br.filter_slots(
            slots,
            rules=booking_rules(appointment_type),
            now=now,
            zone=zone,
            day_counts=_day_counts(entry, clinic.pk, zone, first, last),
        )
    return slots
