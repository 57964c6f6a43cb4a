"""API routes for the calendar: free slots, appointment types, and booking, moving, cancelling.

Every write goes through ``mend.scheduling.services.booking``, which checks the booking again
under the clinic's lock: a time that is not free is 409 with the reason, bad input 422 naming the
field. Therapists are named by the id ``/therapists`` shows (their profile). Times come back with
their offset in the clinic's zone; a time sent must carry its offset. ``POST /appointments``
honours ``Idempotency-Key``: a retried request gets the first answer and never books twice.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from ninja import Query, Router, Schema
from ninja.pagination import paginate
from pydantic import Field

from mend.core.availability import NonexistentTime, exact_local
from mend.platform import clock
from mend.platform.api import ERRORS, Detail, Pages, invalid
from mend.platform.http import ActorRequest
from mend.scheduling.models import Appointment
from mend.scheduling.queries import appointments as queries
from mend.scheduling.queries.availability import available_slots
from mend.scheduling.services import booking
from mend.scheduling.services.idempotency import HEADER, idempotency_key_use, request_digest

router = Router(tags=["scheduling"])

IDEMPOTENCY_SCOPE = "api.appointments"
# The longest range one availability request may span.
MAX_RANGE = timedelta(days=62)
MAX_ID = 2**31 - 1
YEARS = (1900, 2200)
CONFLICT_ERRORS: dict[int, Any] = {**ERRORS, 409: Detail}


# --- Times ------------------------------------------------------------------------------------


def _instant(value: str, field: str, zone: str, *, end_of_day: bool = False) -> datetime:
    """An aware instant from ISO text with its offset; a bare date is the clinic's local midnight
    (with ``end_of_day``, the midnight after it). A wall time without offset is refused, saying why."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            _check_year(day, field)
            return exact_local(day + timedelta(days=1) if end_of_day else day, time(0), zone)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            {field: "Give a date and time with its UTC offset, e.g. 2026-12-01T10:00:00-05:00."}
        ) from None
    _check_year(parsed, field)
    if parsed.tzinfo is None:
        try:
            example = exact_local(parsed.date(), parsed.time(), zone).isoformat()
        except NonexistentTime:
            raise ValidationError(
                {
                    field: f"{parsed:%Y-%m-%d %H:%M} does not exist in {zone}: the clocks spring forward then. "
                    "Choose another time, and give it with its UTC offset."
                }
            ) from None
        raise ValidationError({field: f"Give the time with its UTC offset, e.g. {example} in the clinic's zone."})
    return parsed


def _check_year(moment: date, field: str) -> None:
    # Far enough for any calendar; beyond it the window's arithmetic would leave Python's dates.
    if not YEARS[0] <= moment.year <= YEARS[1]:
        raise ValidationError({field: f"Give a date between the years {YEARS[0]} and {YEARS[1]}."})


def _local(moment: datetime | None, zone: str) -> str | None:
    return moment.astimezone(clock.zone(zone)).isoformat() if moment is not None else None


# --- Schemas ----------------------------------------------------------------------------------


class AvailabilityIn(Schema):
    appointment_type: int = Field(ge=1, le=MAX_ID)
    start: str = Field(max_length=40, description="ISO 8601 with offset, or a date (the clinic's local day)")
    end: str = Field(max_length=40, description="ISO 8601 with offset, or a date (up to the end of that local day)")
    therapist: int | None = Field(None, ge=1, le=MAX_ID, description="Therapist id (see /therapists)")


class SlotOut(Schema):
    start: str = Field(description="With its offset in the clinic's zone")
    end: str
    therapist: int = Field(description="Therapist id (see /therapists)")
    room: int


class AvailabilityOut(Schema):
    appointment_type: int
    timezone: str
    start: str
    end: str
    slots: list[SlotOut]


class AppointmentTypeOut(Schema):
    id: int
    name: str
    kind: str
    description: str
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    slot_interval_minutes: int | None
    price: str
    room_capability: str
    therapists: list[int] = Field(description="Therapist ids (see /therapists) who offer it")
    bookable_online: bool
    is_active: bool

    @staticmethod
    def resolve_price(obj: Any) -> str:
        return str(obj.price)

    @staticmethod
    def resolve_therapists(obj: Any) -> list[int]:
        found = []
        for member in obj.therapists.all():
            profile = getattr(member, "therapist_profile", None)
            if profile is not None:
                found.append(profile.pk)
        return sorted(found)


