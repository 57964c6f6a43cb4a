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
from mend.core.search import parse_search
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


def _shows(actor: Actor, *, therapist_id: int, client_id: int, visible: set[int]) -> bool:
    """Whether the actor reads the client of an appointment (see the module's docstring)."""
    if not actor.is_therapist:
        return True
    return therapist_id == actor.membership.pk or client_id in visible


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
    visible = _visible_clients(actor, [appointment.client_id])
    if not _shows(actor, therapist_id=appointment.therapist_id, client_id=appointment.client_id, visible=visible):
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

# What a grid shows of each appointment, read as plain values (a busy week is a thousand rows: no
# model instances, no lazy loads).
_ROW = (
    "pk",
    "client_id",
    "therapist_id",
    "room_id",
    "status",
    "starts_at",
    "ends_at",
    "appointment_type__name",
    "room__name",
    "client__chosen_name",
    "client__legal_given_name",
    "client__legal_family_name",
)
_STATUS_LABELS = dict(AppointmentStatus.choices)


@dataclass(slots=True)
class Entry:
    """One appointment in a column (or the requests list): where it sits and what the actor may read.

    When ``shown`` is false the client's name reads "Busy" and the page gives no link.
    """

    pk: int
    client_id: int
    therapist_id: int
    room_id: int | None
    status: str
    shown: bool
    client_name: str
    type_name: str
    room_name: str
    therapist_name: str
    start: datetime  # local
    end: datetime  # local
    row: int = 0
    span: int = 0
    flags: BookingFlags | None = None

    @property
    def status_label(self) -> str:
        return _STATUS_LABELS.get(self.status, self.status)

    @property
    def times(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    @property
    def has_flags(self) -> bool:
        f = self.flags
        if f is None:
            return False
        return bool(
            f.booking_flag
            or f.authorisation is not None
            or f.badges
            or getattr(f, "screening", None)
            or getattr(f, "due", None)
        )


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

    @property
    def iso(self) -> str:
        return self.day.isoformat()

    @property
    def short_day(self) -> str:
        return f"{self.day:%a %-d %b}"

    @property
    def subtitle(self) -> str:
        """The line under the column's label: its day, or whose it is when the label is the day."""
        if self.label != self.short_day:
            return self.short_day
        if self.therapist is not None:
            return therapist_name(self.therapist)
        return self.room.name if self.room is not None else ""

    @property
    def long_day(self) -> str:
        return f"{self.day:%A %-d %B}"


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


@dataclass(slots=True)
class _Hours:
    """Who works when in the shown days: weekly blocks, days off, extra hours, time off, closures."""

    weekly: dict[int, list[WorkingHours]]
    off_days: set[tuple[int, date]]
    extra: dict[tuple[int, date], list[HoursException]]
    away: list[TimeOff]
    closed: list[Closure]

    def worked(self, therapist_id: int, day: date) -> list[tuple[time, time, int]]:
        """(start, end, location) of the therapist's hours that day, local wall-clock times."""
        blocks = []
        if (therapist_id, day) not in self.off_days:
            blocks = [(h.start, h.end, h.location_id) for h in self.weekly[therapist_id] if h.weekday == day.weekday()]
        for e in self.extra[(therapist_id, day)]:
            if e.start is not None and e.end is not None and e.location_id is not None:
                blocks.append((e.start, e.end, e.location_id))
        return blocks


def _load_hours(actor: Actor, days: list[date]) -> _Hours:
    clinic_id, first, last = actor.clinic_id, days[0], days[-1]
    weekly: dict[int, list[WorkingHours]] = defaultdict(list)
    for h in WorkingHours.objects.filter(clinic_id=clinic_id):  # working hours
        weekly[h.therapist_id].append(h)
    off_days: set[tuple[int, date]] = set()
    extra: dict[tuple[int, date], list[HoursException]] = defaultdict(list)
    for e in HoursException.objects.filter(clinic_id=clinic_id, day__gte=first, day__lte=last):  # exceptions
        if e.kind == HoursException.Kind.DAY_OFF:
            off_days.add((e.therapist_id, e.day))
        else:
            extra[(e.therapist_id, e.day)].append(e)
    away = list(TimeOff.objects.filter(clinic_id=clinic_id, first_day__lte=last, last_day__gte=first))  # time off
    closed = list(Closure.objects.filter(clinic_id=clinic_id, first_day__lte=last, last_day__gte=first))  # closures
    return _Hours(weekly=weekly, off_days=off_days, extra=extra, away=away, closed=closed)


def _columns(view: str, by: str, days: list[date], staff: list[Membership], places: list[Room]) -> list[Column]:
    columns = []
    for d in days:
        if by == "therapist":
            for m in staff:
                label = therapist_name(m) if len(staff) > 1 or view == "day" else f"{d:%a %-d %b}"
                columns.append(Column(day=d, therapist=m, room=None, label=label))
        else:
            for r in places:
                label = r.name if len(places) > 1 or view == "day" else f"{d:%a %-d %b}"
                columns.append(Column(day=d, therapist=None, room=r, label=label))
    return columns


def _entry(actor: Actor, row: tuple[Any, ...], *, names: dict[int, str], visible: set[int], zone: str) -> Entry:
    pk, client_id, therapist_id, room_id, status, starts_at, ends_at, kind, room, chosen, given, family = row
    shown = _shows(actor, therapist_id=therapist_id, client_id=client_id, visible=visible)
    tz = clock.zone(zone)
    return Entry(
        pk=pk,
        client_id=client_id,
        therapist_id=therapist_id,
        room_id=room_id,
        status=status,
        shown=shown,
        client_name=f"{chosen or given} {family}" if shown else "Busy",
        type_name=kind,
        room_name=room or "",
        therapist_name=names.get(therapist_id, ""),
        start=starts_at.astimezone(tz),
        end=ends_at.astimezone(tz),
    )


class _Rows:
    """The grid's rows: 15 minutes each, from the earliest hour anything shown starts to the latest it ends."""

    def __init__(self, minutes: list[int]) -> None:
        if not minutes:
            minutes = [_minute(DEFAULT_HOURS[0]), _minute(DEFAULT_HOURS[1])]
        self.first = min(minutes) // 60 * 60
        self.last = min(24 * 60, math.ceil(max(minutes) / 60) * 60)
        self.count = max(1, (self.last - self.first) // SLOT_MINUTES)

    def place(self, begin: int, finish: int) -> tuple[int, int]:
        """(first row, rows spanned) of local minutes ``begin``–``finish`` of a day, cut to the grid."""
        begin = min(max(begin, self.first), self.last - SLOT_MINUTES)
        finish = min(max(finish, begin + SLOT_MINUTES), self.last)
        row = (begin - self.first) // SLOT_MINUTES + 1
        return row, max(1, min(math.ceil((finish - begin) / SLOT_MINUTES), self.count - row + 1))


def _end_minute(begin: time, end: time) -> int:
    """Hours that end at or before they start run to midnight on this day's grid."""
    return 24 * 60 if end <= begin else _minute(end)


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

    Queries, however many therapists, rooms, days and appointments: therapists (1), rooms (1), the
    shown days' appointments (1) and the requests waiting (1) as plain rows, working hours,
    exceptions, time off and closures (4), a therapist's visible clients (1, therapists only), the
    booking flags (their own fixed number), and the audit row.
    """
    view = view if view in VIEWS else "day"
    by = by if by in BY else "therapist"
    zone = actor.timezone
    days = _days(view, day)
    staff = therapists(actor)
    places = rooms(actor)
    therapist = next((m for m in staff if m.pk == therapist_id), None)
    room = next((r for r in places if r.pk == room_id), None)
    start, end = window(zone, days[0], days[-1])
    booked = list(
        appointments(actor)
        .filter(starts_at__lt=end, ends_at__gt=start)
        .exclude(status__in=(AppointmentStatus.CANCELLED, AppointmentStatus.REQUESTED))
        .order_by("starts_at", "pk")
        .values_list(*_ROW)
    )
    waiting = list(
        appointments(actor)
        .filter(status=AppointmentStatus.REQUESTED, ends_at__gt=timezone.now())
        .order_by("starts_at", "pk")
        .values_list(*_ROW)
    )
    hours = _load_hours(actor, days)
    visible = _visible_clients(actor, {r[1] for r in [*booked, *waiting]})
    names = {m.pk: therapist_name(m) for m in staff}
    entries = [_entry(actor, r, names=names, visible=visible, zone=zone) for r in booked]
    requests = [_entry(actor, r, names=names, visible=visible, zone=zone) for r in waiting]
    flags = booking_flags(actor, {e.client_id for e in [*entries, *requests] if e.shown}, today=actor.today())
    for e in [*entries, *requests]:
        e.flags = flags.get(e.client_id) if e.shown else None
    audit_record(action=Action.VIEW, object_type="scheduling.calendar", user=actor.user)

    columns = _columns(
        view,
        by,
        days,
        [therapist] if therapist is not None else staff,
        [room] if room is not None else places,
    )
    minutes: list[int] = []
    for column in columns:
        pks = [column.therapist.pk] if column.therapist is not None else list(hours.weekly)
        for pk in pks:
            for begin, finish, _loc in hours.worked(pk, column.day):
                minutes += [_minute(begin), _end_minute(begin, finish)]
    for e in entries:
        minutes.append(_minute(e.start.time()) if e.start.date() >= days[0] else 0)
        minutes.append(_minute(e.end.time()) if e.end.date() == e.start.date() else 24 * 60)
    rows = _Rows(minutes)
    for column in columns:
        _shade(column, hours, rows, zone)

    by_key = {(c.day, c.therapist.pk if c.therapist else c.room.pk if c.room else 0): c for c in columns}
    for e in entries:
        target = by_key.get((e.start.date(), e.therapist_id if by == "therapist" else (e.room_id or 0)))
        if target is None:
            continue
        last = _minute(e.end.time()) if e.end.date() == e.start.date() else 24 * 60
        e.row, e.span = rows.place(_minute(e.start.time()), last)
        target.entries.append(e)

    return Grid(
        view=view,
        by=by,
        day=day,
        days=days,
        today=actor.today(),
        zone=zone,
        first_minute=rows.first,
        rows=rows.count,
        columns=columns,
        therapists=staff,
        rooms=places,
        therapist=therapist,
        room=room,
        requests=requests,
    )


def _shade(column: Column, hours: _Hours, rows: _Rows, zone: str) -> None:
    """A column's background: its hours worked, time off, or the day closed."""
    if column.therapist is not None:
        therapist_id = column.therapist.pk
        blocks = hours.worked(therapist_id, column.day)
        for t in hours.away:
            if t.therapist_id != therapist_id:
                continue
            if t.starts_at is None or t.ends_at is None:
                if t.first_day <= column.day <= t.last_day:
                    column.closed = "Time off" + (f": {t.reason}" if t.reason else "")
                continue
            off_start, off_end = t.starts_at.astimezone(clock.zone(zone)), t.ends_at.astimezone(clock.zone(zone))
            if off_start.date() <= column.day <= off_end.date():
                begin = _minute(off_start.time()) if off_start.date() == column.day else 0
                finish = _minute(off_end.time()) if off_end.date() == column.day else 24 * 60
                column.blocks.append(Block("off", *rows.place(begin, finish), "Time off"))
        locations = {loc for _b, _f, loc in blocks}
    else:
        # A room is open when anyone works at its location.
        location = column.room.location_id if column.room is not None else None
        blocks = [b for pk in hours.weekly for b in hours.worked(pk, column.day) if b[2] == location]
        locations = {location} if location is not None else set()
    for c in hours.closed:
        if c.first_day <= column.day <= c.last_day and (
            c.location_id is None or not locations or c.location_id in locations
        ):
            column.closed = "Closed" + (f": {c.reason}" if c.reason else "")
    if not column.closed:
        for opens, closes, _loc in blocks:
            column.blocks.append(Block("hours", *rows.place(_minute(opens), _end_minute(opens, closes)), "Working"))


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
    found = people_queries.apply_client_search(people_queries.clients(actor), parse_search(q))
    rows = list(found.order_by("legal_family_name", "legal_given_name", "pk")[:limit])
    if selected is not None and all(c.pk != selected for c in rows):
        rows = list(people_queries.clients(actor).filter(pk=selected)) + rows
    audit_record(action=Action.SEARCH if q else Action.VIEW, object_type="people.client_list", user=actor.user)
    return rows
