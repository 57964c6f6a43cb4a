"""Referrals: the physician's prescription, its document, and the ICD-10-CM search that fills it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mend import access
from mend.clinical import icd10, queries, services
from mend.clinical.forms.referrals import ReferralForm
from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required, merge_validation_error

ICD10_RESULTS = 20


@actor_required
@require_http_methods(["GET", "POST"])
def referral_edit(request: ActorRequest, pk: int | None = None, referral_id: int | None = None) -> HttpResponse:
    actor = request.actor
    start = queries.referral_form(actor, episode_id=pk, referral_id=referral_id, reading=request.method == "GET")
    episode, referral = start.episode, start.referral
    if not episode.is_open:
        # The service refuses the change too; here the page says so instead of a form.
        messages.info(request, "This episode was discharged; its referrals can no longer change.")
        return redirect("chart", pk=episode.pk)
    providers = queries.referring_provider_choices(actor)
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
def referral_close(request: ActorRequest, referral_id: int) -> HttpResponse:
    actor = request.actor
    referral = queries.referral_or_404(actor, referral_id)
    try:
        services.referral_close(actor=actor, referral=referral)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Referral closed: no further visits count against it.")
    return redirect("chart", pk=referral.episode_id)


@actor_required
@require_GET
def referral_document(request: ActorRequest, referral_id: int) -> FileResponse:
    referral, handle = queries.referral_document(request.actor, referral_id)
    return FileResponse(
        handle,
        # The type was detected from the file's bytes when it was stored (services.check_document).
        content_type=referral.document_type or "application/octet-stream",
        as_attachment=True,
        filename=referral.document_download_name,
    )


@actor_required
@require_GET
def icd10_search(request: ActorRequest) -> HttpResponse:
    # The code set is public reference data, not client information: not audited.
    access.require_clinical(request.actor)
    q = request.GET.get("q", "").strip()[:80]
    codes = icd10.search(q, limit=ICD10_RESULTS) if len(q) >= 2 else []
    return render(request, "clinical/_icd10_results.html", {"codes": codes, "q": q})
