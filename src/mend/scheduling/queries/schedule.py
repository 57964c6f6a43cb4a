"""The staff calendar's reads: the day and week grids, the requests waiting, one appointment's page.

Who sees what (``mend.access`` rule 4 and the therapist's care team):

- Owners, admins and front desk see every appointment of the clinic with its client's name.
- A therapist sees every appointment too, since a shared room and a colleague's day matter when
  booking, but an appointment shows its client only when it is the therapist's own or its client
  is one the therapist may see (on their care team, ``people.queries.clients``). Any other shows
  as "Busy", without a link, and opening it answers 404 as the client would.
- Booking flags (``scheduling.queries.flags.booking_flags``) decide per role what they say: the
  clinical reasons for clinical roles, only what booking needs for front desk.

Every grid loads in a fixed number of queries, however many therapists, days and appointments
it shows (see ``tests/test_query_counts.py``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from mend import access
from mend.audit.models import Action, AuditEvent
from mend.audit.services import audit_record
from mend.clinical import queries as clinical_queries
from mend.clinics import queries as clinic_queries
from mend.clinics.models import Membership, Room
from mend.people import queries as people_queries
from mend.platform import clock
from mend.platform.actor import Actor
from mend.scheduling.models import (
    Appointment,
    AppointmentStatus,
    AppointmentType,
    Closure,
    HoursException,
    TimeOff,
    WorkingHours,
)
from mend.scheduling.queries.calendar import window
from mend.scheduling.queries.flags import BookingFlags, booking_flags

SLOT_MINUTES = 15
# The grid's hours when nobody works in the shown days and nothing is booked.
DEFAULT_HOURS = (time(8), time(18))
VIEWS = ("day", "week")
BY = ("therapist", "room")


# --- Restricted querysets and loaders ---------------------------------------------------


def appointments(actor: Actor) -> QuerySet[Appointment]:
    """The clinic's appointments: every staff role sees the schedule (names are decided per row)."""
    return Appointment.objects.filter(clinic_id=actor.clinic_id)


def _detail_queryset(actor: Actor) -> QuerySet[Appointment]:
    return appointments(actor).select_related(
        "client", "therapist__user", "therapist__therapist_profile", "room", "location", "appointment_type"
    )


def _shows_client(actor: Actor, appointment: Appointment, visible: set[int]) -> bool:
    if not actor.is_therapist:
        return True
    return appointment.therapist_id == actor.membership.pk or appointment.client_id in visible


def _visible_clients(actor: Actor, client_ids: Iterable[int]) -> set[int]:
    """Of ``client_ids``, those the actor may see: one query for a therapist, none for anyone else."""
    ids = set(client_ids)
    if not actor.is_therapist or not ids:
        return ids
    return set(people_queries.clients(actor).filter(pk__in=ids).values_list("pk", flat=True))


def appointment_or_404(actor: Actor, pk: int | str) -> Appointment:
    """One appointment the actor may open, with what its page shows; another clinic's, or (for a
    therapist) a colleague's with a client they may not see, is a 404."""
    appointment = access.object_or_404(_detail_queryset(actor), pk, "appointment")
    if not _shows_client(actor, appointment, _visible_clients(actor, [appointment.client_id])):
        raise Http404("No such appointment.")
    return appointment


def therapists(actor: Actor) -> list[Membership]:
    """The clinic's active therapists by name, with the names the calendar shows: one query."""
    rows = list(clinic_queries.therapist_memberships(actor).select_related("therapist_profile"))
    rows.sort(key=lambda m: therapist_name(m).lower())
    return rows


def therapist_name(membership: Membership) -> str:
    profile = getattr(membership, "therapist_profile", None)
    return (profile.display_name if profile is not None else "") or membership.user.full_name or membership.user.email


def rooms(actor: Actor) -> list[Room]:
    return list(clinic_queries.rooms(actor).filter(is_active=True).select_related("location").order_by("name", "pk"))


def appointment_types(actor: Actor) -> QuerySet[AppointmentType]:
    return AppointmentType.objects.filter(clinic_id=actor.clinic_id, is_active=True)


# --- The grid ----------------------------------------------------------------------------


@dataclass(slots=True)
class Entry:
    """One appointment in a column: where it sits and what the actor may read of it."""

    appointment: Appointment
    shown: bool
    row: int
    span: int
    start: datetime  # local
    end: datetime  # local
    flags: BookingFlags | None = None

    @property
    def client_name(self) -> str:
        return self.appointment.client.display_name if self.shown else "Busy"

    @property
    def short_status(self) -> str:
        return self.appointment.get_status_display()


