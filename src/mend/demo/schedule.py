"""The demo clinics' calendar: what can be booked, who works when, and a believable book of appointments.

:func:`load_schedule` sets a clinic up through the scheduling services (room capabilities, appointment
types with prices and booking rules, each therapist's weekly hours at their location, a week of
vacation, the coming statutory holidays as closures) and then writes the appointments that clinic
would hold:

- **The past six weeks**: a completed appointment for every signed treatment note, on the note's
  day, with the note's client and therapist and the treatment length nearest the note's minutes;
  a few no-shows and late cancellations besides, without notes. A note on a day its therapist does
  not usually work gets that day as extra hours (the therapist came in for that client).
- **Today**: each working therapist's day, mostly the clients of their open episodes (so Today
  shows their screening flags and the measures due); what ended before now is completed, what is
  under way has arrived, the rest is booked.
- **The next four weeks**, about half full: open episodes' clients at their plan's frequency (two of
  them as weekly series at one local time), re-evaluations on the plan's date, returning clients,
  a few new clients' initial consultations, and a couple of online requests awaiting approval.

Appointments are planned in memory and bulk-inserted (a few hundred rows), each with its creation in
the clinic's audit chain in one batch, as :mod:`mend.demo.history` writes its notes. The planner
keeps its own busy spans per therapist and per room, buffers included, so no two active appointments
overlap (the invariant the database's exclusion constraints hold on PostgreSQL) and every one lies
inside its therapist's hours. Times are local wall-clock times of the clinic turned into instants by
:func:`mend.core.availability.exact_local`; a time the clock skips is never offered. The same seed,
``today`` and ``now`` give the same plan (:func:`plan_schedule`).
"""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import holidays
from django.db import transaction
from django.utils import timezone

from mend.audit.models import Action
from mend.audit.services import Entry, audit_record_many
from mend.clinical.models import (
    Assessment,
    Clearance,
    Episode,
    NoteStatus,
    PlanOfCare,
    Referral,
    ScreeningFinding,
    TreatmentNote,
)
from mend.clinical.queries import screening_from
from mend.clinical.screening import Action as ScreeningAction
from mend.clinics.models import Clinic, Location, Membership, Role, Room, RoomCapability
from mend.core.availability import NonexistentTime, exact_local
from mend.people.models import CareTeamMember, Client, TherapistProfile
from mend.platform import clock, context
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
from mend.scheduling.services import (
    appointment_type_save,
    closure_save,
    hours_exception_save,
    time_off_save,
    working_hours_save,
)

PAST_DAYS = 42
AHEAD_DAYS = 28
GRID = 15  # minutes between the starts the planner considers
NO_SHOWS = 0.04  # of the past weeks' visits
LATE_CANCELLATIONS = 0.05

TABLE, HYDRO, ACCESSIBLE = (
    RoomCapability.TABLE.value,
    RoomCapability.HYDROTHERAPY.value,
    RoomCapability.ACCESSIBLE.value,
)
ROOM_CAPABILITIES = {
    "Room 1": [TABLE, ACCESSIBLE],
    "Room 2": [TABLE],
    "Room 3": [TABLE, HYDRO],
    "Room A": [TABLE],
    "Room B": [TABLE, ACCESSIBLE],
    "Treatment 1": [TABLE, ACCESSIBLE],
    "Treatment 2": [TABLE],
}

# A weekly template: weekday (0 = Monday) → local start and end.
Pattern = dict[int, tuple[time, time]]


def _days(weekdays: Sequence[int], start: time, end: time) -> Pattern:
    return dict.fromkeys(weekdays, (start, end))


# Harbour's therapists in order; Leslieville's three (Daniel, Grace, Sofia) share two rooms, so
# their hours overlap two at a time at most.
HOURS: list[Pattern] = [
    _days(range(5), time(9), time(17)),  # Monday to Friday, nine to five
    _days(range(1, 6), time(10), time(18)),  # Tuesday to Saturday
    {**_days((0, 1, 3), time(9), time(17)), 2: (time(13), time(21))},  # a late Wednesday
    _days(range(4), time(8), time(14)),  # mornings, Fridays off
    {**_days((2, 3, 4), time(12), time(20)), 5: (time(9), time(14)), 6: (time(10), time(16))},  # evenings, weekends
    {0: (time(9), time(17)), **_days((1, 2, 3), time(14), time(20)), 6: (time(10), time(15))},  # afternoons, Sundays
]
# Northside, a small practice: Noor four days a week; Priya, at Harbour in the week, on weekends.
NORTHSIDE_HOURS: list[Pattern] = [_days(range(4), time(10), time(17)), _days((5, 6), time(10), time(16))]


@dataclass(frozen=True)
class TypeSpec:
    name: str
    kind: str
    minutes: int
    buffer_after: int
    price: str
    description: str
    audience: str = AppointmentType.Audience.ANYONE
    capability: str = TABLE
    new_clients: bool = False  # offered only by therapists accepting new clients


