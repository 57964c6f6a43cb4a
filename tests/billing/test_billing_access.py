"""Every checkout route × every persona: staff bill the clients they see; corrections are the owner's and
admin's; another clinic's invoice is a 404, and signing out sends everyone to the sign-in page.

Tess (therapist) is on Carol's care team, so she sees and bills Carol's invoices; the outsider owns
Northside. Writes that refuse leave no audit row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

import pytest

from mend.audit.models import AuditEvent
from mend.billing.models import ClientMembership, MembershipPlan
from mend.billing.services import invoices, payments
from mend.testing import Personas

from .helpers import build_billing, completed_visit

PERSONAS = ["anonymous", "owner", "admin", "therapist", "front_desk", "outsider"]
OK, FOUND, BAD, FORBIDDEN, NOT_FOUND = 200, 302, 400, 403, 404


@dataclass
class Rows:
    p: Personas
    draft: Any
    draft_line: Any
    issued: Any
    issued_line: Any
    payment: Any
    membership: Any


@pytest.fixture
def rows(personas: Personas) -> Rows:
    billing = build_billing(personas)
    owner = personas.actor("owner")
    draft = completed_visit(personas, billing, hour=9)
    issued = invoices.invoice_issue(actor=owner, invoice=completed_visit(personas, billing, hour=11))
    payment = payments.payment_record(actor=owner, invoice=issued, method="cash", amount=Decimal("10.00"))
    plan = MembershipPlan.objects.create(
        clinic=personas.harbour, name="Monthly", monthly_fee=Decimal("90"), appointment_type=billing.schedule.treatment
    )
    membership = ClientMembership.objects.create(
        clinic=personas.harbour,
        client=personas.carol,
        plan=plan,
        started_on=personas.today,
        next_charge_on=personas.today,
    )
    return Rows(personas, draft, draft.lines.get(), issued, issued.lines.get(), payment, membership)


class Row(NamedTuple):
    path: Callable[[Rows], str]
    # owner, admin, therapist, front_desk, outsider
    expected: tuple[int, ...]
    data: Callable[[Rows], dict[str, Any]] | None = None


ALL_STAFF = (OK, OK, OK, OK, NOT_FOUND)
POSTED = (FOUND, FOUND, FOUND, FOUND, NOT_FOUND)
INVALID = (BAD, BAD, BAD, BAD, NOT_FOUND)
CORRECTION = (FOUND, FOUND, FORBIDDEN, FORBIDDEN, NOT_FOUND)
EMPTY: Callable[[Rows], dict[str, Any]] = lambda r: {}  # noqa: E731

ROUTES: dict[str, Row] = {
    # Each clinic's own list: the outsider sees Northside's (empty), never Harbour's.
    "invoice_list": Row(lambda r: "/billing/", (OK, OK, OK, OK, OK)),
    "invoice_new": Row(lambda r: "/billing/invoices/new/", POSTED, lambda r: {"client": r.p.carol.pk}),
    "invoice_detail": Row(lambda r: f"/billing/invoices/{r.draft.pk}/", ALL_STAFF),
    "invoice_add_visit": Row(lambda r: f"/billing/invoices/{r.draft.pk}/visit/", INVALID, EMPTY),
    "invoice_add_product": Row(lambda r: f"/billing/invoices/{r.draft.pk}/product/", INVALID, EMPTY),
    "invoice_add_custom": Row(lambda r: f"/billing/invoices/{r.draft.pk}/custom/", INVALID, EMPTY),
    "invoice_line_discount": Row(
        lambda r: f"/billing/invoices/{r.draft.pk}/lines/{r.draft_line.pk}/discount/", INVALID, EMPTY
    ),
    "invoice_line_remove": Row(
        lambda r: f"/billing/invoices/{r.draft.pk}/lines/{r.draft_line.pk}/remove/", POSTED, EMPTY
    ),
    "invoice_payer": Row(lambda r: f"/billing/invoices/{r.draft.pk}/payer/", POSTED, EMPTY),
    "invoice_issue": Row(lambda r: f"/billing/invoices/{r.draft.pk}/issue/", POSTED, EMPTY),
    "invoice_discard": Row(lambda r: f"/billing/invoices/{r.draft.pk}/discard/", POSTED, EMPTY),
    "invoice_pay": Row(lambda r: f"/billing/invoices/{r.issued.pk}/pay/", INVALID, EMPTY),
    "invoice_use_package": Row(lambda r: f"/billing/invoices/{r.issued.pk}/package/", INVALID, EMPTY),
    "invoice_use_gift_card": Row(lambda r: f"/billing/invoices/{r.issued.pk}/gift-card/", INVALID, EMPTY),
    "invoice_refund": Row(
        lambda r: f"/billing/invoices/{r.issued.pk}/payments/{r.payment.pk}/refund/",
        CORRECTION,
        lambda r: {"amount": "1.00", "reason": "Overcharged"},
    ),
    "invoice_write_off": Row(
        lambda r: f"/billing/invoices/{r.issued.pk}/write-off/",
        CORRECTION,
        lambda r: {"amount": "1.00", "reason": "Hardship"},
    ),
    "invoice_credit_note": Row(
        lambda r: f"/billing/invoices/{r.issued.pk}/credit-note/",
        CORRECTION,
        lambda r: {"lines": [r.issued_line.pk], "reason": "Wrong price"},
    ),
    "invoice_email": Row(lambda r: f"/billing/invoices/{r.issued.pk}/email/", POSTED, EMPTY),
    "invoice_pdf": Row(lambda r: f"/billing/invoices/{r.issued.pk}/invoice.pdf", ALL_STAFF),
    "receipt_pdf": Row(lambda r: f"/billing/invoices/{r.issued.pk}/receipt.pdf", ALL_STAFF),
    "billing_sell": Row(
        lambda r: f"/billing/clients/{r.p.carol.pk}/sell/gift-card/", POSTED, lambda r: {"amount": "50"}
    ),
    "membership_change": Row(lambda r: f"/billing/memberships/{r.membership.pk}/pause/", POSTED, EMPTY),
}


def test_every_checkout_route_is_in_the_matrix():
    from mend.billing.views import invoices as views

    assert {p.name for p in views.urlpatterns} == set(ROUTES), "add a row to ROUTES for every checkout route"


@pytest.mark.parametrize(("route", "persona"), [pytest.param(r, p, id=f"{r}-{p}") for r in ROUTES for p in PERSONAS])
def test_checkout_access(client, login, rows, route, persona):
    row = ROUTES[route]
    path = row.path(rows)
    http = client if persona == "anonymous" else login(persona)
    events = AuditEvent.objects.count()
    response = http.get(path) if row.data is None else http.post(path, row.data(rows))
    if persona == "anonymous":
        assert response.status_code == FOUND and response["Location"].startswith("/accounts/login/?next=")
        return
    expected = row.expected[PERSONAS.index(persona) - 1]
    assert response.status_code == expected, (path, persona, response.status_code, response.content[:300])
    if expected in (FORBIDDEN, NOT_FOUND):
        assert AuditEvent.objects.count() == events
        assert b"Carol" not in response.content


# Public routes: the booking's signed link is the credential for paying a deposit, the provider's
# signature for its webhook. Anyone — signed in or not — gets the same answer.
PUBLIC = {
    "deposit_pay": ("/billing/deposit/not-a-token/pay/", NOT_FOUND),
    "package_buy": ("/billing/deposit/not-a-token/package/1/", NOT_FOUND),
    "provider_webhook": ("/billing/webhooks/stripe/", BAD),
}


def test_every_public_billing_route_is_listed():
    from mend.billing.views import checkout

    assert {p.name for p in checkout.urlpatterns} == set(PUBLIC)


@pytest.mark.parametrize(("route", "persona"), [pytest.param(r, p, id=f"{r}-{p}") for r in PUBLIC for p in PERSONAS])
def test_public_billing_routes_answer_everyone_alike(client, login, personas, route, persona):
    path, expected = PUBLIC[route]
    http = client if persona == "anonymous" else login(persona)
    response = http.post(path, b"{}", content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=00")
    assert response.status_code == expected
