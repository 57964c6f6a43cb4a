"""Deposits at online booking through the payment provider, its webhooks, and refunds to the card.

- **The deposit.** When the clinic asks a deposit (``BillingProfile.deposit_percent``) and a provider
  is configured, the booked page offers to pay it. Paying issues the visit's invoice (full fee, its
  tax) and opens a Checkout session for the deposit; a second click while it is open returns the
  same session. The booking holds while the session is open; when it expires unpaid (the
  provider's ``checkout.session.expired``), the appointment is cancelled and its time is free again.
- **Webhooks are handled once.** The event's id is written in the same transaction as its effect
  (``ProviderEventSeen``, unique): a retried delivery finds it and does nothing, and an effect that
  fails rolls the id back so the provider's retry tries again. A bad signature changes nothing.
- **Refunds go back to the card** through the provider, never more than the payment brought.
- Nothing here talks to the provider inside a database transaction that holds a lock: the HTTP call
  happens between transactions, so a slow provider never blocks the desk.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from mend.billing import providers
from mend.billing.models import (
    ZERO,
    BillingProfile,
    Invoice,
    InvoiceStatus,
    PackagePlan,
    Payment,
    PaymentKind,
    PaymentMethod,
    ProviderCheckout,
    ProviderEventSeen,
)
from mend.billing.services import credits, invoices, payments
from mend.core import money
from mend.platform.actor import Actor
from mend.scheduling.models import Appointment, AppointmentStatus

CHECKOUT_MINUTES = 30  # Stripe's shortest session


def to_minor(amount: Decimal, currency: str) -> int:
    return int(money.quantize(amount, currency).scaleb(money.minor_unit_exponent(currency)))


def from_minor(amount_minor: int, currency: str) -> Decimal:
    return money.quantize(Decimal(amount_minor).scaleb(-money.minor_unit_exponent(currency)), currency)


@dataclass(frozen=True, slots=True)
class Deposit:
    amount: Decimal
    currency: str
    percent: int
    paid: bool
    open_checkout: ProviderCheckout | None


def deposit_due(appointment: Appointment) -> Deposit | None:
    """The deposit this online booking asks, or None (no deposit, no provider, or not an online booking)."""
    if appointment.channel != Appointment.Channel.ONLINE or appointment.status != AppointmentStatus.BOOKED:
        return None
    profile = BillingProfile.objects.filter(clinic_id=appointment.clinic_id).first()
    if profile is None or not profile.deposit_percent or providers.provider_from_settings() is None:
        return None
    invoice = Invoice.objects.filter(appointment=appointment).first()
    currency = appointment.clinic.currency
    if invoice is not None and invoice.status == InvoiceStatus.ISSUED:
        total = invoice.total
        paid = invoice.amount_paid > 0
    else:
        amount, rate = invoices.service_price(appointment=appointment)
        tax = money.line_amounts(Decimal(1), amount, ZERO, rate.rate if rate else Decimal(0), currency)
        total, paid = tax.total, False
    deposit = money.quantize(total * profile.deposit_percent / Decimal(100), currency)
    if deposit <= 0:
        return None
    open_checkout = (
        ProviderCheckout.objects.filter(invoice=invoice, status=ProviderCheckout.Status.OPEN).order_by("-pk").first()
        if invoice is not None
        else None
    )
    return Deposit(deposit, currency, profile.deposit_percent, paid, open_checkout)


@transaction.atomic
def _deposit_invoice(appointment: Appointment) -> Invoice:
    """The appointment's invoice, issued (made and issued now if it has none)."""
    Appointment.objects.select_for_update().filter(pk=appointment.pk).first()
    invoice = Invoice.objects.filter(appointment=appointment).first()
    if invoice is None:
        invoice = invoices.invoice_create(
            actor=None, clinic=appointment.clinic, client=appointment.client, appointment=appointment
        )
        invoices._add_line(invoice, invoices._service_line(appointment, invoice.currency))
    if invoice.status == InvoiceStatus.DRAFT:
        invoice = invoices.invoice_issue(actor=None, invoice=invoice)
    return invoice


def deposit_checkout_start(*, appointment: Appointment, success_url: str, cancel_url: str) -> str:
    """Open (or reopen) the provider's payment page for the deposit; its address."""
    due = deposit_due(appointment)
    if due is None:
        raise ValidationError({"__all__": "No deposit is asked for this booking."})
    if due.paid:
        raise ValidationError({"__all__": "The deposit is paid already. Thank you."})
    if due.open_checkout is not None:
        return due.open_checkout.url
    invoice = _deposit_invoice(appointment)
    return _open_checkout(
        invoice,
        amount=due.amount,
        description=f"Deposit: {appointment.appointment_type.name} at {appointment.clinic.name}",
        email=appointment.client.email,
        success_url=success_url,
        cancel_url=cancel_url,
    )


def _open_checkout(
    invoice: Invoice, *, amount: Decimal, description: str, email: str, success_url: str, cancel_url: str
) -> str:
    provider = providers.provider_from_settings()
    if provider is None:
        raise ValidationError({"__all__": "This clinic takes payments at the clinic only."})
    request = providers.CheckoutRequest(
        amount_minor=to_minor(amount, invoice.currency),
        currency=invoice.currency,
        description=description,
        reference=f"invoice-{invoice.pk}",
        customer_email=email,
        success_url=success_url,
        cancel_url=cancel_url,
        expires_in_minutes=CHECKOUT_MINUTES,
        metadata={"invoice": str(invoice.pk), "clinic": str(invoice.clinic_id)},
    )
    try:
        session = provider.create_checkout(request)
    except providers.ProviderError as error:
        raise ValidationError({"__all__": f"The payment page could not be opened: {error}"}) from None
    checkout, _ = ProviderCheckout.objects.get_or_create(
        session_id=session.session_id,
        defaults={
            "clinic_id": invoice.clinic_id,
            "invoice": invoice,
            "provider": session.provider,
            "url": session.url,
            "amount": amount,
        },
    )
    return checkout.url


