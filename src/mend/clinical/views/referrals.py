"""Referrals: the physician's prescription, its document, and the ICD-10-CM search that fills it."""

from __future__ import annotations

from pathlib import PurePosixPath

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mend import access
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinical import icd10, services
from mend.clinical.forms.referrals import ReferralForm
from mend.platform.pages import actor_required, merge_validation_error

ICD10_RESULTS = 20


@actor_required
@require_http_methods(["GET", "POST"])
def referral_edit(request: HttpRequest, pk: int | None = None, referral_id: int | None = None) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    referral = access.referral_or_404(actor, referral_id) if referral_id is not None else None
    episode = access.episode_or_404(actor, referral.episode_id if referral else pk)  # type: ignore[arg-type]
    if not episode.is_open:
        messages.info(request, "This episode was discharged; its referrals can no longer change.")
        return redirect("chart", pk=episode.pk)
    providers = access.referring_providers(actor).order_by("name")
    form = ReferralForm(request.POST or None, request.FILES or None, instance=referral, providers=providers)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        diagnoses = data.pop("diagnoses")
        provider = data.pop("provider")
        document = data.pop("document")
        try:
            services.referral_save(
                actor=actor,
                episode=episode,
                data=data,
                diagnoses=diagnoses,
                provider=provider,
                document=document,
                referral=referral,
            )
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, "Referral saved." if referral else "Referral added.")
            return redirect("chart", pk=episode.pk)
    if request.method == "GET" and referral is not None:
        audit_record(action=Action.VIEW, obj=referral, client_id=referral.client_id, user=actor.user)
    context = {
        "form": form,
        "episode": episode,
        "client": episode.client,
        "referral": referral,
        # A browser never re-sends a chosen file after an error: say so rather than lose it silently.
        "file_dropped": bool(request.FILES) and bool(form.errors),
    }
    return render(request, "clinical/referral_form.html", context, status=400 if form.is_bound else 200)


@actor_required
@require_POST
def referral_close(request: HttpRequest, referral_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    referral = access.referral_or_404(actor, referral_id)
    services.referral_close(actor=actor, referral=referral)
    messages.success(request, "Referral closed: no further visits count against it.")
    return redirect("chart", pk=referral.episode_id)


@actor_required
@require_GET
def referral_document(request: HttpRequest, referral_id: int) -> FileResponse:
    actor = request.actor  # type: ignore[attr-defined]
    referral = access.referral_or_404(actor, referral_id)
    if not referral.document:
        raise Http404("This referral has no document attached.")
    audit_record(action=Action.VIEW, obj=referral, client_id=referral.client_id, user=actor.user)
    return FileResponse(
        referral.document.open("rb"),
        # The type was read from the file's first bytes when it was stored (services.check_document).
        content_type=referral.document_type or "application/octet-stream",
        as_attachment=True,
        filename=PurePosixPath(referral.document.name).name,
    )


@actor_required
@require_GET
def icd10_search(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    access.require_clinical(actor)
    q = request.GET.get("q", "").strip()[:80]
    codes = icd10.search(q, limit=ICD10_RESULTS) if len(q) >= 2 else []
    return render(request, "clinical/_icd10_results.html", {"codes": codes, "q": q})
