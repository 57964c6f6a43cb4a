"""Paying a deposit online (public: the booking's signed link is the credential) and the provider's webhook."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from mend.billing import providers
from mend.billing.services import checkout
from mend.scheduling.queries.online import linked_appointment

logger = logging.getLogger(__name__)


@require_POST
def deposit_pay(request: HttpRequest, token: str) -> HttpResponse:
    """Open the provider's payment page for the deposit and send the client there."""
    appointment = linked_appointment(token, "booked").appointment
    done = request.build_absolute_uri(reverse("book_done", kwargs={"slug": appointment.clinic.slug, "token": token}))
    try:
        url = checkout.deposit_checkout_start(appointment=appointment, success_url=done, cancel_url=done)
    except ValidationError as error:
        context = {"clinic": appointment.clinic, "title": "Deposit", "text": " ".join(error.messages)}
        return render(request, "scheduling/online/message.html", context, status=409)
    return redirect(url)


@require_POST
def package_buy(request: HttpRequest, token: str, plan_pk: int) -> HttpResponse:
    """Buy a package of the booked treatment online: the provider's payment page for its price."""
    appointment = linked_appointment(token, "booked").appointment
    done = request.build_absolute_uri(reverse("book_done", kwargs={"slug": appointment.clinic.slug, "token": token}))
    try:
        url = checkout.package_checkout_start(
            appointment=appointment, plan_id=plan_pk, success_url=done, cancel_url=done
        )
    except ValidationError as error:
        context = {"clinic": appointment.clinic, "title": "Packages", "text": " ".join(error.messages)}
        return render(request, "scheduling/online/message.html", context, status=409)
    return redirect(url)


@csrf_exempt
@require_POST
def provider_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events: 200 once applied (or already), 400 for a payload whose signature does not hold."""
    try:
        outcome = checkout.webhook_handle(payload=request.body, signature=request.headers.get("Stripe-Signature", ""))
    except providers.WebhookSignatureError:
        return HttpResponse("bad signature", status=400, content_type="text/plain")
    logger.info("payment webhook: %s", outcome)
    return HttpResponse(outcome, content_type="text/plain")


urlpatterns = [
    path("billing/deposit/<str:token>/pay/", deposit_pay, name="deposit_pay"),
    path("billing/deposit/<str:token>/package/<int:plan_pk>/", package_buy, name="package_buy"),
    path("billing/webhooks/stripe/", provider_webhook, name="provider_webhook"),
]
