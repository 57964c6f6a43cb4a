"""The database's calendar as the availability engine's plain values (``mend.core.availability``).

One loader, :func:`clinic_calendar`, used by the slot list, the booking check, series and the
waitlist alike, so they can never disagree about what is free. It reads only the window asked
for (appointments whose buffered time can reach into it) with a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from mend.clinics.models import Room as RoomRow
from mend.core import availability as av
from mend.core.booking_rules import Audience, BookingRules
from mend.platform import clock
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

# Buffers are at most two hours each (AppointmentType's validators); a day either side covers
# them, hours that run past midnight and the zone's offset.
_MARGIN = timedelta(days=1)
_AUDIENCE = {
    AppointmentType.Audience.ANYONE: Audience.ANYONE,
    AppointmentType.Audience.RETURNING: Audience.RETURNING_ONLY,
    AppointmentType.Audience.NEW_BY_REQUEST: Audience.NEW_BY_REQUEST,
}


def window(zone: str, first: date, last: date) -> tuple[datetime, datetime]:
    """The aware instants from the start of local day ``first`` to the end of local day ``last``."""
    tz = clock.zone(zone)
    start = datetime.combine(first, time(0), tz)
    end = datetime.combine(last + timedelta(days=1), time(0), tz)
    return start, end


def appointment_type_value(kind: AppointmentType, therapists: Collection[int] | None = None) -> av.AppointmentType:
    """The engine's view of a type; ``therapists`` narrows who offers it (one therapist chosen)."""
    offered = frozenset(m.pk for m in kind.therapists.all())
    if therapists is not None:
        offered &= frozenset(therapists)
    return av.AppointmentType(
        duration=kind.duration,
        therapists=offered,
        buffer_before=timedelta(minutes=kind.buffer_before_minutes),
        buffer_after=timedelta(minutes=kind.buffer_after_minutes),
        room_capability=kind.room_capability or None,
    )


def booking_rules_of(kind: AppointmentType) -> BookingRules:
    """The type's booking rules as the pure core's value (``mend.core.booking_rules``)."""
    return BookingRules(
        min_notice=timedelta(minutes=kind.min_notice_minutes),
        horizon_days=kind.horizon_days,
        same_day=kind.same_day,
        audience=_AUDIENCE[AppointmentType.Audience(kind.audience)],
        daily_cap=kind.daily_cap,
    )


def booked_that_day(*, therapist_id: int, zone: str, day: date, exclude: int | None = None) -> int:
    """The therapist's active appointments on local ``day`` (the daily cap's count), one left out."""
    start, end = window(zone, day, day)
    found = Appointment.objects.filter(
        therapist_id=therapist_id, status__in=ACTIVE_STATUSES, starts_at__gte=start, starts_at__lt=end
    )
    if exclude is not None:
        found = found.exclude(pk=exclude)
    return found.count()


