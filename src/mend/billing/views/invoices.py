"""Invoices and checkout: the list, a new invoice, the invoice page with every checkout action, PDFs.

Each action is a POST to ``/billing/invoices/<pk>/<action>/``: it validates its form, calls one
service and returns to the invoice; a refusal shows the invoice again with the message beside the
field it names (never a 500, nothing half-saved). The PDFs are the page's own template printed.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import path
from django.views.decorators.http import require_POST

from mend.billing.forms import invoices as f
from mend.billing.models import Invoice, InvoiceStatus, PaymentMethod
from mend.billing.queries import invoices as q
from mend.billing.services import checkout, credits, documents, invoices, payments
from mend.people import queries as people_queries
from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required, merge_validation_error, render_page
from mend.platform.pdf import render_pdf

SHOW_CHOICES = (("open", "Open"), ("draft", "Drafts"), ("owing", "Owing"), ("all", "All"))


@actor_required
def invoice_list(request: ActorRequest) -> HttpResponse:
    invoices.require_billing(request.actor)
    show = request.GET.get("show", "open")
    show = show if show in dict(SHOW_CHOICES) else "open"
    search = request.GET.get("q", "")[:100]
    rows = q.invoice_list(request.actor, show=show, q=search)
    return render_page(
        request,
        "billing/invoice_list.html",
        {"section": "billing", "rows": rows, "show": show, "show_choices": SHOW_CHOICES, "q": search},
    )


@actor_required
@require_POST
def invoice_new(request: ActorRequest) -> HttpResponse:
    """A new, empty draft for a client (from the client page)."""
    client = people_queries.client_or_404(request.actor, request.POST.get("client", ""))
    invoice = invoices.invoice_create(actor=request.actor, clinic=request.actor.clinic, client=client)
    return redirect("invoice_detail", invoice.pk)


def _forms(page: q.InvoicePage, bound: dict[str, forms.Form] | None = None) -> dict[str, forms.Form]:
    credit_choices = [
        (row.line.pk, f"{row.line.description} — {row.line.total}")
        for row in page.lines
        if row.line.pk not in page.credited_line_ids
    ]
    found: dict[str, forms.Form] = {
        "visit": f.VisitLineForm(),
        "product": f.ProductLineForm(),
        "custom": f.CustomLineForm(),
        "payer": f.PayerForm(),
        "payment": f.PaymentForm(initial={"amount": page.invoice.balance if page.invoice.balance > 0 else ""}),
        "gift_card": f.GiftCardUseForm(),
        "write_off": f.WriteOffForm(initial={"amount": page.invoice.balance if page.invoice.balance > 0 else ""}),
        "credit_note": f.CreditNoteForm(choices=credit_choices),
    }
    found.update(bound or {})
    return found


def _render(
    request: ActorRequest, pk: int, bound: dict[str, forms.Form] | None = None, *, status: int = 200
) -> HttpResponse:
    page = q.invoice_page(request.actor, pk)
    context: dict[str, Any] = {
        "section": "billing",
        "page": page,
        "invoice": page.invoice,
        "forms": _forms(page, bound),
        "can_correct": request.actor.manages_clinic,
        "methods": PaymentMethod,
        # The refusal, whatever form it came from, at the top too (the form may not be on the page
        # any more: an invoice issued by someone else since).
        "action_errors": [e for form in (bound or {}).values() for errs in form.errors.values() for e in errs],
    }
    return render_page(request, "billing/invoice_detail.html", context, status=status)


@actor_required
def invoice_detail(request: ActorRequest, pk: int) -> HttpResponse:
    invoices.require_billing(request.actor)
    return _render(request, pk)


def _action(
    request: ActorRequest,
    pk: int,
    name: str,
    form: forms.Form,
    do: Callable[[Invoice, dict[str, Any]], str],
) -> HttpResponse:
    """Validate ``form``, run ``do`` (a service call returning the message to show), back to the invoice."""
    invoices.require_billing(request.actor)
    invoice = q.invoice_or_404(request.actor, pk)
    if form.is_valid():
        try:
            done = do(invoice, form.cleaned_data)
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, done)
            return redirect("invoice_detail", invoice.pk)
    return _render(request, pk, {name: form}, status=400)


@actor_required
@require_POST
def add_visit(request: ActorRequest, pk: int) -> HttpResponse:
    def do(invoice: Invoice, data: dict[str, Any]) -> str:
        visit = q.visit_or_404(request.actor, invoice, data["appointment"])
        line = invoices.line_add_service(actor=request.actor, invoice=invoice, appointment=visit)
        return f"Added {line.description}."

    return _action(request, pk, "visit", f.VisitLineForm(request.POST), do)


@actor_required
@require_POST
def add_product(request: ActorRequest, pk: int) -> HttpResponse:
    def do(invoice: Invoice, data: dict[str, Any]) -> str:
        product = q.product_or_404(request.actor, data["product"])
        line = invoices.line_add_product(
            actor=request.actor, invoice=invoice, product=product, quantity=data["quantity"]
        )
        return f"Added {line.description}."

    return _action(request, pk, "product", f.ProductLineForm(request.POST), do)


@actor_required
@require_POST
def add_custom(request: ActorRequest, pk: int) -> HttpResponse:
    def do(invoice: Invoice, data: dict[str, Any]) -> str:
        line = invoices.line_add_custom(
            actor=request.actor,
            invoice=invoice,
            description=data["description"],
            unit_price=data["unit_price"],
            quantity=data["quantity"],
            tax_rate=q.tax_rate_or_none(request.actor, data.get("tax_rate")),
        )
        return f"Added {line.description}."

    return _action(request, pk, "custom", f.CustomLineForm(request.POST), do)


@actor_required
@require_POST
def line_discount(request: ActorRequest, pk: int, line_pk: int) -> HttpResponse:
    def do(invoice: Invoice, data: dict[str, Any]) -> str:
        line = q.line_or_404(invoice, line_pk)
        invoices.line_discount_set(
            actor=request.actor, line=line, discount=data["discount"], reason=data.get("discount_reason", "")
        )
        return "Discount saved."

    return _action(request, pk, "discount", f.DiscountForm(request.POST), do)


@actor_required
@require_POST
def line_remove(request: ActorRequest, pk: int, line_pk: int) -> HttpResponse:
    def do(invoice: Invoice, data: dict[str, Any]) -> str:
        line = q.line_or_404(invoice, line_pk)
        invoices.line_remove(actor=request.actor, line=line)
        return f"Removed {line.description}."

    return _action(request, pk, "remove", forms.Form(request.POST), do)


@actor_required
@require_POST
def payer_set(request: ActorRequest, pk: int) -> HttpResponse:
    def do(invoice: Invoice, data: dict[str, Any]) -> str:
        payer = q.payer_or_none(request.actor, data.get("payer"))
        referral = q.referral_or_none(request.actor, invoice, data.get("referral"))
        invoices.invoice_payer_set(actor=request.actor, invoice=invoice, payer=payer, referral=referral)
        return f"Billed to {payer.name}." if payer else "Billed to the client (self-pay)."

    return _action(request, pk, "payer", f.PayerForm(request.POST), do)


@actor_required
@require_POST
def issue(request: ActorRequest, pk: int) -> HttpResponse:
    def do(invoice: Invoice, data: dict[str, Any]) -> str:
        issued = invoices.invoice_issue(actor=request.actor, invoice=invoice)
        return f"Issued {issued.label}."

    return _action(request, pk, "issue", forms.Form(request.POST), do)


@actor_required
@require_POST
def discard(request: ActorRequest, pk: int) -> HttpResponse:
    invoices.require_billing(request.actor)
    invoice = q.invoice_or_404(request.actor, pk)
    try:
        invoices.invoice_discard(actor=request.actor, invoice=invoice)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("invoice_detail", invoice.pk)
    messages.success(request, "The draft was deleted.")
    return redirect("invoice_list")


@actor_required
@require_POST
def pay(request: ActorRequest, pk: int) -> HttpResponse:
    def do(invoice: Invoice, data: dict[str, Any]) -> str:
        payment = payments.payment_record(
            actor=request.actor,
            invoice=invoice,
            method=data["method"],
            amount=data["amount"],
            tip=data.get("tip") or Decimal("0"),
            reference=data.get("reference", ""),
            received_on=data.get("received_on"),
        )
        return f"Recorded {payment.amount} {invoice.currency} by {payment.get_method_display().lower()}."

    return _action(request, pk, "payment", f.PaymentForm(request.POST), do)


@actor_required
@require_POST
def use_package(request: ActorRequest, pk: int) -> HttpResponse:
    def do(invoice: Invoice, data: dict[str, Any]) -> str:
        line = q.line_or_404(invoice, data["line"])
        package = q.package_or_404(request.actor, data["package"])
        payments.package_redeem(actor=request.actor, invoice=invoice, line=line, package=package)
        return f"Paid {line.description} with one session of {package.name}."

    return _action(request, pk, "package", f.PackageUseForm(request.POST), do)


@actor_required
@require_POST
def use_gift_card(request: ActorRequest, pk: int) -> HttpResponse:
    def do(invoice: Invoice, data: dict[str, Any]) -> str:
        payment = payments.gift_card_redeem(
            actor=request.actor, invoice=invoice, code=data["code"], amount=data["amount"]
        )
        return f"Paid {payment.amount} {invoice.currency} by gift card."

    return _action(request, pk, "gift_card", f.GiftCardUseForm(request.POST), do)


@actor_required
@require_POST
def refund(request: ActorRequest, pk: int, payment_pk: int) -> HttpResponse:
    def do(invoice: Invoice, data: dict[str, Any]) -> str:
        original = q.payment_or_404(request.actor, payment_pk)
        if original.invoice_id != invoice.pk:
            raise ValidationError({"amount": "That payment is not on this invoice."})
        if original.method == PaymentMethod.ONLINE:
            # Back to the card through the provider (a card not present at the desk).
            done = checkout.online_refund(
                actor=request.actor, payment=original, amount=data["amount"], reason=data["reason"]
            )
        else:
            done = payments.payment_refund(
                actor=request.actor,
                payment=original,
                amount=data["amount"],
                reason=data["reason"],
                reference=data.get("reference", ""),
            )
        return f"Refunded {-done.amount} {invoice.currency} to {done.get_method_display().lower()}."

    return _action(request, pk, "refund", f.RefundForm(request.POST), do)


@actor_required
@require_POST
def write_off(request: ActorRequest, pk: int) -> HttpResponse:
    def do(invoice: Invoice, data: dict[str, Any]) -> str:
        done = payments.invoice_write_off(
            actor=request.actor, invoice=invoice, amount=data["amount"], reason=data["reason"]
        )
        return f"Wrote off {done.amount} {invoice.currency}."

    return _action(request, pk, "write_off", f.WriteOffForm(request.POST), do)


@actor_required
@require_POST
def credit_note(request: ActorRequest, pk: int) -> HttpResponse:
    invoice = q.invoice_or_404(request.actor, pk)
    choices = [(line.pk, line.description) for line in invoice.lines.all()]

    def do(invoice: Invoice, data: dict[str, Any]) -> str:
        note = invoices.credit_note_create(
            actor=request.actor, invoice=invoice, line_ids=data["lines"], reason=data["reason"]
        )
        return f"Issued {note.label} for {-note.total} {invoice.currency}."

    return _action(request, pk, "credit_note", f.CreditNoteForm(request.POST, choices=choices), do)


@actor_required
@require_POST
def email(request: ActorRequest, pk: int) -> HttpResponse:
    invoices.require_billing(request.actor)
    invoice = q.invoice_or_404(request.actor, pk)
    try:
        sent_to = documents.invoice_email(actor=request.actor, invoice=invoice)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Emailed {invoice.label} to {sent_to}.")
    return redirect("invoice_detail", invoice.pk)


# --- Printed documents --------------------------------------------------------------------


def _pdf(request: ActorRequest, pk: int, kind: str) -> HttpResponse:
    invoices.require_billing(request.actor)
    page = q.invoice_page(request.actor, pk)
    if page.invoice.status != InvoiceStatus.ISSUED:
        messages.error(request, "A draft is not printed: issue it first.")
        return redirect("invoice_detail", pk)
    printed = documents.document_printed(actor=request.actor, invoice=page.invoice, kind=kind)
    html = render_to_string(
        "billing/invoice_document.html",
        {"page": page, "invoice": page.invoice, "kind": kind, "printed": printed, "for_pdf": True},
        request=request,
    )
    response = HttpResponse(render_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{documents.filename(page.invoice, kind)}"'
    return response


@actor_required
def invoice_pdf(request: ActorRequest, pk: int) -> HttpResponse:
    return _pdf(request, pk, "invoice")


@actor_required
def receipt_pdf(request: ActorRequest, pk: int) -> HttpResponse:
    return _pdf(request, pk, "receipt")


# --- Selling from the client page ----------------------------------------------------------


@actor_required
@require_POST
def sell(request: ActorRequest, client_pk: int, what: str) -> HttpResponse:
    """Sell a package or a gift card (onto a new draft), or start a membership, for a client."""
    actor = request.actor
    invoices.require_billing(actor)
    client = people_queries.client_or_404(actor, client_pk)
    try:
        if what == "package":
            form = f.SellPackageForm(request.POST)
            if not form.is_valid():
                raise ValidationError({"plan": "Choose a package."})
            plan = q.package_plan_or_404(actor, form.cleaned_data["plan"])
            package = credits.package_sell(actor=actor, client=client, plan=plan)
            invoice_id = q.package_invoice_id(package.pk)
        elif what == "gift-card":
            form_gc = f.SellGiftCardForm(request.POST)
            if not form_gc.is_valid():
                raise ValidationError(
                    {"amount": " ".join(str(e) for e in form_gc.errors.get("amount", ["Enter an amount."]))}
                )
            card = credits.gift_card_sell(
                actor=actor,
                purchaser=client,
                amount=form_gc.cleaned_data["amount"],
                recipient_name=form_gc.cleaned_data.get("recipient_name", ""),
            )
            invoice_id = q.gift_card_invoice_id(card.pk)
        elif what == "membership":
            form_m = f.MembershipForm(request.POST)
            if not form_m.is_valid():
                raise ValidationError({"plan": "Choose a membership."})
            plan_m = q.membership_plan_or_404(actor, form_m.cleaned_data["plan"])
            credits.membership_start(actor=actor, client=client, plan=plan_m)
            messages.success(request, f"{client.display_name} joined {plan_m.name}; the first month is invoiced.")
            return redirect("client_detail", client.pk)
        else:
            return redirect("client_detail", client.pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("client_detail", client.pk)
    messages.success(request, "Added to a new draft invoice: issue it when the client pays.")
    return redirect("invoice_detail", invoice_id)


@actor_required
@require_POST
def membership_change(request: ActorRequest, pk: int, action: str) -> HttpResponse:
    actor = request.actor
    membership = q.membership_or_404(actor, pk)
    service = {
        "pause": credits.membership_pause,
        "resume": credits.membership_resume,
        "cancel": credits.membership_cancel,
    }
    if action not in service:
        return redirect("client_detail", membership.client_id)
    try:
        service[action](actor=actor, membership=membership)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Membership {action}d." if action != "cancel" else "Membership cancelled.")
    return redirect("client_detail", membership.client_id)


urlpatterns = [
    path("billing/", invoice_list, name="invoice_list"),
    path("billing/invoices/new/", invoice_new, name="invoice_new"),
    path("billing/invoices/<int:pk>/", invoice_detail, name="invoice_detail"),
    path("billing/invoices/<int:pk>/visit/", add_visit, name="invoice_add_visit"),
    path("billing/invoices/<int:pk>/product/", add_product, name="invoice_add_product"),
    path("billing/invoices/<int:pk>/custom/", add_custom, name="invoice_add_custom"),
    path("billing/invoices/<int:pk>/lines/<int:line_pk>/discount/", line_discount, name="invoice_line_discount"),
    path("billing/invoices/<int:pk>/lines/<int:line_pk>/remove/", line_remove, name="invoice_line_remove"),
    path("billing/invoices/<int:pk>/payer/", payer_set, name="invoice_payer"),
    path("billing/invoices/<int:pk>/issue/", issue, name="invoice_issue"),
    path("billing/invoices/<int:pk>/discard/", discard, name="invoice_discard"),
    path("billing/invoices/<int:pk>/pay/", pay, name="invoice_pay"),
    path("billing/invoices/<int:pk>/package/", use_package, name="invoice_use_package"),
    path("billing/invoices/<int:pk>/gift-card/", use_gift_card, name="invoice_use_gift_card"),
    path("billing/invoices/<int:pk>/payments/<int:payment_pk>/refund/", refund, name="invoice_refund"),
    path("billing/invoices/<int:pk>/write-off/", write_off, name="invoice_write_off"),
    path("billing/invoices/<int:pk>/credit-note/", credit_note, name="invoice_credit_note"),
    path("billing/invoices/<int:pk>/email/", email, name="invoice_email"),
    path("billing/invoices/<int:pk>/invoice.pdf", invoice_pdf, name="invoice_pdf"),
    path("billing/invoices/<int:pk>/receipt.pdf", receipt_pdf, name="receipt_pdf"),
    path("billing/clients/<int:client_pk>/sell/<slug:what>/", sell, name="billing_sell"),
    path("billing/memberships/<int:pk>/<slug:action>/", membership_change, name="membership_change"),
]