def packages_online(appointment: Appointment) -> list[PackagePlan]:
    """Packages of the booked treatment the clinic sells online (none without a provider)."""
    if providers.provider_from_settings() is None:
        return []
    return list(
        PackagePlan.objects.filter(
            clinic_id=appointment.clinic_id,
            appointment_type_id=appointment.appointment_type_id,
            sold_online=True,
            is_active=True,
        ).order_by("sessions")
    )


def package_checkout_start(*, appointment: Appointment, plan_id: int, success_url: str, cancel_url: str) -> str:
    """The booking's client buys a package online: its invoice is issued and the provider's page opened."""
    plan = next((p for p in packages_online(appointment) if p.pk == plan_id), None)
    if plan is None:
        raise ValidationError({"plan": "That package is not sold online here."})
    invoice = credits.package_sell_online(client=appointment.client, plan=plan)
    return _open_checkout(
        invoice,
        amount=invoice.total,
        description=f"{plan.name} at {appointment.clinic.name}",
        email=appointment.client.email,
        success_url=success_url,
        cancel_url=cancel_url,
    )


def webhook_handle(*, payload: bytes, signature: str) -> str:
    """Apply one provider event once; what was done (for the log). Raises WebhookSignatureError."""
    provider = providers.provider_from_settings()
    if provider is None:
        raise providers.WebhookSignatureError("no payment provider is configured")
    event = provider.parse_webhook(payload, signature)
    if event.kind == "ignored":
        return "ignored"
    try:
        with transaction.atomic():
            ProviderEventSeen.objects.create(provider=provider.name, event_id=event.event_id)
            return _apply(event)
    except IntegrityError:
        return "already handled"


def _apply(event: providers.ProviderEvent) -> str:
    checkout = (
        ProviderCheckout.objects.select_for_update(of=("self",))
        .select_related("invoice__appointment")
        .filter(session_id=event.session_id or "")
        .first()
    )
    if event.kind == "checkout_completed":
        if checkout is None or checkout.status == ProviderCheckout.Status.PAID:
            return "nothing to do"
        checkout.status = ProviderCheckout.Status.PAID
        checkout.payment_reference = event.payment_reference or ""
        checkout.save(update_fields=["status", "payment_reference"])
        amount = (
            from_minor(event.amount_minor or 0, checkout.invoice.currency) if event.amount_minor else checkout.amount
        )
        payments.record_online_payment(invoice=checkout.invoice, amount=amount, reference=checkout.payment_reference)
        checkout.invoice.refresh_from_db()
        credits.activate_paid_credits(checkout.invoice)
        return "paid"
    if event.kind == "checkout_expired":
        if checkout is None or checkout.status != ProviderCheckout.Status.OPEN:
            return "nothing to do"
        checkout.status = ProviderCheckout.Status.EXPIRED
        checkout.save(update_fields=["status"])
        appointment = checkout.invoice.appointment
        unpaid = not Payment.objects.filter(invoice=checkout.invoice, kind=PaymentKind.PAYMENT).exists()
        if appointment is not None and unpaid and appointment.status == AppointmentStatus.BOOKED:
            from mend.scheduling.services import appointment_cancel

            # The time goes back to the calendar; the issued invoice is reversed by a credit note.
            appointment_cancel(actor=None, appointment=appointment, reason="The deposit was not paid in time.")
            _credit_whole(checkout.invoice)
            return "lapsed"
        if appointment is None and unpaid:
            # A package bought online and never paid: its sale is reversed and the package withdrawn.
            _credit_whole(checkout.invoice)
            return "withdrawn"
        return "expired"
    return "noted"


def _credit_whole(invoice: Invoice) -> None:
    """Reverse a lapsed booking's invoice in full (the clinic's automation, not a person's correction)."""
    current = Invoice.objects.select_for_update().select_related("clinic").get(pk=invoice.pk)
    invoices.issue_credit_note(
        current, list(current.lines.all()), reason="Booking lapsed: the deposit was not paid.", actor=None
    )


def online_refund(*, actor: Actor, payment: Payment, amount: Decimal, reason: str) -> Payment:
    """Give an online payment back to the card it came from, through the provider, then record it."""
    invoices.require_corrections(actor)
    if payment.method != PaymentMethod.ONLINE or payment.kind != PaymentKind.PAYMENT:
        raise ValidationError({"__all__": "Only an online card payment is refunded through the provider."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the money goes back."})
    left = payments.refundable(payment)
    if amount <= 0 or amount > left:
        raise ValidationError({"amount": f"Between 0.01 and {left} {payment.invoice.currency}."})
    provider = providers.provider_from_settings()
    if provider is None:
        raise ValidationError({"__all__": "No payment provider is configured to send the money back."})
    count = payment.refunds.count()
    try:
        provider.refund(
            payment.reference, to_minor(amount, payment.invoice.currency), f"refund-{payment.pk}-{count + 1}"
        )
    except providers.ProviderError as error:
        raise ValidationError({"__all__": f"The refund was not made: {error}"}) from None
    with transaction.atomic():
        current = Invoice.objects.select_for_update().select_related("clinic").get(pk=payment.invoice_id)
        return payments._record(
            current,
            actor=actor,
            kind=PaymentKind.REFUND,
            method=PaymentMethod.ONLINE,
            amount=-amount,
            refund_of=payment,
            reference=payment.reference,
            note=reason,
        )
