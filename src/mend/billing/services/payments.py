"""Payments, refunds and write-offs on issued invoices; package sessions and gift cards as payment.

Every write locks the invoice row first and moves its ``amount_paid`` / ``amount_written_off`` in
the same transaction as the payment row, so an invoice's balance is always the sum of its
payments. Nobody pays more than is owing. A refund goes back to the method that paid (a card
payment to the card, a package session back to the package, a gift card's amount back onto the
card), at most what that payment brought in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.billing.models import (
    DESK_METHODS,
    ZERO,
    GiftCard,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    Package,
    PackageRedemption,
    Payment,
    PaymentKind,
    PaymentMethod,
    PaymentShare,
)
from mend.billing.services.invoices import billing_profile, require_billing, require_corrections
from mend.core import money
from mend.platform import clock
from mend.platform.actor import Actor


def _locked(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().select_related("clinic").get(pk=invoice.pk)


def _require_payable(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.ISSUED or invoice.kind != InvoiceKind.INVOICE:
        raise ValidationError({"__all__": "Issue the invoice before taking a payment for it."})


def _amount(value: Decimal, currency: str, field: str = "amount") -> Decimal:
    if value != money.quantize(value, currency):
        raise ValidationError({field: f"An amount is in whole cents, for example {money.quantize(value, currency)}."})
    if value <= 0:
        raise ValidationError({field: "Enter an amount more than zero."})
    return value


def payment_shares(payment: Payment, lines: Sequence[InvoiceLine], currency: str) -> list[PaymentShare]:
    """``payment`` (or a refund, negative) shared over its invoice's ``lines`` in proportion to their
    totals, each share split into net and tax in its line's proportion, exact to the cent: the shares
    add up to the payment (``money.allocate``). Unsaved; the caller saves them (or bulk-creates)."""
    weights = [abs(line.total) for line in lines]
    if not any(weights):
        return []
    shares = []
    for line, part in zip(lines, money.allocate(payment.amount, weights, currency), strict=True):
        if not part:
            continue
        tax = money.quantize(part * line.tax / line.total, currency) if line.total else ZERO
        shares.append(
            PaymentShare(
                clinic_id=payment.clinic_id,
                payment=payment,
                line=line,
                received_on=payment.received_on,
                kind=payment.kind,
                method=payment.method,
                net=part - tax,
                tax=tax,
            )
        )
    return shares


def shares_in_bulk(payments: Sequence[Payment], lines: Sequence[InvoiceLine], currency: str) -> list[PaymentShare]:
    """The shares of many saved payments at once (the demo's and the benchmark's bulk loads), as
    :func:`payment_shares` makes them one by one."""
    by_invoice: dict[int, list[InvoiceLine]] = {}
    for line in lines:
        by_invoice.setdefault(line.invoice_id, []).append(line)
    return [
        share
        for payment in payments
        for share in payment_shares(payment, by_invoice.get(payment.invoice_id, []), currency)
    ]


def _record(
    invoice: Invoice,
    *,
    actor: Actor | None,
    kind: str,
    method: str,
    amount: Decimal,
    tip: Decimal = ZERO,
    refund_of: Payment | None = None,
    package: Package | None = None,
    gift_card: GiftCard | None = None,
    reference: str = "",
    note: str = "",
    received_on: date | None = None,
) -> Payment:
    now = timezone.now()
    payment = Payment.objects.create(
        clinic_id=invoice.clinic_id,
        invoice=invoice,
        client_id=invoice.client_id,
        kind=kind,
        method=method,
        amount=amount,
        tip=tip,
        refund_of=refund_of,
        package=package,
        gift_card=gift_card,
        reference=reference.strip()[:120],
        note=note.strip()[:200],
        received_at=now,
        received_on=received_on or clock.local_date(now, invoice.clinic.timezone),
        recorded_by=actor.membership if actor is not None else None,
    )
    if kind == PaymentKind.WRITE_OFF:
        invoice.amount_written_off += amount
    else:
        invoice.amount_paid += amount
    PaymentShare.objects.bulk_create(payment_shares(payment, list(invoice.lines.all()), invoice.currency))
    invoice.save(update_fields=["amount_paid", "amount_written_off", "updated_at"])
    audit_record(
        action=Action.CREATE,
        obj=payment,
        client_id=invoice.client_id,
        user=actor.user if actor is not None else None,
        clinic_id=invoice.clinic_id,
    )
    return payment


def _owing(invoice: Invoice, amount: Decimal) -> None:
    if amount > invoice.balance:
        raise ValidationError(
            {"amount": f"That is more than the {invoice.balance} {invoice.currency} owing on {invoice.label}."}
        )


@transaction.atomic
def payment_record(
    *,
    actor: Actor,
    invoice: Invoice,
    method: str,
    amount: Decimal,
    tip: Decimal = ZERO,
    reference: str = "",
    received_on: date | None = None,
) -> Payment:
    """Money taken at the desk: cash, the card terminal, a bank transfer, or an insurer's cheque."""
    require_billing(actor)
    if method not in DESK_METHODS:
        raise ValidationError({"method": "Choose cash, card, bank transfer or insurer."})
    current = _locked(invoice)
    _require_payable(current)
    amount = _amount(amount, current.currency)
    _owing(current, amount)
    if tip:
        if method != PaymentMethod.CARD:
            raise ValidationError({"tip": "Tips are taken on card payments only."})
        if not billing_profile(current.clinic).tips_on_card:
            raise ValidationError({"tip": "This clinic does not take tips (Clinic settings › Billing)."})
        if tip < 0 or tip != money.quantize(tip, current.currency):
            raise ValidationError({"tip": "A tip is a positive amount in whole cents."})
    if received_on is not None and received_on > actor.today():
        raise ValidationError({"received_on": "A payment cannot be received in the future."})
    return _record(
        current,
        actor=actor,
        kind=PaymentKind.PAYMENT,
        method=method,
        amount=amount,
        tip=tip,
        reference=reference,
        received_on=received_on,
    )


