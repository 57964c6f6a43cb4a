"""The calendar's setup pages under /schedule/setup/: appointment types, each therapist's hours, closures.

Owners and admins open all of them; a therapist opens their own hours page (the link is in their
account menu); front desk none (403). Another clinic's rows are 404. Each form posts to its own
route; a refusal re-renders the page with the message beside the field it names (status 400).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mend import access
from mend.clinics.models import Membership
from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required, merge_validation_error
from mend.scheduling import services
from mend.scheduling.forms.setup import (
    AppointmentTypeForm,
    ClosureForm,
    HoursExceptionForm,
    TimeOffForm,
    WorkingHoursForm,
)
from mend.scheduling.queries import setup as queries

BAD_REQUEST = 400


@actor_required
@require_GET
def setup_index(request: ActorRequest) -> HttpResponse:
    overview = queries.setup_overview(request.actor)
    return render(request, "scheduling/setup/index.html", {"overview": overview})


# --- Appointment types ------------------------------------------------------------------------------


@actor_required
@require_GET
def appointment_type_list(request: ActorRequest) -> HttpResponse:
    types = queries.appointment_type_list(request.actor)
    return render(request, "scheduling/setup/type_list.html", {"types": types})


@actor_required
@require_http_methods(["GET", "POST"])
def appointment_type_edit(request: ActorRequest, pk: int | None = None) -> HttpResponse:
    actor = request.actor
    access.require_manage_clinic(actor)
    kind = queries.appointment_type_or_404(actor, pk) if pk is not None else None
    form = AppointmentTypeForm(
        request.POST or None,
        instance=kind,
        therapists=list(queries.therapist_choices(actor)),
        currency=actor.clinic.currency,
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.appointment_type_save(actor=actor, data=form.cleaned_data, appointment_type=kind)
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, f"“{saved.name}” saved.")
            return redirect("appointment_type_list")
    status = BAD_REQUEST if form.is_bound else 200
    return render(request, "scheduling/setup/type_form.html", {"form": form, "kind": kind}, status=status)


# --- A therapist's hours ------------------------------------------------------------------------------


def _therapist(request: ActorRequest, pk: int) -> Membership:
    """The therapist whose hours these are: 404 outside the clinic, 403 for whom may not change them."""
    therapist = queries.hours_therapist_or_404(request.actor, pk)
    access.require_edit_hours(request.actor, therapist)
    return therapist


def _hours_page(request: ActorRequest, therapist: Membership, *, status: int = 200, **forms: Any) -> HttpResponse:
    actor = request.actor
    page = queries.therapist_hours(actor, therapist)
    locations = list(queries.therapist_locations(therapist))
    context = {
        "page": page,
        "locations": locations,
        "hours_form": forms.get("hours_form") or WorkingHoursForm(prefix="hours", locations=locations),
        "exception_form": forms.get("exception_form") or HoursExceptionForm(prefix="exception", locations=locations),
        "time_off_form": forms.get("time_off_form") or TimeOffForm(prefix="off"),
        "zone": actor.clinic.timezone,
    }
    return render(request, "scheduling/setup/hours.html", context, status=status)


def _back(therapist: Membership) -> HttpResponse:
    return redirect("working_hours", pk=therapist.pk)


@actor_required
@require_GET
def working_hours(request: ActorRequest, pk: int) -> HttpResponse:
    return _hours_page(request, _therapist(request, pk))


@actor_required
@require_POST
def working_hours_add(request: ActorRequest, pk: int) -> HttpResponse:
    therapist = _therapist(request, pk)
    form = WorkingHoursForm(request.POST, prefix="hours", locations=list(queries.therapist_locations(therapist)))
    if form.is_valid():
        try:
            services.working_hours_save(actor=request.actor, therapist=therapist, **form.cleaned_data)
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, "Hours added to the week.")
            return _back(therapist)
    return _hours_page(request, therapist, status=BAD_REQUEST, hours_form=form)


@actor_required
@require_POST
def working_hours_remove(request: ActorRequest, pk: int, block_id: int) -> HttpResponse:
    therapist = _therapist(request, pk)
    block = queries.working_hours_or_404(request.actor, therapist, block_id)
    services.working_hours_delete(actor=request.actor, hours=block)
    messages.success(request, f"{block} removed from the week.")
    return _back(therapist)


@actor_required
@require_POST
def hours_exception_add(request: ActorRequest, pk: int) -> HttpResponse:
    therapist = _therapist(request, pk)
    locations = list(queries.therapist_locations(therapist))
    form = HoursExceptionForm(request.POST, prefix="exception", locations=locations)
    if form.is_valid():
        try:
            services.hours_exception_save(actor=request.actor, therapist=therapist, **form.cleaned_data)
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, "Exception added.")
            return _back(therapist)
    return _hours_page(request, therapist, status=BAD_REQUEST, exception_form=form)


@actor_required
@require_POST
def hours_exception_remove(request: ActorRequest, pk: int, exception_id: int) -> HttpResponse:
    therapist = _therapist(request, pk)
    exception = queries.hours_exception_or_404(request.actor, therapist, exception_id)
    services.hours_exception_delete(actor=request.actor, exception=exception)
    messages.success(request, "Exception removed.")
    return _back(therapist)


@actor_required
@require_POST
def time_off_add(request: ActorRequest, pk: int) -> HttpResponse:
    therapist = _therapist(request, pk)
    form = TimeOffForm(request.POST, prefix="off")
    if form.is_valid():
        try:
            services.time_off_save(actor=request.actor, therapist=therapist, **form.cleaned_data)
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, "Time off added.")
            return _back(therapist)
    return _hours_page(request, therapist, status=BAD_REQUEST, time_off_form=form)


@actor_required
@require_POST
def time_off_remove(request: ActorRequest, pk: int, time_off_id: int) -> HttpResponse:
    therapist = _therapist(request, pk)
    time_off = queries.time_off_or_404(request.actor, therapist, time_off_id)
    services.time_off_delete(actor=request.actor, time_off=time_off)
    messages.success(request, "Time off removed.")
    return _back(therapist)


# --- Closures -----------------------------------------------------------------------------------


def _closures_page(request: ActorRequest, *, form: ClosureForm | None = None, status: int = 200) -> HttpResponse:
    actor = request.actor
    closures = queries.closure_list(actor)
    form = form or ClosureForm(locations=queries.closure_locations(actor))
    return render(request, "scheduling/setup/closures.html", {"closures": closures, "form": form}, status=status)


@actor_required
@require_GET
def closure_list(request: ActorRequest) -> HttpResponse:
    return _closures_page(request)


@actor_required
@require_POST
def closure_add(request: ActorRequest) -> HttpResponse:
    actor = request.actor
    access.require_manage_clinic(actor)
    form = ClosureForm(request.POST, locations=queries.closure_locations(actor))
    if form.is_valid():
        try:
            services.closure_save(actor=actor, **form.cleaned_data)
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, "Closure added.")
            return redirect("closure_list")
    return _closures_page(request, form=form, status=BAD_REQUEST)


@actor_required
@require_POST
def closure_remove(request: ActorRequest, pk: int) -> HttpResponse:
    closure = queries.closure_or_404(request.actor, pk)
    services.closure_delete(actor=request.actor, closure=closure)
    messages.success(request, "Closure removed.")
    return redirect("closure_list")
