"""Free appointment slots: working hours minus time off, closures and bookings, per therapist and room.

Plain Python, no Django: the scheduling app loads a :class:`ClinicCalendar` and an
:class:`AppointmentType` from the database and asks :func:`free_slots` for what to offer, or
:func:`booking_conflict` / :func:`is_free` whether one exact booking may be made (the booking
service calls it inside its transaction, after taking its lock).

The rules (also in ``docs/scheduling.md``):

- **Working hours** are local wall-clock times per weekday and location. A dated ``ExtraHours`` adds
  hours on one day; a day in ``days_off`` drops that day's weekly hours (its extra hours still count).
  On a DST day a 09:00–17:00 template is 09:00–17:00 on the clock. A wall time that does not exist
  (the spring-forward gap) becomes the instant of the change, so the hours cover only times that
  exist; an ambiguous one (fall-back) is the **earlier** instant (``fold=0``, zoneinfo's default).
- **Time off and closures** (a local date range, whole days, or an aware interval) cut working hours.
  A closure without a location closes every location.
- **The appointment itself** lies inside working hours. **With its buffers**
  ``[start - before, end + after)`` it overlaps no other appointment of the therapist or of the room,
  taken with that appointment's own buffers. Buffers may reach outside working hours. Intervals are
  half-open: 10:00–11:00 and 11:00–12:00 coexist.
- **The room** has the type's capability and is at the location where the therapist works in those
  hours. A slot names the first free room in the order the calendar lists them.
- **The grid**: offered starts are ``step`` apart counted from the start of each block of working
  hours (hours from 9:30 with a 60-minute step offer 9:30, 10:30, …), never before ``now``.

Times are handled as integer POSIX seconds inside; slots come out as aware datetimes in UTC.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

DEFAULT_STEP = timedelta(minutes=15)
_DAY = timedelta(days=1)

# --- Input ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Hours worked every week on ``weekday`` (0 = Monday) at ``location``, local wall-clock times."""

    weekday: int
    start: time
    end: time
    location: int


@dataclass(frozen=True, slots=True)
class ExtraHours:
    """Hours worked on one date besides the weekly template."""

    day: date
    start: time
    end: time
    location: int


@dataclass(frozen=True, slots=True)
class Interval:
    """An aware, half-open span of time ``[start, end)``."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class DateSpan:
    """Whole local days, ``first`` to ``last`` inclusive."""

    first: date
    last: date


@dataclass(frozen=True, slots=True)
class Closure:
    """The clinic closed: at one location, or at all of them when ``location`` is None."""

    when: Interval | DateSpan
    location: int | None = None


@dataclass(frozen=True, slots=True)
class Therapist:
    id: int
    weekly: tuple[WeeklyHours, ...] = ()
    extra: tuple[ExtraHours, ...] = ()
    days_off: frozenset[date] = frozenset()
    time_off: tuple[Interval | DateSpan, ...] = ()


@dataclass(frozen=True, slots=True)
class Room:
    id: int
    location: int
    capabilities: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Appointment:
    """A booked appointment. Either side may be None (a therapist's task without a room, say)."""

    start: datetime
    end: datetime
    therapist: int | None
    room: int | None
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)


@dataclass(frozen=True, slots=True)
class AppointmentType:
    duration: timedelta
    therapists: frozenset[int]
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    room_capability: str | None = None


@dataclass(frozen=True, slots=True)
class ClinicCalendar:
    """Everything availability depends on, for one clinic; ``zone`` is an IANA name."""

    zone: str
    therapists: tuple[Therapist, ...]
    rooms: tuple[Room, ...]
    appointments: tuple[Appointment, ...] = ()
    closures: tuple[Closure, ...] = ()


# --- Output --------------------------------------------------------------------------------------


# Not frozen: a frozen dataclass's __init__ costs four times as much, and a month of a quiet clinic is
# thousands of slots.
@dataclass(slots=True)
class Slot:
    start: datetime
    end: datetime
    therapist: int
    room: int


# --- Local time ----------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _wall(ts: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ts, zone).replace(tzinfo=None)


def local_instant(day: date, wall: time, zone: ZoneInfo) -> int:
    """POSIX seconds of ``wall`` on ``day``: the earlier instant when ambiguous, the instant of the
    change when the wall time does not exist."""
    naive = datetime.combine(day, wall)
    early = int(naive.replace(tzinfo=zone, fold=0).timestamp())
    if _wall(early, zone) == naive:
        return early
    # In a gap zoneinfo reads fold=0 with the offset before the change, which lands after it, and
    # fold=1 with the offset after, which lands before it: the change lies between.
    low = int(naive.replace(tzinfo=zone, fold=1).timestamp())
    high = early
    while high - low > 1:
        mid = (low + high) // 2
        if _wall(mid, zone) > naive:
            high = mid
        else:
            low = mid
    return high


