"""The staff calendar: the day and week grids, booking, moving, cancelling and status changes.

Every write goes through the booking service, so the page gets the same refusals as the API: a
conflict (``BookingConflict``) is shown beside the form with status 409, bad input (a
``ValidationError`` naming the field) beside that field with 422; never a 500.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from mend.platform import clock
from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required, merge_validation_error
from mend.scheduling import services
from mend.scheduling.forms.calendar import BookForm, CancelForm, MoveForm
from mend.scheduling.models import Appointment, AppointmentStatus
from mend.scheduling.queries import schedule
from mend.scheduling.queries.flags import appointment_referral_warnings

CONFLICT, UNPROCESSABLE = 409, 422
CHANGEABLE = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED, AppointmentStatus.REQUESTED)
STATUS_ACTIONS = {
    AppointmentStatus.ARRIVED: "Mark arrived",
    AppointmentStatus.COMPLETED: "Mark completed",
    AppointmentStatus.NO_SHOW: "Mark no-show",
    AppointmentStatus.BOOKED: "Back to booked",
}


def _day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _choices_of(request: ActorRequest) -> dict[str, Any]:
    actor = request.actor
    return {
        "therapists": schedule.therapists(actor),
        "rooms": schedule.rooms(actor),
        "may_override": actor.manages_clinic,
    }


def _back(request: ActorRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@actor_required
def calendar(request: ActorRequest) -> HttpResponse:
    actor = request.actor
    today = actor.today()
    grid = schedule.week_grid(
        actor,
        view=request.GET.get("view", "day"),
        day=_day(request.GET.get("date"), today),
        by=request.GET.get("by", "therapist"),
        therapist_id=_int(request.GET.get("therapist")),
        room_id=_int(request.GET.get("room")),
    )
    # Links are this prefix and the id: a reverse() per appointment cost more than the rest of a busy week.
    appointments_url = reverse("appointment_detail", args=[0]).removesuffix("0/")
    context = {"grid": grid, "appointments_url": appointments_url}
    return render(request, "scheduling/calendar/calendar.html", context)


@actor_required
@require_http_methods(["GET", "POST"])
def appointment_new(request: ActorRequest) -> HttpResponse:
    """Book: the form, pre-filled from the cell clicked (``therapist``, ``date``, ``time``)."""
    actor = request.actor
    q = request.GET.get("q", "").strip()[:200]
    selected = _int(request.POST.get("client") or request.GET.get("client"))
    choices = _choices_of(request)
    initial = {
        "therapist": request.GET.get("therapist", ""),
        "day": _day(request.GET.get("date"), actor.today()),
        "time": request.GET.get("time", ""),
        "room": request.GET.get("room", ""),
        "client": selected or "",
    }
    form = BookForm(
        request.POST or None,
        initial=initial,
        zone=actor.timezone,
        clients=schedule.client_choices(actor, q=q, selected=selected),
        types=list(schedule.appointment_types(actor)),
        **choices,
    )
    conflict = ""
    status = 200
    if request.method == "POST":
        status = UNPROCESSABLE
        if form.is_valid():
            data = form.cleaned_data
            try:
                appointment = services.appointment_book(
                    clinic=actor.clinic,
                    actor=actor,
                    client=data["client"],
                    therapist=data["therapist"],
                    appointment_type=data["appointment_type"],
                    starts_at=form.starts_at,
                    room=data.get("room"),
                    override_reason=data.get("override_reason") or "",
                )
            except services.BookingConflict as error:
                conflict, status = error.message, CONFLICT
            except ValidationError as error:
                merge_validation_error(form, error)
            except PermissionDenied as error:
                form.add_error("override_reason", str(error))
            else:
                messages.success(request, f"Booked {appointment.client.display_name}.")
                # Beyond the referral's visits or after its end date: booked all the same, and said so.
                for warning in appointment_referral_warnings(actor, appointment):
                    messages.warning(request, warning)
                return redirect(_calendar_url(appointment, actor.timezone))
    context = {"form": form, "conflict": conflict, "q": q, "initial": initial}
    return render(request, "scheduling/calendar/book.html", context, status=status)


def _calendar_url(appointment: Appointment, zone: str) -> str:
    day = clock.local_date(appointment.starts_at, zone)
    return f"{reverse('schedule')}?date={day.isoformat()}"


def _detail(request: ActorRequest, pk: int, *, status: int = 200, **extra: Any) -> HttpResponse:
    actor = request.actor
    page = schedule.appointment_page(actor, pk)
    appointment = page.appointment
    choices = _choices_of(request)
    move = extra.pop("move_form", None) or MoveForm(
        zone=actor.timezone,
        initial={
            "day": page.start.date(),
            "time": page.start.strftime("%H:%M"),
            "therapist": appointment.therapist_id,
            "room": "",
        },
        **choices,
    )
    context = {
        "page": page,
        "appointment": appointment,
        "move_form": move,
        "cancel_form": extra.pop("cancel_form", None) or CancelForm(),
        "status_actions": [
            (value, label) for value, label in STATUS_ACTIONS.items() if value in _next_statuses(appointment.status)
        ],
        # Moved and cancelled only before it is over (the service refuses the rest).
        "changeable": appointment.status in CHANGEABLE,
        "conflict": "",
        **extra,
    }
    return render(request, "scheduling/calendar/appointment.html", context, status=status)


def _next_statuses(current: str) -> tuple[str, ...]:
    """The buttons an appointment's page offers: the booking service's steps (it decides, and a
    button pressed on a page gone stale answers with its 409)."""
    following: dict[str, tuple[str, ...]] = {
        AppointmentStatus.REQUESTED: (AppointmentStatus.BOOKED,),
        AppointmentStatus.BOOKED: (AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW),
        AppointmentStatus.ARRIVED: (AppointmentStatus.COMPLETED, AppointmentStatus.BOOKED),
        AppointmentStatus.NO_SHOW: (AppointmentStatus.BOOKED,),
        AppointmentStatus.COMPLETED: (AppointmentStatus.ARRIVED,),
    }
    return following.get(current, ())


@actor_required
def appointment_detail(request: ActorRequest, pk: int) -> HttpResponse:
    return _detail(request, pk)


def _wants_json(request: ActorRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@actor_required
@require_POST
def appointment_move(request: ActorRequest, pk: int) -> HttpResponse:
    """Move (the detail page's form, or a drag on the grid, which asks for JSON)."""
    actor = request.actor
    appointment = schedule.appointment_or_404(actor, pk)
    form = MoveForm(request.POST, zone=actor.timezone, **_choices_of(request))
    error, status = "", UNPROCESSABLE
    if form.is_valid():
        data = form.cleaned_data
        try:
            moved = services.appointment_move(
                actor=actor,
                appointment=appointment,
                starts_at=form.starts_at,
                therapist=data["therapist"],
                room=data.get("room"),
                override_reason=data.get("override_reason") or "",
            )
        except services.BookingConflict as conflict:
            error, status = conflict.message, CONFLICT
        except ValidationError as invalid:
            merge_validation_error(form, invalid)
        except PermissionDenied as denied:
            form.add_error("override_reason", str(denied))
        else:
            for warning in appointment_referral_warnings(actor, moved):
                messages.warning(request, warning)
            if _wants_json(request):
                return JsonResponse({"ok": True, "url": _calendar_url(moved, actor.timezone)})
            messages.success(request, "Moved.")
            return redirect("appointment_detail", pk=moved.pk)
    if _wants_json(request):
        problems = (
            [error]
            if error
            else [
                f"{form.fields[f].label if f in form.fields else ''}: {m}".lstrip(": ")
                for f, ms in form.errors.items()
                for m in ms
            ]
        )
        return JsonResponse({"ok": False, "error": " ".join(problems)}, status=status)
    return _detail(request, pk, status=status, move_form=form, conflict=error, conflict_for="move")


@actor_required
@require_POST
def appointment_cancel(request: ActorRequest, pk: int) -> HttpResponse:
    actor = request.actor
    appointment = schedule.appointment_or_404(actor, pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _detail(request, pk, status=UNPROCESSABLE, cancel_form=form)
    try:
        services.appointment_cancel(actor=actor, appointment=appointment, reason=form.cleaned_data["reason"])
    except services.BookingConflict as conflict:
        return _detail(request, pk, status=CONFLICT, cancel_form=form, conflict=conflict.message, conflict_for="cancel")
    declined = appointment.status == AppointmentStatus.REQUESTED
    messages.success(request, "Request declined." if declined else "Cancelled.")
    return redirect(_back(request, reverse("appointment_detail", args=[pk])))


@actor_required
@require_POST
def appointment_status(request: ActorRequest, pk: int) -> HttpResponse:
    """Mark arrived, completed or no-show, undo one step, or approve a request (``booked``)."""
    actor = request.actor
    appointment = schedule.appointment_or_404(actor, pk)
    target = request.POST.get("status", "")
    try:
        changed = services.appointment_status_set(actor=actor, appointment=appointment, status=target)
    except services.BookingConflict as conflict:
        return _detail(request, pk, status=CONFLICT, conflict=conflict.message, conflict_for="status")
    except ValidationError as invalid:
        return _detail(request, pk, status=UNPROCESSABLE, conflict=" ".join(invalid.messages), conflict_for="status")
    approved = appointment.status == AppointmentStatus.REQUESTED
    messages.success(request, "Request approved." if approved else f"Marked {changed.get_status_display().lower()}.")
    return redirect(_back(request, reverse("appointment_detail", args=[pk])))