INITIAL = "Initial consultation"
RE_EVALUATION = "Re-evaluation"
HYDROTHERAPY = "Hydrotherapy and massage 60"
TYPES = [
    TypeSpec(
        INITIAL,
        AppointmentType.Kind.INITIAL,
        30,
        15,
        "65.00",
        "A first visit: your history, an assessment and a plan. New clients start here.",
        new_clients=True,
    ),
    TypeSpec("Treatment 45", AppointmentType.Kind.TREATMENT, 45, 10, "95.00", "Massage therapy, 45 minutes."),
    TypeSpec("Treatment 60", AppointmentType.Kind.TREATMENT, 60, 15, "120.00", "Massage therapy, 60 minutes."),
    TypeSpec(
        "Treatment 90",
        AppointmentType.Kind.TREATMENT,
        90,
        15,
        "170.00",
        "Massage therapy, 90 minutes. New clients' requests are confirmed by the clinic.",
        audience=AppointmentType.Audience.NEW_BY_REQUEST,
    ),
    TypeSpec(
        RE_EVALUATION,
        AppointmentType.Kind.RE_EVALUATION,
        45,
        15,
        "95.00",
        "Measuring progress against your plan of care, for clients in treatment.",
        audience=AppointmentType.Audience.RETURNING,
    ),
    TypeSpec(
        HYDROTHERAPY,
        AppointmentType.Kind.TREATMENT,
        60,
        15,
        "135.00",
        "Massage with hot and cold hydrotherapy, in the hydrotherapy room.",
        capability=HYDRO,
    ),
]
TREATMENTS = {45: "Treatment 45", 60: "Treatment 60", 90: "Treatment 90"}


@dataclass(frozen=True)
class Planned:
    """One appointment the planner decided on (times are aware UTC instants)."""

    client_id: int
    therapist_id: int
    type_name: str
    location_id: int
    room_id: int
    starts_at: datetime
    ends_at: datetime
    status: str
    channel: str = Appointment.Channel.STAFF
    series: int | None = None
    cancel_reason: str = ""
    cancelled_at: datetime | None = None


@dataclass(frozen=True)
class Extra:
    """Hours a therapist worked besides the template (the day of a note outside their usual days)."""

    therapist_id: int
    day: date
    start: time
    end: time
    location_id: int


@dataclass
class Plan:
    appointments: list[Planned] = field(default_factory=list)
    extras: list[Extra] = field(default_factory=list)
    series: int = 0


@dataclass(frozen=True)
class _Kind:
    name: str
    minutes: int
    buffer_after: int
    capability: str
    therapists: frozenset[int]


# --- Setup ---------------------------------------------------------------------------------------


def _owner_actor(clinic: Clinic) -> Actor:
    owner = Membership.objects.select_related("user", "clinic").filter(clinic=clinic, role=Role.OWNER).first()
    if owner is None:
        raise ValueError(f"{clinic.name} has no owner to set its calendar up.")
    return Actor(user=owner.user, membership=owner)


def _therapist_location(therapist: Membership) -> Location:
    profile = TherapistProfile.objects.filter(membership=therapist).first()
    location = profile.locations.order_by("name").first() if profile else None
    if location is None:
        location = Location.objects.filter(clinic_id=therapist.clinic_id).order_by("name").first()
    if location is None:
        raise ValueError(f"{therapist.clinic.name} has no location for its therapists.")
    return location


def coming_holidays(clinic: Clinic, first: date, last: date) -> list[tuple[date, str]]:
    """The statutory holidays of the clinic's country and province from ``first`` to ``last``."""
    region = Location.objects.filter(clinic=clinic).order_by("name").values_list("region", flat=True).first()
    years = list(range(first.year, last.year + 1))
    try:
        calendar = holidays.country_holidays(clinic.country, subdiv=region or None, years=years)
    except NotImplementedError:  # a province the library does not know: the country's holidays
        try:
            calendar = holidays.country_holidays(clinic.country, years=years)
        except NotImplementedError:
            return []
    return sorted((day, str(name)) for day, name in calendar.items() if first <= day <= last)


