"""Invoices: drafts and their lines, issuing with a number, credit notes, and what an appointment bills.

- **A draft is free to change; an issued invoice never changes.** Every line write checks the
  invoice is a draft *on the locked row* (``select_for_update``), so a page, the API or a listener
  racing an issue cannot slip a line in after the number is given. A correction is a credit note.
- **Numbers have no gaps and are never reused.** The number comes from the clinic's
  :class:`~mend.billing.models.NumberSequence` row, locked and moved on inside the issuing
  transaction: a rolled-back issue rolls the sequence back with it, and concurrent issues queue on
  the row (PostgreSQL) or on the database's write lock (SQLite's IMMEDIATE transactions). Drafts
  have no number, so deleting one leaves no hole.
- **Cents are exact.** Each line's tax is rounded on the line (``mend.core.money.line_amounts``),
  the invoice's totals are the sums of its lines, and a credit note's lines are the negated lines
  it reverses: the same tax to the cent, and a full reversal leaves exactly nothing owing.
- **What must be on a receipt is checked at issue** (the clinic's receipt standard: in Ontario the
  RMT's registration number and the clinic's HST number), and **billing an insurer past the
  referral** (expired, or its visits used) is refused with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.billing.models import (
    ZERO,
    BillingProfile,
    GiftCard,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    NumberSequence,
    Package,
    Payer,
    Price,
    Product,
    TaxRate,
)
from mend.billing.queries.invoices import receipt_problems
from mend.clinical.models import Referral
from mend.clinics.models import Clinic
from mend.core import money
from mend.people.models import Client
from mend.platform import clock
from mend.platform.actor import Actor
from mend.platform.roles import Role
from mend.scheduling.models import Appointment, AppointmentStatus

BILLING_ROLES = (Role.OWNER, Role.ADMIN, Role.FRONT_DESK, Role.THERAPIST)


def require_billing(actor: Actor) -> None:
    if actor.role not in BILLING_ROLES:
        raise PermissionDenied("Only the clinic's staff take payments.")


def require_corrections(actor: Actor) -> None:
    """Credit notes and write-offs change what the clinic is owed: owners and admins only."""
    if actor.role not in (Role.OWNER, Role.ADMIN):
        raise PermissionDenied("Only the clinic's owners and admins correct issued invoices or write off debts.")


def billing_profile(clinic: Clinic) -> BillingProfile:
    profile, _ = BillingProfile.objects.get_or_create(clinic=clinic)
    return profile


def _locked(invoice: Invoice) -> Invoice:
    # Work on the row we locked, never the caller's copy (it may be stale by now).
    return Invoice.objects.select_for_update().select_related("clinic").get(pk=invoice.pk)


def _require_draft(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.DRAFT:
        raise ValidationError(
            {"__all__": f"{invoice.label} is issued and cannot be changed; correct it with a credit note."}
        )


def _recompute(invoice: Invoice) -> None:
    """Totals are the sums of the lines (each rounded on its own): never computed any other way."""
    subtotal = discount = tax = total = ZERO
    for line in invoice.lines.all():
        subtotal += money.quantize(line.quantity * line.unit_price, invoice.currency)
        discount += line.discount
        tax += line.tax
        total += line.total
    invoice.subtotal, invoice.discount_total, invoice.tax_total, invoice.total = subtotal, discount, tax, total
    invoice.save(update_fields=["subtotal", "discount_total", "tax_total", "total", "updated_at"])


def _apply_amounts(line: InvoiceLine, currency: str) -> None:
    try:
        amounts = money.line_amounts(line.quantity, line.unit_price, line.discount, line.tax_rate, currency)
    except ValueError as exc:
        raise ValidationError({"discount": str(exc)}) from None
    line.net, line.tax, line.total = amounts.net, amounts.tax, amounts.total


def _audit(invoice: Invoice, action: str, actor: Actor | None) -> None:
    audit_record(
        action=action,
        obj=invoice,
        client_id=invoice.client_id,
        user=actor.user if actor is not None else None,
        clinic_id=invoice.clinic_id,
    )


# --- Drafts ---------------------------------------------------------------------------------


@transaction.atomic
def invoice_create(
    *, actor: Actor | None, clinic: Clinic, client: Client, appointment: Appointment | None = None, notes: str = ""
) -> Invoice:
    """A new draft for a client (``actor`` None: the clinic's own automation, such as a completed visit)."""
    if actor is not None:
        require_billing(actor)
    if client.clinic_id != clinic.pk:
        raise ValidationError({"client": "Not found in this clinic."})
    invoice = Invoice(
        clinic=clinic,
        client=client,
        appointment=appointment,
        currency=clinic.currency,
        notes=notes.strip(),
        created_by=actor.membership if actor is not None else None,
    )
    invoice.full_clean(exclude=["clinic", "client", "appointment"])
    invoice.save()
    _audit(invoice, Action.CREATE, actor)
    return invoice


def _next_position(invoice: Invoice) -> int:
    last = invoice.lines.order_by("-position").values_list("position", flat=True).first()
    return (last or 0) + 1


def service_price(*, appointment: Appointment) -> tuple[Decimal, TaxRate | None]:
    """The treatment's price at the appointment's location (or everywhere), else the type's own."""
    prices = {
        p.location_id: p
        for p in Price.objects.filter(appointment_type_id=appointment.appointment_type_id).select_related("tax_rate")
    }
    price = prices.get(appointment.location_id) or prices.get(None)
    if price is not None:
        return price.amount, price.tax_rate
    profile = BillingProfile.objects.filter(clinic_id=appointment.clinic_id).select_related("service_tax_rate").first()
    return appointment.appointment_type.price, profile.service_tax_rate if profile else None


def _member_discount(client_id: int, gross: Decimal, currency: str, on: date) -> tuple[Decimal, str]:
    from mend.billing.models import ClientMembership

    membership = (
        ClientMembership.objects.filter(client_id=client_id, status=ClientMembership.Status.ACTIVE, started_on__lte=on)
        .select_related("plan")
        .order_by("-plan__member_discount_percent")
        .first()
    )
    if membership is None or not membership.plan.member_discount_percent:
        return ZERO, ""
    discount = money.quantize(gross * membership.plan.member_discount_percent / Decimal(100), currency)
    return discount, f"Member price ({membership.plan.name})"


def _add_line(invoice: Invoice, line: InvoiceLine) -> InvoiceLine:
    line.clinic_id = invoice.clinic_id
    line.invoice = invoice
    line.position = _next_position(invoice)
    line.description = line.description.strip()
    if not line.description:
        raise ValidationError({"description": "Say what the line is for."})
    if line.quantity <= 0:
        raise ValidationError({"quantity": "The quantity is more than zero."})
    if line.unit_price < 0:
        raise ValidationError({"unit_price": "A price is not negative; a reduction is a discount."})
    if line.discount < 0:
        raise ValidationError({"discount": "A discount is not negative."})
    _apply_amounts(line, invoice.currency)
    line.full_clean(
        exclude=[
            "clinic",
            "invoice",
            "appointment",
            "appointment_type",
            "therapist",
            "product",
            "package",
            "gift_card",
            "reverses",
        ]
    )
    line.save()
    _recompute(invoice)
    return line


def _tax_of(rate: TaxRate | None) -> tuple[str, Decimal]:
    return (rate.name, rate.rate) if rate is not None else ("", Decimal("0"))


def _service_line(appointment: Appointment, currency: str) -> InvoiceLine:
    amount, rate = service_price(appointment=appointment)
    service_on = clock.local_date(appointment.starts_at, appointment.clinic.timezone)
    discount, reason = _member_discount(appointment.client_id, amount, currency, service_on)
    tax_name, tax_rate = _tax_of(rate)
    return InvoiceLine(
        kind=LineKind.SERVICE,
        description=appointment.appointment_type.name,
        service_on=service_on,
        appointment=appointment,
        appointment_type_id=appointment.appointment_type_id,
        therapist_id=appointment.therapist_id,
        quantity=Decimal("1"),
        unit_price=amount,
        discount=discount,
        discount_reason=reason,
        tax_name=tax_name,
        tax_rate=tax_rate,
    )


@transaction.atomic
def line_add_service(*, actor: Actor, invoice: Invoice, appointment: Appointment) -> InvoiceLine:
    """Charge a visit on a draft, at the price list's fee (member price for a member)."""
    require_billing(actor)
    current = _locked(invoice)
    _require_draft(current)
    if appointment.clinic_id != current.clinic_id or appointment.client_id != current.client_id:
        raise ValidationError({"appointment": "That visit is not this client's."})
    line = _add_line(current, _service_line(appointment, current.currency))
    _audit(current, Action.UPDATE, actor)
    return line


@transaction.atomic
def line_add_product(*, actor: Actor, invoice: Invoice, product: Product, quantity: Decimal) -> InvoiceLine:
    require_billing(actor)
    current = _locked(invoice)
    _require_draft(current)
    if product.clinic_id != current.clinic_id or not product.is_active:
        raise ValidationError({"product": "Not sold here."})
    tax_name, tax_rate = _tax_of(product.tax_rate)
    line = _add_line(
        current,
        InvoiceLine(
            kind=LineKind.PRODUCT,
            description=product.name,
            product=product,
            quantity=quantity,
            unit_price=product.price,
            tax_name=tax_name,
            tax_rate=tax_rate,
            service_on=clock.local_today(current.clinic.timezone),
        ),
    )
    _audit(current, Action.UPDATE, actor)
    return line


@transaction.atomic
def line_add_custom(
    *,
    actor: Actor,
    invoice: Invoice,
    description: str,
    unit_price: Decimal,
    quantity: Decimal = Decimal("1"),
    tax_rate: TaxRate | None = None,
) -> InvoiceLine:
    """A line of the staff's own words (an extra service, a report fee). Never a fee the policy sets."""
    require_billing(actor)
    current = _locked(invoice)
    _require_draft(current)
    if tax_rate is not None and tax_rate.clinic_id != current.clinic_id:
        raise ValidationError({"tax_rate": "Not one of this clinic's tax rates."})
    tax_name, rate = _tax_of(tax_rate)
    line = _add_line(
        current,
        InvoiceLine(
            kind=LineKind.OTHER,
            description=description,
            quantity=quantity,
            unit_price=unit_price,
            tax_name=tax_name,
            tax_rate=rate,
            service_on=clock.local_today(current.clinic.timezone),
        ),
    )
    _audit(current, Action.UPDATE, actor)
    return line


@transaction.atomic
def line_discount_set(*, actor: Actor, line: InvoiceLine, discount: Decimal, reason: str) -> InvoiceLine:
    require_billing(actor)
    current = _locked(line.invoice)
    _require_draft(current)
    row = InvoiceLine.objects.select_for_update().get(pk=line.pk, invoice=current)
    if discount < 0:
        raise ValidationError({"discount": "A discount is not negative."})
    if discount and not reason.strip():
        raise ValidationError({"discount_reason": "Say why the price is reduced; it is printed on the invoice."})
    row.discount, row.discount_reason = discount, reason.strip()[:100]
    _apply_amounts(row, current.currency)
    row.save()
    _recompute(current)
    _audit(current, Action.UPDATE, actor)
    return row


@transaction.atomic
def line_remove(*, actor: Actor, line: InvoiceLine) -> None:
    """Take a line off a draft (a fee the clinic waives, a product not taken). Its package or card goes with it."""
    require_billing(actor)
    current = _locked(line.invoice)
    _require_draft(current)
    row = InvoiceLine.objects.get(pk=line.pk, invoice=current)
    package_id, card_id = row.package_id, row.gift_card_id
    row.delete()
    if package_id is not None:
        Package.objects.filter(pk=package_id, is_active=False).delete()
    if card_id is not None:
        GiftCard.objects.filter(pk=card_id, is_active=False).delete()
    _recompute(current)
    _audit(current, Action.UPDATE, actor)


@transaction.atomic
def invoice_payer_set(*, actor: Actor, invoice: Invoice, payer: Payer | None, referral: Referral | None) -> Invoice:
    """Bill an insurer (under a referral) or the client (self-pay): a draft only."""
    require_billing(actor)
    current = _locked(invoice)
    _require_draft(current)
    if payer is not None and payer.clinic_id != current.clinic_id:
        raise ValidationError({"payer": "Not one of this clinic's payers."})
    if referral is not None and (referral.clinic_id != current.clinic_id or referral.client_id != current.client_id):
        raise ValidationError({"referral": "Not this client's referral."})
    current.payer, current.referral = payer, referral if payer is not None else None
    current.save(update_fields=["payer", "referral", "updated_at"])
    _audit(current, Action.UPDATE, actor)
    return current


@transaction.atomic
def invoice_discard(*, actor: Actor, invoice: Invoice) -> None:
    """Delete a draft (it has no number, so nothing is left out of the sequence)."""
    require_billing(actor)
    current = _locked(invoice)
    _require_draft(current)
    _audit(current, Action.DELETE, actor)
    package_ids = [pk for pk in current.lines.values_list("package_id", flat=True) if pk]
    card_ids = [pk for pk in current.lines.values_list("gift_card_id", flat=True) if pk]
    current.lines.all().delete()
    Package.objects.filter(pk__in=package_ids, is_active=False).delete()
    GiftCard.objects.filter(pk__in=card_ids, is_active=False).delete()
    current.delete()


# --- Issuing -------------------------------------------------------------------------------


def _take_number(clinic_id: int, kind: str) -> int:
    # get_or_create first (a concurrent first issue may both try to create: the loser reads it),
    # then lock the row: the issue that holds it numbers, the next waits and reads the new value.
    NumberSequence.objects.get_or_create(clinic_id=clinic_id, kind=kind)
    sequence = NumberSequence.objects.select_for_update().get(clinic_id=clinic_id, kind=kind)
    number = sequence.next_number
    NumberSequence.objects.filter(pk=sequence.pk).update(next_number=F("next_number") + 1)
    return number


def _authorisation_problem(invoice: Invoice, lines: Sequence[InvoiceLine]) -> str | None:
    """Why this insurer may not be billed under the referral, or None."""
    payer = invoice.payer
    if payer is None or not payer.requires_referral:
        return None
    referral = invoice.referral
    if referral is None:
        return f"{payer.name} is billed only under a physician's referral: choose the referral."
    visits = [line for line in lines if line.kind == LineKind.SERVICE]
    for line in visits:
        day = line.service_on
        if referral.valid_until is not None and day is not None and day > referral.valid_until:
            return (
                f"The referral expired on {referral.valid_until:%-d %B %Y}, before this visit of {day:%-d %B %Y}; "
                f"{payer.name} cannot be billed for it. Ask the physician for a new referral, or bill the client."
            )
        if referral.closed_at is not None:
            return "The referral is closed; the insurer cannot be billed under it."
    if referral.visits_authorised is not None:
        billed = (
            InvoiceLine.objects.filter(
                invoice__referral=referral,
                invoice__status=InvoiceStatus.ISSUED,
                invoice__kind=InvoiceKind.INVOICE,
                kind=LineKind.SERVICE,
            )
            .exclude(invoice__amount_credited__gte=F("invoice__total"))
            .count()
        )
        if billed + len(visits) > referral.visits_authorised:
            return (
                f"The referral authorises {referral.visits_authorised} visits and {billed} are already billed to "
                f"{payer.name}; this visit is beyond the authorisation. Bill the client, or ask for more visits."
            )
    return None


@transaction.atomic
def invoice_issue(*, actor: Actor | None, invoice: Invoice, issued_on: date | None = None) -> Invoice:
    """Give a draft its number and freeze it. Refused, naming what is missing, when a rule says so."""
    if actor is not None:
        require_billing(actor)
    current = _locked(invoice)
    _require_draft(current)
    lines = list(current.lines.all())
    if not lines:
        raise ValidationError({"__all__": "An invoice needs at least one line."})
    problems = receipt_problems(current, lines)
    if problems:
        raise ValidationError({"__all__": problems})
    reason = _authorisation_problem(current, lines)
    if reason:
        raise ValidationError({"payer": reason})
    zone = current.clinic.timezone
    now = timezone.now()
    current.issued_at = now
    current.issued_on = issued_on or clock.local_date(now, zone)
    profile = billing_profile(current.clinic)
    current.due_on = current.issued_on + timedelta(days=profile.payment_terms_days)
    current.number = _take_number(current.clinic_id, current.kind)
    current.status = InvoiceStatus.ISSUED
    current.save()
    # Packages and gift cards sold on it can be used from now on.
    Package.objects.filter(pk__in=[line.package_id for line in lines if line.package_id]).update(is_active=True)
    for line in lines:
        if line.gift_card_id:
            GiftCard.objects.filter(pk=line.gift_card_id).update(is_active=True, balance=F("amount"))
    _audit(current, Action.UPDATE, actor)
    return current


# --- Credit notes ---------------------------------------------------------------------------


@transaction.atomic
def credit_note_create(
    *, actor: Actor, invoice: Invoice, line_ids: Iterable[int] | None = None, reason: str
) -> Invoice:
    """Reverse whole lines of an issued invoice (all of them by default) with a credit note, issued at once.

    Each credit line is its invoice line negated, so the tax and totals reverse to the cent. A line
    is credited once. What the client already paid beyond what is now owed is theirs to be refunded
    (the invoice shows it). A package or gift card sold on a credited line stops being usable if it
    is untouched; one already used is refused (refund its use first).
    """
    require_corrections(actor)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the invoice is corrected; it is printed on the credit note."})
    current = _locked(invoice)
    if current.status != InvoiceStatus.ISSUED or current.kind != InvoiceKind.INVOICE:
        raise ValidationError({"__all__": "Only an issued invoice is corrected by a credit note."})
    lines = list(current.lines.all())
    wanted = set(line_ids) if line_ids is not None else {line.pk for line in lines}
    if not wanted:
        raise ValidationError({"lines": "Choose the lines to credit."})
    already = set(
        InvoiceLine.objects.filter(invoice__corrects=current, reverses__isnull=False).values_list(
            "reverses_id", flat=True
        )
    )
    chosen = [line for line in lines if line.pk in wanted]
    if len(chosen) != len(wanted):
        raise ValidationError({"lines": "Those lines are not on this invoice."})
    if any(line.pk in already for line in chosen):
        raise ValidationError({"lines": "A line of these was credited already."})
    for line in chosen:
        if line.package_id:
            package = Package.objects.select_for_update().get(pk=line.package_id)
            if package.sessions_used:
                raise ValidationError(
                    {"lines": f"{package.name} has been used; refund its sessions before crediting it."}
                )
            package.is_active = False
            package.save(update_fields=["is_active"])
        if line.gift_card_id:
            card = GiftCard.objects.select_for_update().get(pk=line.gift_card_id)
            if card.balance != card.amount:
                raise ValidationError({"lines": f"{card} has been spent from; it cannot be credited whole."})
            card.is_active = False
            card.balance = ZERO
            card.save(update_fields=["is_active", "balance"])
    return issue_credit_note(current, chosen, reason=reason, actor=actor)


def reversing_line(line: InvoiceLine, *, note: Invoice, position: int) -> InvoiceLine:
    """The credit note's line that reverses ``line``: the same line negated, amounts and all, so the
    tax and totals reverse to the cent (unsaved)."""
    return InvoiceLine(
        clinic_id=line.clinic_id,
        invoice=note,
        position=position,
        kind=line.kind,
        description=line.description,
        service_on=line.service_on,
        appointment_id=line.appointment_id,
        appointment_type_id=line.appointment_type_id,
        therapist_id=line.therapist_id,
        product_id=line.product_id,
        reverses=line,
        quantity=-line.quantity,
        unit_price=line.unit_price,
        discount=-line.discount,
        discount_reason=line.discount_reason,
        tax_name=line.tax_name,
        tax_rate=line.tax_rate,
        net=-line.net,
        tax=-line.tax,
        total=-line.total,
    )


def issue_credit_note(current: Invoice, chosen: Sequence[InvoiceLine], *, reason: str, actor: Actor | None) -> Invoice:
    """Issue a credit note reversing ``chosen`` lines of the locked invoice ``current`` (checked by the caller)."""
    note = Invoice(
        clinic_id=current.clinic_id,
        client_id=current.client_id,
        kind=InvoiceKind.CREDIT_NOTE,
        corrects=current,
        currency=current.currency,
        notes=reason[:300],
        created_by=actor.membership if actor is not None else None,
    )
    note.save()
    InvoiceLine.objects.bulk_create(
        [reversing_line(line, note=note, position=position) for position, line in enumerate(chosen, start=1)]
    )
    _recompute(note)
    now = timezone.now()
    note.issued_at = now
    note.issued_on = clock.local_date(now, current.clinic.timezone)
    note.number = _take_number(current.clinic_id, InvoiceKind.CREDIT_NOTE)
    note.status = InvoiceStatus.ISSUED
    note.save()
    current.amount_credited = current.amount_credited - note.total
    current.save(update_fields=["amount_credited", "updated_at"])
    _audit(note, Action.CREATE, actor)
    _audit(current, Action.UPDATE, actor)
    return note


# --- What an appointment bills (a listener on the booking service) ------------------------------


def _fee_invoice(appointment: Appointment, kind: str, amount: Decimal, description: str) -> None:
    if amount <= 0 or Invoice.objects.filter(appointment=appointment).exists():
        return
    invoice = invoice_create(actor=None, clinic=appointment.clinic, client=appointment.client, appointment=appointment)
    profile = billing_profile(appointment.clinic)
    # A fee for time kept and not used is a charge for the service: it carries the service's tax.
    tax_name, tax_rate = _tax_of(profile.service_tax_rate)
    _add_line(
        invoice,
        InvoiceLine(
            kind=kind,
            description=description,
            service_on=clock.local_date(appointment.starts_at, appointment.clinic.timezone),
            appointment=appointment,
            appointment_type_id=appointment.appointment_type_id,
            therapist_id=appointment.therapist_id,
            unit_price=amount,
            tax_name=tax_name,
            tax_rate=tax_rate,
        ),
    )


def is_late_cancellation(appointment: Appointment, profile: BillingProfile) -> bool:
    if appointment.cancelled_at is None or not profile.late_cancel_hours:
        return False
    return appointment.starts_at - appointment.cancelled_at < timedelta(hours=profile.late_cancel_hours)


def on_appointment_change(change: object) -> None:
    """A completed visit gets its draft invoice; a no-show or a late cancellation its fee, as a draft.

    Drafts, so the desk sees them at checkout and may waive a fee by taking its line off. Runs in
    the booking service's transaction: the visit and its invoice are saved together or not at all.
    """
    from mend.scheduling.services.booking import Change

    assert isinstance(change, Change)
    appointment = change.appointment
    if change.kind == "status" and change.previous_status in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW):
        # Undone (completed → arrived, no-show → booked): the draft it made goes; an issued one stays
        # and is corrected by a credit note like any other.
        for draft in Invoice.objects.filter(appointment=appointment, status=InvoiceStatus.DRAFT):
            draft.lines.all().delete()
            _audit(draft, Action.DELETE, None)
            draft.delete()
    if change.kind == "status" and appointment.status == AppointmentStatus.COMPLETED:
        if Invoice.objects.filter(appointment=appointment).exists():
            return
        invoice = invoice_create(
            actor=None, clinic=appointment.clinic, client=appointment.client, appointment=appointment
        )
        _add_line(invoice, _service_line(appointment, invoice.currency))
    elif change.kind == "status" and appointment.status == AppointmentStatus.NO_SHOW:
        profile = billing_profile(appointment.clinic)
        _fee_invoice(
            appointment, LineKind.NO_SHOW_FEE, profile.no_show_fee, f"No-show fee: {appointment.appointment_type.name}"
        )
    elif change.kind == "cancelled":
        profile = billing_profile(appointment.clinic)
        if is_late_cancellation(appointment, profile):
            _fee_invoice(
                appointment,
                LineKind.LATE_CANCEL_FEE,
                profile.late_cancel_fee,
                f"Late-cancellation fee (under {profile.late_cancel_hours} h): {appointment.appointment_type.name}",
            )
