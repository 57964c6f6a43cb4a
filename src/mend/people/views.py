from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from mend import access
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.people import queries, services
from mend.people.forms import (
    CertificationForm,
    ClientForm,
    LicenceForm,
    ReferringProviderForm,
    TherapistInviteForm,
    TherapistProfileForm,
)
from mend.people.models import Certification, Licence
from mend.platform.pages import actor_required, merge_validation_error, render_page


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


# --- Clients --------------------------------------------------------------------------


@actor_required
def client_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    q = request.GET.get("q", "").strip()[:200]
    paginator = Paginator(queries.client_list(actor, q=q), settings.MEND_PAGE_SIZE)
    page = paginator.get_page(_page_number(request))
    audit_record(action=Action.SEARCH if q else Action.VIEW, object_type="people.client_list", user=actor.user)
    context = {"page": page, "q": q, "today": timezone.localdate()}
    return render_page(request, "people/client_list.html", context, partial="people/_client_table.html")


def _therapist_choices(actor: access.Actor):  # type: ignore[no-untyped-def]
    return access.therapist_memberships(actor).select_related("therapist_profile")


@actor_required
@require_http_methods(["GET", "POST"])
def client_create(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    can_assign = access.can_assign_therapists(actor)
    form = ClientForm(request.POST or None, therapists=_therapist_choices(actor), can_assign=can_assign)
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
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    client = queries.client_detail(actor, pk)
    audit_record(action=Action.VIEW, obj=client, client_id=client.pk, user=actor.user)
    care_team = list(client.care_team.all())
    # Front desk never sees clinical data, not even that an episode exists; others get one query.
    can_see_clinical = access.can_see_clinical(actor)
    episodes = (
        list(access.episodes(actor).filter(client=client).select_related("therapist__user")) if can_see_clinical else []
    )
    context = {
        "client": client,
        "care_team": care_team,
        "primary": next((m for m in care_team if m.is_primary), None),
        "age": client.age_on(timezone.localdate()),
        "can_see_clinical": can_see_clinical,
        "episodes": episodes,
    }
    return render(request, "people/client_detail.html", context)


@actor_required
@require_http_methods(["GET", "POST"])
def client_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    client = queries.client_detail(actor, pk)
    primary = next((m for m in client.care_team.all() if m.is_primary), None)
    can_assign = access.can_assign_therapists(actor)
    form = ClientForm(
        request.POST or None,
        instance=client,
        therapists=_therapist_choices(actor),
        can_assign=can_assign,
        initial={"primary_therapist": primary.therapist_id if primary else None},
    )
    if request.method == "GET":
        audit_record(action=Action.VIEW, obj=client, client_id=client.pk, user=actor.user)
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
def therapist_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    today = timezone.localdate()
    warning = settings.MEND_LICENCE_WARNING_DAYS
    rows = [
        (profile, queries.licence_flags(profile, today=today, warning_days=warning))
        for profile in queries.therapist_list(actor)
    ]
    return render(request, "people/therapist_list.html", {"rows": rows})


@actor_required
@require_http_methods(["GET", "POST"])
def therapist_create(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    access.require_manage_clinic(actor)
    form = TherapistInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            profile = services.therapist_create(
                actor=actor,
                email=data["email"],
                full_name=data["full_name"],
                data={"professional_title": data["professional_title"]},
            )
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(
                request,
                f"{profile.display_name} was added. They can set a password with “Forgot your password?” "
                "on the sign-in page.",
            )
            return redirect("therapist_detail", pk=profile.pk)
    status = 400 if form.is_bound else 200
    return render(request, "people/therapist_create.html", {"form": form}, status=status)


@actor_required
def therapist_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    profile = queries.therapist_detail(actor, pk)
    today = timezone.localdate()
    context = {
        "profile": profile,
        "licences": queries.licence_flags(profile, today=today, warning_days=settings.MEND_LICENCE_WARNING_DAYS),
        "can_edit": access.can_edit_therapist(actor, profile),
        "today": today,
    }
    return render(request, "people/therapist_detail.html", context)


@actor_required
@require_http_methods(["GET", "POST"])
def therapist_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    profile = queries.therapist_detail(actor, pk)
    access.require_edit_therapist(actor, profile)
    form = TherapistProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.therapist_profile_update(actor=actor, profile=profile, data=form.cleaned_data)
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, "Profile saved.")
            return redirect("therapist_detail", pk=profile.pk)
    status = 400 if form.is_bound else 200
    return render(request, "people/therapist_form.html", {"form": form, "profile": profile}, status=status)


@actor_required
@require_http_methods(["GET", "POST"])
def licence_edit(request: HttpRequest, pk: int, licence_id: int | None = None) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    profile = queries.therapist_detail(actor, pk)
    access.require_edit_therapist(actor, profile)
    licence = _owned(profile.licences.all(), licence_id)
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
def licence_delete(request: HttpRequest, pk: int, licence_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    profile = queries.therapist_detail(actor, pk)
    licence = _owned(profile.licences.all(), licence_id)
    assert isinstance(licence, Licence)
    services.licence_delete(actor=actor, profile=profile, licence=licence)
    messages.success(request, "Licence removed.")
    return redirect("therapist_detail", pk=profile.pk)


@actor_required
@require_http_methods(["GET", "POST"])
def certification_edit(request: HttpRequest, pk: int, certification_id: int | None = None) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    profile = queries.therapist_detail(actor, pk)
    access.require_edit_therapist(actor, profile)
    certification = _owned(profile.certifications.all(), certification_id)
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
def certification_delete(request: HttpRequest, pk: int, certification_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    profile = queries.therapist_detail(actor, pk)
    certification = _owned(profile.certifications.all(), certification_id)
    assert isinstance(certification, Certification)
    services.certification_delete(actor=actor, profile=profile, certification=certification)
    messages.success(request, "Certification removed.")
    return redirect("therapist_detail", pk=profile.pk)


def _owned(items, item_id):  # type: ignore[no-untyped-def]
    """The credential with ``item_id`` among the profile's own (already prefetched), else 404."""
    if item_id is None:
        return None
    for item in items:
        if item.pk == item_id:
            return item
    raise Http404("No such credential.")


# --- Referring providers --------------------------------------------------------------


@actor_required
def referrer_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    q = request.GET.get("q", "").strip()[:100]
    providers = access.referring_providers(actor)
    if q:
        providers = providers.filter(name__icontains=q) | providers.filter(organisation__icontains=q)
    paginator = Paginator(providers.order_by("name"), settings.MEND_PAGE_SIZE)
    page = paginator.get_page(_page_number(request))
    return render(request, "people/referrer_list.html", {"page": page, "q": q})


@actor_required
@require_http_methods(["GET", "POST"])
def referrer_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    provider = access.referring_provider_or_404(actor, pk) if pk is not None else None
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