def _setup(clinic: Clinic, therapists: Sequence[Membership], *, today: date, hours: Sequence[Pattern]) -> None:
    """Rooms, types, hours, a vacation and closures, written through the scheduling services."""
    actor = _owner_actor(clinic)
    first_room: set[int] = set()
    for room in Room.objects.filter(clinic=clinic).order_by("location_id", "name"):
        capabilities = ROOM_CAPABILITIES.get(room.name)
        if capabilities is None:  # a benchmark clinic's rooms: the first at each location is accessible
            capabilities = [TABLE] if room.location_id in first_room else [TABLE, ACCESSIBLE]
        first_room.add(room.location_id)
        if room.capabilities != capabilities:
            room.capabilities = capabilities
            room.save(update_fields=["capabilities"])
    hydro_locations = {
        room.location_id for room in Room.objects.filter(clinic=clinic) if HYDRO in (room.capabilities or [])
    }
    locations = {t.pk: _therapist_location(t) for t in therapists}
    accepting = set(
        TherapistProfile.objects.filter(membership__in=therapists, accepting_new_clients=True).values_list(
            "membership_id", flat=True
        )
    )
    for spec in TYPES:
        offered = [t for t in therapists if not spec.new_clients or t.pk in accepting]
        if spec.capability == HYDRO:
            offered = [t for t in offered if locations[t.pk].pk in hydro_locations]
        if not offered:
            continue
        appointment_type_save(
            actor=actor,
            data={
                "name": spec.name,
                "kind": spec.kind,
                "description": spec.description,
                "duration_minutes": spec.minutes,
                "buffer_after_minutes": spec.buffer_after,
                "price": Decimal(spec.price),
                "room_capability": spec.capability,
                "bookable_online": True,
                "min_notice_minutes": 120,
                "horizon_days": 60,
                "same_day": True,
                "audience": spec.audience,
                "therapists": offered,
            },
        )
    for n, therapist in enumerate(therapists):
        for weekday, (start, end) in sorted(hours[n % len(hours)].items()):
            working_hours_save(
                actor=actor,
                therapist=therapist,
                weekday=weekday,
                start=start,
                end=end,
                location=locations[therapist.pk],
            )
    if therapists:
        # A week of vacation in the coming month, Monday to Sunday.
        away = therapists[3 % len(therapists)]
        monday = today + timedelta(days=10 + (7 - (today + timedelta(days=10)).weekday()) % 7)
        time_off_save(
            actor=actor, therapist=away, first_day=monday, last_day=monday + timedelta(days=6), reason="Vacation"
        )
    closed = coming_holidays(clinic, today + timedelta(days=1), today + timedelta(days=AHEAD_DAYS))
    for day, name in closed:
        closure_save(actor=actor, first_day=day, reason=f"Statutory holiday: {name}")
    if not closed:
        # No holiday coming: the clinic closes for a staff training afternoon instead.
        day = today + timedelta(days=15)
        while day.weekday() != 2:
            day += timedelta(days=1)
        for therapist in therapists:
            time_off_save(
                actor=actor,
                therapist=therapist,
                first_day=day,
                start_time=time(13),
                end_time=time(17),
                reason="Staff training",
            )


# --- Planning ------------------------------------------------------------------------------------


