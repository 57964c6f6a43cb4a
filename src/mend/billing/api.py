"""API routes for billing: invoices and their lines, payments, refunds, write-offs, credit notes,
packages, memberships, gift cards and superbills.

Every write goes through ``mend.billing.services`` (the same functions, the same refusals as the
checkout page); reads through ``mend.billing.queries``. Money is a string in the currency's minor
unit ("135.60"), never a float, always beside its ``currency``; amounts sent are strings too.

Status codes:

- **409** when the request conflicts with the state of what it changes: editing an issued invoice
  (its lines, its discount, deleting it, issuing it again), paying a draft, crediting a draft,
  pausing a membership that is not active. Scheduling answers its state conflicts (cancelling
  twice) the same way. A service's refusal that names no field (``__all__``) is such a conflict;
  an issued invoice is corrected by a credit note, never edited.
- **422** naming the field (dotted paths) for bad input, including an id in the body that the
  token cannot see (``"client"``: "No such client in this clinic.").
- **403** for a role the service refuses: credit notes, refunds and write-offs are owners' and
  admins'.
- **404** for an id in the path from another clinic, or of a client outside a therapist's care team.

POSTs that move money (payments, refunds, write-offs, package sessions, gift card payments) honour
``Idempotency-Key`` as booking does: a retry with the same key and body gets the first answer and
never pays twice.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from mend.billing.models import (
    ClientMembership,
    GiftCard,
    Invoice,
    Package,
    PaymentMethod,
)
from mend.billing.queries import invoices as q
from mend.billing.queries import superbills
from mend.billing.services import checkout, credits, invoices, payments
from mend.core import money
from mend.people import queries as people_queries
from mend.platform.actor import Actor
from mend.platform.api import ERRORS, Detail, Pages, invalid
from mend.platform.http import ActorRequest
from mend.scheduling.services.idempotency import HEADER, idempotency_key_use, request_digest

router = Router(tags=["billing"])

MAX_ID = 2**31 - 1
# The largest amount a money column holds (12 digits, 2 of them after the point).
MAX_AMOUNT = Decimal("9999999999.99")
MAX_QUANTITY = Decimal("999999.99")
CONFLICT_ERRORS: dict[int, Any] = {**ERRORS, 409: Detail}
STATUSES = ("draft", "issued")
AMOUNT = Field(max_length=20, description='A string in the currency\'s minor unit, e.g. "135.60"', examples=["45.00"])


# --- Conflicts and input -----------------------------------------------------------------------


class Conflict(Exception):
    """The request meets the wrong state (an issued invoice edited, a draft paid): a 409 with why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _state_message(error: ValidationError) -> str | None:
    """A service's refusal naming no field is about the object's state, not the input: its words."""
    if not hasattr(error, "error_dict"):
        return " ".join(error.messages)
    if set(error.error_dict) == {NON_FIELD_ERRORS}:
        return " ".join(error.messages)
    return None


