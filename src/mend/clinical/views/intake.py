"""The health-history questionnaire a new client answers from the emailed link (signed out), and
the staff's "mark reviewed"."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from mend.clinical import services
from mend.clinical.forms.intake import ClientIntakeForm
from mend.clinical.queries import intake as queries
from mend.clinical.views.screening import _answers_to_fields
from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required, merge_validation_error

_UNUSABLE = {
    "invalid": (
        404,
        "This link does not work",
        "Check that the whole link from the email was opened, or call the clinic: your therapist can ask "
        "the questions at your visit.",
    ),
    "expired": (
        410,
        "This link has expired",
        "The link worked for a limited time. Call the clinic: they can send a new one, or your therapist "
        "will ask the questions at your visit.",
    ),
    "used": (
        409,
        "These answers were already sent",
        "Thank you: your answers reached the clinic, and the link works once. To change an answer, call the "
        "clinic or tell your therapist at your visit.",
    ),
}


def _unusable(request: HttpRequest, reason: str) -> HttpResponse:
    status, title, message = _UNUSABLE[reason]
    return render(request, "clinical/intake/unusable.html", {"title": title, "message": message}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def client_intake(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: no sign-in. A used, expired or unknown link answers a page saying what to do."""
    now = timezone.now()
    try:
        intake = queries.intake_by_token(token, now=now)
    except queries.IntakeUnusable as unusable:
        return _unusable(request, unusable.reason)
    form = ClientIntakeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_intake_submit(
                token=token,
                answers=form.answers(),
                findings=form.findings(),
                pregnancy_weeks=form.cleaned_data.get("pregnancy_weeks"),
                notes=form.cleaned_data.get("notes") or "",
                now=now,
            )
        except queries.IntakeUnusable as unusable:
            return _unusable(request, unusable.reason)
        except ValidationError as error:
            merge_validation_error(form, _answers_to_fields(error))
        else:
            # The thanks page confirms a sending only to whoever just sent it.
            request.session["clinical_intake_sent"] = True
            return redirect("client_intake_thanks")
    context = {
        "intake": intake,
        "first_name": intake.client.chosen_name or intake.client.legal_given_name,
        "clinic": intake.clinic,
        "form": form,
    }
    return render(request, "clinical/intake/form.html", context, status=400 if form.is_bound else 200)


@never_cache
def client_intake_thanks(request: HttpRequest) -> HttpResponse:
    """After a sending, the confirmation; opened directly, a neutral page (it confirms nothing)."""
    sent = bool(request.session.pop("clinical_intake_sent", False))
    return render(request, "clinical/intake/thanks.html", {"sent": sent})


@actor_required
@require_POST
def client_intake_review(request: ActorRequest, pk: int) -> HttpResponse:
    intake = queries.intake_or_404(request.actor, pk)
    services.client_intake_review(actor=request.actor, intake=intake)
    messages.success(request, "Health history marked reviewed.")
    return redirect("client_detail", pk=intake.client_id)
