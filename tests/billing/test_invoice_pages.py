"""Checkout through the pages: the draft a visit made, issue, pay part by package and part by card, PDFs."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest
from pypdf import PdfReader

from mend.billing.models import Invoice, PackagePlan, Payment
from mend.billing.services import credits, invoices
from mend.testing import Personas

from .helpers import Billing, build_billing, completed_visit


@pytest.fixture
def billing(personas: Personas) -> Billing:
    return build_billing(personas)


def _pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(response.content)).pages)


def test_the_desk_issues_a_visit_takes_a_card_payment_and_prints_the_receipt(login, personas, billing):
    draft = completed_visit(personas, billing)
    desk = login("front_desk")
    page = desk.get(f"/billing/invoices/{draft.pk}/")
    assert page.status_code == 200
    assert b"Treatment 60" in page.content and b"135.60" in page.content
    assert desk.post(f"/billing/invoices/{draft.pk}/issue/").status_code == 302
    refused = desk.post(f"/billing/invoices/{draft.pk}/pay/", {"method": "card", "amount": "200"})
    assert refused.status_code == 400
    assert b"more than the 135.60 CAD owing" in refused.content
    assert not Payment.objects.filter(invoice=draft).exists()
    paid = desk.post(f"/billing/invoices/{draft.pk}/pay/", {"method": "card", "amount": "135.60", "reference": "T-1"})
    assert paid.status_code == 302
    draft.refresh_from_db()
    assert draft.balance == Decimal("0.00")
    first = _pdf_text(desk.get(f"/billing/invoices/{draft.pk}/receipt.pdf"))
    assert "Receipt INV-000001" in first and "135.60" in first and "R-1234" in first and "DUPLICATE" not in first
    again = _pdf_text(desk.get(f"/billing/invoices/{draft.pk}/receipt.pdf"))
    assert "DUPLICATE" in again


def test_a_package_pays_the_visit_at_its_full_fee_and_its_balance_shows_on_the_client(login, personas, billing):
    owner = personas.actor("owner")
    plan = PackagePlan.objects.create(
        clinic=personas.harbour,
        name="Five treatments",
        appointment_type=billing.schedule.treatment,
        sessions=5,
        price=Decimal("500.00"),
    )
    package = credits.package_sell(actor=owner, client=personas.carol, plan=plan)
    sale = Invoice.objects.get(lines__package=package)
    assert sale.total == Decimal("500.00")  # a prepayment: no tax at sale
    invoices.invoice_issue(actor=owner, invoice=sale)
    visit = invoices.invoice_issue(actor=owner, invoice=completed_visit(personas, billing))
    line = visit.lines.get()
    desk = login("front_desk")
    assert (
        desk.post(f"/billing/invoices/{visit.pk}/package/", {"line": line.pk, "package": package.pk}).status_code == 302
    )
    visit.refresh_from_db()
    assert visit.balance == Decimal("0.00")
    receipt = _pdf_text(desk.get(f"/billing/invoices/{visit.pk}/receipt.pdf"))
    assert "120.00" in receipt and "Package credit" in receipt
    client_page = desk.get(f"/clients/{personas.carol.pk}/")
    assert b"4 of 5" in client_page.content


def test_an_issued_invoice_cannot_be_changed_through_the_pages(login, personas, billing):
    issued = invoices.invoice_issue(actor=personas.actor("owner"), invoice=completed_visit(personas, billing))
    line = issued.lines.get()
    desk = login("front_desk")
    response = desk.post(
        f"/billing/invoices/{issued.pk}/lines/{line.pk}/discount/", {"discount": "20", "discount_reason": "x"}
    )
    assert response.status_code == 400
    assert b"credit note" in response.content
    line.refresh_from_db()
    assert line.discount == Decimal("0.00")


def test_another_clinic_sees_no_invoice(login, personas, billing):
    draft = completed_visit(personas, billing)
    assert login("outsider").get(f"/billing/invoices/{draft.pk}/").status_code == 404
