from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from mend import access
from mend.clinics import queries, services
from mend.clinics.forms import ClinicSettingsForm, LocationForm, RoomForm
from mend.platform.http import ActorRequest
from mend.platform.pages import SESSION_CLINIC_KEY, actor_required, merge_validation_error


@actor_required
@require_POST
def switch_clinic(request: ActorRequest) -> HttpResponse:
    """Make another of the user's clinics the active one; unknown or foreign clinics are ignored."""
    wanted = request.POST.get("clinic", "")
    membership = next(
        (m for m in request.memberships if str(m.clinic_id) == wanted or m.clinic.slug == wanted),
        None,
    )
    if membership is None:
        messages.error(request, "You are not a member of that clinic.")
    else:
        request.session[SESSION_CLINIC_KEY] = membership.clinic_id
        messages.success(request, f"You are now working in {membership.clinic.name}.")
    target = request.POST.get("next", "")
    # Object pages of the old clinic would answer 404 in the new one: go to the dashboard.
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) or target.count("/") > 2:
        target = "/"
    return redirect(target or "/")


@actor_required
@require_http_methods(["GET", "POST"])
def clinic_settings(request: ActorRequest) -> HttpResponse:
    actor = request.actor
    access.require_manage_clinic(actor)
    form = ClinicSettingsForm(request.POST or None, instance=actor.clinic)
    if request.method == "POST" and form.is_valid():
        try:
            services.clinic_update(actor=actor, data=form.cleaned_data)
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, "Clinic settings saved.")
            return redirect("clinic_settings")
    locations = queries.locations_with_rooms(actor)
    status = 400 if form.is_bound else 200
    return render(request, "clinics/settings.html", {"form": form, "locations": locations}, status=status)


@actor_required
@require_http_methods(["GET", "POST"])
def location_edit(request: ActorRequest, pk: int | None = None) -> HttpResponse:
    actor = request.actor
    access.require_manage_clinic(actor)
    location = queries.location_or_404(actor, pk) if pk is not None else None
    form = LocationForm(request.POST or None, instance=location)
    if request.method == "POST" and form.is_valid():
        try:
            services.location_save(actor=actor, data=form.cleaned_data, location=location)
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, "Location saved.")
            return redirect("clinic_settings")
    status = 400 if form.is_bound else 200
    return render(request, "clinics/location_form.html", {"form": form, "location": location}, status=status)


@actor_required
@require_http_methods(["GET", "POST"])
def room_edit(request: ActorRequest, pk: int | None = None) -> HttpResponse:
    actor = request.actor
    access.require_manage_clinic(actor)
    room = queries.room_or_404(actor, pk) if pk is not None else None
    initial = {}
    if room is None and request.GET.get("location"):
        initial["location"] = request.GET["location"]
    form = RoomForm(request.POST or None, instance=room, locations=queries.locations(actor), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.room_save(actor=actor, data=form.cleaned_data, room=room)
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, "Room saved.")
            return redirect("clinic_settings")
    status = 400 if form.is_bound else 200
    return render(request, "clinics/room_form.html", {"form": form, "room": room}, status=status)
