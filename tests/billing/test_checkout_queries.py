"""Checkout in a bounded number of queries: the invoice page, a package session and a card payment cost
the same whether the client has two package sales or ten, and the invoice three lines or eleven."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mend.billing.models import Invoice, PackagePlan
from mend.billing.services import credits, invoices
from mend.testing import Personas

from .helpers import Billing, build_billing, completed_visit


@pytest.fixture
def billing(personas: Personas) -> Billing:
    return build_billing(personas)


def _history(p: Personas, b: Billing, *, size: int) -> tuple[Invoice, object]:
    """``size`` issued sales of packages for Carol, and today's visit issued with ``size`` extra lines."""
    owner = p.actor("owner")
    plan = PackagePlan.objects.create(
        clinic=p.harbour, name=f"Pack {size}", appointment_type=b.schedule.treatment, sessions=5, price=Decimal("500")
    )
    packages = []
    for _ in range(size):
        package = credits.package_sell(actor=owner, client=p.carol, plan=plan)
        invoices.invoice_issue(actor=owner, invoice=Invoice.objects.get(lines__package=package))
        packages.append(package)
    visit = completed_visit(p, b, hour=9 if size < 5 else 14)
    for n in range(size):
        invoices.line_add_custom(actor=owner, invoice=visit, description=f"Extra {n}", unit_price=Decimal("5"))
    return invoices.invoice_issue(actor=owner, invoice=visit), packages[0]


def _checkout(http, invoice: Invoice, package) -> list[int]:
    line = invoice.lines.filter(kind="service").get()
    counts = []
    for do in (
        lambda: http.get(f"/billing/invoices/{invoice.pk}/"),
        lambda: http.post(f"/billing/invoices/{invoice.pk}/package/", {"line": line.pk, "package": package.pk}),
        lambda: http.post(f"/billing/invoices/{invoice.pk}/pay/", {"method": "card", "amount": "1.00"}),
    ):
        with CaptureQueriesContext(connection) as captured:
            response = do()
        assert response.status_code in (200, 302), response.content[:300]
        counts.append(len(captured.captured_queries))
    return counts


def test_checkout_queries_do_not_grow_with_the_clients_history(login, personas, billing):
    http = login("front_desk")
    small = _checkout(http, *_history(personas, billing, size=2))
    large = _checkout(http, *_history(personas, billing, size=10))
    assert small == large, f"queries per step (page, package, card): {small} with 2, {large} with 10"
    # Today 16, 19 and 13 (page, package session, card payment): a ceiling well above, so a new query is a choice.
    assert max(large) < 40