class AppointmentOut(Schema):
    id: int
    client: int
    client_name: str
    therapist: int | None = Field(description="Therapist id (see /therapists)")
    therapist_name: str
    room: int | None
    room_name: str
    location: int
    appointment_type: int
    appointment_type_name: str
    start: str = Field(description="With its offset in the clinic's zone")
    end: str
    status: str = Field(description="requested, booked, arrived, completed, no_show or cancelled")
    channel: str
    series_id: str | None
    override_reason: str
    client_notes: str = Field(description="Logistics for the front desk; never health information")
    cancel_reason: str
    cancelled_at: str | None
    sequence: int
    created_at: str
    updated_at: str


class AppointmentIn(Schema):
    client: int = Field(ge=1, le=MAX_ID)
    therapist: int = Field(ge=1, le=MAX_ID, description="Therapist id (see /therapists)")
    appointment_type: int = Field(ge=1, le=MAX_ID)
    start: str = Field(description="ISO 8601 with its UTC offset, e.g. 2026-12-01T10:00:00-05:00", max_length=40)
    room: int | None = Field(None, ge=1, le=MAX_ID, description="Optional: the first suitable free room")
    override_reason: str = Field(
        "", max_length=200, description="Owners and admins: book over another appointment on purpose, saying why"
    )
    client_notes: str = Field("", max_length=300, description="Logistics only: no health information")


class RescheduleIn(Schema):
    start: str = Field(description="ISO 8601 with its UTC offset", max_length=40)
    therapist: int | None = Field(None, ge=1, le=MAX_ID, description="Therapist id (see /therapists)")
    room: int | None = Field(None, ge=1, le=MAX_ID)
    override_reason: str = Field("", max_length=200)


class CancelIn(Schema):
    reason: str = Field("", max_length=200)


class StatusIn(Schema):
    status: str = Field(description="arrived, completed, no_show or booked", max_length=20)


def appointment_dict(appointment: Appointment) -> dict[str, Any]:
    """The appointment as the API shows it: JSON values only, so a stored answer replays exactly."""
    zone = appointment.clinic.timezone
    therapist = appointment.therapist
    profile = getattr(therapist, "therapist_profile", None)
    return {
        "id": appointment.pk,
        "client": appointment.client_id,
        "client_name": appointment.client.display_name,
        "therapist": profile.pk if profile is not None else None,
        "therapist_name": profile.display_name if profile is not None else therapist.user.get_full_name(),
        "room": appointment.room_id,
        "room_name": appointment.room.name if appointment.room is not None else "",
        "location": appointment.location_id,
        "appointment_type": appointment.appointment_type_id,
        "appointment_type_name": appointment.appointment_type.name,
        "start": _local(appointment.starts_at, zone),
        "end": _local(appointment.ends_at, zone),
        "status": appointment.status,
        "channel": appointment.channel,
        "series_id": str(appointment.series_id) if appointment.series_id else None,
        "override_reason": appointment.override_reason,
        "client_notes": appointment.client_notes,
        "cancel_reason": appointment.cancel_reason,
        "cancelled_at": _local(appointment.cancelled_at, zone),
        "sequence": appointment.sequence,
        "created_at": _local(appointment.created_at, zone),
        "updated_at": _local(appointment.updated_at, zone),
    }


def _answer(request: ActorRequest, appointment: Appointment, status: int = 200) -> JsonResponse:
    fresh = queries.appointment_or_404(request.actor, appointment.pk)
    return JsonResponse(appointment_dict(fresh), status=status)


def _conflict(error: booking.BookingConflict) -> JsonResponse:
    return JsonResponse({"detail": error.message}, status=409)


# --- Availability and types -------------------------------------------------------------------


