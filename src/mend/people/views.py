from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mend import access
from mend.clinics import queries as clinic_queries
from mend.people import queries, services
from mend.people.forms import (
    CertificationForm,
    ClientForm,
    LicenceForm,
    ReferringProviderForm,
    TherapistInviteForm,
    TherapistProfileForm,
)
from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required, merge_validation_error, render_page


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


# --- Clients --------------------------------------------------------------------------


@actor_required
def client_list(request: ActorRequest) -> HttpResponse:
    actor = request.actor
    q = request.GET.get("q", "").strip()[:200]
    paginator = Paginator(queries.client_list(actor, q=q), settings.MEND_PAGE_SIZE)
    page = paginator.get_page(_page_number(request))
    context = {"page": page, "q": q, "today": actor.today()}
    return render_page(request, "people/client_list.html", context, partial="people/_client_table.html")


@actor_required
@require_http_methods(["GET", "POST"])
def client_create(request: ActorRequest) -> HttpResponse:
    actor = request.actor
    can_assign = access.can_assign_therapists(actor)
    form = ClientForm(request.POST or None, therapists=queries.therapist_choices(actor), can_assign=can_assign)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        therapist = data.pop("primary_therapist", None)
        try:
            client = services.client_create(actor=actor, data=data, primary_therapist=therapist)
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, f"{client.display_name} was added.")
            return redirect("client_detail", pk=client.pk)
    status = 400 if form.is_bound else 200
    return render(request, "people/client_form.html", {"form": form, "creating": True}, status=status)


@actor_required
def client_detail(request: ActorRequest, pk: int) -> HttpResponse:
    actor = request.actor
    page = queries.client_page(actor, pk)
    context = {
        "client": page.client,
        "care_team": page.care_team,
        "primary": page.primary,
        "age": page.age,
        # Front desk never sees clinical data, not even that an episode exists.
        "can_see_clinical": access.can_see_clinical(actor),
        **page.sections,
    }
    return render(request, "people/client_detail.html", context)


@actor_required
@require_http_methods(["GET", "POST"])
def client_edit(request: ActorRequest, pk: int) -> HttpResponse:
    actor = request.actor
    # Showing the form reads the client (audited); a save is audited by the service instead.
    read = queries.client_detail if request.method == "GET" else queries.client_with_care_team
    client = read(actor, pk)
    primary = next((m for m in client.care_team.all() if m.is_primary), None)
    can_assign = access.can_assign_therapists(actor)
    form = ClientForm(
        request.POST or None,
        instance=client,
        therapists=queries.therapist_choices(actor),
        can_assign=can_assign,
        initial={"primary_therapist": primary.therapist_id if primary else None},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        therapist = data.pop("primary_therapist", None)
        try:
            services.client_update(
                actor=actor, client=client, data=data, primary_therapist=therapist, change_primary=can_assign
            )
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, "Changes saved.")
            return redirect("client_detail", pk=client.pk)
    status = 400 if form.is_bound else 200
    return render(request, "people/client_form.html", {"form": form, "client": client}, status=status)


# --- Therapists -----------------------------------------------------------------------


@actor_required
def therapist_list(request: ActorRequest) -> HttpResponse:
    return render(request, "people/therapist_list.html", {"rows": queries.therapist_rows(request.actor)})


@actor_required
@require_http_methods(["GET", "POST"])
def therapist_create(request: ActorRequest) -> HttpResponse:
    actor = request.actor
    access.require_manage_clinic(actor)
    form = TherapistInviteForm(request.POST or None, locations=clinic_queries.locations(actor))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            profile = services.therapist_create(
                actor=actor,
                email=data["email"],
                full_name=data["full_name"],
                data=form.profile_data(),
                locations=list(data["locations"]),
                base_url=request.build_absolute_uri("/"),
            )
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, f"{profile.display_name} was added and invited by email to {data['email']}.")
            return redirect("therapist_detail", pk=profile.pk)
    status = 400 if form.is_bound else 200
    return render(request, "people/therapist_create.html", {"form": form}, status=status)


@actor_required
def therapist_detail(request: ActorRequest, pk: int) -> HttpResponse:
    page = queries.therapist_page(request.actor, pk)
    context = {"profile": page.profile, "licences": page.licences, "can_edit": page.can_edit, "today": page.today}
    return render(request, "people/therapist_detail.html", context)


@actor_required
@require_POST
def therapist_invite(request: ActorRequest, pk: int) -> HttpResponse:
    """Send the therapist's invitation again (the owner's button on their page)."""
    actor = request.actor
    access.require_manage_clinic(actor)
    profile = queries.therapist_or_404(actor, pk)
    try:
        services.therapist_invite(actor=actor, profile=profile, base_url=request.build_absolute_uri("/"))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Invitation sent again to {profile.membership.user.email}.")
    return redirect("therapist_detail", pk=profile.pk)


