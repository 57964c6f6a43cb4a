"""Reads of the calendar's setup: appointment types, therapists' hours, exceptions, time off, closures.

Each ``<things>(actor)`` is restricted to the actor's clinic; each ``<thing>_or_404`` loads one of
them or answers 404, whatever the id. The pages' reads (``setup_overview``, ``appointment_type_list``,
``working_hours``, ``closure_list``) run a fixed number of queries however many rows there are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from django.db.models import Count, Prefetch, Q, QuerySet

from mend import access
from mend.clinics.models import Location, Membership
from mend.people.models import TherapistProfile
from mend.platform.actor import Actor
from mend.platform.roles import Role
from mend.scheduling.models import WEEKDAYS, AppointmentType, Closure, HoursException, TimeOff, WorkingHours


def therapist_name(membership: Membership) -> str:
    """The name a therapist goes by: their profile's, else their account's (select ``therapist_profile``)."""
    try:
        profile = membership.therapist_profile
    except TherapistProfile.DoesNotExist:
        return membership.user.get_full_name()
    return profile.display_name


# --- Therapists ---------------------------------------------------------------------------------


def _therapists(actor: Actor) -> QuerySet[Membership]:
    return Membership.objects.filter(clinic_id=actor.clinic_id, role=Role.THERAPIST, is_active=True).select_related(
        "user", "therapist_profile"
    )


def hours_therapist_or_404(actor: Actor, pk: int | str) -> Membership:
    """An active therapist of the actor's clinic (by membership id), whose hours may be set up; else 404."""
    return access.object_or_404(_therapists(actor), pk, "therapist")


def therapist_choices(actor: Actor) -> QuerySet[Membership]:
    """Who may offer an appointment type: the clinic's active therapists, with their names."""
    return _therapists(actor).order_by("user__full_name", "pk")


def therapist_locations(therapist: Membership) -> QuerySet[Location]:
    """Where the therapist's hours may be: the locations on their profile, else every location in use."""
    listed = Location.objects.filter(therapist_profiles__membership=therapist, is_active=True)
    if listed.exists():
        return listed.order_by("name")
    return Location.objects.filter(clinic_id=therapist.clinic_id, is_active=True).order_by("name")


# --- Appointment types --------------------------------------------------------------------------


def appointment_types(actor: Actor) -> QuerySet[AppointmentType]:
    return AppointmentType.objects.filter(clinic_id=actor.clinic_id)


def appointment_type_or_404(actor: Actor, pk: int | str) -> AppointmentType:
    access.require_manage_clinic(actor)
    queryset = appointment_types(actor).prefetch_related("therapists")
    return access.object_or_404(queryset, pk, "appointment type")


def appointment_type_list(actor: Actor) -> list[AppointmentType]:
    """Every type of the clinic with who offers it, by kind and length: two queries."""
    access.require_manage_clinic(actor)
    offered_by = Prefetch(
        "therapists",
        queryset=Membership.objects.select_related("user", "therapist_profile").order_by("user__full_name", "pk"),
    )
    return list(appointment_types(actor).prefetch_related(offered_by))


# --- Working hours, exceptions, time off ------------------------------------------------------------


def working_hours_or_404(actor: Actor, therapist: Membership, pk: int | str) -> WorkingHours:
    rows = WorkingHours.objects.filter(clinic_id=actor.clinic_id, therapist=therapist)
    return access.object_or_404(rows.select_related("therapist"), pk, "block of working hours")


def hours_exception_or_404(actor: Actor, therapist: Membership, pk: int | str) -> HoursException:
    rows = HoursException.objects.filter(clinic_id=actor.clinic_id, therapist=therapist)
    return access.object_or_404(rows.select_related("therapist"), pk, "exception")


def time_off_or_404(actor: Actor, therapist: Membership, pk: int | str) -> TimeOff:
    rows = TimeOff.objects.filter(clinic_id=actor.clinic_id, therapist=therapist)
    return access.object_or_404(rows.select_related("therapist"), pk, "time off")