def record_online_payment(*, invoice: Invoice, amount: Decimal, reference: str) -> Payment:
    """A payment the provider confirmed (its webhook): no person recorded it. The caller holds the transaction."""
    current = _locked(invoice)
    _require_payable(current)
    amount = min(amount, current.balance)
    if amount <= 0:
        raise ValidationError({"amount": "Nothing is owing on this invoice."})
    return _record(
        current, actor=None, kind=PaymentKind.PAYMENT, method=PaymentMethod.ONLINE, amount=amount, reference=reference
    )


# --- Packages and gift cards as payment ------------------------------------------------------


def usable_packages(*, client_id: int, appointment_type_id: int | None, on: date) -> list[Package]:
    """Packages the client owns or shares with sessions left on ``on``, of that type, soonest to expire first."""
    found = Package.objects.filter(
        Q(client_id=client_id) | Q(shared_with__id=client_id),
        is_active=True,
        starts_on__lte=on,
        expires_on__gte=on,
        sessions_used__lt=F("sessions_total"),
    )
    if appointment_type_id is not None:
        found = found.filter(appointment_type_id=appointment_type_id)
    return list(found.distinct().order_by("expires_on", "id"))


@transaction.atomic
def package_redeem(*, actor: Actor, invoice: Invoice, line: InvoiceLine, package: Package) -> Payment:
    """Pay a visit line with one session of a package: the receipt shows the full fee, paid by package credit."""
    require_billing(actor)
    current = _locked(invoice)
    _require_payable(current)
    if line.invoice_id != current.pk or line.kind != LineKind.SERVICE:
        raise ValidationError({"line": "A package pays for a treatment line of this invoice."})
    if PackageRedemption.objects.filter(line=line, reversed_at__isnull=True).exists():
        raise ValidationError({"line": "A package already paid for this visit."})
    row = Package.objects.select_for_update().get(pk=package.pk)
    on = line.service_on or actor.today()
    shared = row.client_id == current.client_id or row.shared_with.filter(pk=current.client_id).exists()
    if row.clinic_id != current.clinic_id or not shared:
        raise ValidationError({"package": "That package is not this client's, nor shared with them."})
    if not row.is_active:
        raise ValidationError({"package": "That package is not paid for yet."})
    if row.appointment_type_id != line.appointment_type_id:
        raise ValidationError({"package": f"{row.name} is for {row.appointment_type.name}, not this treatment."})
    if not (row.starts_on <= on <= row.expires_on):
        raise ValidationError({"package": f"{row.name} expired on {row.expires_on:%-d %B %Y}."})
    if row.sessions_left <= 0:
        raise ValidationError({"package": f"{row.name} has no sessions left."})
    amount = min(line.total, current.balance)
    if amount <= 0:
        raise ValidationError({"line": "Nothing is owing for this visit."})
    # The session's worth to the clinic (for the package liability): the price shared over the sessions.
    shares = money.allocate(row.price, [1] * row.sessions_total, current.currency) if row.price else None
    value = shares[row.sessions_used] if shares else ZERO
    Package.objects.filter(pk=row.pk).update(sessions_used=F("sessions_used") + 1)
    payment = _record(
        current,
        actor=actor,
        kind=PaymentKind.PAYMENT,
        method=PaymentMethod.PACKAGE,
        amount=amount,
        package=row,
        reference=row.name,
    )
    PackageRedemption.objects.create(
        clinic_id=current.clinic_id, package=row, line=line, payment=payment, value=value, redeemed_on=on
    )
    return payment