def conflicts(route: Callable[..., Any]) -> Callable[..., Any]:
    """Answer a ``Conflict``, or a service's ``__all__`` refusal, with 409 and the reason."""

    @functools.wraps(route)
    def wrapper(request: ActorRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return route(request, *args, **kwargs)
        except Conflict as error:
            return JsonResponse({"detail": error.message}, status=409)
        except ValidationError as error:
            message = _state_message(error)
            if message is None:
                raise
            return JsonResponse({"detail": message}, status=409)

    return wrapper


def _require_draft(invoice: Invoice) -> None:
    # Checked again by the service on the locked row; here so that an issued invoice answers 409
    # whatever else is wrong with the request.
    if not invoice.is_draft:
        raise Conflict(f"{invoice.label} is issued and cannot be changed; correct it with a credit note.")


def _require_issued_invoice(invoice: Invoice, doing: str) -> None:
    if invoice.is_credit_note:
        raise Conflict(f"{invoice.label} is a credit note; {doing} applies to an invoice.")
    if invoice.is_draft:
        raise Conflict(f"Issue the invoice before {doing}.")


def _amount(value: str, field: str, currency: str, *, required: bool = True) -> Decimal:
    """An amount sent as text, in the currency's minor unit; a ``ValidationError`` naming ``field``."""
    if not value.strip() and not required:
        return Decimal("0.00")
    try:
        amount = money.parse_amount(value, currency=currency)
    except ValueError as error:
        raise ValidationError({field: str(error)}) from None
    if amount > MAX_AMOUNT:
        raise ValidationError({field: f"Enter an amount up to {MAX_AMOUNT}."})
    return money.quantize(amount, currency)


def _quantity(value: str, field: str = "quantity") -> Decimal:
    try:
        quantity = money.parse_amount(value, currency="CAD")  # two decimal places, as the column holds
    except ValueError:
        raise ValidationError({field: "Enter a quantity such as 1 or 1.5."}) from None
    if quantity > MAX_QUANTITY:
        raise ValidationError({field: f"Enter a quantity up to {MAX_QUANTITY}."})
    return quantity


def _found(field: str, what: str, load: Callable[[], Any]) -> Any:
    """An object named in the body, or a ``ValidationError`` naming the field (a 404 is for paths)."""
    try:
        return load()
    except Http404:
        raise ValidationError({field: f"No such {what} in this clinic."}) from None


def _text(amount: Decimal) -> str:
    return f"{amount:.2f}" if amount.as_tuple().exponent == -2 else str(amount)


# --- Schemas ----------------------------------------------------------------------------------


class TaxOut(Schema):
    name: str = Field(description='Name and rate, e.g. "HST 13%"')
    amount: str


class LineOut(Schema):
    id: int
    position: int
    kind: str = Field(
        description="service, product, no_show_fee, late_cancel_fee, package, membership, gift_card, other"
    )
    description: str
    service_on: date | None
    appointment: int | None
    appointment_type: int | None
    therapist: int | None = Field(description="Therapist id (see /therapists)")
    product: int | None
    package: int | None = Field(description="The package this line sells")
    gift_card: int | None = Field(description="The gift card this line sells")
    reverses: int | None = Field(description="On a credit note: the invoice line it reverses")
    quantity: str
    unit_price: str
    discount: str
    discount_reason: str
    tax_name: str
    tax_rate: str = Field(description='Percent, e.g. "13"')
    net: str
    tax: str
    total: str
    credited: bool = Field(description="Reversed by a credit note")
    paid_by_package: int | None = Field(description="The package whose session paid this visit")
    usable_packages: list[int] = Field(description="Packages the client may pay this visit with")


class RefundOut(Schema):
    id: int
    method: str
    amount: str = Field(description="Negative: money given back")
    reference: str
    note: str
    received_on: date


class PaymentOut(Schema):
    id: int
    kind: str = Field(description="payment or write_off (refunds are listed under their payment)")
    method: str
    amount: str
    tip: str
    reference: str
    note: str
    received_on: date
    package: int | None
    gift_card: int | None
    refundable: str = Field(description="What of it can still be refunded")
    refunds: list[RefundOut]


class CreditNoteOut(Schema):
    id: int
    label: str
    issued_on: date | None
    total: str = Field(description="Negative: what it takes off the invoice")
    reason: str


class PayerOut(Schema):
    id: int
    name: str


class InvoiceOut(Schema):
    id: int
    label: str = Field(description='INV-000001 or CN-000001 once issued; "Draft invoice" before')
    kind: str = Field(description="invoice or credit_note")
    status: str = Field(description="draft or issued")
    number: int | None
    client: int
    client_name: str
    appointment: int | None
    corrects: int | None = Field(description="On a credit note: the invoice it corrects")
    payer: PayerOut | None = Field(description="The insurer billed; null is self-pay")
    referral: int | None
    currency: str
    issued_on: date | None
    due_on: date | None
    notes: str
    subtotal: str
    discount_total: str
    tax_total: str
    total: str
    amount_paid: str = Field(description="Payments less refunds")
    amount_written_off: str
    amount_credited: str
    balance: str = Field(description="Still owing; negative when a refund is due")
    taxes: list[TaxOut]
    lines: list[LineOut]
    payments: list[PaymentOut]
    credit_notes: list[CreditNoteOut]


class InvoiceRowOut(Schema):
    id: int
    label: str
    kind: str
    status: str
    number: int | None
    client: int
    client_name: str
    corrects: int | None
    payer: PayerOut | None
    currency: str
    issued_on: date | None
    due_on: date | None
    total: str
    balance: str


class LineResult(Schema):
    line: LineOut
    invoice: InvoiceOut


class PaymentResult(Schema):
    payment: PaymentOut | RefundOut
    invoice: InvoiceOut


class InvoiceIn(Schema):
    client: int = Field(ge=1, le=MAX_ID)
    notes: str = Field("", max_length=300, description="Printed on the invoice")


class LineIn(Schema):
    kind: str = Field(pattern="^(service|product|custom)$", description="service, product or custom")
    appointment: int | None = Field(None, ge=1, le=MAX_ID, description="service: the visit charged")
    product: int | None = Field(None, ge=1, le=MAX_ID, description="product: what is sold")
    quantity: str = Field("1", max_length=12, description='product and custom: e.g. "1" or "1.5"')
    description: str = Field("", max_length=200, description="custom: what the line is for")
    unit_price: str = Field("", max_length=20, description='custom: the price of one, e.g. "45.00"')
    tax_rate: int | None = Field(
        None, ge=1, le=MAX_ID, description="custom: one of the clinic's tax rates; none: no tax"
    )


class DiscountIn(Schema):
    discount: str = AMOUNT
    discount_reason: str = Field("", max_length=100, description="Why; printed on the invoice")


class CreditNoteIn(Schema):
    lines: list[int] | None = Field(None, max_length=500, description="Invoice line ids; omitted: every line")
    reason: str = Field(max_length=300, description="Printed on the credit note")


class PaymentIn(Schema):
    method: str = Field(max_length=20, description="cash, card, bank_transfer or insurer")
    amount: str = AMOUNT
    tip: str = Field("", max_length=20, description="Card payments, where the clinic takes tips")
    reference: str = Field("", max_length=120, description="Terminal slip, transfer or cheque reference")
    received_on: date | None = Field(None, description="The clinic's date it arrived; today if omitted")


class RefundIn(Schema):
    amount: str = AMOUNT
    reason: str = Field(max_length=200)
    reference: str = Field("", max_length=120)


class WriteOffIn(Schema):
    amount: str = AMOUNT
    reason: str = Field(max_length=200)


class PackageRedemptionIn(Schema):
    line: int = Field(ge=1, le=MAX_ID, description="The visit line paid")
    package: int = Field(ge=1, le=MAX_ID)


class GiftCardPaymentIn(Schema):
    code: str = Field(max_length=40)
    amount: str = AMOUNT


class PackageOut(Schema):
    id: int
    name: str
    client: int = Field(description="Who owns it")
    shared: bool = Field(description="Shared with this client by its owner")
    source: str = Field(description="package, or membership (a month's credit)")
    appointment_type: int
    appointment_type_name: str
    sessions_total: int
    sessions_used: int
    sessions_left: int
    price: str
    currency: str
    starts_on: date
    expires_on: date
    active: bool = Field(description="Paid for (its invoice issued)")
    usable: bool = Field(description="Active, not expired and with sessions left, today")


class PlanIn(Schema):
    plan: int = Field(ge=1, le=MAX_ID)


class MembershipIn(Schema):
    plan: int = Field(ge=1, le=MAX_ID)
    starts_on: date | None = Field(None, description="Today if omitted; the first month is invoiced on that day")


class PackageSold(Schema):
    package: PackageOut
    invoice: int = Field(description="The draft that sells it: issue it when the client pays")


class MembershipOut(Schema):
    id: int
    client: int
    plan: int
    plan_name: str
    monthly_fee: str
    currency: str
    status: str = Field(description="active, paused or cancelled")
    started_on: date
    next_charge_on: date
    paused_on: date | None
    cancelled_on: date | None


class GiftCardIn(Schema):
    amount: str = AMOUNT
    recipient_name: str = Field("", max_length=150)
    valid_days: int | None = Field(None, ge=1, le=3650, description="Omitted: it does not expire")


class GiftCardOut(Schema):
    id: int
    code: str
    amount: str
    balance: str
    currency: str
    recipient_name: str
    sold_on: date
    expires_on: date | None
    active: bool = Field(description="Paid for (its invoice issued) and not cancelled")
    expired: bool


class GiftCardSold(Schema):
    gift_card: GiftCardOut
    invoice: int = Field(description="The draft that sells it: issue it when the client pays")


# --- What the API shows -------------------------------------------------------------------------


def _payer(invoice: Invoice) -> dict[str, Any] | None:
    return {"id": invoice.payer.pk, "name": invoice.payer.name} if invoice.payer is not None else None


def _line_dict(row: q.LineRow, page: q.InvoicePage) -> dict[str, Any]:
    line = row.line
    profile = getattr(line.therapist, "therapist_profile", None) if line.therapist_id else None
    return {
        "id": line.pk,
        "position": line.position,
        "kind": line.kind,
        "description": line.description,
        "service_on": line.service_on,
        "appointment": line.appointment_id,
        "appointment_type": line.appointment_type_id,
        "therapist": profile.pk if profile is not None else None,
        "product": line.product_id,
        "package": line.package_id,
        "gift_card": line.gift_card_id,
        "reverses": line.reverses_id,
        "quantity": str(line.quantity.normalize())
        if line.quantity == line.quantity.to_integral()
        else str(line.quantity),
        "unit_price": _text(line.unit_price),
        "discount": _text(line.discount),
        "discount_reason": line.discount_reason,
        "tax_name": line.tax_name,
        "tax_rate": f"{line.tax_rate.normalize():f}",
        "net": _text(line.net),
        "tax": _text(line.tax),
        "total": _text(line.total),
        "credited": line.pk in page.credited_line_ids,
        "paid_by_package": row.paid_by_package.package_id if row.paid_by_package is not None else None,
        "usable_packages": [p.pk for p in row.packages],
    }


def _refund_dict(refund: Any) -> dict[str, Any]:
    return {
        "id": refund.pk,
        "method": refund.method,
        "amount": _text(refund.amount),
        "reference": refund.reference,
        "note": refund.note,
        "received_on": refund.received_on,
    }


def _payment_dict(row: q.PaymentRow) -> dict[str, Any]:
    payment = row.payment
    return {
        "id": payment.pk,
        "kind": payment.kind,
        "method": payment.method,
        "amount": _text(payment.amount),
        "tip": _text(payment.tip),
        "reference": payment.reference,
        "note": payment.note,
        "received_on": payment.received_on,
        "package": payment.package_id,
        "gift_card": payment.gift_card_id,
        "refundable": _text(row.refundable if payment.kind == "payment" else Decimal("0.00")),
        "refunds": [_refund_dict(r) for r in row.refunds],
    }


def _invoice_dict(page: q.InvoicePage) -> dict[str, Any]:
    invoice = page.invoice
    return {
        "id": invoice.pk,
        "label": invoice.label,
        "kind": invoice.kind,
        "status": invoice.status,
        "number": invoice.number,
        "client": invoice.client_id,
        "client_name": invoice.client.display_name,
        "appointment": invoice.appointment_id,
        "corrects": invoice.corrects_id,
        "payer": _payer(invoice),
        "referral": invoice.referral_id,
        "currency": invoice.currency,
        "issued_on": invoice.issued_on,
        "due_on": invoice.due_on,
        "notes": invoice.notes,
        "subtotal": _text(invoice.subtotal),
        "discount_total": _text(invoice.discount_total),
        "tax_total": _text(invoice.tax_total),
        "total": _text(invoice.total),
        "amount_paid": _text(invoice.amount_paid),
        "amount_written_off": _text(invoice.amount_written_off),
        "amount_credited": _text(invoice.amount_credited),
        "balance": _text(invoice.balance),
        "taxes": [{"name": name, "amount": _text(amount)} for name, amount in page.taxes],
        "lines": [_line_dict(row, page) for row in page.lines],
        "payments": [_payment_dict(row) for row in page.payments],
        "credit_notes": [
            {
                "id": note.pk,
                "label": note.label,
                "issued_on": note.issued_on,
                "total": _text(note.total),
                "reason": note.notes,
            }
            for note in page.credit_notes
        ],
    }


def _invoice(actor: Actor, pk: int) -> dict[str, Any]:
    return _invoice_dict(q.invoice_page(actor, pk))


def _row_dict(invoice: Invoice) -> dict[str, Any]:
    return {
        "id": invoice.pk,
        "label": invoice.label,
        "kind": invoice.kind,
        "status": invoice.status,
        "number": invoice.number,
        "client": invoice.client_id,
        "client_name": invoice.client.display_name,
        "corrects": invoice.corrects_id,
        "payer": _payer(invoice),
        "currency": invoice.currency,
        "issued_on": invoice.issued_on,
        "due_on": invoice.due_on,
        "total": _text(invoice.total),
        "balance": _text(invoice.balance),
    }


def _package_dict(actor: Actor, package: Package, client_id: int) -> dict[str, Any]:
    today = actor.today()
    return {
        "id": package.pk,
        "name": package.name,
        "client": package.client_id,
        "shared": package.client_id != client_id,
        "source": package.source,
        "appointment_type": package.appointment_type_id,
        "appointment_type_name": package.appointment_type.name,
        "sessions_total": package.sessions_total,
        "sessions_used": package.sessions_used,
        "sessions_left": package.sessions_left,
        "price": _text(package.price),
        "currency": actor.clinic.currency,
        "starts_on": package.starts_on,
        "expires_on": package.expires_on,
        "active": package.is_active,
        "usable": package.is_active and package.starts_on <= today <= package.expires_on and package.sessions_left > 0,
    }


def _membership_dict(actor: Actor, membership: ClientMembership) -> dict[str, Any]:
    return {
        "id": membership.pk,
        "client": membership.client_id,
        "plan": membership.plan_id,
        "plan_name": membership.plan.name,
        "monthly_fee": _text(membership.plan.monthly_fee),
        "currency": actor.clinic.currency,
        "status": membership.status,
        "started_on": membership.started_on,
        "next_charge_on": membership.next_charge_on,
        "paused_on": membership.paused_on,
        "cancelled_on": membership.cancelled_on,
    }


def _gift_card_dict(actor: Actor, card: GiftCard) -> dict[str, Any]:
    return {
        "id": card.pk,
        "code": card.code,
        "amount": _text(card.amount),
        "balance": _text(card.balance),
        "currency": actor.clinic.currency,
        "recipient_name": card.recipient_name,
        "sold_on": card.sold_on,
        "expires_on": card.expires_on,
        "active": card.is_active,
        "expired": card.expires_on is not None and card.expires_on < actor.today(),
    }


def _json(body: dict[str, Any]) -> dict[str, Any]:
    """JSON values only (dates as ISO text), so an answer stored under an idempotency key replays exactly."""
    return json.loads(json.dumps(body, default=str))


# --- Idempotent money movements ------------------------------------------------------------------


def _money_movement(
    request: ActorRequest, scope: str, identity: dict[str, Any], move: Callable[[], dict[str, Any]]
) -> HttpResponse:
    """Run ``move`` (a service call answering the 201 body) once per ``Idempotency-Key``.

    Refusals are answers too and are stored with the key, as booking stores them: a retry gets the
    same 409, 422 or 403, and a key's second use with another body is 422 naming the header.
    """
    actor = request.actor
    key = request.headers.get(HEADER)

    def run() -> tuple[int, dict[str, Any]]:
        try:
            return 201, _json(move())
        except Conflict as error:
            return 409, {"detail": error.message}
        except ValidationError as error:
            message = _state_message(error)
            if message is not None:
                return 409, {"detail": message}
            return 422, json.loads(invalid(request, error).content)
        except PermissionDenied as error:
            return 403, {"detail": str(error) or "Not allowed for your role."}

    if key is None:
        status, body = run()
        return JsonResponse(body, status=status)
    try:
        (status, body), replayed = idempotency_key_use(
            clinic=actor.clinic, scope=scope, key=key, digest=request_digest(identity), run=run
        )
    except ValidationError as error:
        return invalid(request, error)
    response = JsonResponse(body, status=status)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _payment_result(actor: Actor, invoice_pk: int, payment_pk: int) -> dict[str, Any]:
    page = q.invoice_page(actor, invoice_pk)
    body = _invoice_dict(page)
    for row in page.payments:
        if row.payment.pk == payment_pk:
            return {"payment": _payment_dict(row), "invoice": body}
        for refund in row.refunds:
            if refund.pk == payment_pk:
                return {"payment": _refund_dict(refund), "invoice": body}
    raise Http404("No such payment.")  # pragma: no cover - the payment was just recorded on this invoice


# --- Invoices -----------------------------------------------------------------------------------


@router.get("/invoices", response={200: list[InvoiceRowOut], **ERRORS}, summary="List invoices")
@paginate(Pages, page_size=50)
def list_invoices(
    request: ActorRequest, status: str | None = None, client: int | None = None, owing: bool = False
) -> Any:
    """Invoices and credit notes, newest first: ``status`` draft or issued, one ``client``'s, or only
    those with something ``owing``. Two queries a page (the count and the rows), whatever its size."""
    actor = request.actor
    invoices.require_billing(actor)
    if status is not None and status not in STATUSES:
        raise ValidationError({"status": "Choose draft or issued."})
    if client is not None and not 1 <= client <= MAX_ID:
        # No client has that id: a filter matching nothing, as for any unknown client.
        client = 0
    return _Rows(actor, q.invoice_rows(actor, status=status, client_id=client, owing=owing))


class _Rows:
    """The list's queryset, whose slices are the API's rows (for the paginator), the page audited once."""

    def __init__(self, actor: Actor, found: Any) -> None:
        self.actor, self.found = actor, found

    def count(self) -> int:
        return int(self.found.count())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, part: slice) -> list[dict[str, Any]]:
        rows = list(self.found[part])
        q.invoice_rows_seen(self.actor, rows)
        return [_row_dict(invoice) for invoice in rows]


