"""Booking a plan of care's sessions as a series, and moving or cutting a series from one session on.

"Check" shows every session, free or with the reason it is not, before anything is saved; "Book
all" books them only when every one is free (the service checks again under its lock).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mend.core.series import short_date
from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required, merge_validation_error
from mend.scheduling import services
from mend.scheduling.forms.series import MoveFromForm, SeriesForm
from mend.scheduling.queries import schedule
from mend.scheduling.queries import series as queries
from mend.scheduling.services import BookingConflict, SeriesConflict

CONFLICT, UNPROCESSABLE = 409, 422


@actor_required
@require_http_methods(["GET", "POST"])
def series_new(request: ActorRequest) -> HttpResponse:
    actor = request.actor
    types = queries.series_types(actor)
    source = request.POST if request.method == "POST" else request.GET
    start = queries.series_start(actor, client_id=source.get("client"), episode_id=source.get("episode"), types=types)
    form = SeriesForm(
        request.POST or None,
        initial=start.initial,
        therapists=schedule.therapists(actor),
        types=types,
        rooms=schedule.rooms(actor),
    )
    checks = None
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rule = services.series_rule(**form.rule_values())
            if request.POST.get("action") == "book":
                booked = services.series_book(
                    actor=actor,
                    clinic=actor.clinic,
                    client=start.client,
                    therapist=data["therapist"],
                    appointment_type=data["appointment_type"],
                    rule=rule,
                    room=data["room"],
                )
                messages.success(request, f"{len(booked)} sessions booked for {start.client.display_name}.")
                return redirect("series_detail", series_id=booked[0].series_id)
            checks = services.series_preview(
                clinic=actor.clinic,
                therapist=data["therapist"],
                appointment_type=data["appointment_type"],
                rule=rule,
                room=data["room"],
            )
        except SeriesConflict as conflict:
            checks, status = conflict.checks, CONFLICT
            form.add_error(None, conflict.message)
        except BookingConflict as conflict:
            status = CONFLICT
            form.add_error(None, conflict.message)
        except ValidationError as error:
            status = UNPROCESSABLE
            merge_validation_error(form, error)
    elif request.method == "POST":
        status = UNPROCESSABLE
    rows = [
        {
            "number": c.occurrence.number,
            "day": short_date(c.occurrence.day),
            "time": f"{c.occurrence.wall:%H:%M}",
            "free": c.free,
            "reason": c.conflict or "",
        }
        for c in checks or ()
    ]
    context = {
        "form": form,
        "client": start.client,
        "episode": start.episode,
        "rows": rows,
        "all_free": bool(rows) and all(r["free"] for r in rows),
        "zone": actor.timezone,
    }
    return render(request, "scheduling/series/new.html", context, status=status)


@actor_required
@require_http_methods(["GET"])
def series_detail(request: ActorRequest, series_id: str) -> HttpResponse:
    sessions = queries.series_sessions(request.actor, series_id)
    context = {
        "sessions": sessions,
        "client": sessions[0].client,
        "series_id": series_id,
        "zone": request.actor.timezone,
    }
    return render(request, "scheduling/series/detail.html", context)


@actor_required
@require_POST
def series_change(request: ActorRequest, series_id: str, pk: int) -> HttpResponse:
    """Move (a new time and/or a number of days) or cancel this session and every booked one after it."""
    sessions = queries.series_sessions(request.actor, series_id)
    session = next((s for s in sessions if s.pk == pk), None)
    if session is None:
        raise Http404("No such session in this series.")
    try:
        if request.POST.get("action") == "cancel":
            cut = services.series_cancel_from(
                actor=request.actor, appointment=session, reason=request.POST.get("reason", "")
            )
            messages.success(request, f"{len(cut)} session{'s' * (len(cut) != 1)} cancelled.")
        else:
            form = MoveFromForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Give a new time, a number of days to shift, or both.")
                return redirect("series_detail", series_id=series_id)
            moved = services.series_move_from(
                actor=request.actor,
                appointment=session,
                wall=form.cleaned_data.get("time"),
                days=form.cleaned_data.get("days") or 0,
            )
            messages.success(request, f"{len(moved)} session{'s' * (len(moved) != 1)} moved.")
    except SeriesConflict as conflict:
        bad = [f"session {c.occurrence.number}: {c.conflict}" for c in conflict.checks if not c.free]
        messages.error(request, "Nothing was moved. " + "; ".join(bad))
    except (BookingConflict, ValidationError) as error:
        messages.error(request, getattr(error, "message", None) or " ".join(getattr(error, "messages", [str(error)])))
    return redirect("series_detail", series_id=series_id)