@dataclass(slots=True)
class Block:
    """Background of a column: working hours (``hours``) or time off (``off``)."""

    kind: str
    row: int
    span: int
    label: str


@dataclass(slots=True)
class Column:
    day: date
    therapist: Membership | None
    room: Room | None
    label: str
    closed: str = ""
    entries: list[Entry] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)


@dataclass(slots=True)
class Grid:
    view: str
    by: str
    day: date
    days: list[date]
    today: date
    zone: str
    first_minute: int
    rows: int
    columns: list[Column]
    therapists: list[Membership]
    rooms: list[Room]
    therapist: Membership | None
    room: Room | None
    requests: list[Entry]

    @property
    def hours(self) -> list[tuple[int, str]]:
        """(grid row, "09:00") of every whole hour on the grid."""
        out = []
        for row in range(1, self.rows + 1):
            minute = self.first_minute + (row - 1) * SLOT_MINUTES
            if minute % 60 == 0:
                out.append((row, f"{minute // 60 % 24:02d}:00"))
        return out

    @property
    def slot_rows(self) -> range:
        return range(1, self.rows + 1)

    @property
    def previous(self) -> date:
        return self.day - timedelta(days=1 if self.view == "day" else 7)

    @property
    def next(self) -> date:
        return self.day + timedelta(days=1 if self.view == "day" else 7)


def _minute(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _days(view: str, day: date) -> list[date]:
    if view == "day":
        return [day]
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=i) for i in range(7)]


def _covers(first: date, last: date, day: date) -> bool:
    return first <= day <= last