@router.get("/invoices/{invoice_id}", response={200: InvoiceOut, **ERRORS}, summary="Read an invoice")
def get_invoice(request: ActorRequest, invoice_id: int) -> Any:
    """The invoice (or credit note) with its lines, payments with their refunds, credit notes and balance."""
    invoices.require_billing(request.actor)
    return _invoice(request.actor, invoice_id)


@router.post("/invoices", response={201: InvoiceOut, **ERRORS}, summary="Start a draft invoice")
def create_invoice(request: ActorRequest, payload: InvoiceIn) -> Any:
    """An empty draft for a client; add lines, then issue it."""
    actor = request.actor
    client = _found("client", "client", lambda: people_queries.client_or_404(actor, payload.client))
    invoice = invoices.invoice_create(actor=actor, clinic=actor.clinic, client=client, notes=payload.notes)
    return Status(201, _invoice(actor, invoice.pk))


@router.delete("/invoices/{invoice_id}", response={204: None, **CONFLICT_ERRORS}, summary="Delete a draft invoice")
@conflicts
def delete_invoice(request: ActorRequest, invoice_id: int) -> Any:
    """A draft only (it has no number, so the sequence keeps no hole); an issued invoice is 409 and
    is corrected by a credit note."""
    actor = request.actor
    invoices.require_billing(actor)
    invoice = q.invoice_or_404(actor, invoice_id)
    _require_draft(invoice)
    invoices.invoice_discard(actor=actor, invoice=invoice)
    return Status(204, None)