@router.get(
    "/availability",
    response={200: AvailabilityOut, **ERRORS},
    summary="Free slots",
    description=(
        "Free slots of one appointment type from `start` to `end` (ISO 8601 with offset, or a date: the "
        "clinic's local day), at most 62 days, optionally for one therapist. A slot names the therapist "
        "and the first suitable free room; slots follow the type's grid from the start of each block of hours."
    ),
)
def availability(request: ActorRequest, filters: Query[AvailabilityIn]) -> HttpResponse:
    actor = request.actor
    appointment_type, start, end, therapist = filters.appointment_type, filters.start, filters.end, filters.therapist
    zone = actor.timezone
    kind = queries.appointment_type_or_none(actor, appointment_type)
    if kind is None:
        raise ValidationError({"appointment_type": "No such appointment type in this clinic."})
    begin = _instant(start, "start", zone)
    finish = _instant(end, "end", zone, end_of_day=True)
    if finish <= begin:
        raise ValidationError({"end": "The end is after the start."})
    if finish - begin > MAX_RANGE:
        raise ValidationError({"end": "Ask for at most 62 days at a time."})
    membership_id = None
    if therapist is not None:
        membership = queries.therapist_membership(actor, therapist)
        if membership is None:
            raise ValidationError({"therapist": "No such therapist in this clinic."})
        membership_id = membership.pk
    slots = available_slots(actor, kind, begin, finish, therapist=membership_id)
    profiles = queries.profile_ids(actor)
    tz = clock.zone(zone)
    texts: dict[datetime, str] = {}
    out = []
    for slot in slots:
        slot_start = texts.get(slot.start)
        if slot_start is None:
            slot_start = texts[slot.start] = slot.start.astimezone(tz).isoformat()
        slot_end = texts.get(slot.end)
        if slot_end is None:
            slot_end = texts[slot.end] = slot.end.astimezone(tz).isoformat()
        out.append({"start": slot_start, "end": slot_end, "therapist": profiles.get(slot.therapist), "room": slot.room})
    body = {
        "appointment_type": kind.pk,
        "timezone": zone,
        "start": begin.astimezone(tz).isoformat(),
        "end": finish.astimezone(tz).isoformat(),
        "slots": out,
    }
    return HttpResponse(json.dumps(body, separators=(",", ":")), content_type="application/json")


@router.get("/appointment-types", response={200: list[AppointmentTypeOut], **ERRORS}, summary="Appointment types")
def list_appointment_types(request: ActorRequest) -> Any:
    return list(queries.appointment_types(request.actor))


# --- Appointments -----------------------------------------------------------------------------


@router.get("/appointments", response={200: list[AppointmentOut], **ERRORS}, summary="List appointments")
@paginate(Pages, page_size=50)
def list_appointments(
    request: ActorRequest,
    start: str | None = None,
    end: str | None = None,
    therapist: int | None = None,
    client: int | None = None,
) -> Any:
    """Appointments overlapping ``start``–``end`` (ISO 8601 with offset, or the clinic's local dates),
    of one therapist (id from /therapists) or client, in start order."""
    actor = request.actor
    zone = actor.timezone
    begin = _instant(start, "start", zone) if start else None
    finish = _instant(end, "end", zone, end_of_day=True) if end else None
    membership_id = None
    if therapist is not None:
        membership = queries.therapist_membership(actor, therapist)
        # An unknown therapist has no appointments: an empty page, as a filter matching nothing.
        membership_id = membership.pk if membership is not None else 0
    found = queries.appointment_list(actor, start=begin, end=finish, therapist_id=membership_id, client_id=client)
    return _Dicts(found)


class _Dicts:
    """A queryset whose slices are the API's appointment dicts (for the paginator)."""

    def __init__(self, found: Any) -> None:
        self.found = found

    def count(self) -> int:
        return int(self.found.count())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, part: slice) -> list[dict[str, Any]]:
        return [appointment_dict(a) for a in self.found[part]]


@router.get("/appointments/{appointment_id}", response={200: AppointmentOut, **ERRORS}, summary="Read an appointment")
def get_appointment(request: ActorRequest, appointment_id: int) -> Any:
    return appointment_dict(queries.appointment_detail(request.actor, appointment_id))


