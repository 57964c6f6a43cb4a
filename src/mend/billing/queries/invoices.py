"""Loaders for invoices and payments, scoped by the actor: another clinic's, or a client the actor
may not see (a therapist outside the care team), is a 404."""

from __future__ import annotations

from django.db.models import QuerySet

from mend.access import object_or_404
from mend.billing.models import Invoice, Payment
from mend.people import queries as people_queries
from mend.platform.actor import Actor


def invoices(actor: Actor) -> QuerySet[Invoice]:
    """Invoices and credit notes of the clients this actor sees, in their clinic."""
    return Invoice.objects.filter(clinic_id=actor.clinic_id, client__in=people_queries.clients(actor))


def invoice_or_404(actor: Actor, pk: int | str) -> Invoice:
    return object_or_404(invoices(actor).select_related("client", "clinic", "payer", "corrects"), pk, "invoice")


def payments(actor: Actor) -> QuerySet[Payment]:
    return Payment.objects.filter(clinic_id=actor.clinic_id, invoice__in=invoices(actor))


def payment_or_404(actor: Actor, pk: int | str) -> Payment:
    return object_or_404(payments(actor).select_related("invoice", "client"), pk, "payment")
