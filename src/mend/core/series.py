"""Appointment series: a plan of care's sessions at one local wall-clock time, checked before saving.

Plain Python, no Django. The scheduling app expands a :class:`SeriesRule` with :func:`expand_series`,
asks :func:`check_series` about every occurrence, and saves the series (one appointment row per
occurrence, sharing a series id) only when every occurrence is free. Nothing here stores anything.

The rules (also in ``docs/scheduling.md``):

- **Wall-clock time holds.** Every occurrence is at the rule's local time on its local date in the
  clinic's zone, whatever the DST changes in between: Tuesdays 10:00 stay 10:00 on the clock.
- **Gaps are errors, not shifts.** A local time that does not exist on that date (the spring-forward
  gap) gives an occurrence with ``start`` None and ``error`` saying so; nothing moves it silently.
- **Ambiguous times take the earlier instant** (``fold=0``), as in :mod:`mend.core.availability`.
- **Weeks** are Monday to Sunday. "Every N weeks" counts from the week of ``first_day``; the series
  runs on the chosen weekdays of those weeks, from ``first_day`` on, until ``count`` occurrences or
  the local date ``until`` (inclusive), whichever comes first.

Occurrences are numbered from 1 (``number``), as people count sessions ("session 5 of 12"); cutting or
moving from session k keeps the numbers, so they always name the same session.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mend.core.availability import (
    Appointment,
    AppointmentType,
    BusyIndex,
    ClinicCalendar,
    booking_conflict,
    local_instant,
)

MAX_OCCURRENCES = 200  # four years of weekly sessions; a longer series is a mistake in the dates
MAX_EVERY_WEEKS = 52
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class SeriesError(ValueError):
    """A series that cannot be expanded; ``field`` names the input at fault (for a 422 or a form)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class LocalTimeGap(ValueError):
    """A local wall-clock time that does not exist on that date (the clocks jump over it)."""