@router.post(
    "/appointments",
    response={201: AppointmentOut, 200: AppointmentOut, **CONFLICT_ERRORS},
    summary="Book an appointment",
    description=(
        "Books after checking hours, time off, other appointments and holds with their buffers, and the "
        "room. 409 when the time is not free (with the reason), 422 naming the field on bad input. Send an "
        "`Idempotency-Key` header to retry safely: the same key and body answer as the first time, and "
        "never book twice; the same key with another body is 422."
    ),
)
def create_appointment(request: ActorRequest, payload: AppointmentIn) -> HttpResponse:
    actor = request.actor
    key = request.headers.get(HEADER)

    def run() -> tuple[int, dict[str, Any]]:
        try:
            created = _book(request, payload)
        except booking.BookingConflict as error:
            return 409, {"detail": error.message}
        except ValidationError as error:
            return 422, json.loads(invalid(request, error).content)
        except PermissionDenied as error:
            return 403, {"detail": str(error) or "Not allowed for your role."}
        return 201, appointment_dict(queries.appointment_or_404(actor, created.pk))

    if key is None:
        status, body = run()
        return JsonResponse(body, status=status)
    try:
        (status, body), replayed = idempotency_key_use(
            clinic=actor.clinic,
            scope=IDEMPOTENCY_SCOPE,
            key=key,
            digest=request_digest(payload.dict()),
            run=run,
        )
    except ValidationError as error:
        return invalid(request, error)
    response = JsonResponse(body, status=status)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _book(request: ActorRequest, payload: AppointmentIn) -> Appointment:
    actor = request.actor
    starts_at = _instant(payload.start, "start", actor.timezone)
    client = queries.client_or_none(actor, payload.client)
    therapist = queries.therapist_membership(actor, payload.therapist)
    kind = queries.appointment_type_or_none(actor, payload.appointment_type)
    room = queries.room_or_none(actor, payload.room)
    missing = {
        name: message
        for name, found, message in (
            ("client", client, "No such client in this clinic."),
            ("therapist", therapist, "No such therapist in this clinic."),
            ("appointment_type", kind, "No such appointment type in this clinic."),
        )
        if found is None
    }
    if payload.room is not None and room is None:
        missing["room"] = "No such room in this clinic."
    if missing:
        raise ValidationError(missing)
    assert client is not None and therapist is not None and kind is not None
    return booking.appointment_book(
        clinic=actor.clinic,
        actor=actor,
        client=client,
        therapist=therapist,
        appointment_type=kind,
        starts_at=starts_at,
        room=room,
        channel=Appointment.Channel.API,
        override_reason=payload.override_reason,
        client_notes=payload.client_notes,
    )


@router.post(
    "/appointments/{appointment_id}/reschedule",
    response={200: AppointmentOut, **CONFLICT_ERRORS},
    summary="Move an appointment",
    description="To another start (and optionally therapist or room), checked as a booking is; 409 when not free.",
)
def reschedule_appointment(request: ActorRequest, appointment_id: int, payload: RescheduleIn) -> HttpResponse:
    actor = request.actor
    appointment = queries.appointment_or_404(actor, appointment_id)
    starts_at = _instant(payload.start, "start", actor.timezone)
    therapist = queries.therapist_membership(actor, payload.therapist)
    if payload.therapist is not None and therapist is None:
        raise ValidationError({"therapist": "No such therapist in this clinic."})
    room = queries.room_or_none(actor, payload.room)
    if payload.room is not None and room is None:
        raise ValidationError({"room": "No such room in this clinic."})
    try:
        moved = booking.appointment_move(
            actor=actor,
            appointment=appointment,
            starts_at=starts_at,
            therapist=therapist,
            room=room,
            override_reason=payload.override_reason,
            channel=Appointment.Channel.API,
        )
    except booking.BookingConflict as error:
        return _conflict(error)
    return _answer(request, moved)


@router.post(
    "/appointments/{appointment_id}/cancel",
    response={200: AppointmentOut, **CONFLICT_ERRORS},
    summary="Cancel an appointment",
    description="The time is free again; cancelling twice is 409.",
)
def cancel_appointment(request: ActorRequest, appointment_id: int, payload: CancelIn) -> HttpResponse:
    actor = request.actor
    appointment = queries.appointment_or_404(actor, appointment_id)
    try:
        cancelled = booking.appointment_cancel(actor=actor, appointment=appointment, reason=payload.reason)
    except booking.BookingConflict as error:
        return _conflict(error)
    return _answer(request, cancelled)


@router.post(
    "/appointments/{appointment_id}/status",
    response={200: AppointmentOut, **CONFLICT_ERRORS},
    summary="Mark arrived, completed, no-show, or booked again",
    description="Arrived, completed and no-show once the appointment's day has come; a step that cannot follow is 409.",
)
def set_appointment_status(request: ActorRequest, appointment_id: int, payload: StatusIn) -> HttpResponse:
    actor = request.actor
    appointment = queries.appointment_or_404(actor, appointment_id)
    try:
        changed = booking.appointment_status_set(actor=actor, appointment=appointment, status=payload.status)
    except booking.BookingConflict as error:
        return _conflict(error)
    return _answer(request, changed)