class _Planner:
    """Free time per therapist and room, in local wall minutes per day, and what is booked so far."""

    def __init__(self, clinic: Clinic, therapists: Sequence[Membership], rng: random.Random) -> None:
        self.zone = clinic.timezone
        self.rng = rng
        self.therapist_ids = [t.pk for t in therapists]
        self.weekly: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
        for row in WorkingHours.objects.filter(clinic=clinic, therapist__in=therapists).order_by("pk"):
            self.weekly[row.therapist_id].append((row.weekday, _minute(row.start), _minute(row.end), row.location_id))
        self.home = {t: min((w[3] for w in blocks), default=0) for t, blocks in self.weekly.items()}
        self.extra: dict[tuple[int, date], list[tuple[int, int, int]]] = defaultdict(list)
        self.off: dict[tuple[int, date], list[tuple[int, int]]] = defaultdict(list)
        for off in TimeOff.objects.filter(clinic=clinic).order_by("pk"):
            day = off.first_day
            while day <= off.last_day:
                if off.starts_at and off.ends_at:
                    start = off.starts_at.astimezone(clock.zone(self.zone))
                    end = off.ends_at.astimezone(clock.zone(self.zone))
                    cut = (
                        _minute(start.time()) if start.date() == day else 0,
                        _minute(end.time()) if end.date() == day else 1440,
                    )
                else:
                    cut = (0, 1440)
                self.off[(off.therapist_id, day)].append(cut)
                day += timedelta(days=1)
        # Closed days per location; None: every location.
        self.closed: dict[int | None, set[date]] = defaultdict(set)
        for closure in Closure.objects.filter(clinic=clinic):
            self.closed[closure.location_id] |= {
                closure.first_day + timedelta(days=d) for d in range((closure.last_day - closure.first_day).days + 1)
            }
        self.rooms: dict[int, list[tuple[int, frozenset[str]]]] = defaultdict(list)
        for room in Room.objects.filter(clinic=clinic, is_active=True).order_by("location_id", "name"):
            self.rooms[room.location_id].append((room.pk, frozenset(room.capabilities or ())))
        self.kinds: dict[str, _Kind] = {}
        for kind in AppointmentType.objects.filter(clinic=clinic).prefetch_related("therapists").order_by("pk"):
            self.kinds[kind.name] = _Kind(
                kind.name,
                kind.duration_minutes,
                kind.buffer_after_minutes,
                kind.room_capability,
                frozenset(m.pk for m in kind.therapists.all()),
            )
        # Busy spans in POSIX seconds, buffers included, per (therapist or room, local day).
        self.busy_therapist: dict[tuple[int, date], list[tuple[float, float]]] = defaultdict(list)
        self.busy_room: dict[tuple[int, date], list[tuple[float, float]]] = defaultdict(list)
        self.booked_minutes: dict[tuple[int, date], int] = defaultdict(int)
        self.client_days: dict[int, set[date]] = defaultdict(set)
        self.plan = Plan()
        self._windows: dict[tuple[int, date], list[tuple[int, int, int]]] = {}

    # Hours -------------------------------------------------------------------------------------

    def windows(self, therapist: int, day: date) -> list[tuple[int, int, int]]:
        """Working hours that day as (start, end, location) in local minutes, cut by time off and closures."""
        key = (therapist, day)
        if key not in self._windows:
            self._windows[key] = self._cut(therapist, day)
        return self._windows[key]

    def _cut(self, therapist: int, day: date) -> list[tuple[int, int, int]]:
        if day in self.closed[None]:
            return []
        blocks = [(s, e, loc) for weekday, s, e, loc in self.weekly[therapist] if weekday == day.weekday()]
        blocks += self.extra.get((therapist, day), [])
        blocks = [block for block in blocks if day not in self.closed[block[2]]]
        pieces = []
        for start, end, location in sorted(blocks):
            parts = [(start, end)]
            for c0, c1 in self.off.get((therapist, day), []):
                parts = [p for a, b in parts for p in ((a, min(b, c0)), (max(a, c1), b)) if p[0] < p[1]]
            pieces += [(a, b, location) for a, b in parts]
        return pieces

    def working_minutes(self, therapist: int, day: date) -> int:
        return sum(end - start for start, end, _ in self.windows(therapist, day))

    def add_extra(self, therapist: int, day: date, start: int, end: int) -> None:
        location = self.home.get(therapist) or next(iter(self.rooms))
        self.extra[(therapist, day)].append((start, end, location))
        self._windows.pop((therapist, day), None)
        self.plan.extras.append(Extra(therapist, day, _wall(start), _wall(end), location))

    # Free time ---------------------------------------------------------------------------------

    def fits(
        self, therapist: int, day: date, minute: int, kind: _Kind, location: int
    ) -> tuple[datetime, datetime, int] | None:
        """The instants and a free room for a visit at local ``minute``, if it lies inside the
        therapist's hours at ``location`` and neither they nor a suitable room are busy then."""
        inside = any(
            a <= minute and minute + kind.minutes <= b and where == location
            for a, b, where in self.windows(therapist, day)
        )
        if not inside:
            return None
        try:
            start = exact_local(day, _wall(minute), self.zone).astimezone(UTC)
        except NonexistentTime:
            return None
        end = start + timedelta(minutes=kind.minutes)
        s, reach = start.timestamp(), end.timestamp() + kind.buffer_after * 60
        if any(a < reach and s < b for a, b in self.busy_therapist[(therapist, day)]):
            return None
        for room, capabilities in self.rooms.get(location, []):
            if kind.capability and kind.capability not in capabilities:
                continue
            if not any(a < reach and s < b for a, b in self.busy_room[(room, day)]):
                return start, end, room
        return None

    def candidates(self, therapist: int, day: date, kind: _Kind) -> list[tuple[int, int]]:
        """Free starts (local minute, location) on the grid of each block of hours."""
        found = []
        for start, end, location in self.windows(therapist, day):
            for minute in range(start, end - kind.minutes + 1, GRID):
                if self.fits(therapist, day, minute, kind, location):
                    found.append((minute, location))
        return found

    def pick(self, therapist: int, day: date, kind: _Kind, near: int | None = None) -> tuple[int, int] | None:
        """A free start: near ``near`` when given, else mostly next to what is booked (days fill up
        from their ends and around earlier bookings, as a front desk fills them), sometimes anywhere."""
        found = self.candidates(therapist, day, kind)
        if not found:
            return None
        if near is not None:
            return min(found, key=lambda c: (abs(c[0] - near), c[0]))
        if self.rng.random() < 0.7:
            edges = {self._edge(span) for span in self.busy_therapist[(therapist, day)]}
            edges |= {w[0] for w in self.windows(therapist, day)}
            compact = [c for c in found if c[0] in edges or (c[0] + kind.minutes + kind.buffer_after) % 1440 in edges]
            if compact:
                return self.rng.choice(compact)
        return self.rng.choice(found)

    def _edge(self, span: tuple[float, float]) -> int:
        moment = datetime.fromtimestamp(span[1], clock.zone(self.zone))
        minute = moment.hour * 60 + moment.minute
        return minute + (-minute) % GRID

    def book(
        self,
        *,
        client: int,
        therapist: int,
        day: date,
        minute: int,
        location: int,
        kind: _Kind,
        status: str,
        channel: str = Appointment.Channel.STAFF,
        series: int | None = None,
        cancel_reason: str = "",
        cancelled_at: datetime | None = None,
    ) -> Planned:
        fit = self.fits(therapist, day, minute, kind, location)
        assert fit is not None, (therapist, day, minute)
        start, end, room = fit
        reach = end.timestamp() + kind.buffer_after * 60
        if status != AppointmentStatus.CANCELLED:
            self.busy_therapist[(therapist, day)].append((start.timestamp(), reach))
            self.busy_room[(room, day)].append((start.timestamp(), reach))
            self.booked_minutes[(therapist, day)] += kind.minutes
            self.client_days[client].add(day)
        planned = Planned(
            client_id=client,
            therapist_id=therapist,
            type_name=kind.name,
            location_id=location,
            room_id=room,
            starts_at=start,
            ends_at=end,
            status=status,
            channel=channel,
            series=series,
            cancel_reason=cancel_reason,
            cancelled_at=cancelled_at,
        )
        self.plan.appointments.append(planned)
        return planned

    def seen_near(self, client: int, day: date, days: int) -> bool:
        return any(abs((d - day).days) < days for d in self.client_days[client])


