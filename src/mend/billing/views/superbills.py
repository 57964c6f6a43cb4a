"""Superbills: a client's visits over a period as a page and a PDF, and one invoice's as a PDF.

The PDF is the page's own template rendered with ``for_pdf``, which swaps the site's chrome for the
document stylesheet (billing/document.css); nothing is laid out twice.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import path

from mend.billing.queries import superbills as q
from mend.billing.services.invoices import require_billing
from mend.people import queries as people_queries
from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required, render_page
from mend.platform.pdf import render_pdf

TEMPLATE = "billing/superbill.html"


def _period(request: ActorRequest) -> tuple[date, date, list[str]]:
    """The period asked in ``?from=&to=``; a bad date falls back to this month, with the reason."""
    try:
        start, end = q.parse_period(request.actor, request.GET.get("from", "")[:20], request.GET.get("to", "")[:20])
    except ValidationError as error:
        start, end = q.default_period(request.actor)
        return start, end, [*error.messages, "Showing this month instead."]
    return start, end, []


@actor_required
def superbill_client(request: ActorRequest, client_pk: int) -> HttpResponse:
    require_billing(request.actor)
    start, end, problems = _period(request)
    try:
        superbill = q.superbill_for_period(request.actor, client_pk, start, end)
    except ValidationError as error:
        problems = [*problems, *error.messages, "Showing this month instead."]
        start, end = q.default_period(request.actor)
        superbill = q.superbill_for_period(request.actor, client_pk, start, end)
    return render_page(
        request,
        TEMPLATE,
        {"section": "billing", "superbill": superbill, "period_problems": problems, "for_pdf": False},
    )


@actor_required
def superbill_client_pdf(request: ActorRequest, client_pk: int) -> HttpResponse:
    require_billing(request.actor)
    # The client first: another clinic's, or one off the therapist's care team, is a 404 either way.
    people_queries.client_or_404(request.actor, client_pk)
    start, end, problems = _period(request)
    if problems:
        messages.error(request, " ".join(problems))
        return redirect("superbill_client", client_pk)
    try:
        superbill = q.superbill_for_period(request.actor, client_pk, start, end, printing=True)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("superbill_client", client_pk)
    return _pdf(request, superbill)


@actor_required
def superbill_invoice_pdf(request: ActorRequest, pk: int) -> HttpResponse:
    require_billing(request.actor)
    try:
        superbill = q.superbill_for_visit(request.actor, pk, printing=True)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("invoice_detail", pk)
    return _pdf(request, superbill)


def _pdf(request: ActorRequest, superbill: q.Superbill) -> HttpResponse:
    html = render_to_string(TEMPLATE, {"superbill": superbill, "for_pdf": True}, request=request)
    response = HttpResponse(render_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{q.filename(superbill)}"'
    return response


urlpatterns = [
    path("billing/superbills/client/<int:client_pk>/", superbill_client, name="superbill_client"),
    path("billing/superbills/client/<int:client_pk>.pdf", superbill_client_pdf, name="superbill_client_pdf"),
    path("billing/invoices/<int:pk>/superbill.pdf", superbill_invoice_pdf, name="superbill_invoice_pdf"),
]