def week_grid(
    actor: Actor,
    *,
    view: str,
    day: date,
    by: str = "therapist",
    therapist_id: int | None = None,
    room_id: int | None = None,
) -> Grid:
    """The day or week grid: columns of therapists (or one therapist's week) or of rooms.

    Queries, however many therapists, rooms, days and appointments: therapists (1), rooms (1),
    appointment types for the form (none here), the shown appointments with client, type and room
    (1), the requests waiting with the same (1), working hours (1), hour exceptions (1), time off
    (1), closures (1), the therapist's visible clients (1, therapists only), the flags (their own
    fixed number) and the audit row (1 or 2).
    """
    view = view if view in VIEWS else "day"
    by = by if by in BY else "therapist"
    zone = actor.timezone
    days = _days(view, day)
    staff = therapists(actor)  # 1
    places = rooms(actor)  # 2
    therapist = next((m for m in staff if m.pk == therapist_id), None)
    room = next((r for r in places if r.pk == room_id), None)
    start, end = window(zone, days[0], days[-1])
    booked = list(
        _detail_queryset(actor)
        .filter(starts_at__lt=end, ends_at__gt=start)
        .exclude(status__in=(AppointmentStatus.CANCELLED, AppointmentStatus.REQUESTED))
        .order_by("starts_at", "pk")
    )  # 3: the appointments of the shown days
    waiting = list(
        _detail_queryset(actor)
        .filter(status=AppointmentStatus.REQUESTED, ends_at__gt=timezone.now())
        .order_by("starts_at", "pk")
    )  # 4: requests waiting for approval
    hours = list(WorkingHours.objects.filter(clinic_id=actor.clinic_id))  # 5
    exceptions = list(
        HoursException.objects.filter(clinic_id=actor.clinic_id, day__gte=days[0], day__lte=days[-1])
    )  # 6
    away = list(TimeOff.objects.filter(clinic_id=actor.clinic_id, first_day__lte=days[-1], last_day__gte=days[0]))  # 7
    closed = list(
        Closure.objects.filter(clinic_id=actor.clinic_id, first_day__lte=days[-1], last_day__gte=days[0])
    )  # 8
    visible = _visible_clients(actor, {a.client_id for a in [*booked, *waiting]})  # 9 (therapists)
    shown = [a for a in [*booked, *waiting] if _shows_client(actor, a, visible)]
    flags = booking_flags(actor, {a.client_id for a in shown}, today=actor.today())
    audit_record(action=Action.VIEW, object_type="scheduling.calendar", user=actor.user)

    # Columns.
    columns: list[Column] = []
    if by == "therapist":
        chosen = [therapist] if therapist is not None else staff
        for d in days:
            for m in chosen:
                label = therapist_name(m) if len(chosen) > 1 or view == "day" else f"{d:%a %-d %b}"
                columns.append(Column(day=d, therapist=m, room=None, label=label))
    else:
        chosen_rooms = [room] if room is not None else places
        for d in days:
            for r in chosen_rooms:
                label = r.name if len(chosen_rooms) > 1 or view == "day" else f"{d:%a %-d %b}"
                columns.append(Column(day=d, therapist=None, room=r, label=label))

    # Working hours per therapist and day (local wall times), less days off.
    weekly: dict[int, list[WorkingHours]] = defaultdict(list)
    for h in hours:
        weekly[h.therapist_id].append(h)
    off_days = {(e.therapist_id, e.day) for e in exceptions if e.kind == HoursException.Kind.DAY_OFF}
    extra: dict[tuple[int, date], list[HoursException]] = defaultdict(list)
    for e in exceptions:
        if e.kind == HoursException.Kind.EXTRA and e.start is not None and e.end is not None:
            extra[(e.therapist_id, e.day)].append(e)

    def worked(therapist_pk: int, d: date) -> list[tuple[time, time, int]]:
        if (therapist_pk, d) in off_days:
            blocks = []
        else:
            blocks = [(h.start, h.end, h.location_id) for h in weekly[therapist_pk] if h.weekday == d.weekday()]
        for e in extra[(therapist_pk, d)]:
            if e.start is not None and e.end is not None and e.location_id is not None:
                blocks.append((e.start, e.end, e.location_id))
        return blocks

    # The grid's hours: the earliest start to the latest end of anything shown.
    minutes: list[int] = []
    for column in columns:
        pks = [column.therapist.pk] if column.therapist is not None else list(weekly)
        for pk in pks:
            for begin, finish, _loc in worked(pk, column.day):
                minutes.append(_minute(begin))
                minutes.append(24 * 60 if finish <= begin else _minute(finish))
    local = {a.pk: (a.starts_at.astimezone(clock.zone(zone)), a.ends_at.astimezone(clock.zone(zone))) for a in booked}
    for a_start, a_end in local.values():
        minutes.append(_minute(a_start.time()) if a_start.date() >= days[0] else 0)
        minutes.append(
            _minute(a_end.time()) if a_end.date() <= days[-1] and a_end.date() == a_start.date() else 24 * 60
        )
    if not minutes:
        minutes = [_minute(DEFAULT_HOURS[0]), _minute(DEFAULT_HOURS[1])]
    first_minute = min(minutes) // 60 * 60
    last_minute = min(24 * 60, math.ceil(max(minutes) / 60) * 60)
    rows = max(1, (last_minute - first_minute) // SLOT_MINUTES)

    def place(begin: int, finish: int) -> tuple[int, int]:
        begin = max(begin, first_minute)
        finish = min(max(finish, begin + SLOT_MINUTES), last_minute)
        row = (begin - first_minute) // SLOT_MINUTES + 1
        span = max(1, math.ceil((finish - begin) / SLOT_MINUTES))
        return row, min(span, rows - row + 1)

    def column_key(d: date, therapist_pk: int | None, room_pk: int | None) -> tuple[date, str, int]:
        return (d, "t", therapist_pk or 0) if by == "therapist" else (d, "r", room_pk or 0)

    by_key = {
        column_key(c.day, c.therapist.pk if c.therapist else None, c.room.pk if c.room else None): c for c in columns
    }

    for column in columns:
        location = column.room.location_id if column.room is not None else None
        if column.therapist is not None:
            blocks = worked(column.therapist.pk, column.day)
            for t in away:
                if t.therapist_id != column.therapist.pk:
                    continue
                if t.starts_at is None or t.ends_at is None:
                    if _covers(t.first_day, t.last_day, column.day):
                        column.closed = "Time off" + (f": {t.reason}" if t.reason else "")
                else:
                    off_start, off_end = (
                        t.starts_at.astimezone(clock.zone(zone)),
                        t.ends_at.astimezone(clock.zone(zone)),
                    )
                    if off_start.date() <= column.day <= off_end.date():
                        b = _minute(off_start.time()) if off_start.date() == column.day else 0
                        f = _minute(off_end.time()) if off_end.date() == column.day else 24 * 60
                        column.blocks.append(Block("off", *place(b, f), "Time off"))
            locations = {loc for _b, _f, loc in blocks}
        else:
            blocks = [block for pk in weekly for block in worked(pk, column.day) if block[2] == location]
            locations = {location} if location is not None else set()
        for c in closed:
            if _covers(c.first_day, c.last_day, column.day) and (
                c.location_id is None or c.location_id in locations or not locations
            ):
                column.closed = "Closed" + (f": {c.reason}" if c.reason else "")
        if not column.closed:
            for begin, finish, _loc in blocks:
                column.blocks.append(
                    Block("hours", *place(_minute(begin), 24 * 60 if finish <= begin else _minute(finish)), "Working")
                )

    for a in booked:
        a_start, a_end = local[a.pk]
        target = by_key.get(column_key(a_start.date(), a.therapist_id, a.room_id))
        if target is None:
            continue
        last = _minute(a_end.time()) if a_end.date() == a_start.date() else 24 * 60
        is_shown = _shows_client(actor, a, visible)
        row, span = place(_minute(a_start.time()), last)
        target.entries.append(
            Entry(
                appointment=a,
                shown=is_shown,
                row=row,
                span=span,
                start=a_start,
                end=a_end,
                flags=flags.get(a.client_id) if is_shown else None,
            )
        )

    requests = []
    for a in waiting:
        a_start = a.starts_at.astimezone(clock.zone(zone))
        is_shown = _shows_client(actor, a, visible)
        requests.append(
            Entry(
                appointment=a,
                shown=is_shown,
                row=0,
                span=0,
                start=a_start,
                end=a.ends_at.astimezone(clock.zone(zone)),
                flags=flags.get(a.client_id) if is_shown else None,
            )
        )

    return Grid(
        view=view,
        by=by,
        day=day,
        days=days,
        today=actor.today(),
        zone=zone,
        first_minute=first_minute,
        rows=rows,
        columns=columns,
        therapists=staff,
        rooms=places,
        therapist=therapist,
        room=room,
        requests=requests,
    )


# --- One appointment ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryRow:
    at: datetime
    who: str
    what: str


@dataclass(slots=True)
class AppointmentPage:
    appointment: Appointment
    start: datetime
    end: datetime
    therapist_name: str
    flags: BookingFlags | None
    episodes: list[Any]  # the client's open episodes (clinical roles): links to the chart
    history: list[HistoryRow]
    can_see_clinical: bool


def appointment_page(actor: Actor, pk: int | str) -> AppointmentPage:
    """An appointment with its flags and its history of changes (audit rows of its writes), audited
    as a read of the client's information. Queries: the appointment (1), the therapist's visible
    client (1, therapists), the flags (their own), the history (1), the audit row."""
    appointment = appointment_or_404(actor, pk)
    flags = booking_flags(actor, [appointment.client_id], today=actor.today()).get(appointment.client_id)
    episodes: list[Any] = []
    if access.can_see_clinical(actor):
        episodes = list(
            clinical_queries.episodes(actor)
            .filter(client_id=appointment.client_id, discharged_on__isnull=True)
            .order_by("-started_on", "-pk")
        )
    events = AuditEvent.objects.filter(
        clinic_id=actor.clinic_id,
        object_type="scheduling.appointment",
        object_id=str(appointment.pk),
        action__in=(Action.CREATE, Action.UPDATE),
    ).order_by("seq")
    history = [
        HistoryRow(
            at=e.at.astimezone(clock.zone(actor.timezone)),
            who=e.user_email or "the client (online)",
            what="Booked" if e.action == Action.CREATE else "Changed",
        )
        for e in events
    ]
    audit_record(action=Action.VIEW, obj=appointment, client_id=appointment.client_id, user=actor.user)
    zone = clock.zone(actor.timezone)
    return AppointmentPage(
        appointment=appointment,
        start=appointment.starts_at.astimezone(zone),
        end=appointment.ends_at.astimezone(zone),
        therapist_name=therapist_name(appointment.therapist),
        flags=flags,
        episodes=episodes,
        history=history,
        can_see_clinical=access.can_see_clinical(actor),
    )


# --- The booking form's choices ----------------------------------------------------------


def client_choices(actor: Actor, *, q: str = "", selected: int | None = None, limit: int = 50) -> list[Any]:
    """Clients the actor may book for, matching ``q`` (the people app's search), by name; the
    selected one first even when the search leaves it out. Audited as a client search."""
    from mend.core.search import parse_search

    found = people_queries.apply_client_search(people_queries.clients(actor), parse_search(q))
    rows = list(found.order_by("legal_family_name", "legal_given_name", "pk")[:limit])
    if selected is not None and all(c.pk != selected for c in rows):
        rows = list(people_queries.clients(actor).filter(pk=selected)) + rows
    audit_record(action=Action.SEARCH if q else Action.VIEW, object_type="people.client_list", user=actor.user)
    return rows