@actor_required
@require_http_methods(["GET", "POST"])
def therapist_edit(request: ActorRequest, pk: int) -> HttpResponse:
    actor = request.actor
    profile = queries.therapist_detail(actor, pk)
    access.require_edit_therapist(actor, profile)
    form = TherapistProfileForm(request.POST or None, instance=profile, locations=clinic_queries.locations(actor))
    if request.method == "POST" and form.is_valid():
        try:
            services.therapist_profile_update(
                actor=actor, profile=profile, data=form.cleaned_data, locations=list(form.cleaned_data["locations"])
            )
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, "Profile saved.")
            return redirect("therapist_detail", pk=profile.pk)
    status = 400 if form.is_bound else 200
    return render(request, "people/therapist_form.html", {"form": form, "profile": profile}, status=status)


@actor_required
@require_http_methods(["GET", "POST"])
def licence_edit(request: ActorRequest, pk: int, licence_id: int | None = None) -> HttpResponse:
    actor = request.actor
    profile = queries.therapist_detail(actor, pk)
    access.require_edit_therapist(actor, profile)
    licence = queries.licence_or_404(profile, licence_id) if licence_id is not None else None
    form = LicenceForm(request.POST or None, instance=licence)
    if request.method == "POST" and form.is_valid():
        try:
            services.licence_save(actor=actor, profile=profile, data=form.cleaned_data, licence=licence)
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, "Licence saved.")
            return redirect("therapist_detail", pk=profile.pk)
    status = 400 if form.is_bound else 200
    context = {"form": form, "profile": profile, "kind": "licence", "object": licence}
    return render(request, "people/credential_form.html", context, status=status)


@actor_required
@require_POST
def licence_delete(request: ActorRequest, pk: int, licence_id: int) -> HttpResponse:
    actor = request.actor
    profile = queries.therapist_detail(actor, pk)
    licence = queries.licence_or_404(profile, licence_id)
    services.licence_delete(actor=actor, profile=profile, licence=licence)
    messages.success(request, "Licence removed.")
    return redirect("therapist_detail", pk=profile.pk)


@actor_required
@require_http_methods(["GET", "POST"])
def certification_edit(request: ActorRequest, pk: int, certification_id: int | None = None) -> HttpResponse:
    actor = request.actor
    profile = queries.therapist_detail(actor, pk)
    access.require_edit_therapist(actor, profile)
    certification = queries.certification_or_404(profile, certification_id) if certification_id is not None else None
    form = CertificationForm(request.POST or None, instance=certification)
    if request.method == "POST" and form.is_valid():
        try:
            services.certification_save(
                actor=actor, profile=profile, data=form.cleaned_data, certification=certification
            )
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, "Certification saved.")
            return redirect("therapist_detail", pk=profile.pk)
    status = 400 if form.is_bound else 200
    context = {"form": form, "profile": profile, "kind": "certification", "object": certification}
    return render(request, "people/credential_form.html", context, status=status)


@actor_required
@require_POST
def certification_delete(request: ActorRequest, pk: int, certification_id: int) -> HttpResponse:
    actor = request.actor
    profile = queries.therapist_detail(actor, pk)
    certification = queries.certification_or_404(profile, certification_id)
    services.certification_delete(actor=actor, profile=profile, certification=certification)
    messages.success(request, "Certification removed.")
    return redirect("therapist_detail", pk=profile.pk)


# --- Referring providers --------------------------------------------------------------


@actor_required
def referrer_list(request: ActorRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    paginator = Paginator(queries.referrer_list(request.actor, q=q), settings.MEND_PAGE_SIZE)
    page = paginator.get_page(_page_number(request))
    return render(request, "people/referrer_list.html", {"page": page, "q": q})


@actor_required
@require_http_methods(["GET", "POST"])
def referrer_edit(request: ActorRequest, pk: int | None = None) -> HttpResponse:
    actor = request.actor
    provider = queries.referring_provider_or_404(actor, pk) if pk is not None else None
    form = ReferringProviderForm(request.POST or None, instance=provider)
    if request.method == "POST" and form.is_valid():
        try:
            provider = services.referring_provider_save(actor=actor, data=form.cleaned_data, provider=provider)
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, f"{provider.name} saved.")
            return redirect("referrer_list")
    status = 400 if form.is_bound else 200
    return render(request, "people/referrer_form.html", {"form": form, "provider": provider}, status=status)