@router.post(
    "/invoices/{invoice_id}/lines", response={201: LineResult, **CONFLICT_ERRORS}, summary="Add a line to a draft"
)
@conflicts
def add_line(request: ActorRequest, invoice_id: int, payload: LineIn) -> Any:
    """``service``: a visit of the client's (``appointment``) at the price list's fee; ``product``:
    ``product`` × ``quantity``; ``custom``: ``description``, ``unit_price``, ``quantity``, ``tax_rate``.
    An issued invoice is 409."""
    actor = request.actor
    invoices.require_billing(actor)
    invoice = q.invoice_or_404(actor, invoice_id)
    _require_draft(invoice)
    if payload.kind == "service":
        visit_id = payload.appointment
        if visit_id is None:
            raise ValidationError({"appointment": "Choose the visit to charge."})
        visit = _found("appointment", "visit of this client", lambda: q.visit_or_404(actor, invoice, visit_id))
        line = invoices.line_add_service(actor=actor, invoice=invoice, appointment=visit)
    elif payload.kind == "product":
        product_id = payload.product
        if product_id is None:
            raise ValidationError({"product": "Choose the product."})
        product = _found("product", "product", lambda: q.product_or_404(actor, product_id))
        quantity = _quantity(payload.quantity)
        line = invoices.line_add_product(actor=actor, invoice=invoice, product=product, quantity=quantity)
    else:
        unit_price = _amount(payload.unit_price, "unit_price", invoice.currency)
        quantity = _quantity(payload.quantity)
        rate = _found("tax_rate", "tax rate", lambda: q.tax_rate_or_none(actor, payload.tax_rate))
        line = invoices.line_add_custom(
            actor=actor,
            invoice=invoice,
            description=payload.description,
            unit_price=unit_price,
            quantity=quantity,
            tax_rate=rate,
        )
    return Status(201, _line_result(actor, invoice.pk, line.pk))