@dataclass(frozen=True, slots=True)
class SeriesRule:
    """Sessions at ``wall`` local time on ``weekdays`` (0 = Monday; empty = ``first_day``'s weekday)
    of every ``every_weeks``-th week, from ``first_day`` until ``count`` sessions or the date ``until``."""

    first_day: date
    wall: time
    weekdays: frozenset[int] = frozenset()
    every_weeks: int = 1
    count: int | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.wall.tzinfo is not None:
            raise SeriesError("wall", "Give the series' time as a local wall-clock time, without a zone.")
        if any(not 0 <= day <= 6 for day in self.weekdays):
            raise SeriesError("weekdays", "Weekdays run from 0 (Monday) to 6 (Sunday).")
        if not 1 <= self.every_weeks <= MAX_EVERY_WEEKS:
            raise SeriesError("every_weeks", f"Repeat every 1 to {MAX_EVERY_WEEKS} weeks.")
        if self.count is None and self.until is None:
            raise SeriesError("count", "Give a number of sessions or an end date.")
        if self.count is not None and not 1 <= self.count <= MAX_OCCURRENCES:
            raise SeriesError("count", f"A series has 1 to {MAX_OCCURRENCES} sessions.")
        if self.until is not None and self.until < self.first_day:
            raise SeriesError("until", "The end date is before the first day.")

    @property
    def days(self) -> frozenset[int]:
        return self.weekdays or frozenset({self.first_day.weekday()})


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One session of a series: its local ``day`` and ``wall`` time, and its instant ``start`` (aware,
    in UTC), or ``start`` None and ``error`` in words when that local time does not exist.

    ``start`` is in UTC on purpose: Python adds a timedelta to a datetime in a ``ZoneInfo`` on the
    wall clock, so ``start + duration`` across a DST change would be an hour off; in UTC it is exact.
    ``start.astimezone(zone)`` shows ``day`` and ``wall``."""

    number: int
    day: date
    wall: time
    start: datetime | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class OccurrenceCheck:
    """Whether one occurrence may be booked: ``conflict`` None when free, with the ``room`` it gets."""

    occurrence: Occurrence
    room: int | None
    conflict: str | None

    @property
    def free(self) -> bool:
        return self.conflict is None


# --- Local time ----------------------------------------------------------------------------------


def _clock(moment: datetime) -> str:
    return f"{moment:%H:%M}"


def long_date(day: date) -> str:
    """``8 March 2026``: the same in every locale."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def short_date(day: date) -> str:
    """``Tue 10 Mar``."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1][:3]}"


def local_start(day: date, wall: time, *, zone: str) -> datetime:
    """The instant (aware, UTC) of ``wall`` on ``day`` in ``zone``; the earlier one when the time
    occurs twice (fall-back). Raises :class:`LocalTimeGap` with a message for people when the time
    does not exist (spring-forward)."""
    tz = ZoneInfo(zone)  # zoneinfo caches one instance per name
    naive = datetime.combine(day, wall)
    moment = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if moment.astimezone(tz).replace(tzinfo=None) == naive:
        return moment
    # The instant of the change, and the wall clock on either side of it.
    change = local_instant(day, wall, tz)
    jumps_from = datetime.fromtimestamp(change - 1, tz) + timedelta(seconds=1)
    jumps_to = datetime.fromtimestamp(change, tz)
    raise LocalTimeGap(
        f"{wall:%H:%M} does not exist on {long_date(day)} in {zone}: clocks go forward from "
        f"{_clock(jumps_from)} to {_clock(jumps_to)}. Choose a time before {_clock(jumps_from)} "
        f"or from {_clock(jumps_to)}."
    )


def occurrence(number: int, day: date, wall: time, *, zone: str) -> Occurrence:
    """Session ``number`` at ``wall`` on ``day``: with its instant, or its error when ``wall`` does not
    exist that day. Also builds occurrences from saved rows (their local day and time)."""
    try:
        return Occurrence(number=number, day=day, wall=wall, start=local_start(day, wall, zone=zone))
    except LocalTimeGap as gap:
        return Occurrence(number=number, day=day, wall=wall, start=None, error=str(gap))


# --- Expanding and editing -----------------------------------------------------------------------


def _days(rule: SeriesRule) -> Iterable[date]:
    monday = rule.first_day - timedelta(days=rule.first_day.weekday())
    weekdays = sorted(rule.days)
    week = 0
    while True:
        for weekday in weekdays:
            day = monday + timedelta(days=7 * week + weekday)
            if day >= rule.first_day:
                yield day
        week += rule.every_weeks


def expand_series(*, rule: SeriesRule, zone: str) -> tuple[Occurrence, ...]:
    """The rule's sessions in order, numbered from 1. Raises :class:`SeriesError` (field ``until``)
    for an end date that would make more than :data:`MAX_OCCURRENCES` sessions."""
    limit = rule.count if rule.count is not None else MAX_OCCURRENCES
    found: list[Occurrence] = []
    for day in _days(rule):
        if rule.until is not None and day > rule.until:
            break
        if len(found) == limit:
            if rule.count is None:
                too_many = f"A series has at most {MAX_OCCURRENCES} sessions: choose an earlier end date."
                raise SeriesError("until", too_many)
            break
        found.append(occurrence(len(found) + 1, day, rule.wall, zone=zone))
    return tuple(found)


def _position(occurrences: Sequence[Occurrence], number: int) -> int:
    for i, one in enumerate(occurrences):
        if one.number == number:
            return i
    raise SeriesError("number", f"This series has no session {number}.")


def cut_from(occurrences: Sequence[Occurrence], *, number: int) -> tuple[Occurrence, ...]:
    """The series without session ``number`` and those after it (the caller cancels those)."""
    return tuple(occurrences[: _position(occurrences, number)])


def move_from(
    occurrences: Sequence[Occurrence],
    *,
    number: int,
    zone: str,
    wall: time | None = None,
    days: int = 0,
) -> tuple[Occurrence, ...]:
    """The series with session ``number`` and those after it moved ``days`` days (Tuesdays to
    Wednesdays: ``days=1``) and to local time ``wall`` (None keeps each one's time). Earlier sessions
    stay. Moved sessions are resolved again: one may fall into, or out of, a DST gap. From the first
    session, this moves the whole series."""
    if wall is not None and wall.tzinfo is not None:
        raise SeriesError("wall", "Give the new time as a local wall-clock time, without a zone.")
    at = _position(occurrences, number)
    moved = [
        occurrence(one.number, one.day + timedelta(days=days), wall if wall is not None else one.wall, zone=zone)
        for one in occurrences[at:]
    ]
    return (*occurrences[:at], *moved)


# --- Checking ------------------------------------------------------------------------------------


def _span(start: datetime, kind: AppointmentType) -> tuple[datetime, datetime]:
    return start - kind.buffer_before, start + kind.duration + kind.buffer_after


def _series_clash(
    start: datetime, kind: AppointmentType, accepted: Sequence[tuple[datetime, Occurrence]]
) -> str | None:
    """The earlier free session of the same series this one overlaps, buffers included. All share
    one therapist, so a clash in a room is always a clash for the therapist too."""
    s0, s1 = _span(start, kind)
    for other_start, other in accepted:
        o0, o1 = _span(other_start, kind)
        if s0 < o1 and o0 < s1:
            return f"Overlaps session {other.number} of this series ({short_date(other.day)} {other.wall:%H:%M})."
    return None


# booking_conflict's words for a reason that belongs to the room, not the therapist or the time
# (test_any_room_prefers_the_therapists_reason_to_a_room_elsewhere fails if they drift apart).
_ROOM_REASONS = (
    "The room is at another location than the therapist works then.",
    "The room is booked then (buffers included).",
    "This room lacks what this appointment type needs.",
)


def _any_room(
    *,
    calendar: ClinicCalendar,
    kind: AppointmentType,
    start: datetime,
    therapist: int,
    now: datetime,
    step: timedelta | None,
    busy: BusyIndex,
) -> tuple[int | None, str | None]:
    """The first room in the calendar's order where the booking may be made, or the reason none is."""
    reasons: list[str] = []
    for room in calendar.rooms:
        reason = booking_conflict(
            calendar=calendar,
            appointment_type=kind,
            start=start,
            therapist=therapist,
            room=room.id,
            now=now,
            step=step,
            busy=busy,
        )
        if reason is None:
            return room.id, None
        reasons.append(reason)
    if not reasons:
        return None, "The clinic has no rooms."
    if len(set(reasons)) == 1:
        return None, reasons[0]
    # Rooms differ only in the room's own reasons; any other reason is the therapist's and holds for all.
    theirs = [reason for reason in reasons if reason not in _ROOM_REASONS]
    if theirs:
        return None, theirs[0]
    return None, "No suitable room is free then (each is booked or at another location)."


def check_series(
    *,
    calendar: ClinicCalendar,
    appointment_type: AppointmentType,
    therapist: int,
    room: int | None,
    occurrences: Sequence[Occurrence],
    now: datetime,
    step: timedelta | None = None,
    busy: BusyIndex | None = None,
) -> tuple[OccurrenceCheck, ...]:
    """Every occurrence, in order, with whether it may be booked: each one against the calendar by
    :func:`~mend.core.availability.booking_conflict`, and against the free sessions before it in this
    series (two sessions of one series may clash with each other too). ``room`` None gives each
    free session the first free room in the calendar's order.

    A session that is not free does not block later ones: the caller saves nothing until every
    session is free, so it will be moved or dropped."""
    busy = busy if busy is not None else BusyIndex.build(calendar.appointments)
    checks: list[OccurrenceCheck] = []
    accepted: list[tuple[datetime, Occurrence]] = []  # the free sessions so far, with their starts
    for one in occurrences:
        if one.start is None:
            checks.append(OccurrenceCheck(one, None, one.error or "This time does not exist that day."))
            continue
        if room is None:
            given, reason = _any_room(
                calendar=calendar,
                kind=appointment_type,
                start=one.start,
                therapist=therapist,
                now=now,
                step=step,
                busy=busy,
            )
        else:
            given = room
            reason = booking_conflict(
                calendar=calendar,
                appointment_type=appointment_type,
                start=one.start,
                therapist=therapist,
                room=room,
                now=now,
                step=step,
                busy=busy,
            )
        if reason is None:
            reason = _series_clash(one.start, appointment_type, accepted)
        check = OccurrenceCheck(one, given if reason is None else None, reason)
        checks.append(check)
        if check.free:
            accepted.append((one.start, one))
    return tuple(checks)


def as_appointments(
    checks: Iterable[OccurrenceCheck], *, appointment_type: AppointmentType, therapist: int
) -> tuple[Appointment, ...]:
    """The free sessions as the appointments they would become (for a calendar that includes them)."""
    out = []
    for check in checks:
        if check.free and check.occurrence.start is not None:
            start = check.occurrence.start
            out.append(
                Appointment(
                    start=start,
                    end=start + appointment_type.duration,
                    therapist=therapist,
                    room=check.room,
                    buffer_before=appointment_type.buffer_before,
                    buffer_after=appointment_type.buffer_after,
                )
            )
    return tuple(out)


__all__ = [
    "MAX_EVERY_WEEKS",
    "MAX_OCCURRENCES",
    "LocalTimeGap",
    "Occurrence",
    "OccurrenceCheck",
    "SeriesError",
    "SeriesRule",
    "as_appointments",
    "check_series",
    "cut_from",
    "expand_series",
    "local_start",
    "long_date",
    "move_from",
    "occurrence",
    "short_date",
]
