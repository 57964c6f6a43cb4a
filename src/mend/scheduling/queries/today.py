"""The Today page's day: the appointments of the clinic's local today, each with what it needs.

A therapist sees their own day; owners, admins and front desk see the clinic's day across
therapists. Every appointment carries its client's :class:`~mend.scheduling.queries.flags.BookingFlags`
(front desk: nothing clinical) and, for clinical roles, the client's open episode (the chart and
the note are one click away) with today's screening flags and measures due.

Queries, however many appointments: the appointments with client, therapist, room and type (1),
:func:`~mend.scheduling.queries.flags.booking_flags` (its own bounded count), the clients' open
episodes (1, clinical roles) and one audit row when there is a day to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mend import access
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinical import queries as clinical_queries
from mend.clinical.models import Episode
from mend.platform.actor import Actor
from mend.scheduling.models import Appointment, AppointmentStatus
from mend.scheduling.queries.calendar import window
from mend.scheduling.queries.flags import BookingFlags, booking_flags

# The buttons each status offers on Today: the day's steps forward (undoing one is the calendar's).
STEPS: dict[str, tuple[AppointmentStatus, ...]] = {
    AppointmentStatus.BOOKED: (AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW),
    AppointmentStatus.ARRIVED: (AppointmentStatus.COMPLETED,),
}

# A treatment note's length runs from 5 to 180 minutes: a longer appointment starts the note from the plan.
_NOTE_MINUTES = range(5, 181)


@dataclass(frozen=True, slots=True)
class DayAppointment:
    appointment: Appointment
    flags: BookingFlags
    # The referral's warnings for this visit: beyond the visits authorised, after the end date.
    warnings: list[str]
    # Clinical roles: the client's open episode (with this therapist when there is one); else None.
    episode: Episode | None
    # The actor is this visit's therapist and may start its note from here.
    can_start_note: bool

    @property
    def steps(self) -> list[tuple[str, str]]:
        return [(s.value, s.label) for s in STEPS.get(self.appointment.status, ())]

    @property
    def note_minutes(self) -> int | None:
        minutes = self.appointment.minutes
        return minutes if minutes in _NOTE_MINUTES else None


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    appointments: list[DayAppointment]
    # Owners, admins and front desk see every therapist's appointments; a therapist their own.
    whole_clinic: bool


def _episode_for(episodes: list[Episode], appointment: Appointment) -> Episode | None:
    """The client's open episode with the visit's therapist, else their newest open one."""
    mine = [e for e in episodes if e.therapist_id == appointment.therapist_id]
    chosen = mine or episodes
    return chosen[0] if chosen else None


def day_for(actor: Actor, *, day: date | None = None) -> Day:
    """The actor's day (see the module's docstring); ``day`` is the clinic's today unless given."""
    today = actor.today()
    day = day or today
    whole_clinic = not actor.is_therapist
    start, end = window(actor.timezone, day, day)
    found = Appointment.objects.filter(clinic_id=actor.clinic_id, starts_at__gte=start, starts_at__lt=end).exclude(
        status__in=(AppointmentStatus.CANCELLED, AppointmentStatus.REQUESTED)
    )
    if not whole_clinic:
        found = found.filter(therapist_id=actor.membership.pk)
    appointments = list(
        found.select_related("client", "therapist__user", "room", "appointment_type").order_by(
            "starts_at", "therapist_id", "pk"
        )
    )  # 1: the day's appointments in order
    if not appointments:
        return Day(day, [], whole_clinic)
    client_ids = {a.client_id for a in appointments}
    flags = booking_flags(actor, client_ids, today=today)
    episodes: dict[int, list[Episode]] = {}
    if access.can_see_clinical(actor):
        for episode in (
            clinical_queries.episodes(actor)
            .filter(client_id__in=client_ids, discharged_on__isnull=True)
            .order_by("-started_on", "-pk")
        ):  # the clients' open episodes the actor may see, newest first
            episodes.setdefault(episode.client_id, []).append(episode)
    # Who comes when, by name: a read of the clients' information, once for the day.
    audit_record(action=Action.VIEW, object_type="scheduling.day", user=actor.user)
    rows = []
    for a in appointments:
        client_flags = flags[a.client_id]
        authorisation = client_flags.authorisation
        open_episode = _episode_for(episodes.get(a.client_id, []), a)
        rows.append(
            DayAppointment(
                appointment=a,
                flags=client_flags,
                warnings=authorisation.appointment_warnings(a.starts_at) if authorisation else [],
                episode=open_episode,
                can_start_note=open_episode is not None
                and a.therapist_id == actor.membership.pk
                and a.status != AppointmentStatus.NO_SHOW,
            )
        )
    return Day(day, rows, whole_clinic)


def day_appointment_or_404(actor: Actor, pk: int | str) -> Appointment:
    """An appointment whose status the actor may change from Today: a therapist's own, or any of
    the clinic's for owners, admins and front desk; anything else (another clinic's) is a 404."""
    visible = Appointment.objects.filter(clinic_id=actor.clinic_id)
    if actor.is_therapist:
        visible = visible.filter(therapist_id=actor.membership.pk)
    return access.object_or_404(visible, pk, "appointment")