def _line_result(actor: Actor, invoice_pk: int, line_pk: int) -> dict[str, Any]:
    page = q.invoice_page(actor, invoice_pk)
    row = next(row for row in page.lines if row.line.pk == line_pk)
    return {"line": _line_dict(row, page), "invoice": _invoice_dict(page)}


@router.patch(
    "/invoices/{invoice_id}/lines/{line_id}",
    response={200: LineResult, **CONFLICT_ERRORS},
    summary="Discount a line of a draft",
)
@conflicts
def discount_line(request: ActorRequest, invoice_id: int, line_id: int, payload: DiscountIn) -> Any:
    """An amount off the line, with the reason printed beside it; "0.00" takes it away. An issued
    invoice is 409."""
    actor = request.actor
    invoices.require_billing(actor)
    invoice = q.invoice_or_404(actor, invoice_id)
    line = q.line_or_404(invoice, line_id)
    _require_draft(invoice)
    discount = _amount(payload.discount, "discount", invoice.currency)
    invoices.line_discount_set(actor=actor, line=line, discount=discount, reason=payload.discount_reason)
    return _line_result(actor, invoice.pk, line.pk)


@router.delete(
    "/invoices/{invoice_id}/lines/{line_id}",
    response={200: InvoiceOut, **CONFLICT_ERRORS},
    summary="Take a line off a draft",
)
@conflicts
def remove_line(request: ActorRequest, invoice_id: int, line_id: int) -> Any:
    """A fee waived, a product not taken; a package or gift card it sold goes with it. An issued invoice is 409."""
    actor = request.actor
    invoices.require_billing(actor)
    invoice = q.invoice_or_404(actor, invoice_id)
    line = q.line_or_404(invoice, line_id)
    _require_draft(invoice)
    invoices.line_remove(actor=actor, line=line)
    return _invoice(actor, invoice.pk)