def clinic_calendar(
    *,
    clinic_id: int,
    zone: str,
    first: date,
    last: date,
    therapist_ids: Collection[int] | None = None,
    exclude_appointment: int | None = None,
    exclude_appointments: Collection[int] = (),
    hold_token: str = "",
    now: datetime | None = None,
) -> av.ClinicCalendar:
    """Everything availability needs from local day ``first`` to ``last`` (inclusive).

    ``therapist_ids`` limits whose hours are loaded (appointments of every therapist are loaded,
    since rooms are shared). ``exclude_appointment`` leaves one appointment out (the one being
    moved), ``exclude_appointments`` several (a series' sessions being moved); ``hold_token``
    leaves out the caller's own hold. Unexpired holds of others count as busy; so do the busy
    times of therapists' external calendars.
    """
    start, end = window(zone, first, last)
    now = now or timezone.now()
    hours = WorkingHours.objects.filter(clinic_id=clinic_id)
    exceptions = HoursException.objects.filter(clinic_id=clinic_id, day__gte=first - _MARGIN, day__lte=last)
    time_off = TimeOff.objects.filter(clinic_id=clinic_id, last_day__gte=first - _MARGIN, first_day__lte=last + _MARGIN)
    externals = ExternalCalendar.objects.filter(clinic_id=clinic_id).exclude(busy=[])
    if therapist_ids is not None:
        hours = hours.filter(therapist_id__in=therapist_ids)
        exceptions = exceptions.filter(therapist_id__in=therapist_ids)
        time_off = time_off.filter(therapist_id__in=therapist_ids)
        externals = externals.filter(therapist_id__in=therapist_ids)

    weekly: dict[int, list[av.WeeklyHours]] = defaultdict(list)
    for therapist_id, weekday, begin, finish, location_id in hours.values_list(
        "therapist_id", "weekday", "start", "end", "location_id"
    ):
        weekly[therapist_id].append(av.WeeklyHours(weekday=weekday, start=begin, end=finish, location=location_id))
    extra: dict[int, list[av.ExtraHours]] = defaultdict(list)
    days_off: dict[int, set[date]] = defaultdict(set)
    for row in exceptions.values_list("therapist_id", "kind", "day", "start", "end", "location_id"):
        therapist_id, kind, day, from_time, to_time, place = row
        if kind == HoursException.Kind.DAY_OFF:
            days_off[therapist_id].add(day)
        elif from_time is not None and to_time is not None and place is not None:
            extra[therapist_id].append(av.ExtraHours(day=day, start=from_time, end=to_time, location=place))
    away: dict[int, list[av.Interval | av.DateSpan]] = defaultdict(list)
    for therapist_id, first_day, last_day, starts_at, ends_at in time_off.values_list(
        "therapist_id", "first_day", "last_day", "starts_at", "ends_at"
    ):
        if starts_at is not None and ends_at is not None:
            away[therapist_id].append(av.Interval(starts_at, ends_at))
        else:
            away[therapist_id].append(av.DateSpan(first_day, last_day))

    busy: list[av.Appointment] = []
    booked = Appointment.objects.filter(
        clinic_id=clinic_id, status__in=ACTIVE_STATUSES, starts_at__lt=end + _MARGIN, ends_at__gt=start - _MARGIN
    )
    if exclude_appointment is not None:
        booked = booked.exclude(pk=exclude_appointment)
    if exclude_appointments:
        booked = booked.exclude(pk__in=list(exclude_appointments))
    for begin_at, end_at, therapist_id, room_id, before, after in booked.order_by("starts_at").values_list(
        "starts_at", "ends_at", "therapist_id", "room_id", "buffer_before_minutes", "buffer_after_minutes"
    ):
        busy.append(
            av.Appointment(
                start=begin_at,
                end=end_at,
                therapist=therapist_id,
                room=room_id,
                buffer_before=timedelta(minutes=before),
                buffer_after=timedelta(minutes=after),
            )
        )
    holds = Hold.objects.filter(
        clinic_id=clinic_id, expires_at__gt=now, starts_at__lt=end + _MARGIN, ends_at__gt=start - _MARGIN
    )
    if hold_token:
        holds = holds.exclude(token=hold_token)
    for begin_at, end_at, therapist_id, room_id in holds.values_list("starts_at", "ends_at", "therapist_id", "room_id"):
        busy.append(av.Appointment(start=begin_at, end=end_at, therapist=therapist_id, room=room_id))
    for therapist_id, spans in externals.values_list("therapist_id", "busy"):
        for span in spans:
            begin_at, end_at = datetime.fromisoformat(span[0]), datetime.fromisoformat(span[1])
            if begin_at < end + _MARGIN and end_at > start - _MARGIN:
                busy.append(av.Appointment(start=begin_at, end=end_at, therapist=therapist_id, room=None))
    busy.sort(key=lambda a: a.start)

    therapist_set = set(weekly) | set(extra)
    if therapist_ids is not None:
        therapist_set &= set(therapist_ids)
    therapists = tuple(
        av.Therapist(
            id=t,
            weekly=tuple(weekly.get(t, ())),
            extra=tuple(extra.get(t, ())),
            days_off=frozenset(days_off.get(t, ())),
            time_off=tuple(away.get(t, ())),
        )
        for t in sorted(therapist_set)
    )
    rooms = tuple(
        av.Room(id=pk, location=location_id, capabilities=frozenset(capabilities or ()))
        for pk, location_id, capabilities in RoomRow.objects.filter(clinic_id=clinic_id, is_active=True)
        .order_by("location_id", "name")
        .values_list("pk", "location_id", "capabilities")
    )
    closures = tuple(
        av.Closure(when=av.DateSpan(first_day, last_day), location=location_id)
        for first_day, last_day, location_id in Closure.objects.filter(
            Q(clinic_id=clinic_id), Q(last_day__gte=first - _MARGIN), Q(first_day__lte=last + _MARGIN)
        ).values_list("first_day", "last_day", "location_id")
    )
    return av.ClinicCalendar(zone=zone, therapists=therapists, rooms=rooms, appointments=tuple(busy), closures=closures)
