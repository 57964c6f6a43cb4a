"""Printed and emailed invoices and receipts: the first print of a receipt is the original, every later
one says DUPLICATE with the date it was reissued; an emailed invoice carries its PDF."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.billing.models import Invoice, InvoiceStatus
from mend.outbox.models import OutboundMessage
from mend.outbox.services import message_schedule
from mend.platform import clock
from mend.platform.actor import Actor
from mend.platform.pdf import render_pdf


@dataclass(frozen=True, slots=True)
class Printed:
    """How a document prints this time: the original, or a duplicate reissued on a date."""

    duplicate: bool
    first_printed_at: datetime | None
    reissued_on: date | None


@transaction.atomic
def document_printed(*, actor: Actor, invoice: Invoice, kind: str) -> Printed:
    """Record a print of the invoice or its receipt; a receipt printed before comes out as a duplicate."""
    row = Invoice.objects.select_for_update().get(pk=invoice.pk)
    audit_record(action=Action.PRINT, obj=row, client_id=row.client_id, user=actor.user, clinic_id=row.clinic_id)
    if kind != "receipt":
        return Printed(duplicate=False, first_printed_at=None, reissued_on=None)
    if row.receipt_first_printed_at is None:
        row.receipt_first_printed_at = timezone.now()
        row.save(update_fields=["receipt_first_printed_at"])
        return Printed(duplicate=False, first_printed_at=row.receipt_first_printed_at, reissued_on=None)
    return Printed(duplicate=True, first_printed_at=row.receipt_first_printed_at, reissued_on=actor.today())


def filename(invoice: Invoice, kind: str) -> str:
    return f"{'receipt' if kind == 'receipt' else invoice.kind.replace('_', '-')}-{invoice.label}.pdf"


def invoice_email(*, actor: Actor, invoice: Invoice) -> str:
    """Email the issued invoice (its receipt when paid in full) as a PDF to the client; the address it went to."""
    from mend.billing.queries.invoices import invoice_page

    if invoice.status != InvoiceStatus.ISSUED:
        raise ValidationError({"__all__": "Issue the invoice before sending it."})
    client = invoice.client
    if not client.email:
        raise ValidationError({"__all__": f"{client.display_name} has no email address on file."})
    page = invoice_page(actor, invoice.pk)
    kind = "receipt" if invoice.balance <= 0 and not invoice.is_credit_note else "invoice"
    printed = Printed(duplicate=False, first_printed_at=None, reissued_on=None)
    html = render_to_string(
        "billing/invoice_document.html",
        {"page": page, "invoice": page.invoice, "kind": kind, "printed": printed, "for_pdf": True},
    )
    pdf = render_pdf(html)
    clinic = invoice.clinic
    what = "receipt" if kind == "receipt" else "invoice"
    body = render_to_string(
        "billing/email/invoice.txt", {"invoice": invoice, "client": client, "clinic": clinic, "what": what}
    )
    sent_at = clock.local_now(clinic.timezone)
    message_schedule(
        # One message per send: the desk may send the same invoice again on purpose.
        key=f"invoice:{invoice.pk}:{what}:{sent_at:%Y%m%dT%H%M%S%f}",
        channel=OutboundMessage.Channel.EMAIL,
        to=client.email,
        subject=f"Your {what} {invoice.label} from {clinic.name}",
        body=body,
        attachments=[
            {
                "filename": filename(invoice, kind),
                "mimetype": "application/pdf",
                "content_base64": base64.b64encode(pdf).decode("ascii"),
            }
        ],
    )
    audit_record(action=Action.EXPORT, obj=invoice, client_id=client.pk, user=actor.user, clinic_id=clinic.pk)
    return client.email