@router.post(
    "/invoices/{invoice_id}/issue", response={200: InvoiceOut, **CONFLICT_ERRORS}, summary="Issue a draft invoice"
)
@conflicts
def issue_invoice(request: ActorRequest, invoice_id: int) -> Any:
    """Gives the draft its number (INV-000001, no gaps) and freezes it. 409 when it is issued already,
    or when it cannot be issued as it is (no lines, what the receipt standard asks is missing); 422
    naming ``payer`` when the insurer cannot be billed under the referral."""
    actor = request.actor
    invoices.require_billing(actor)
    invoice = q.invoice_or_404(actor, invoice_id)
    _require_draft(invoice)
    invoices.invoice_issue(actor=actor, invoice=invoice)
    return _invoice(actor, invoice.pk)


@router.post(
    "/invoices/{invoice_id}/credit-notes",
    response={201: InvoiceOut, **CONFLICT_ERRORS},
    summary="Correct an issued invoice with a credit note",
)
@conflicts
def create_credit_note(request: ActorRequest, invoice_id: int, payload: CreditNoteIn) -> Any:
    """Reverses whole ``lines`` (all of them if omitted), issued at once as CN-000001; answers the
    credit note. Owners and admins only (403). 409 on a draft or a credit note."""
    actor = request.actor
    invoices.require_corrections(actor)
    invoice = q.invoice_or_404(actor, invoice_id)
    _require_issued_invoice(invoice, "crediting it")
    note = invoices.credit_note_create(actor=actor, invoice=invoice, line_ids=payload.lines, reason=payload.reason)
    return Status(201, _invoice(actor, note.pk))


# --- Payments, refunds, write-offs ---------------------------------------------------------------


def _payable(actor: Actor, invoice_id: int) -> Invoice:
    invoices.require_billing(actor)
    return q.invoice_or_404(actor, invoice_id)


@router.post(
    "/invoices/{invoice_id}/payments",
    response={201: PaymentResult, **CONFLICT_ERRORS},
    summary="Record a payment",
)
def create_payment(request: ActorRequest, invoice_id: int, payload: PaymentIn) -> HttpResponse:
    """Money taken at the desk: ``method`` cash, card, bank_transfer or insurer; at most what is owing
    (422 naming ``amount``). 409 on a draft. Honours ``Idempotency-Key``."""
    actor = request.actor
    invoice = _payable(actor, invoice_id)

    def move() -> dict[str, Any]:
        _require_issued_invoice(invoice, "taking a payment for it")
        amount = _amount(payload.amount, "amount", invoice.currency)
        tip = _amount(payload.tip, "tip", invoice.currency, required=False)
        payment = payments.payment_record(
            actor=actor,
            invoice=invoice,
            method=payload.method,
            amount=amount,
            tip=tip,
            reference=payload.reference,
            received_on=payload.received_on,
        )
        return _payment_result(actor, invoice.pk, payment.pk)

    return _money_movement(request, "api.billing.payments", {"invoice": invoice.pk, **payload.dict()}, move)


@router.post(
    "/invoices/{invoice_id}/payments/{payment_id}/refunds",
    response={201: PaymentResult, **CONFLICT_ERRORS},
    summary="Refund a payment",
)
def create_refund(request: ActorRequest, invoice_id: int, payment_id: int, payload: RefundIn) -> HttpResponse:
    """Back the way it came (a card to the card, a package session to the package, a gift card's
    amount onto the card; an online payment through the provider), at most what it brought.
    Owners and admins only (403). Honours ``Idempotency-Key``."""
    actor = request.actor
    invoices.require_corrections(actor)
    invoice = q.invoice_or_404(actor, invoice_id)
    original = q.payment_or_404(actor, payment_id)
    if original.invoice_id != invoice.pk:
        raise Http404("No such payment on this invoice.")

    def move() -> dict[str, Any]:
        amount = _amount(payload.amount, "amount", invoice.currency)
        if original.method == PaymentMethod.ONLINE:
            done = checkout.online_refund(actor=actor, payment=original, amount=amount, reason=payload.reason)
        else:
            done = payments.payment_refund(
                actor=actor, payment=original, amount=amount, reason=payload.reason, reference=payload.reference
            )
        return _payment_result(actor, invoice.pk, done.pk)

    identity = {"invoice": invoice.pk, "payment": original.pk, **payload.dict()}
    return _money_movement(request, "api.billing.refunds", identity, move)


@router.post(
    "/invoices/{invoice_id}/write-offs",
    response={201: PaymentResult, **CONFLICT_ERRORS},
    summary="Write off a debt",
)
def create_write_off(request: ActorRequest, invoice_id: int, payload: WriteOffIn) -> HttpResponse:
    """Stop asking for what will not be collected, saying why. Owners and admins only (403); 409 on
    a draft. Honours ``Idempotency-Key``."""
    actor = request.actor
    invoices.require_corrections(actor)
    invoice = q.invoice_or_404(actor, invoice_id)

    def move() -> dict[str, Any]:
        _require_issued_invoice(invoice, "writing it off")
        amount = _amount(payload.amount, "amount", invoice.currency)
        done = payments.invoice_write_off(actor=actor, invoice=invoice, amount=amount, reason=payload.reason)
        return _payment_result(actor, invoice.pk, done.pk)

    return _money_movement(request, "api.billing.write_offs", {"invoice": invoice.pk, **payload.dict()}, move)