class NonexistentTime(ValueError):
    """A local wall time that the clock skips (the spring-forward gap)."""


def exact_local(day: date, wall: time, zone: str) -> datetime:
    """``wall`` on local ``day`` as an aware datetime in ``zone``; the earlier one when ambiguous.

    Raises :class:`NonexistentTime` with a sentence for a person when the time does not exist that
    day: someone asking for 02:30 on a spring-forward morning means a time that never comes, and
    silently booking 03:30 instead would bring them an hour late.
    """
    tz = _zone(zone)
    naive = datetime.combine(day, wall)
    moment = naive.replace(tzinfo=tz, fold=0)
    if moment.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise NonexistentTime(
            f"{wall:%H:%M} does not exist on {day:%-d %B %Y} in {zone}: the clocks go forward that night. "
            "Choose a time outside the skipped hour."
        )
    return moment


def _ts(moment: datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError("availability needs aware datetimes")
    return moment.timestamp()


def _seconds(span: timedelta) -> int:
    return int(span.total_seconds())


# --- The engine ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Window:
    start: int
    end: int
    anchor: int  # where the grid of this block of hours starts
    location: int


_Spans = tuple[list[float], list[float]]


class BusyIndex:
    """Existing appointments as sorted, merged busy spans ``[start, end)`` (buffers included) per
    therapist and per room, in POSIX seconds. It does not depend on the appointment type asked
    about, so it is built once per calendar and serves every query on it (:meth:`build`)."""

    __slots__ = ("_rooms", "_therapists")

    def __init__(self, therapists: dict[int, _Spans], rooms: dict[int, _Spans]) -> None:
        self._therapists = therapists
        self._rooms = rooms

    @classmethod
    def build(cls, appointments: Iterable[Appointment]) -> BusyIndex:
        """Appointments in any order; ordered by start (as a database hands them over from an index)
        the sort inside costs next to nothing."""
        by_therapist: defaultdict[int, list[tuple[float, float]]] = defaultdict(list)
        by_room: defaultdict[int, list[tuple[float, float]]] = defaultdict(list)
        for booked in appointments:
            span = (
                booked.start.timestamp() - booked.buffer_before.total_seconds()
                if booked.buffer_before
                else booked.start.timestamp(),
                booked.end.timestamp() + booked.buffer_after.total_seconds()
                if booked.buffer_after
                else booked.end.timestamp(),
            )
            if booked.therapist is not None:
                by_therapist[booked.therapist].append(span)
            if booked.room is not None:
                by_room[booked.room].append(span)
        return cls(
            {therapist: _merged(spans) for therapist, spans in by_therapist.items()},
            {room: _merged(spans) for room, spans in by_room.items()},
        )

    def therapist(self, therapist: int) -> _Spans | None:
        return self._therapists.get(therapist)

    def room(self, room: int) -> _Spans | None:
        return self._rooms.get(room)


def _merged(spans: list[tuple[float, float]]) -> _Spans:
    """Sorted, overlapping or touching spans joined: starts and ends, each sorted."""
    spans.sort()
    starts: list[float] = []
    ends: list[float] = []
    end = -math.inf
    for b0, b1 in spans:
        if b0 <= end:
            if b1 > end:
                end = ends[-1] = b1
        else:
            starts.append(b0)
            ends.append(b1)
            end = b1
    return starts, ends


def _allows(spans: _Spans | None, start: float, *, reach: int, before: int) -> bool:
    """Whether a booking from ``start - before`` to ``start + reach`` misses every busy span.

    Spans are disjoint and sorted, so only the last one starting before ``start + reach`` can clash:
    any earlier one ends before that one starts."""
    if spans is None:
        return True
    starts, ends = spans
    i = bisect_left(starts, start + reach) - 1
    return i < 0 or ends[i] <= start - before


class _Engine:
    """One query's state: the type's sizes in seconds, suitable rooms by location, closures, the busy
    index, and working windows per therapist and day worked out on demand."""

    def __init__(self, *, calendar: ClinicCalendar, kind: AppointmentType, busy: BusyIndex | None) -> None:
        self.zone = _zone(calendar.zone)
        self.duration = _seconds(kind.duration)
        if self.duration <= 0:
            raise ValueError("an appointment type needs a positive duration")
        self.before = _seconds(kind.buffer_before)
        self.reach = self.duration + _seconds(kind.buffer_after)  # from the start to the end of the buffer after
        self._instants: dict[tuple[date, time], int] = {}
        self.therapists = {t.id: t for t in calendar.therapists if t.id in kind.therapists}
        capability = kind.room_capability
        self.rooms_at: dict[int, list[Room]] = {}
        for room in calendar.rooms:
            if capability is None or capability in room.capabilities:
                self.rooms_at.setdefault(room.location, []).append(room)
        self.room_ids = {room.id for rooms in self.rooms_at.values() for room in rooms}
        self.closures: list[tuple[int | None, int, int]] = [
            (closure.location, *self._span(closure.when)) for closure in calendar.closures
        ]
        self.busy = busy if busy is not None else BusyIndex.build(calendar.appointments)

    def _instant(self, day: date, wall: time) -> int:
        key = (day, wall)
        found = self._instants.get(key)
        if found is None:
            found = self._instants[key] = local_instant(day, wall, self.zone)
        return found

    def _span(self, when: Interval | DateSpan) -> tuple[int, int]:
        if isinstance(when, Interval):
            # Outward to whole seconds: a cut never shrinks.
            return math.floor(_ts(when.start)), math.ceil(_ts(when.end))
        return self._instant(when.first, time(0)), self._instant(when.last + _DAY, time(0))

    def windows(self, therapist: Therapist, day: date) -> list[_Window]:
        """The therapist's hours on ``day``, cut by time off and closures, sorted by start."""
        blocks = [] if day in therapist.days_off else [h for h in therapist.weekly if h.weekday == day.weekday()]
        hours: list[tuple[time, time, int]] = [(h.start, h.end, h.location) for h in blocks]
        hours += [(h.start, h.end, h.location) for h in therapist.extra if h.day == day]
        windows: list[_Window] = []
        time_off = [self._span(when) for when in therapist.time_off] if hours else []
        for start_wall, end_wall, location in hours:
            start = self._instant(day, start_wall)
            # Hours that end at or before they start run past midnight into the next day.
            end = self._instant(day + _DAY if end_wall <= start_wall else day, end_wall)
            cuts = time_off + [(c0, c1) for where, c0, c1 in self.closures if where is None or where == location]
            pieces = [(start, end)]
            for c0, c1 in cuts:
                if c1 <= start or c0 >= end:
                    continue
                pieces = [
                    piece
                    for p0, p1 in pieces
                    for piece in ((p0, min(p1, c0)), (max(p0, c1), p1))
                    if piece[0] < piece[1]
                ]
            windows += [_Window(p0, p1, start, location) for p0, p1 in pieces]
        windows.sort(key=lambda w: w.start)
        return windows

    def room_spans(self, location: int) -> list[tuple[int, list[float], list[float]]]:
        """The busy spans of each suitable room at ``location``, in the calendar's order (the hot loop's view)."""
        empty: list[float] = []
        out = []
        for room in self.rooms_at.get(location, ()):
            spans = self.busy.room(room.id)
            out.append((room.id, *(spans if spans is not None else (empty, empty))))
        return out

    def starts(self, window: _Window, therapist: int, *, not_before: int, step: int) -> Iterable[int]:
        """Grid starts in ``window`` that the therapist's bookings leave free."""
        lo = max(window.start, not_before)
        hi = window.end - self.duration  # the last possible start, inclusive
        if lo > hi:
            return
        spans = self.busy.therapist(therapist)
        free: list[tuple[float, float]] = []
        if spans is None:
            free.append((lo, hi))
        else:
            # A busy span [b0, b1) rules out the starts strictly between b0 - reach and b1 + before.
            starts, ends = spans
            reach, before = self.reach, self.before
            i = bisect_right(ends, lo - before)  # the first span that still rules out starts from lo on
            cursor: float = lo
            while i < len(starts) and starts[i] - reach < hi:
                if starts[i] - reach >= cursor:
                    free.append((cursor, starts[i] - reach))
                cursor = max(cursor, ends[i] + before)
                i += 1
            if cursor <= hi:
                free.append((cursor, hi))
        anchor = window.anchor
        for f0, f1 in free:
            first = anchor + -(-(math.ceil(f0) - anchor) // step) * step
            yield from range(first, math.floor(f1) + 1, step)


def _utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def free_slots(
    *,
    calendar: ClinicCalendar,
    appointment_type: AppointmentType,
    first: date,
    last: date,
    now: datetime,
    step: timedelta = DEFAULT_STEP,
    busy: BusyIndex | None = None,
) -> list[Slot]:
    """Free slots from local day ``first`` to ``last`` inclusive, by start then therapist order.

    ``busy`` is ``BusyIndex.build(calendar.appointments)`` when the caller asks more than once of the
    same calendar; without it the index is built here."""
    step_s = _seconds(step)
    if step_s <= 0:
        raise ValueError("the slot step must be positive")
    if last < first:
        return []
    engine = _Engine(calendar=calendar, kind=appointment_type, busy=busy)
    not_before = math.ceil(_ts(now))  # starts are whole seconds
    found: list[tuple[int, int, int]] = []
    duration, reach, before = engine.duration, engine.reach, engine.before
    rooms_at = {location: engine.room_spans(location) for location in engine.rooms_at}
    for order, therapist in enumerate(t for t in calendar.therapists if t.id in engine.therapists):
        day = first
        while day <= last:
            latest = -1  # overlapping blocks must not offer a start twice
            for window in engine.windows(therapist, day):
                rooms = rooms_at.get(window.location)
                if not rooms:
                    continue
                for start in engine.starts(window, therapist.id, not_before=not_before, step=step_s):
                    if start <= latest:
                        continue
                    # _allows, inlined: this loop runs once per free start and room.
                    for room_id, starts, ends in rooms:
                        i = bisect_left(starts, start + reach) - 1
                        if i < 0 or ends[i] <= start - before:
                            latest = start
                            found.append((start, order, room_id))
                            break
            day += _DAY
    found.sort()
    ids = [t.id for t in calendar.therapists if t.id in engine.therapists]
    moments: dict[int, datetime] = {}  # therapists share a grid: one datetime per instant
    slots = []
    for start, order, room_id in found:
        moment = moments.get(start)
        if moment is None:
            moment = moments[start] = _utc(start)
        end = moments.get(start + duration)
        if end is None:
            end = moments[start + duration] = _utc(start + duration)
        slots.append(Slot(moment, end, ids[order], room_id))
    return slots


def booking_conflict(
    *,
    calendar: ClinicCalendar,
    appointment_type: AppointmentType,
    start: datetime,
    therapist: int,
    room: int,
    now: datetime,
    step: timedelta | None = None,
    busy: BusyIndex | None = None,
) -> str | None:
    """Why this exact booking may not be made, or None when it may: the rules of :func:`free_slots`.

    With ``step`` the start must also lie on the grid of its block of hours (online booking); staff
    may book any minute. The calendar's appointments must not include the one being moved."""
    at = _ts(start)
    if at < _ts(now):
        return "That time has passed."
    zone = _zone(calendar.zone)
    local_day = datetime.fromtimestamp(at, zone).date()
    duration = _seconds(appointment_type.duration)
    engine = _Engine(calendar=calendar, kind=appointment_type, busy=busy)
    person = next((t for t in calendar.therapists if t.id == therapist), None)
    if person is None or therapist not in engine.therapists:
        return "This therapist does not offer this appointment type."
    place = next((r for r in calendar.rooms if r.id == room), None)
    if place is None or place.id not in engine.room_ids:
        return "This room lacks what this appointment type needs."
    # Hours may start the evening before (a night block crossing midnight).
    windows = [w for day in (local_day - _DAY, local_day) for w in engine.windows(person, day)]
    inside = [w for w in windows if w.start <= at and at + duration <= w.end]
    if not inside:
        return "The therapist is not working then (hours, time off or closure)."
    if step is not None:
        step_s = _seconds(step)
        inside = [w for w in inside if (at - w.anchor) % step_s == 0]
        if not inside:
            return "That start is not on the booking grid."
    if not any(w.location == place.location for w in inside):
        return "The room is at another location than the therapist works then."
    if not _allows(engine.busy.therapist(therapist), at, reach=engine.reach, before=engine.before):
        return "The therapist has another appointment then (buffers included)."
    if not _allows(engine.busy.room(room), at, reach=engine.reach, before=engine.before):
        return "The room is booked then (buffers included)."
    return None


def is_free(
    *,
    calendar: ClinicCalendar,
    appointment_type: AppointmentType,
    start: datetime,
    therapist: int,
    room: int,
    now: datetime,
    step: timedelta | None = None,
    busy: BusyIndex | None = None,
) -> bool:
    """Whether :func:`booking_conflict` finds nothing against this exact booking."""
    return (
        booking_conflict(
            calendar=calendar,
            appointment_type=appointment_type,
            start=start,
            therapist=therapist,
            room=room,
            now=now,
            step=step,
            busy=busy,
        )
        is None
    )


__all__ = [
    "Appointment",
    "AppointmentType",
    "BusyIndex",
    "ClinicCalendar",
    "Closure",
    "DateSpan",
    "ExtraHours",
    "Interval",
    "NonexistentTime",
    "Room",
    "Slot",
    "Therapist",
    "WeeklyHours",
    "booking_conflict",
    "exact_local",
    "free_slots",
    "is_free",
    "local_instant",
]