@dataclass(frozen=True, slots=True)
class Weekday:
    """One row of the week table: the day's name and its blocks, by start."""

    weekday: int
    name: str
    blocks: list[WorkingHours] = field(default_factory=list)

    @property
    def minutes(self) -> int:
        return sum(block_minutes(b.start, b.end) for b in self.blocks)


def block_minutes(start: time, end: time) -> int:
    """How long a block lasts; an end at or before the start runs past midnight."""
    begin, finish = start.hour * 60 + start.minute, end.hour * 60 + end.minute
    return (finish - begin) % (24 * 60) or 24 * 60


@dataclass(frozen=True, slots=True)
class TherapistHours:
    therapist: Membership
    name: str
    week: list[Weekday]
    exceptions: list[HoursException]
    time_off: list[TimeOff]

    @property
    def weekly_minutes(self) -> int:
        return sum(day.minutes for day in self.week)

    @property
    def weekly_hours(self) -> str:
        """The week's total in words: "37 h 30 min", "40 h"."""
        hours, minutes = divmod(self.weekly_minutes, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def therapist_hours(actor: Actor, therapist: Membership) -> TherapistHours:
    """The hours page: the weekly template as seven days, and exceptions and time off from today on.

    Three queries (blocks, exceptions and time off, each with their location); past exceptions and
    time off are history the calendar no longer reads, so they are not listed.
    """
    access.require_edit_hours(actor, therapist)
    today = actor.today()
    week = [Weekday(weekday=number, name=name) for number, name in WEEKDAYS]
    blocks = WorkingHours.objects.filter(clinic_id=actor.clinic_id, therapist=therapist).select_related("location")
    for block in blocks.order_by("weekday", "start"):
        week[block.weekday].blocks.append(block)
    exceptions = list(
        HoursException.objects.filter(clinic_id=actor.clinic_id, therapist=therapist, day__gte=today)
        .select_related("location")
        .order_by("day", "start")
    )
    away = list(
        TimeOff.objects.filter(clinic_id=actor.clinic_id, therapist=therapist, last_day__gte=today).order_by(
            "first_day", "starts_at"
        )
    )
    return TherapistHours(
        therapist=therapist, name=therapist_name(therapist), week=week, exceptions=exceptions, time_off=away
    )


# --- Closures -----------------------------------------------------------------------------------


def closure_or_404(actor: Actor, pk: int | str) -> Closure:
    access.require_manage_clinic(actor)
    return access.object_or_404(Closure.objects.filter(clinic_id=actor.clinic_id), pk, "closure")


def closure_locations(actor: Actor) -> list[Location]:
    """The locations a closure may be at: the clinic's in use, by name."""
    access.require_manage_clinic(actor)
    return list(Location.objects.filter(clinic_id=actor.clinic_id, is_active=True).order_by("name"))


def closure_list(actor: Actor) -> list[Closure]:
    """The clinic's closures from today on, with their locations: one query."""
    access.require_manage_clinic(actor)
    rows = Closure.objects.filter(clinic_id=actor.clinic_id, last_day__gte=actor.today()).select_related("location")
    return list(rows.order_by("first_day", "pk"))


# --- The setup index --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetupTherapist:
    membership: Membership
    name: str
    blocks: int


@dataclass(frozen=True, slots=True)
class SetupOverview:
    therapists: list[SetupTherapist]
    types: int
    active_types: int
    upcoming_closures: int


def setup_overview(actor: Actor) -> SetupOverview:
    """The setup index: each therapist with their number of weekly blocks, and counts of types and
    closures to come. Three queries."""
    access.require_manage_clinic(actor)
    today: date = actor.today()
    therapists = therapist_choices(actor).annotate(blocks=Count("working_hours"))
    counts = appointment_types(actor).aggregate(total=Count("pk"), active=Count("pk", filter=Q(is_active=True)))
    closures = Closure.objects.filter(clinic_id=actor.clinic_id, last_day__gte=today).count()
    return SetupOverview(
        therapists=[SetupTherapist(m, therapist_name(m), m.blocks) for m in therapists],
        types=counts["total"],
        active_types=counts["active"],
        upcoming_closures=closures,
    )
