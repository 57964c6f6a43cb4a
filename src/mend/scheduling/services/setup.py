"""Setting the calendar up: therapists' working hours, exceptions and time off; closures; appointment types.

Owners and admins set up everything; a therapist sets up their own working hours, exceptions and
time off (``access.can_edit_hours``), never types or closures; front desk none of it. Each write
validates, runs in one transaction and appends to the audit trail in it; a refusal is a
``ValidationError`` keyed by the field the page shows (``start``, ``location``, ``start_time``, …).

Times are the clinic's wall-clock times, as the availability engine reads them
(``docs/scheduling.md``): weekly and extra hours stay local, so 09:00–17:00 is 09:00–17:00 on both
sides of a DST change; time off in hours is stored as instants, so a local time the clocks skip is
refused (``mend.core.availability.exact_local``) rather than silently shifted by an hour.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from mend import access
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinics.models import Location, Membership
from mend.core.availability import NonexistentTime, exact_local
from mend.platform.actor import Actor
from mend.platform.roles import Role
from mend.scheduling.models import AppointmentType, Closure, HoursException, TimeOff, WorkingHours
from mend.scheduling.queries.setup import block_minutes, therapist_locations, therapist_name
from mend.writes import apply_fields, merge_errors

_DAY = 24 * 60
_WEEK = 7 * _DAY

APPOINTMENT_TYPE_FIELDS = {
    "name",
    "kind",
    "description",
    "duration_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "slot_interval_minutes",
    "price",
    "room_capability",
    "bookable_online",
    "min_notice_minutes",
    "horizon_days",
    "same_day",
    "audience",
    "daily_cap",
    "is_active",
}


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _check_therapist(actor: Actor, therapist: Membership) -> None:
    """The therapist is the actor's clinic's, the actor may change their hours, and they have hours."""
    if therapist.clinic_id != actor.clinic_id:
        raise ValidationError({"therapist": "Not found in this clinic."})
    access.require_edit_hours(actor, therapist)
    if therapist.role != Role.THERAPIST or not therapist.is_active:
        raise ValidationError({"therapist": "Only an active therapist of this clinic has working hours."})


def _lock_therapist(therapist: Membership) -> None:
    """Lock the therapist's membership row, so two blocks saved at once are checked for overlap one
    after the other (on SQLite the IMMEDIATE transaction already holds the write lock)."""
    list(Membership.objects.select_for_update().filter(pk=therapist.pk).order_by().values_list("pk", flat=True))


def _check_location(therapist: Membership, location: Location | None, errors: dict[str, list[str]]) -> None:
    if location is None:
        errors.setdefault("location", []).append("Choose where these hours are.")
        return
    if location.clinic_id != therapist.clinic_id:
        errors.setdefault("location", []).append("Not a location of this clinic.")
        return
    if location not in therapist_locations(therapist):
        errors.setdefault("location", []).append(
            f"{therapist_name(therapist)} does not work at {location.name}: add it to the locations on their "
            "profile first, or choose another."
        )


def _check_times(start: time | None, end: time | None, errors: dict[str, list[str]]) -> None:
    if start is None:
        errors.setdefault("start", []).append("Give the time the hours start.")
    if end is None:
        errors.setdefault("end", []).append("Give the time the hours end.")
    for name, value in (("start", start), ("end", end)):
        if value is not None and (value.second or value.microsecond):
            errors.setdefault(name, []).append("Use whole minutes, e.g. 09:30.")
    if start is not None and end is not None and start == end:
        errors.setdefault("end", []).append(
            "The end differs from the start (an end before the start runs past midnight)."
        )


def _span(offset: int, start: time, end: time) -> tuple[int, int]:
    """The block as minutes from ``offset``; an end at or before the start runs past midnight."""
    begin = offset + start.hour * 60 + start.minute
    return begin, begin + block_minutes(start, end)


def _overlaps(a: tuple[int, int], b: tuple[int, int], period: int | None = None) -> bool:
    """Half-open spans overlap; with a ``period`` (a week), also across its wrap (Sunday night into Monday)."""
    shifts = (-period, 0, period) if period else (0,)
    return any(a[0] < b[1] + k and b[0] + k < a[1] for k in shifts)


def _when(start: time, end: time) -> str:
    return f"{start:%H:%M}–{end:%H:%M}" + (" (past midnight)" if end <= start else "")


# --- Working hours ------------------------------------------------------------------------------


@transaction.atomic
def working_hours_save(
    *,
    actor: Actor,
    therapist: Membership,
    weekday: int,
    start: time,
    end: time,
    location: Location,
    hours: WorkingHours | None = None,
) -> WorkingHours:
    """Add a block to a therapist's weekly template (or change ``hours``): every ``weekday`` from
    ``start`` to ``end`` local time at ``location``. A block that overlaps another of theirs, at any
    location, is refused: a therapist is in one place at a time."""
    _check_therapist(actor, therapist)
    if hours is not None and (hours.clinic_id != actor.clinic_id or hours.therapist_id != therapist.pk):
        raise ValidationError({"hours": "Not found among this therapist's hours."})
    errors: dict[str, list[str]] = {}
    if weekday not in range(7):
        errors["weekday"] = ["Choose a day of the week."]
    _check_times(start, end, errors)
    _check_location(therapist, location, errors)
    _refuse(errors)
    _lock_therapist(therapist)
    mine = _span(weekday * _DAY, start, end)
    others = WorkingHours.objects.filter(therapist=therapist).select_related("location")
    if hours is not None:
        others = others.exclude(pk=hours.pk)
    for other in others:
        if _overlaps(mine, _span(other.weekday * _DAY, other.start, other.end), _WEEK):
            raise ValidationError(
                {
                    "start": f"These hours overlap {other.get_weekday_display()} "
                    f"{_when(other.start, other.end)} at {other.location.name}. Change the times, or remove "
                    "that block first."
                }
            )
    created = hours is None
    hours = hours or WorkingHours(clinic_id=actor.clinic_id, therapist=therapist)
    hours.weekday, hours.start, hours.end, hours.location = weekday, start, end, location
    hours.full_clean(exclude=["clinic", "therapist"])
    hours.save()
    audit_record(action=Action.CREATE if created else Action.UPDATE, obj=hours, user=actor.user)
    return hours


@transaction.atomic
def working_hours_delete(*, actor: Actor, hours: WorkingHours) -> None:
    """Remove a block from the weekly template. Appointments already booked in it stay booked."""
    _check_therapist(actor, hours.therapist)
    audit_record(action=Action.DELETE, obj=hours, user=actor.user)
    hours.delete()


# --- Exceptions: extra hours on a date, or a day off ----------------------------------------------------


@transaction.atomic
def hours_exception_save(
    *,
    actor: Actor,
    therapist: Membership,
    day: date,
    kind: str,
    location: Location | None = None,
    start: time | None = None,
    end: time | None = None,
    exception: HoursException | None = None,
) -> HoursException:
    """One date that differs from the template: ``extra`` hours (location, start and end), or a
    ``day_off`` (the template's hours that day are dropped; extra hours that day still count)."""
    _check_therapist(actor, therapist)
    if exception is not None and (exception.clinic_id != actor.clinic_id or exception.therapist_id != therapist.pk):
        raise ValidationError({"exception": "Not found among this therapist's exceptions."})
    errors: dict[str, list[str]] = {}
    if kind not in HoursException.Kind.values:
        errors["kind"] = ["Choose extra hours or a day off."]
    if not isinstance(day, date):
        errors["day"] = ["Give the date."]
    if kind == HoursException.Kind.EXTRA:
        _check_times(start, end, errors)
        _check_location(therapist, location, errors)
    else:
        location = start = end = None
    _refuse(errors)
    _lock_therapist(therapist)
    same = HoursException.objects.filter(therapist=therapist, day__gte=day - timedelta(days=1), day__lte=day)
    if exception is not None:
        same = same.exclude(pk=exception.pk)
    for other in same.select_related("location"):
        if kind == HoursException.Kind.DAY_OFF and other.kind == HoursException.Kind.DAY_OFF and other.day == day:
            raise ValidationError({"day": f"{day:%-d %B %Y} is already a day off."})
        if kind == HoursException.Kind.EXTRA and other.kind == HoursException.Kind.EXTRA:
            assert start is not None and end is not None and other.start is not None and other.end is not None
            offset = (other.day - day).days * _DAY
            if _overlaps(_span(0, start, end), _span(offset, other.start, other.end)):
                when = f"{other.day:%-d %B} {_when(other.start, other.end)}"
                raise ValidationError({"start": f"These hours overlap the extra hours of {when}."})
    created = exception is None
    exception = exception or HoursException(clinic_id=actor.clinic_id, therapist=therapist)
    exception.day, exception.kind, exception.location, exception.start, exception.end = day, kind, location, start, end
    exception.full_clean(exclude=["clinic", "therapist"])
    exception.save()
    audit_record(action=Action.CREATE if created else Action.UPDATE, obj=exception, user=actor.user)
    return exception


@transaction.atomic
def hours_exception_delete(*, actor: Actor, exception: HoursException) -> None:
    _check_therapist(actor, exception.therapist)
    audit_record(action=Action.DELETE, obj=exception, user=actor.user)
    exception.delete()


# --- Time off -----------------------------------------------------------------------------------


@transaction.atomic
def time_off_save(
    *,
    actor: Actor,
    therapist: Membership,
    first_day: date,
    last_day: date | None = None,
    start_time: time | None = None,
    end_time: time | None = None,
    reason: str = "",
    time_off: TimeOff | None = None,
) -> TimeOff:
    """A therapist away: whole local days ``first_day``–``last_day`` (one day when ``last_day`` is
    empty), or, with both times, from ``start_time`` on ``first_day`` to ``end_time`` on ``last_day``,
    local time in the clinic's zone. A time the clocks skip that night is refused, naming the field."""
    _check_therapist(actor, therapist)
    if time_off is not None and (time_off.clinic_id != actor.clinic_id or time_off.therapist_id != therapist.pk):
        raise ValidationError({"time_off": "Not found among this therapist's time off."})
    last_day = last_day or first_day
    errors: dict[str, list[str]] = {}
    if last_day < first_day:
        errors["last_day"] = ["The last day is on or after the first day."]
    if (start_time is None) != (end_time is None):
        missing = "end_time" if end_time is None else "start_time"
        errors[missing] = ["Give both a start and an end time, or neither for whole days."]
    _refuse(errors)
    starts_at = ends_at = None
    if start_time is not None and end_time is not None:
        zone = actor.clinic.timezone
        for name, day, wall in (("start_time", first_day, start_time), ("end_time", last_day, end_time)):
            try:
                moment = exact_local(day, wall, zone)
            except NonexistentTime as gap:
                errors.setdefault(name, []).append(str(gap))
                continue
            if name == "start_time":
                starts_at = moment
            else:
                ends_at = moment
        if starts_at is not None and ends_at is not None and ends_at <= starts_at:
            errors["end_time"] = ["The end is after the start."]
        _refuse(errors)
    created = time_off is None
    time_off = time_off or TimeOff(clinic_id=actor.clinic_id, therapist=therapist)
    time_off.first_day, time_off.last_day = first_day, last_day
    time_off.starts_at, time_off.ends_at = starts_at, ends_at
    time_off.reason = reason.strip()
    time_off.full_clean(exclude=["clinic", "therapist"])
    time_off.save()
    audit_record(action=Action.CREATE if created else Action.UPDATE, obj=time_off, user=actor.user)
    return time_off


@transaction.atomic
def time_off_delete(*, actor: Actor, time_off: TimeOff) -> None:
    _check_therapist(actor, time_off.therapist)
    audit_record(action=Action.DELETE, obj=time_off, user=actor.user)
    time_off.delete()


# --- Closures -----------------------------------------------------------------------------------


@transaction.atomic
def closure_save(
    *,
    actor: Actor,
    first_day: date,
    last_day: date | None = None,
    location: Location | None = None,
    reason: str = "",
    closure: Closure | None = None,
) -> Closure:
    """The clinic closed on whole local days ``first_day``–``last_day``: at ``location``, or at every
    location when it is None. Appointments already booked then stay booked (the calendar shows them)."""
    access.require_manage_clinic(actor)
    if closure is not None and closure.clinic_id != actor.clinic_id:
        raise ValidationError({"closure": "Not found in this clinic."})
    last_day = last_day or first_day
    errors: dict[str, list[str]] = {}
    if last_day < first_day:
        errors["last_day"] = ["The last day is on or after the first day."]
    if location is not None and location.clinic_id != actor.clinic_id:
        errors["location"] = ["Not a location of this clinic."]
    _refuse(errors)
    created = closure is None
    closure = closure or Closure(clinic_id=actor.clinic_id)
    closure.first_day, closure.last_day = first_day, last_day
    closure.location, closure.reason = location, reason.strip()
    closure.full_clean(exclude=["clinic"])
    closure.save()
    audit_record(action=Action.CREATE if created else Action.UPDATE, obj=closure, user=actor.user)
    return closure


@transaction.atomic
def closure_delete(*, actor: Actor, closure: Closure) -> None:
    access.require_manage_clinic(actor)
    if closure.clinic_id != actor.clinic_id:
        raise ValidationError({"closure": "Not found in this clinic."})
    audit_record(action=Action.DELETE, obj=closure, user=actor.user)
    closure.delete()


# --- Appointment types ----------------------------------------------------------------------------


def _check_offered_by(actor: Actor, therapists: Iterable[Membership], errors: dict[str, list[str]]) -> list[Membership]:
    chosen = list(therapists)
    strangers = [m for m in chosen if m.clinic_id != actor.clinic_id or m.role != Role.THERAPIST or not m.is_active]
    if strangers:
        errors["therapists"] = ["Only this clinic's active therapists can offer an appointment type."]
    return chosen


@transaction.atomic
def appointment_type_save(
    *, actor: Actor, data: Mapping[str, Any], appointment_type: AppointmentType | None = None
) -> AppointmentType:
    """Create or change an appointment type from ``data`` (its fields, as ``APPOINTMENT_TYPE_FIELDS``,
    and ``therapists``: the memberships that offer it). Owners and admins only.

    Changing a type never moves what is booked: appointments keep the length and buffers they were
    booked with.
    """
    access.require_manage_clinic(actor)
    if appointment_type is not None and appointment_type.clinic_id != actor.clinic_id:
        raise ValidationError({"appointment_type": "Not found in this clinic."})
    created = appointment_type is None
    kind = appointment_type or AppointmentType(clinic_id=actor.clinic_id)
    apply_fields(kind, data, APPOINTMENT_TYPE_FIELDS)
    kind.name = str(kind.name or "").strip()
    kind.description = str(kind.description or "").strip()
    errors: dict[str, list[str]] = {}
    therapists = _check_offered_by(actor, data["therapists"], errors) if "therapists" in data else None
    if kind.daily_cap == 0:
        errors["daily_cap"] = ["At least 1, or leave it empty for no cap."]
    taken = AppointmentType.objects.filter(clinic_id=actor.clinic_id, name__iexact=kind.name)
    if kind.name and taken.exclude(pk=kind.pk).exists():
        errors.setdefault("name", []).append(f"Another appointment type is already called “{kind.name}”.")
    try:
        kind.full_clean(exclude=["clinic"])
    except ValidationError as error:
        merge_errors(errors, error)
    _refuse(errors)
    try:
        with transaction.atomic():
            kind.save()
    except IntegrityError:
        # The same name saved a moment ago by someone else (the unique constraint is the last word).
        raise ValidationError({"name": f"Another appointment type is already called “{kind.name}”."}) from None
    if therapists is not None:
        kind.therapists.set(therapists)
    audit_record(action=Action.CREATE if created else Action.UPDATE, obj=kind, user=actor.user)
    return kind