@router.post(
    "/invoices/{invoice_id}/package-redemptions",
    response={201: PaymentResult, **CONFLICT_ERRORS},
    summary="Pay a visit with a package session",
)
def create_package_redemption(request: ActorRequest, invoice_id: int, payload: PackageRedemptionIn) -> HttpResponse:
    """One session of the client's own (or a shared) ``package`` pays the visit ``line`` in full; the
    invoice still shows the visit's fee. 409 on a draft. Honours ``Idempotency-Key``."""
    actor = request.actor
    invoice = _payable(actor, invoice_id)

    def move() -> dict[str, Any]:
        _require_issued_invoice(invoice, "paying it with a package")
        line = _found("line", "line on this invoice", lambda: q.line_or_404(invoice, payload.line))
        package = _found("package", "package", lambda: q.package_or_404(actor, payload.package))
        payment = payments.package_redeem(actor=actor, invoice=invoice, line=line, package=package)
        return _payment_result(actor, invoice.pk, payment.pk)

    return _money_movement(request, "api.billing.packages", {"invoice": invoice.pk, **payload.dict()}, move)


@router.post(
    "/invoices/{invoice_id}/gift-card-payments",
    response={201: PaymentResult, **CONFLICT_ERRORS},
    summary="Pay with a gift card",
)
def create_gift_card_payment(request: ActorRequest, invoice_id: int, payload: GiftCardPaymentIn) -> HttpResponse:
    """Part or all of what is owing from a gift card's balance (422 naming ``code`` or ``amount``).
    409 on a draft. Honours ``Idempotency-Key``."""
    actor = request.actor
    invoice = _payable(actor, invoice_id)

    def move() -> dict[str, Any]:
        _require_issued_invoice(invoice, "paying it with a gift card")
        amount = _amount(payload.amount, "amount", invoice.currency)
        payment = payments.gift_card_redeem(actor=actor, invoice=invoice, code=payload.code, amount=amount)
        return _payment_result(actor, invoice.pk, payment.pk)

    return _money_movement(request, "api.billing.gift_cards", {"invoice": invoice.pk, **payload.dict()}, move)


# --- Packages, memberships, gift cards ------------------------------------------------------------


@router.get("/clients/{client_id}/packages", response={200: list[PackageOut], **ERRORS}, summary="A client's packages")
def list_client_packages(request: ActorRequest, client_id: int) -> Any:
    """Their own and those shared with them, with sessions left and expiry, soonest to expire first."""
    actor = request.actor
    invoices.require_billing(actor)
    client = people_queries.client_or_404(actor, client_id)
    return [_package_dict(actor, package, client.pk) for package in q.client_packages(actor, client)]


@router.post("/clients/{client_id}/packages", response={201: PackageSold, **CONFLICT_ERRORS}, summary="Sell a package")
@conflicts
def sell_package(request: ActorRequest, client_id: int, payload: PlanIn) -> Any:
    """Puts the ``plan``'s package on a new draft invoice (answered with it); the package is usable
    once that invoice is issued."""
    actor = request.actor
    invoices.require_billing(actor)
    client = people_queries.client_or_404(actor, client_id)
    plan = _found("plan", "package", lambda: q.package_plan_or_404(actor, payload.plan))
    package = credits.package_sell(actor=actor, client=client, plan=plan)
    sold = next(p for p in q.client_packages(actor, client) if p.pk == package.pk)
    return Status(201, {"package": _package_dict(actor, sold, client.pk), "invoice": q.package_invoice_id(package.pk)})


@router.get(
    "/clients/{client_id}/memberships",
    response={200: list[MembershipOut], **ERRORS},
    summary="A client's memberships",
)
def list_client_memberships(request: ActorRequest, client_id: int) -> Any:
    """Active, paused and cancelled, newest first."""
    actor = request.actor
    invoices.require_billing(actor)
    client = people_queries.client_or_404(actor, client_id)
    return [_membership_dict(actor, m) for m in q.client_memberships(actor, client)]


@router.post(
    "/clients/{client_id}/memberships",
    response={201: MembershipOut, **CONFLICT_ERRORS},
    summary="Start a membership",
)
@conflicts
def start_membership(request: ActorRequest, client_id: int, payload: MembershipIn) -> Any:
    """Joins the ``plan``: the first month is invoiced (issued) on ``starts_on``, each month after on
    the same day. 422 naming ``plan`` when the client is a member already."""
    actor = request.actor
    invoices.require_billing(actor)
    client = people_queries.client_or_404(actor, client_id)
    plan = _found("plan", "membership", lambda: q.membership_plan_or_404(actor, payload.plan))
    membership = credits.membership_start(actor=actor, client=client, plan=plan, starts_on=payload.starts_on)
    return Status(201, _membership_dict(actor, q.membership_detail(actor, membership.pk)))


def _membership_change(request: ActorRequest, membership_id: int, change: Callable[..., ClientMembership]) -> Any:
    actor = request.actor
    invoices.require_billing(actor)
    membership = q.membership_detail(actor, membership_id)
    change(actor=actor, membership=membership)
    return _membership_dict(actor, q.membership_detail(actor, membership_id))


