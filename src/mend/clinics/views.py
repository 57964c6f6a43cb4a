from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from mend import access
from mend.clinics import queries, services
from mend.clinics.forms import ClinicSettingsForm, InvitationPasswordForm, LocationForm, RoomForm
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
    # The members list leads to each member's page, which only owners may open.
    staff = queries.staff(actor) if access.can_reset_second_step(actor) else []
    status = 400 if form.is_bound else 200
    context = {"form": form, "locations": locations, "staff": staff}
    return render(request, "clinics/settings.html", context, status=status)


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


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    """The emailed invitation: the invitee chooses their first password, then signs in.

    Django's reset view checks the link and moves the token out of the URL into the session
    (so it never leaks through a Referer); the password is set by ``invitation_accept``.
    """

    template_name = "clinics/invitation_accept.html"
    form_class = InvitationPasswordForm
    token_generator = services.invitation_tokens
    success_url = reverse_lazy("login")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.user
        # Why a link fails, where it can be told: a password set since means the link was used.
        if context["validlink"]:
            context["problem"] = ""
        elif user is None:
            context["problem"] = "unknown"
        elif user.has_usable_password():
            context["problem"] = "used"
        elif services.invitation_tokens.is_expired(self._token()):
            context["problem"] = "expired"
        else:
            context["problem"] = "unknown"
        context["valid_for"] = services.invitation_valid_for()
        return context

    def _token(self) -> str:
        token: str = self.kwargs["token"]
        if token == self.reset_url_token:
            return str(self.request.session.get(auth_views.INTERNAL_RESET_SESSION_TOKEN, ""))
        return token

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            services.invitation_accept(user=form.user, password=form.cleaned_data["new_password1"])
        except ValidationError as error:
            form.add_error("new_password1", error.message_dict.get("new_password1", error.messages))
            return self.form_invalid(form)
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        messages.success(self.request, "Your password is set. Sign in with your email address and the new password.")
        return redirect(self.success_url)


invitation_accept = InvitationAcceptView.as_view()
