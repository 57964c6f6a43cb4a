"""A plan of care's sessions booked as a series: checked whole before anything is saved.

A series is real appointment rows sharing a ``series_id`` (free slots are never stored). Booking
one expands the rule at the clinic's local wall-clock time (``mend.core.series``: Tuesdays 10:00 stay
10:00 across DST; a time in the spring-forward gap is reported, never shifted), checks every
session against the calendar and against each other, and saves only when every one is free,
through :func:`appointment_book` so each session passes the same checks as any booking. Moving or
cutting works from one session on.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from mend.clinics.models import Clinic, Membership, Room
from mend.core import series as core
from mend.people.models import Client
from mend.platform import clock
from mend.platform.actor import Actor
from mend.scheduling.models import Appointment, AppointmentStatus, AppointmentType
from mend.scheduling.queries.calendar import appointment_type_value, clinic_calendar
from mend.scheduling.services.booking import (
    BookingConflict,
    _lock_clinic,
    _require_staff,
    appointment_book,
    appointment_cancel,
    appointment_move,
)


class SeriesConflict(BookingConflict):
    """At least one session is not free: ``checks`` says which, session by session."""

    def __init__(self, checks: Sequence[core.OccurrenceCheck]) -> None:
        bad = [c for c in checks if not c.free]
        first = bad[0]
        super().__init__(
            f"{len(bad)} of {len(checks)} sessions cannot be booked; the first is session "
            f"{first.occurrence.number} ({core.short_date(first.occurrence.day)} {first.occurrence.wall:%H:%M}): "
            f"{first.conflict}",
            occurrence=first.occurrence.number,
        )
        self.checks = tuple(checks)


def series_rule(
    *,
    first_day: date,
    wall: time,
    weekdays: Sequence[int] = (),
    every_weeks: int = 1,
    count: int | None = None,
    until: date | None = None,
) -> core.SeriesRule:
    """The rule from form or API values, its errors as ``ValidationError`` naming the field."""
    try:
        return core.SeriesRule(
            first_day=first_day,
            wall=wall,
            weekdays=frozenset(weekdays),
            every_weeks=every_weeks,
            count=count,
            until=until,
        )
    except core.SeriesError as error:
        raise ValidationError({error.field: error.message}) from None


def _checks(
    *,
    clinic: Clinic,
    therapist: Membership,
    appointment_type: AppointmentType,
    occurrences: Sequence[core.Occurrence],
    room: Room | None,
    now: datetime,
    exclude: Sequence[int] = (),
) -> tuple[core.OccurrenceCheck, ...]:
    days = [o.day for o in occurrences]
    if not days:
        return ()
    calendar = clinic_calendar(
        clinic_id=clinic.pk,
        zone=clinic.timezone,
        first=min(days) - timedelta(days=1),
        last=max(days) + timedelta(days=1),
        therapist_ids=[therapist.pk],
        exclude_appointments=exclude,
        now=now,
    )
    return core.check_series(
        calendar=calendar,
        appointment_type=appointment_type_value(appointment_type),
        therapist=therapist.pk,
        room=room.pk if room is not None else None,
        occurrences=occurrences,
        now=now,
    )


def series_preview(
    *,
    clinic: Clinic,
    therapist: Membership,
    appointment_type: AppointmentType,
    rule: core.SeriesRule,
    room: Room | None = None,
    now: datetime | None = None,
) -> tuple[core.OccurrenceCheck, ...]:
    """Every session of the rule, free or with the reason it is not. Saves nothing."""
    occurrences = core.expand_series(rule=rule, zone=clinic.timezone)
    return _checks(
        clinic=clinic,
        therapist=therapist,
        appointment_type=appointment_type,
        occurrences=occurrences,
        room=room,
        now=now or timezone.now(),
    )


@transaction.atomic
def series_book(
    *,
    actor: Actor,
    clinic: Clinic,
    client: Client,
    therapist: Membership,
    appointment_type: AppointmentType,
    rule: core.SeriesRule,
    room: Room | None = None,
    now: datetime | None = None,
) -> list[Appointment]:
    """Book every session, or none: :class:`SeriesConflict` lists each session that is not free."""
    _require_staff(actor)
    now = now or timezone.now()
    _lock_clinic(clinic.pk)
    checks = series_preview(
        clinic=clinic, therapist=therapist, appointment_type=appointment_type, rule=rule, room=room, now=now
    )
    if not checks or not all(c.free for c in checks):
        if not checks:
            raise ValidationError({"count": "The rule gives no session."})
        raise SeriesConflict(checks)
    series_id = uuid.uuid4()
    booked = []
    for check in checks:
        assert check.occurrence.start is not None and check.room is not None
        booked.append(
            appointment_book(
                clinic=clinic,
                actor=actor,
                client=client,
                therapist=therapist,
                appointment_type=appointment_type,
                starts_at=check.occurrence.start,
                room=Room.objects.get(pk=check.room),
                series_id=series_id,
                now=now,
            )
        )
    return booked


def _rest_of_series(appointment: Appointment) -> list[Appointment]:
    if appointment.series_id is None:
        raise ValidationError({"series": "This appointment is not part of a series."})
    return list(
        Appointment.objects.select_related("clinic", "appointment_type", "therapist")
        .filter(
            clinic_id=appointment.clinic_id,
            series_id=appointment.series_id,
            starts_at__gte=appointment.starts_at,
            status=AppointmentStatus.BOOKED,
        )
        .order_by("starts_at")
    )


@transaction.atomic
def series_cancel_from(*, actor: Actor, appointment: Appointment, reason: str = "") -> list[Appointment]:
    """Cut the series: cancel this session and every booked one after it."""
    _require_staff(actor)
    _lock_clinic(appointment.clinic_id)
    return [appointment_cancel(actor=actor, appointment=a, reason=reason) for a in _rest_of_series(appointment)]


@transaction.atomic
def series_move_from(
    *,
    actor: Actor,
    appointment: Appointment,
    wall: time | None = None,
    days: int = 0,
    now: datetime | None = None,
) -> list[Appointment]:
    """Move this session and every booked one after it by ``days`` and/or to the local time ``wall``.

    All are checked (against the calendar without the sessions being moved, and each other) before
    any moves; :class:`SeriesConflict` names each that cannot.
    """
    _require_staff(actor)
    now = now or timezone.now()
    _lock_clinic(appointment.clinic_id)
    rest = _rest_of_series(appointment)
    if not rest:
        raise BookingConflict("No booked session of this series is left from here on.")
    clinic = rest[0].clinic
    zone = clinic.timezone
    current = tuple(
        core.occurrence(
            number, clock.local_date(a.starts_at, zone), a.starts_at.astimezone(clock.zone(zone)).time(), zone=zone
        )
        for number, a in enumerate(rest, start=1)
    )
    moved = core.move_from(current, number=1, zone=zone, wall=wall, days=days)
    checks = _checks(
        clinic=clinic,
        therapist=rest[0].therapist,
        appointment_type=rest[0].appointment_type,
        occurrences=moved,
        room=None,
        now=now,
        exclude=[a.pk for a in rest],
    )
    if not all(c.free for c in checks):
        raise SeriesConflict(checks)
    # Later first when moving later (earlier first when moving earlier), so a session never lands on
    # one of its own series that has not moved yet.
    order = list(zip(rest, checks, strict=True))
    if moved and moved[0].start is not None and moved[0].start > rest[0].starts_at:
        order.reverse()
    done = []
    for row, check in order:
        assert check.occurrence.start is not None and check.room is not None
        done.append(
            appointment_move(
                actor=actor,
                appointment=row,
                starts_at=check.occurrence.start,
                room=Room.objects.get(pk=check.room),
                now=now,
            )
        )
    return sorted(done, key=lambda a: a.starts_at)
