"""Booking, moving, cancelling appointments and changing their status: the one place each happens.

Pages, the API, online booking, series and the waitlist all call these, so the rules hold for
every route:

- **The server trusts no slot list.** Each booking is checked again here with
  ``mend.core.availability.booking_conflict`` against the calendar read inside the transaction:
  working hours, time off, closures, other appointments and holds with their buffers, the room's
  capability and location, and (online) the booking grid and the type's booking rules.
- **Never a double booking.** The check and the insert run in one transaction that holds a lock
  other bookings of the clinic wait for: on SQLite every transaction begins IMMEDIATE (the
  database's write lock); on PostgreSQL a transaction-scoped advisory lock per clinic, with the
  exclusion constraints of migration ``scheduling/0002`` as the last word should anything slip by.
  A conflict raises :class:`BookingConflict` (the API's 409), never an IntegrityError.
- **Overrides** (a short check-in beside a long session): only an owner or admin, only with a
  reason; the overlap checks are skipped, everything else (hours, rooms) still holds; audited.
- Every write appends to the audit trail in its transaction; listeners registered with
  :func:`on_change` (reminders, the waitlist, calendar feeds) run inside it too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinics.models import Clinic, Membership, Room
from mend.core import availability as av
from mend.core.booking_rules import Outcome, check_booking_rules
from mend.people.models import Client
from mend.platform import clock
from mend.platform.actor import Actor
from mend.platform.roles import Role
from mend.scheduling.models import ACTIVE_STATUSES, Appointment, AppointmentStatus, AppointmentType
from mend.scheduling.queries.calendar import appointment_type_value, booked_that_day, booking_rules_of, clinic_calendar

# The first key of the advisory lock that serialises one clinic's bookings (PostgreSQL); the
# second is the clinic. Distinct from the audit chain's key.
_BOOKING_LOCK_KEY = 0x626F6F6B


class BookingConflict(Exception):
    """The time is not free (or no longer free): the API's 409, the page's message."""

    def __init__(self, message: str, *, occurrence: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.occurrence = occurrence


@dataclass(frozen=True, slots=True)
class Change:
    """What happened to an appointment, for listeners: ``booked``, ``moved``, ``cancelled``, ``status``."""

    kind: str
    appointment: Appointment
    previous_start: datetime | None = None
    # A move's therapist and room before it (the time it frees is theirs).
    previous_therapist_id: int | None = None
    previous_room_id: int | None = None
    # Made by the clinic's staff (a page, the API), not by the client online: the client is told.
    by_staff: bool = False
    previous_status: str = ""


_listeners: list[Callable[[Change], None]] = []


def on_change(listener: Callable[[Change], None]) -> None:
    """Call ``listener`` inside the transaction of every booking, move, cancellation and status change."""
    if listener not in _listeners:
        _listeners.append(listener)


def _notify(change: Change) -> None:
    for listener in _listeners:
        listener(change)


def _lock_clinic(clinic_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_BOOKING_LOCK_KEY, clinic_id])
    # SQLite: the transaction began IMMEDIATE and already holds the database's write lock.


def _require_staff(actor: Actor) -> None:
    if actor.role not in (Role.OWNER, Role.ADMIN, Role.THERAPIST, Role.FRONT_DESK):
        raise PermissionDenied("Only the clinic's staff book appointments.")


def _check_override(actor: Actor | None, override_reason: str) -> bool:
    reason = override_reason.strip()
    if not reason:
        return False
    if actor is None or not actor.manages_clinic:
        raise PermissionDenied("Only an owner or admin may double-book on purpose.")
    return True


def _conflict(
    *,
    clinic: Clinic,
    kind: AppointmentType,
    therapist_id: int,
    room_id: int | None,
    starts_at: datetime,
    now: datetime,
    online: bool,
    override: bool,
    exclude: int | None = None,
    hold_token: str = "",
) -> tuple[str | None, int | None]:
    """The reason this booking may not be made (or None) and the room it gets."""
    local_day = clock.local_date(starts_at, clinic.timezone)
    calendar = clinic_calendar(
        clinic_id=clinic.pk,
        zone=clinic.timezone,
        first=local_day - timedelta(days=1),
        last=local_day + timedelta(days=1),
        therapist_ids=[therapist_id],
        exclude_appointment=exclude,
        hold_token=hold_token,
        now=now,
    )
    if override:
        calendar = av.ClinicCalendar(
            zone=calendar.zone, therapists=calendar.therapists, rooms=calendar.rooms, closures=calendar.closures
        )
    value = appointment_type_value(kind)
    step = kind.step if online else None
    busy = av.BusyIndex.build(calendar.appointments)
    rooms = [room_id] if room_id is not None else [r.id for r in calendar.rooms]
    reasons: list[str] = []
    for candidate in rooms:
        reason = av.booking_conflict(
            calendar=calendar,
            appointment_type=value,
            start=starts_at,
            therapist=therapist_id,
            room=candidate,
            now=now,
            step=step,
            busy=busy,
        )
        if reason is None:
            return None, candidate
        reasons.append(reason)
    if room_id is not None:
        return reasons[0], None
    # Any room: a reason about the therapist or the time holds whichever room; otherwise no room fits.
    about_time = [r for r in reasons if "room" not in r.lower()]
    return (about_time[0] if about_time else "No suitable room is free then."), None


def _validate_start(starts_at: datetime) -> datetime:
    """The start in UTC. Python adds a timedelta to a zoned datetime on the wall clock, so an end
    computed from a local start across a DST change would be an hour off; in UTC it is exact."""
    if timezone.is_naive(starts_at):
        raise ValidationError({"start": "Give the start with its UTC offset, e.g. 2026-12-01T10:00:00-05:00."})
    if starts_at.second or starts_at.microsecond:
        raise ValidationError({"start": "Appointments start on a whole minute."})
    return starts_at.astimezone(UTC)


def _save(appointment: Appointment) -> None:
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as error:
        if "overlap" in str(error):
            raise BookingConflict("That time was just taken: choose another.") from None
        raise


@transaction.atomic
def appointment_book(
    *,
    clinic: Clinic,
    actor: Actor | None,
    client: Client,
    therapist: Membership,
    appointment_type: AppointmentType,
    starts_at: datetime,
    room: Room | None = None,
    channel: str = Appointment.Channel.STAFF,
    status: str = AppointmentStatus.BOOKED,
    override_reason: str = "",
    series_id: uuid.UUID | None = None,
    client_notes: str = "",
    hold_token: str = "",
    returning_client: bool = True,
    now: datetime | None = None,
) -> Appointment:
    """Book one appointment, or raise :class:`BookingConflict` / ``ValidationError`` naming the field.

    ``actor`` is the staff member booking; None for a client booking online (``channel`` online).
    The caller has loaded ``client``, ``therapist``, ``appointment_type`` and ``room`` through the
    actor's loaders (or the public booking's), so they are the clinic's; this checks it again.
    ``status`` may be ``requested`` (a new client's request the clinic approves): a request holds
    no time and is checked again when approved.

    The type's booking rules (``mend.core.booking_rules``) apply here too: online, the minimum
    notice, horizon, same-day and audience rules (a new client for a by-request type gets a
    ``requested`` appointment whatever ``status`` asked — read the returned status); for everyone
    the therapist's daily cap, unless an owner overrides.
    """
    if actor is not None:
        _require_staff(actor)
    for name, row in (
        ("client", client),
        ("therapist", therapist),
        ("appointment_type", appointment_type),
        ("room", room),
    ):
        if row is not None and row.clinic_id != clinic.pk:
            raise ValidationError({name: "Not found in this clinic."})
    starts_at = _validate_start(starts_at)
    if not appointment_type.is_active:
        raise ValidationError({"appointment_type": "This appointment type is no longer offered."})
    if not therapist.is_active or therapist.role != Role.THERAPIST:
        raise ValidationError({"therapist": "Not a therapist of this clinic."})
    override = _check_override(actor, override_reason)
    now = now or timezone.now()
    online = channel == Appointment.Channel.ONLINE
    _lock_clinic(clinic.pk)
    room_id = room.pk if room is not None else None
    # A request is checked too (nobody should ask for a time that is not offered), and again on approval.
    reason, room_id = _conflict(
        clinic=clinic,
        kind=appointment_type,
        therapist_id=therapist.pk,
        room_id=room_id,
        starts_at=starts_at,
        now=now,
        online=online,
        override=override and status != AppointmentStatus.REQUESTED,
        hold_token=hold_token,
    )
    if reason is not None:
        raise BookingConflict(reason)
    if not override:
        verdict = check_booking_rules(
            rules=booking_rules_of(appointment_type),
            start=starts_at,
            now=now,
            zone=clinic.timezone,
            returning_client=returning_client,
            booked_that_day=booked_that_day(
                therapist_id=therapist.pk, zone=clinic.timezone, day=clock.local_date(starts_at, clinic.timezone)
            ),
            by_staff=not online,
        )
        if verdict.outcome is Outcome.REFUSE:
            raise BookingConflict(verdict.reason or "The clinic's booking rules do not allow this booking.")
        if verdict.outcome is Outcome.REQUEST:
            status = AppointmentStatus.REQUESTED
    assert room_id is not None
    location_id = Room.objects.filter(pk=room_id).values_list("location_id", flat=True).get()
    appointment = Appointment(
        clinic=clinic,
        client=client,
        therapist=therapist,
        room_id=room_id,
        location_id=location_id,
        appointment_type=appointment_type,
        starts_at=starts_at,
        ends_at=starts_at + appointment_type.duration,
        buffer_before_minutes=appointment_type.buffer_before_minutes,
        buffer_after_minutes=appointment_type.buffer_after_minutes,
        status=status,
        channel=channel,
        series_id=series_id,
        override_reason=override_reason.strip() if override else "",
        client_notes=client_notes,
    )
    appointment.full_clean(exclude=["client", "therapist", "room", "location", "appointment_type", "clinic"])
    _save(appointment)
    audit_record(
        action=Action.CREATE,
        obj=appointment,
        client_id=client.pk,
        user=actor.user if actor is not None else None,
        clinic_id=clinic.pk,
    )
    _notify(Change("booked", appointment, by_staff=actor is not None))
    return appointment


def _require_changeable(appointment: Appointment) -> None:
    if appointment.status == AppointmentStatus.CANCELLED:
        raise BookingConflict("This appointment was cancelled.")
    if appointment.status in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW):
        raise BookingConflict(f"This appointment is already {appointment.get_status_display().lower()}.")


def _locked(appointment: Appointment) -> Appointment:
    """The appointment re-read under the clinic's booking lock, so two changes never interleave."""
    _lock_clinic(appointment.clinic_id)
    return Appointment.objects.select_related("clinic", "appointment_type", "client", "therapist").get(
        pk=appointment.pk
    )


@transaction.atomic
def appointment_move(
    *,
    actor: Actor | None,
    appointment: Appointment,
    starts_at: datetime,
    therapist: Membership | None = None,
    room: Room | None = None,
    override_reason: str = "",
    channel: str = Appointment.Channel.STAFF,
    now: datetime | None = None,
) -> Appointment:
    """Move an appointment to another time (therapist, room): the same checks as booking, itself excluded."""
    if actor is not None:
        _require_staff(actor)
    starts_at = _validate_start(starts_at)
    current = _locked(appointment)
    _require_changeable(current)
    clinic = current.clinic
    therapist = therapist or current.therapist
    if therapist.clinic_id != clinic.pk:
        raise ValidationError({"therapist": "Not found in this clinic."})
    if room is not None and room.clinic_id != clinic.pk:
        raise ValidationError({"room": "Not found in this clinic."})
    override = _check_override(actor, override_reason)
    reason, room_id = _conflict(
        clinic=clinic,
        kind=current.appointment_type,
        therapist_id=therapist.pk,
        room_id=room.pk if room is not None else current.room_id,
        starts_at=starts_at,
        now=now or timezone.now(),
        online=channel == Appointment.Channel.ONLINE,
        override=override,
        exclude=current.pk,
    )
    if reason is not None and room is None and current.room_id is not None and "room" in reason.lower():
        # The old room is taken at the new time: any other suitable room will do.
        reason, room_id = _conflict(
            clinic=clinic,
            kind=current.appointment_type,
            therapist_id=therapist.pk,
            room_id=None,
            starts_at=starts_at,
            now=now or timezone.now(),
            online=channel == Appointment.Channel.ONLINE,
            override=override,
            exclude=current.pk,
        )
    if reason is not None or room_id is None:
        raise BookingConflict(reason or "No suitable room is free then.")
    previous = current.starts_at
    previous_therapist_id, previous_room_id = current.therapist_id, current.room_id
    current.therapist = therapist
    current.room_id = room_id
    current.location_id = Room.objects.filter(pk=room_id).values_list("location_id", flat=True).get()
    current.starts_at = starts_at
    current.ends_at = starts_at + (current.ends_at - previous)
    current.override_reason = override_reason.strip() if override else ""
    current.sequence += 1
    _save(current)
    audit_record(
        action=Action.UPDATE,
        obj=current,
        client_id=current.client_id,
        user=actor.user if actor is not None else None,
        clinic_id=clinic.pk,
    )
    _notify(
        Change(
            "moved",
            current,
            previous_start=previous,
            previous_therapist_id=previous_therapist_id,
            previous_room_id=previous_room_id,
            by_staff=actor is not None,
        )
    )
    return current


@transaction.atomic
def appointment_cancel(
    *, actor: Actor | None, appointment: Appointment, reason: str = "", now: datetime | None = None
) -> Appointment:
    """Cancel: the time is free again, pending reminders are withdrawn (listeners), the feed's SEQUENCE rises.

    A second cancellation raises :class:`BookingConflict` (a reused cancel link answers 409).
    """
    if actor is not None:
        _require_staff(actor)
    current = _locked(appointment)
    if current.status == AppointmentStatus.CANCELLED:
        raise BookingConflict("This appointment was already cancelled.")
    _require_changeable(current)
    current.status = AppointmentStatus.CANCELLED
    current.cancel_reason = reason.strip()[:200]
    current.cancelled_at = now or timezone.now()
    current.sequence += 1
    current.save()
    audit_record(
        action=Action.UPDATE,
        obj=current,
        client_id=current.client_id,
        user=actor.user if actor is not None else None,
        clinic_id=current.clinic_id,
    )
    _notify(Change("cancelled", current, by_staff=actor is not None))
    return current


# From each status, the statuses staff may set next.
_NEXT = {
    AppointmentStatus.REQUESTED: (AppointmentStatus.BOOKED,),
    AppointmentStatus.BOOKED: (AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW),
    AppointmentStatus.ARRIVED: (AppointmentStatus.COMPLETED, AppointmentStatus.BOOKED),
    AppointmentStatus.NO_SHOW: (AppointmentStatus.BOOKED,),
    AppointmentStatus.COMPLETED: (AppointmentStatus.ARRIVED,),
}


@transaction.atomic
def appointment_status_set(
    *, actor: Actor, appointment: Appointment, status: str, now: datetime | None = None
) -> Appointment:
    """Mark arrived, completed or no-show (or undo one step); approving a request books it, checked again.

    Arrival, completion and no-show are for an appointment whose local day has come. A request
    approved when its time is no longer free raises :class:`BookingConflict` (two overlapping
    requests: the second approval answers 409).
    """
    _require_staff(actor)
    current = _locked(appointment)
    target = AppointmentStatus(status) if status in AppointmentStatus.values else None
    if target is None or target == AppointmentStatus.CANCELLED:
        raise ValidationError({"status": "Choose arrived, completed, no-show or booked (cancel is its own action)."})
    allowed = _NEXT.get(AppointmentStatus(current.status), ())
    if target not in allowed:
        raise BookingConflict(
            f"A {current.get_status_display().lower()} appointment cannot be marked {target.label.lower()}."
        )
    now = now or timezone.now()
    zone = current.clinic.timezone
    day_come = clock.local_date(current.starts_at, zone) <= clock.local_date(now, zone)
    if target in (AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW) and not day_come:
        raise ValidationError({"status": "That appointment's day has not come yet."})
    if current.status == AppointmentStatus.REQUESTED:
        reason, room_id = _conflict(
            clinic=current.clinic,
            kind=current.appointment_type,
            therapist_id=current.therapist_id,
            room_id=current.room_id,
            starts_at=current.starts_at,
            now=now,
            online=False,
            override=False,
            exclude=current.pk,
        )
        if reason is not None:
            raise BookingConflict(reason)
        current.room_id = room_id
    previous_status = current.status
    current.status = target
    current.sequence += 1
    _save(current)
    audit_record(
        action=Action.UPDATE, obj=current, client_id=current.client_id, user=actor.user, clinic_id=current.clinic_id
    )
    _notify(Change("status", current, by_staff=True, previous_status=previous_status))
    return current


def overlapping_active(clinic_id: int) -> list[tuple[int, int]]:
    """Pairs of active, non-override appointments overlapping for a therapist or a room (should be none).

    The invariant tests assert on after every scheduling test; cheap enough for a test database.
    """
    rows = list(
        Appointment.objects.filter(clinic_id=clinic_id, status__in=ACTIVE_STATUSES, override_reason="")
        .order_by("starts_at")
        .values_list("pk", "therapist_id", "room_id", "starts_at", "ends_at")
    )
    found = []
    for i, (a, ta, ra, _sa, ea) in enumerate(rows):
        for b, tb, rb, sb, _eb in rows[i + 1 :]:
            if sb >= ea:
                break
            if ta == tb or (ra is not None and ra == rb):
                found.append((a, b))
    return found