def _minute(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _wall(minute: int) -> time:
    return time(minute // 60 % 24, minute % 60)


def _treatment(minutes: int | None) -> str:
    """The treatment type nearest a note's or plan's minutes (45, 60 or 90)."""
    return TREATMENTS[min(TREATMENTS, key=lambda m: (abs(m - (minutes or 60)), m))]


@dataclass
class _Open:
    """An open episode the calendar books for: its client, therapist, plan and last visit."""

    client: int
    therapist: int
    per_week: int
    minutes: int
    has_plan: bool
    re_evaluation_on: date | None
    last_visit: date | None
    visits_left: int | None  # on the current referral; None without one
    assessed: bool

    @property
    def visit(self) -> str:
        """The type of the next visit: the plan's treatment; a first treatment once assessed; else a consultation."""
        if self.has_plan:
            return _treatment(self.minutes)
        return "Treatment 60" if self.assessed else INITIAL


def plan_schedule(clinic: Clinic, therapists: Sequence[Membership], *, today: date, now: datetime, seed: int) -> Plan:
    """The appointments (and extra hours) :func:`load_schedule` writes, from the clinic's setup and
    its clinical records; reads only, so the same arguments give the same plan."""
    rng = random.Random(seed)
    planner = _Planner(clinic, therapists, rng)
    ids = planner.therapist_ids
    kinds = planner.kinds
    first_day = today - timedelta(days=PAST_DAYS)

    # The past: one completed visit per signed note, on its day.
    notes = list(
        TreatmentNote.objects.filter(
            clinic=clinic, therapist_id__in=ids, status=NoteStatus.SIGNED, visit_on__gte=first_day, visit_on__lt=today
        )
        .order_by("visit_on", "therapist_id", "pk")
        .values_list("client_id", "therapist_id", "visit_on", "duration_minutes")
    )
    for client_id, therapist_id, day, minutes in notes:
        kind = kinds[_treatment(minutes)]
        if not planner.windows(therapist_id, day):
            opens = 600 + GRID * rng.randint(0, 8)
            planner.add_extra(therapist_id, day, opens, opens + 240)
        choice = planner.pick(therapist_id, day, kind)
        while choice is None:  # the day is full: they stayed longer, until ten at the latest
            last = max((end for _, end, _ in planner.windows(therapist_id, day)), default=17 * 60)
            if last + kind.minutes > 22 * 60:
                break
            planner.add_extra(therapist_id, day, last, min(last + 120, 22 * 60))
            choice = planner.pick(therapist_id, day, kind)
        if choice is None:
            continue  # every room taken all day (a crowded benchmark clinic): the note stands alone
        planner.book(
            client=client_id,
            therapist=therapist_id,
            day=day,
            minute=choice[0],
            location=choice[1],
            kind=kind,
            status=AppointmentStatus.COMPLETED,
        )

    # Who the calendar books for: open episodes (not those screening says not to book), returning
    # clients of each therapist, and new clients without an episode.
    last_visits: dict[int, date] = {}
    for episode_id, day in (
        TreatmentNote.objects.filter(clinic=clinic, status=NoteStatus.SIGNED)
        .order_by("visit_on")
        .values_list("episode_id", "visit_on")
    ):
        last_visits[episode_id] = day
    plans = {p.episode_id: p for p in PlanOfCare.objects.filter(clinic=clinic)}
    open_episodes = list(Episode.objects.filter(clinic=clinic, discharged_on=None, therapist_id__in=ids).order_by("pk"))
    findings: dict[int, list[ScreeningFinding]] = defaultdict(list)
    for finding in ScreeningFinding.objects.filter(episode__in=open_episodes):
        findings[finding.episode_id].append(finding)
    clearances: dict[int, list[Clearance]] = defaultdict(list)
    for clearance in Clearance.objects.filter(episode__in=open_episodes):
        clearances[clearance.episode_id].append(clearance)
    # Visits left on each episode's current referral: the front desk books within it.
    current: dict[int, Referral] = {}
    for referral in Referral.objects.filter(episode__in=open_episodes).order_by("received_on", "pk"):
        current[referral.episode_id] = referral
    used = Counter(
        TreatmentNote.objects.filter(referral__in=list(current.values()), status=NoteStatus.SIGNED).values_list(
            "referral_id", flat=True
        )
    )
    left = {e: r.visits_authorised - used[r.pk] for e, r in current.items() if r.visits_authorised}
    assessed = set(Assessment.objects.filter(episode__in=open_episodes).values_list("episode_id", flat=True))
    opened: list[_Open] = []
    waiting: Counter[int] = Counter()
    for episode in open_episodes:
        screening = screening_from(findings[episode.pk], clearances[episode.pk], today)
        if screening.status in (ScreeningAction.REFER, ScreeningAction.BLOCK):
            continue  # "do not book: see therapist"
        plan = plans.get(episode.pk)
        if plan is None:
            # A few clients starting care per therapist (a benchmark clinic has thousands waiting).
            waiting[episode.therapist_id] += 1
            if waiting[episode.therapist_id] > 3:
                continue
        opened.append(
            _Open(
                client=episode.client_id,
                therapist=episode.therapist_id,
                per_week=plan.sessions_per_week if plan else 1,
                minutes=plan.session_minutes if plan else 60,
                has_plan=plan is not None,
                re_evaluation_on=plan.re_evaluation_on if plan else None,
                last_visit=last_visits.get(episode.pk),
                visits_left=left.get(episode.pk),
                assessed=episode.pk in assessed,
            )
        )
    with_episode = set(Episode.objects.filter(clinic=clinic).values_list("client_id", flat=True))
    discharged = set(
        Episode.objects.filter(clinic=clinic).exclude(discharged_on=None).values_list("client_id", flat=True)
    )
    in_care = {o.client for o in opened}
    returning: dict[int, list[int]] = defaultdict(list)
    for member in CareTeamMember.objects.filter(clinic=clinic, therapist_id__in=ids, is_primary=True).order_by(
        "client_id"
    ):
        if member.client_id in discharged and member.client_id not in in_care:
            returning[member.therapist_id].append(member.client_id)
    new_clients = [
        pk
        for pk in Client.objects.filter(clinic=clinic).order_by("pk").values_list("pk", flat=True)
        if pk not in with_episode
    ]
    rng.shuffle(new_clients)

    # No-shows and late cancellations in the past weeks, on days the therapist worked.
    pool = {t: [o.client for o in opened if o.therapist == t] + returning[t] for t in ids}
    for share, status in ((NO_SHOWS, AppointmentStatus.NO_SHOW), (LATE_CANCELLATIONS, AppointmentStatus.CANCELLED)):
        for _ in range(max(1, round(share * len(notes))) if notes else 0):
            therapist_id = rng.choice(ids)
            days = [first_day + timedelta(days=d) for d in range(PAST_DAYS)]
            days = [d for d in days if planner.windows(therapist_id, d)]
            if not days or not pool[therapist_id]:
                continue
            day, client_id, kind = rng.choice(days), rng.choice(pool[therapist_id]), kinds["Treatment 60"]
            choice = planner.pick(therapist_id, day, kind)
            if choice is None:
                continue
            start = exact_local(day, _wall(choice[0]), planner.zone)
            planner.book(
                client=client_id,
                therapist=therapist_id,
                day=day,
                minute=choice[0],
                location=choice[1],
                kind=kind,
                status=status,
                cancel_reason=rng.choice(["Unwell", "Child sick at home", "Stuck at work", "Car trouble"])
                + ": called the morning of the visit"
                if status == AppointmentStatus.CANCELLED
                else "",
                cancelled_at=start - timedelta(hours=rng.randint(2, 18))
                if status == AppointmentStatus.CANCELLED
                else None,
            )

    def may_book(item: _Open) -> bool:
        """Whether the referral leaves a visit to book: one is booked beside a used-up referral (the
        renewal is on its way, and the booking shows the warning), none beyond it otherwise."""
        ahead = sum(1 for d in planner.client_days[item.client] if d >= today)
        return item.visits_left is None or ahead < max(item.visits_left, 1)

    # Today: each working therapist's clients in care first, then returning clients.
    for therapist_id in rng.sample(ids, len(ids)):  # who books first varies, as rooms are shared
        working = planner.working_minutes(therapist_id, today)
        # Those seen yesterday last, so today's list is mostly clients not seen for a few days.
        queue = sorted(
            (o for o in opened if o.therapist == therapist_id), key=lambda o: o.last_visit == today - timedelta(days=1)
        )
        others = list(returning[therapist_id])
        rng.shuffle(others)
        target = working * rng.uniform(0.6, 0.75)
        while planner.booked_minutes[(therapist_id, today)] < target and (queue or others):
            if queue:
                item = queue.pop(0)
                if not may_book(item):
                    continue
                client_id = item.client
                kind = kinds.get(item.visit, kinds["Treatment 60"])
            else:
                client_id, kind = others.pop(), kinds["Treatment 60"]
            choice = planner.pick(therapist_id, today, kind)
            if choice is None:
                break
            start = exact_local(today, _wall(choice[0]), planner.zone)
            end = start + timedelta(minutes=kind.minutes)
            status = (
                AppointmentStatus.COMPLETED
                if end <= now
                else AppointmentStatus.ARRIVED
                if start <= now
                else AppointmentStatus.BOOKED
            )
            planner.book(
                client=client_id,
                therapist=therapist_id,
                day=today,
                minute=choice[0],
                location=choice[1],
                kind=kind,
                status=status,
            )

    ahead = [today + timedelta(days=d) for d in range(1, AHEAD_DAYS + 1)]

    def book_ahead(
        client_id: int,
        therapist_id: int,
        day: date,
        kind: _Kind,
        *,
        near: int | None = None,
        status: str = AppointmentStatus.BOOKED,
        channel: str | None = None,
    ) -> bool:
        if therapist_id not in kind.therapists:
            return False
        choice = planner.pick(therapist_id, day, kind, near=near)
        if choice is None:
            return False
        online = rng.random() < 0.3
        planner.book(
            client=client_id,
            therapist=therapist_id,
            day=day,
            minute=choice[0],
            location=choice[1],
            kind=kind,
            status=status,
            channel=channel or (Appointment.Channel.ONLINE if online else Appointment.Channel.STAFF),
        )
        return True

    # Two weekly series at one local time: clients in care seen once a week, else a regular's
    # standing appointment.
    weekly = [
        o
        for o in opened
        if o.has_plan and o.per_week == 1 and (o.visits_left is None or o.visits_left >= 4) and may_book(o)
    ]
    rng.shuffle(weekly)
    regulars = [
        _Open(c, t, 1, 60, has_plan=False, re_evaluation_on=None, last_visit=None, visits_left=None, assessed=True)
        for t in ids
        for c in returning[t][:3]
    ]
    rng.shuffle(regulars)
    # The first therapist (the demo's therapist1) has one, then another therapist.
    weekly = sorted(weekly + regulars, key=lambda o: o.therapist != ids[0])
    in_series: set[int] = set()
    with_series: set[int] = set()
    for item in weekly:
        if len(in_series) == 2:
            break
        if item.therapist in with_series:
            continue
        kind = kinds[_treatment(item.minutes)]
        found = None
        for day in ahead[:7]:
            days = [day + timedelta(weeks=w) for w in range(4)]
            for minute, location in planner.candidates(item.therapist, day, kind):
                if all(d in ahead and planner.fits(item.therapist, d, minute, kind, location) for d in days):
                    found = (days, minute, location)
                    break
            if found:
                break
        if found is None:
            continue
        days, minute, location = found
        planner.plan.series += 1
        for day in days:
            planner.book(
                client=item.client,
                therapist=item.therapist,
                day=day,
                minute=minute,
                location=location,
                kind=kind,
                status=AppointmentStatus.BOOKED,
                series=planner.plan.series,
            )
        in_series.add(item.client)
        with_series.add(item.therapist)

    # Clients in care at their plan's frequency, at about the same time of day each visit.
    for item in opened:
        if item.client in in_series:
            continue
        kind = kinds.get(item.visit, kinds["Treatment 60"])
        gap = 7 / max(1, item.per_week)
        due = today + timedelta(days=rng.randint(1, max(1, round(gap))))
        near = None
        while due <= ahead[-1] and may_book(item):
            reeval = item.re_evaluation_on is not None and abs((item.re_evaluation_on - due).days) < gap / 2
            visit = kinds[RE_EVALUATION] if reeval and RE_EVALUATION in kinds else kind
            for shift in (0, 1, -1, 2, -2, 3):
                day = due + timedelta(days=shift)
                if (
                    day in ahead
                    and not planner.seen_near(item.client, day, 2)
                    and book_ahead(item.client, item.therapist, day, visit, near=near)
                ):
                    near = _minute(planner.plan.appointments[-1].starts_at.astimezone(clock.zone(planner.zone)).time())
                    break
            if not item.has_plan:
                break  # one visit: the assessment that starts the plan
            due += timedelta(days=round(gap))

    # New clients: a few initial consultations, and online requests waiting for the clinic's answer.
    for n in range(2 if len(ids) > 2 else 1):
        if not new_clients or "Treatment 90" not in kinds:
            break
        therapist_id = ids[(n * 2) % len(ids)]
        for day in ahead[2:16]:
            if book_ahead(
                new_clients[-1],
                therapist_id,
                day,
                kinds["Treatment 90"],
                status=AppointmentStatus.REQUESTED,
                channel=Appointment.Channel.ONLINE,
            ):
                new_clients.pop()
                break
    offering = [t for t in ids if INITIAL in kinds and t in kinds[INITIAL].therapists]
    for n in range(2 * len(offering)):
        if not new_clients:
            break
        therapist_id = offering[n % len(offering)]
        for day in rng.sample(ahead, 6):
            if book_ahead(new_clients[-1], therapist_id, day, kinds[INITIAL]):
                new_clients.pop()
                break

    # Returning clients fill each day to about half its hours: fuller next week than in four.
    for day in ahead:
        weeks_out = (day - today).days / 7
        for therapist_id in rng.sample(ids, len(ids)):
            working = planner.working_minutes(therapist_id, day)
            target = working * rng.uniform(0.45, 0.62) * (1 - 0.07 * weeks_out)
            # Fortnightly visits where the list is long; a small practice sees its regulars weekly.
            spacing = 14 if len(returning[therapist_id]) >= 40 else 6
            clients = [c for c in returning[therapist_id] if not planner.seen_near(c, day, spacing)]
            rng.shuffle(clients)
            while planner.booked_minutes[(therapist_id, day)] < target and clients:
                name = rng.choices(["Treatment 60", "Treatment 45", "Treatment 90", HYDROTHERAPY], [60, 20, 15, 5])[0]
                kind = kinds.get(name) or kinds["Treatment 60"]
                if therapist_id not in kind.therapists:
                    kind = kinds["Treatment 60"]
                if not book_ahead(clients.pop(), therapist_id, day, kind):
                    break
    return planner.plan


# --- Writing -------------------------------------------------------------------------------------


def _local_now(zone: str, today: date) -> datetime:
    """Now's wall-clock time on ``today`` (the real now when ``today`` is the clinic's today)."""
    wall = timezone.now().astimezone(clock.zone(zone)).time()
    return datetime.combine(today, wall, clock.zone(zone))


def load_schedule(
    clinic: Clinic,
    therapists: Sequence[Membership],
    *,
    today: date,
    seed: int,
    now: datetime | None = None,
    hours: Sequence[Pattern] = HOURS,
) -> int:
    """Set ``clinic``'s calendar up and fill it (see the module's docstring); ``today`` is the
    clinic's local date. Returns how many appointments were written."""
    now = now or _local_now(clinic.timezone, today)
    actor = _owner_actor(clinic)
    with transaction.atomic(), context.acting(user_id=actor.user.pk, clinic_id=clinic.pk, role=actor.role):
        _setup(clinic, therapists, today=today, hours=hours)
        plan = plan_schedule(clinic, therapists, today=today, now=now, seed=seed)
        members = {t.pk: t for t in therapists}
        locations = {loc.pk: loc for loc in Location.objects.filter(clinic=clinic)}
        for extra in plan.extras:
            hours_exception_save(
                actor=actor,
                therapist=members[extra.therapist_id],
                day=extra.day,
                kind=HoursException.Kind.EXTRA,
                location=locations[extra.location_id],
                start=extra.start,
                end=extra.end,
            )
        kinds = {k.name: k for k in AppointmentType.objects.filter(clinic=clinic)}
        ids = random.Random(seed)
        series = {n: uuid.UUID(int=ids.getrandbits(128), version=4) for n in range(1, plan.series + 1)}
        rows = [
            Appointment(
                clinic=clinic,
                client_id=p.client_id,
                therapist_id=p.therapist_id,
                room_id=p.room_id,
                location_id=p.location_id,
                appointment_type=kinds[p.type_name],
                starts_at=p.starts_at,
                ends_at=p.ends_at,
                buffer_before_minutes=kinds[p.type_name].buffer_before_minutes,
                buffer_after_minutes=kinds[p.type_name].buffer_after_minutes,
                status=p.status,
                channel=p.channel,
                series_id=series[p.series] if p.series else None,
                cancel_reason=p.cancel_reason,
                cancelled_at=p.cancelled_at,
                sequence=1 if p.status == AppointmentStatus.CANCELLED else 0,
            )
            for p in sorted(plan.appointments, key=lambda p: (p.starts_at, p.therapist_id))
        ]
        created = Appointment.objects.bulk_create(rows, batch_size=500)
        # As appointment_book records each booking, in one batch.
        audit_record_many(
            clinic_id=clinic.pk,
            entries=[Entry(Action.CREATE, "scheduling.appointment", a.pk, client_id=a.client_id) for a in created],
        )
    return len(created)