def gift_card_by_code(*, clinic_id: int, code: str) -> GiftCard:
    normal = "".join(ch for ch in code.upper() if ch.isalnum())
    pretty = "-".join(normal[i : i + 4] for i in range(0, len(normal), 4))
    card = GiftCard.objects.filter(clinic_id=clinic_id, code=pretty).first()
    if card is None:
        raise ValidationError({"code": "No gift card has that code here; check the letters and digits."})
    return card


@transaction.atomic
def gift_card_redeem(*, actor: Actor, invoice: Invoice, code: str, amount: Decimal) -> Payment:
    require_billing(actor)
    current = _locked(invoice)
    _require_payable(current)
    card = GiftCard.objects.select_for_update().get(pk=gift_card_by_code(clinic_id=current.clinic_id, code=code).pk)
    if not card.is_active:
        raise ValidationError({"code": "That gift card is not active (not paid for, or cancelled)."})
    if card.expires_on is not None and card.expires_on < actor.today():
        raise ValidationError({"code": f"That gift card expired on {card.expires_on:%-d %B %Y}."})
    amount = _amount(amount, current.currency)
    _owing(current, amount)
    if amount > card.balance:
        raise ValidationError({"amount": f"The gift card holds {card.balance} {current.currency}."})
    card.balance -= amount
    card.save(update_fields=["balance"])
    return _record(
        current,
        actor=actor,
        kind=PaymentKind.PAYMENT,
        method=PaymentMethod.GIFT_CARD,
        amount=amount,
        gift_card=card,
        reference=str(card),
    )


# --- Refunds and write-offs -----------------------------------------------------------------


def refundable(payment: Payment) -> Decimal:
    """What of a payment can still go back: its amount less what was refunded already."""
    refunded = payment.refunds.aggregate(total=Sum("amount"))["total"] or ZERO
    return payment.amount + refunded


@transaction.atomic
def payment_refund(*, actor: Actor, payment: Payment, amount: Decimal, reason: str, reference: str = "") -> Payment:
    """Give money back the way it came; the invoice's balance rises by the same amount.

    A package payment comes back whole (the session returns to the package); a gift card's
    amount goes back onto the card. An online payment's refund goes through the provider
    (``mend.billing.services.checkout``), not here.
    """
    require_corrections(actor)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the money goes back."})
    current = _locked(payment.invoice)
    original = Payment.objects.select_for_update().get(pk=payment.pk, invoice=current)
    if original.kind != PaymentKind.PAYMENT:
        raise ValidationError({"__all__": "Only a payment is refunded."})
    amount = _amount(amount, current.currency)
    left = refundable(original)
    if amount > left:
        raise ValidationError({"amount": f"At most {left} {current.currency} of this payment can go back."})
    if original.method == PaymentMethod.PACKAGE:
        if amount != left:
            raise ValidationError({"amount": "A package session comes back whole."})
        redemption = PackageRedemption.objects.select_for_update().get(payment=original)
        redemption.reversed_at = timezone.now()
        redemption.save(update_fields=["reversed_at"])
        Package.objects.filter(pk=redemption.package_id).update(sessions_used=F("sessions_used") - 1)
    elif original.method == PaymentMethod.GIFT_CARD:
        card = GiftCard.objects.select_for_update().get(pk=original.gift_card_id or 0)
        card.balance += amount
        card.save(update_fields=["balance"])
    return _record(
        current,
        actor=actor,
        kind=PaymentKind.REFUND,
        method=original.method,
        amount=-amount,
        refund_of=original,
        package=original.package,
        gift_card=original.gift_card,
        reference=reference,
        note=reason,
    )


@transaction.atomic
def invoice_write_off(*, actor: Actor, invoice: Invoice, amount: Decimal, reason: str) -> Payment:
    """Stop asking for a debt the clinic will not collect; the write-off report lists it."""
    require_corrections(actor)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the debt is written off."})
    current = _locked(invoice)
    _require_payable(current)
    amount = _amount(amount, current.currency)
    _owing(current, amount)
    return _record(
        current, actor=actor, kind=PaymentKind.WRITE_OFF, method=PaymentMethod.WRITE_OFF, amount=amount, note=reason
    )