@router.post(
    "/memberships/{membership_id}/pause", response={200: MembershipOut, **CONFLICT_ERRORS}, summary="Pause a membership"
)
@conflicts
def pause_membership(request: ActorRequest, membership_id: int) -> Any:
    """No fee while paused. 409 unless it is active."""
    return _membership_change(request, membership_id, credits.membership_pause)


@router.post(
    "/memberships/{membership_id}/resume",
    response={200: MembershipOut, **CONFLICT_ERRORS},
    summary="Resume a membership",
)
@conflicts
def resume_membership(request: ActorRequest, membership_id: int) -> Any:
    """Active again; a fee day passed while paused falls due today. 409 unless it is paused."""
    return _membership_change(request, membership_id, credits.membership_resume)


@router.post(
    "/memberships/{membership_id}/cancel",
    response={200: MembershipOut, **CONFLICT_ERRORS},
    summary="Cancel a membership",
)
@conflicts
def cancel_membership(request: ActorRequest, membership_id: int) -> Any:
    """No more fees; sessions already credited stay usable to their month's end. 409 when cancelled already."""
    return _membership_change(request, membership_id, credits.membership_cancel)


@router.post(
    "/clients/{client_id}/gift-cards", response={201: GiftCardSold, **CONFLICT_ERRORS}, summary="Sell a gift card"
)
@conflicts
def sell_gift_card(request: ActorRequest, client_id: int, payload: GiftCardIn) -> Any:
    """The client buys a card of ``amount`` (no tax at sale) on a new draft invoice; it holds its
    balance once that invoice is issued."""
    actor = request.actor
    invoices.require_billing(actor)
    client = people_queries.client_or_404(actor, client_id)
    amount = _amount(payload.amount, "amount", actor.clinic.currency)
    card = credits.gift_card_sell(
        actor=actor,
        purchaser=client,
        amount=amount,
        recipient_name=payload.recipient_name,
        valid_days=payload.valid_days,
    )
    return Status(201, {"gift_card": _gift_card_dict(actor, card), "invoice": q.gift_card_invoice_id(card.pk)})


@router.get("/gift-cards/{code}", response={200: GiftCardOut, **ERRORS}, summary="Look up a gift card")
def get_gift_card(request: ActorRequest, code: str) -> Any:
    """Balance, whether it is active and when it expires, by its code however typed. The clinic's
    staff only; a code of another clinic's is 404."""
    actor = request.actor
    invoices.require_billing(actor)
    return _gift_card_dict(actor, q.gift_card_or_404(actor, code[:40]))


# --- Superbills ----------------------------------------------------------------------------------


class SuperbillOut(Schema):
    client_id: int
    invoice_label: str = Field(description="Set when the superbill is one invoice's")
    start: date
    end: date
    currency: str
    unit_rule: str = Field(description="cms (8-minute rule) or ama (per code)")
    unit_rule_label: str
    clinic: dict[str, Any]
    client: dict[str, Any]
    payer: dict[str, Any] | None = Field(description="null: self-pay")
    providers: list[dict[str, Any]]
    diagnoses: list[dict[str, Any]] = Field(description="ICD-10-CM, with the pointers visits use")
    visits: list[dict[str, Any]] = Field(description="Per date of service: CPT lines with minutes, units, charge")
    total_charges: str
    amount_paid: str
    balance: str
    flagged: list[str]


def _plain(value: Any) -> Any:
    """A superbill's dataclass values as JSON: money and dates as text, tuples as lists."""
    if isinstance(value, Decimal):
        return _text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _superbill_dict(superbill: superbills.Superbill) -> dict[str, Any]:
    body = _plain(dataclasses.asdict(superbill))
    for visit, shown in zip(superbill.visits, body["visits"], strict=True):
        shown["invoiced"], shown["units"] = visit.invoiced, visit.units
    body["balance"] = _text(superbill.balance)
    return body


@router.get(
    "/invoices/{invoice_id}/superbill",
    response={200: SuperbillOut, **CONFLICT_ERRORS},
    summary="An invoice's superbill",
)
@conflicts
def get_invoice_superbill(request: ActorRequest, invoice_id: int) -> Any:
    """The codes, units, diagnoses and charges of the invoice's visits, for the client's claim (no
    note text). 409 for a draft or a credit note. The read is audited."""
    invoices.require_billing(request.actor)
    return _superbill_dict(superbills.superbill_for_visit(request.actor, invoice_id))


@router.get(
    "/clients/{client_id}/superbill",
    response={200: SuperbillOut, **ERRORS},
    summary="A client's superbill for a period",
)
def get_client_superbill(
    request: ActorRequest,
    client_id: int,
    start: str = Query("", alias="from", max_length=20, description="YYYY-MM-DD; the month's first if omitted"),
    end: str = Query("", alias="to", max_length=20, description="YYYY-MM-DD; today if omitted"),
) -> Any:
    """Every visit from ``from`` to ``to`` (at most a year), signed notes and invoiced treatment,
    a visit without a signed note flagged. 422 naming ``from`` or ``to``. The read is audited."""
    actor = request.actor
    invoices.require_billing(actor)
    people_queries.client_or_404(actor, client_id)
    first, last = superbills.parse_period(actor, start, end)
    return _superbill_dict(superbills.superbill_for_period(actor, client_id, first, last))
