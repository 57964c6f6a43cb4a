"""The billing API's contract: checkout from a completed visit to a zero balance, an issued invoice
that refuses every edit (409) and is corrected by a credit note, money as strings beside its
currency, 422 naming the field, 403 for corrections at the front desk, 404 for another clinic's or
another care team's invoice, ``Idempotency-Key`` on money movements, and a list whose queries do
not grow with the number of invoices."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mend.billing.models import GiftCard, Invoice, MembershipPlan, PackagePlan, Payment, Product
from mend.billing.services import invoices
from mend.testing import Personas

from .helpers import Billing, build_billing, completed_visit


@pytest.fixture
def billing(personas: Personas) -> Billing:
    return build_billing(personas)


@pytest.fixture
def visit(personas: Personas, billing: Billing) -> Invoice:
    """Carol's visit with Tess today, completed: its draft of 120.00 + 13% HST = 135.60."""
    return completed_visit(personas, billing)


@pytest.fixture
def plan(personas: Personas, billing: Billing) -> PackagePlan:
    return PackagePlan.objects.create(
        clinic=personas.harbour,
        name="Five treatments",
        appointment_type=billing.schedule.treatment,
        sessions=5,
        price=Decimal("500.00"),
    )


def issued(personas: Personas, invoice: Invoice) -> Invoice:
    return invoices.invoice_issue(actor=personas.actor("owner"), invoice=invoice)


def _strings(value, path="") -> list[str]:
    """Every float in a JSON body, by path (money must never be one)."""
    if isinstance(value, float):
        return [path]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _strings(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [p for n, item in enumerate(value) for p in _strings(item, f"{path}.{n}")]
    return []


# --- Checkout ----------------------------------------------------------------------------------


def test_checkout_through_the_api_from_visit_to_nothing_owing(api, personas, billing, visit, plan):
    desk = api("front_desk")
    roller = Product.objects.create(
        clinic=personas.harbour, name="Foam roller", price=Decimal("20.00"), tax_rate=billing.hst
    )

    # The completed visit made its draft; the desk reads it and adds a foam roller.
    draft = desk.get(f"/invoices/{visit.pk}").json()
    assert (draft["status"], draft["label"], draft["total"], draft["currency"]) == (
        "draft",
        "Draft invoice",
        "135.60",
        "CAD",
    )
    (service,) = draft["lines"]
    assert (service["kind"], service["unit_price"], service["tax"], service["total"]) == (
        "service",
        "120.00",
        "15.60",
        "135.60",
    )
    response = desk.post(f"/invoices/{visit.pk}/lines", {"kind": "product", "product": roller.pk, "quantity": "1"})
    assert response.status_code == 201, response.content
    assert response.json()["line"]["total"] == "22.60"
    assert response.json()["invoice"]["total"] == "158.20"

    # Carol buys a package: it is on its own draft, usable once that is issued (and paid).
    sold = desk.post(f"/clients/{personas.carol.pk}/packages", {"plan": plan.pk})
    assert sold.status_code == 201, sold.content
    package, sale = sold.json()["package"], sold.json()["invoice"]
    assert (package["active"], package["sessions_left"], package["price"]) == (False, 5, "500.00")
    assert desk.post(f"/invoices/{sale}/issue").json()["label"] == "INV-000001"
    paid_sale = desk.post(f"/invoices/{sale}/payments", {"method": "card", "amount": "500.00"})
    assert paid_sale.status_code == 201, paid_sale.content
    assert paid_sale.json()["invoice"]["balance"] == "0.00"

    # The visit is issued, the roller paid by card, the treatment by one session of the package.
    issued_body = desk.post(f"/invoices/{visit.pk}/issue").json()
    assert (issued_body["status"], issued_body["label"], issued_body["balance"]) == ("issued", "INV-000002", "158.20")
    card = desk.post(f"/invoices/{visit.pk}/payments", {"method": "card", "amount": "22.60", "reference": "slip 0042"})
    assert card.status_code == 201, card.content
    assert card.json()["payment"] == card.json()["invoice"]["payments"][0]
    assert (card.json()["payment"]["method"], card.json()["payment"]["amount"]) == ("card", "22.60")
    assert card.json()["invoice"]["balance"] == "135.60"
    line = card.json()["invoice"]["lines"][0]
    assert line["usable_packages"] == [package["id"]]
    session = desk.post(f"/invoices/{visit.pk}/package-redemptions", {"line": line["id"], "package": package["id"]})
    assert session.status_code == 201, session.content
    body = session.json()["invoice"]
    assert (body["balance"], body["amount_paid"]) == ("0.00", "158.20")
    assert body["lines"][0]["paid_by_package"] == package["id"]
    assert [(p["method"], p["amount"]) for p in body["payments"]] == [("card", "22.60"), ("package", "135.60")]
    packages = desk.get(f"/clients/{personas.carol.pk}/packages").json()
    assert [(p["id"], p["sessions_left"], p["usable"]) for p in packages] == [(package["id"], 4, True)]
    assert not _strings(body), "money is never a float"

    listed = desk.get("/invoices", {"client": personas.carol.pk}).json()["items"]
    assert {(row["label"], row["total"], row["balance"]) for row in listed} == {
        ("INV-000001", "500.00", "0.00"),
        ("INV-000002", "158.20", "0.00"),
    }
    assert not _strings(listed)


def test_a_draft_takes_custom_lines_discounts_and_removals_and_can_be_deleted(api, personas, billing, visit):
    desk = api("front_desk")
    custom = desk.post(
        f"/invoices/{visit.pk}/lines",
        {"kind": "custom", "description": "Report for the insurer", "unit_price": "25.00", "tax_rate": billing.hst.pk},
    )
    assert custom.status_code == 201, custom.content
    line = custom.json()["line"]
    assert (line["kind"], line["total"], line["tax_rate"]) == ("other", "28.25", "13")
    service_id = custom.json()["invoice"]["lines"][0]["id"]

    discounted = desk.patch(
        f"/invoices/{visit.pk}/lines/{service_id}", {"discount": "20.00", "discount_reason": "Returning client"}
    )
    assert discounted.status_code == 200, discounted.content
    assert (discounted.json()["line"]["net"], discounted.json()["line"]["total"]) == ("100.00", "113.00")
    no_reason = desk.patch(f"/invoices/{visit.pk}/lines/{service_id}", {"discount": "10.00"})
    assert no_reason.status_code == 422 and "discount_reason" in no_reason.json()["errors"]

    removed = desk.delete(f"/invoices/{visit.pk}/lines/{line['id']}")
    assert removed.status_code == 200
    assert removed.json()["total"] == "113.00"

    started = desk.post("/invoices", {"client": personas.dan.pk})
    assert started.status_code == 201, started.content
    assert (started.json()["status"], started.json()["lines"]) == ("draft", [])
    assert desk.delete(f"/invoices/{started.json()['id']}").status_code == 204
    assert desk.get(f"/invoices/{started.json()['id']}").status_code == 404


# --- An issued invoice never changes ----------------------------------------------------------


def test_an_issued_invoice_refuses_every_edit_with_409_and_its_numbers_stay(api, personas, billing, visit):
    issued(personas, visit)
    owner = api("owner")
    before = owner.get(f"/invoices/{visit.pk}").json()
    line = before["lines"][0]["id"]
    attempts = [
        owner.patch(f"/invoices/{visit.pk}/lines/{line}", {"discount": "10.00", "discount_reason": "Goodwill"}),
        owner.delete(f"/invoices/{visit.pk}/lines/{line}"),
        owner.delete(f"/invoices/{visit.pk}"),
        owner.post(f"/invoices/{visit.pk}/lines", {"kind": "custom", "description": "Extra", "unit_price": "5.00"}),
        # Bad input too: the invoice's state answers first.
        owner.patch(f"/invoices/{visit.pk}/lines/{line}", {"discount": "lots"}),
        owner.post(f"/invoices/{visit.pk}/issue"),
    ]
    for response in attempts:
        assert response.status_code == 409, response.content
        assert "INV-000001 is issued" in response.json()["detail"]
        assert "credit note" in response.json()["detail"]
    after = owner.get(f"/invoices/{visit.pk}").json()
    assert after == before
    assert (after["label"], after["total"], after["tax_total"], len(after["lines"])) == (
        "INV-000001",
        "135.60",
        "15.60",
        1,
    )


def test_a_credit_note_corrects_an_issued_invoice(api, personas, billing, visit):
    issued(personas, visit)
    owner = api("owner")
    paid = owner.post(f"/invoices/{visit.pk}/payments", {"method": "cash", "amount": "35.60"})
    assert paid.status_code == 201
    note = owner.post(f"/invoices/{visit.pk}/credit-notes", {"reason": "Billed in error"})
    assert note.status_code == 201, note.content
    body = note.json()
    assert (body["kind"], body["label"], body["corrects"], body["total"]) == (
        "credit_note",
        "CN-000001",
        visit.pk,
        "-135.60",
    )
    assert (body["lines"][0]["quantity"], body["lines"][0]["tax"]) == ("-1", "-15.60")

    invoice = owner.get(f"/invoices/{visit.pk}").json()
    assert (invoice["label"], invoice["total"], invoice["amount_credited"]) == ("INV-000001", "135.60", "135.60")
    # The client paid 35.60 of what is now nothing: it is theirs to be refunded.
    assert invoice["balance"] == "-35.60"
    assert invoice["credit_notes"] == [
        {
            "id": body["id"],
            "label": "CN-000001",
            "issued_on": body["issued_on"],
            "total": "-135.60",
            "reason": "Billed in error",
        }
    ]
    assert invoice["lines"][0]["credited"] is True
    payment = invoice["payments"][0]
    refund = owner.post(
        f"/invoices/{visit.pk}/payments/{payment['id']}/refunds", {"amount": "35.60", "reason": "Credited"}
    )
    assert refund.status_code == 201, refund.content
    assert refund.json()["payment"]["amount"] == "-35.60"
    assert refund.json()["invoice"]["balance"] == "0.00"

    again = owner.post(f"/invoices/{visit.pk}/credit-notes", {"reason": "Twice", "lines": [invoice["lines"][0]["id"]]})
    assert again.status_code == 422 and "lines" in again.json()["errors"]
    no_reason = owner.post(f"/invoices/{visit.pk}/credit-notes", {"reason": " "})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["errors"]


def test_a_draft_is_not_paid_nor_credited_409(api, personas, billing, visit):
    owner = api("owner")
    assert owner.post(f"/invoices/{visit.pk}/payments", {"method": "cash", "amount": "1.00"}).status_code == 409
    assert owner.post(f"/invoices/{visit.pk}/credit-notes", {"reason": "x"}).status_code == 409
    assert owner.post(f"/invoices/{visit.pk}/write-offs", {"amount": "1.00", "reason": "x"}).status_code == 409
    assert not Payment.objects.exists()


# --- Input, roles and other clinics -------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"method": "card", "amount": "abc"}, "amount"),
        ({"method": "card", "amount": "12.345"}, "amount"),  # past the cent
        ({"method": "card", "amount": "500.00"}, "amount"),  # more than owing
        ({"method": "card", "amount": "0"}, "amount"),
        ({"method": "card", "amount": "99999999999999.00"}, "amount"),
        ({"method": "card", "amount": 12.5}, "amount"),  # a float is not money
        ({"method": "cash", "amount": "10.00", "tip": "2.00"}, "tip"),
        ({"method": "package", "amount": "10.00"}, "method"),
        ({"method": "card"}, "amount"),
    ],
)
def test_a_bad_payment_is_422_naming_the_field(api, personas, billing, visit, payload, field):
    issued(personas, visit)
    response = api("front_desk").post(f"/invoices/{visit.pk}/payments", payload)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"], response.json()
    assert not Payment.objects.exists()


def test_front_desk_cannot_credit_refund_or_write_off(api, personas, billing, visit):
    issued(personas, visit)
    desk = api("front_desk")
    paid = desk.post(f"/invoices/{visit.pk}/payments", {"method": "cash", "amount": "35.60"}).json()["payment"]
    before = desk.get(f"/invoices/{visit.pk}").json()
    for response in (
        desk.post(f"/invoices/{visit.pk}/credit-notes", {"reason": "Billed in error"}),
        desk.post(f"/invoices/{visit.pk}/write-offs", {"amount": "100.00", "reason": "Will not pay"}),
        desk.post(f"/invoices/{visit.pk}/payments/{paid['id']}/refunds", {"amount": "35.60", "reason": "Asked"}),
    ):
        assert response.status_code == 403, response.content
    assert desk.get(f"/invoices/{visit.pk}").json() == before
    # An owner may.
    written = api("owner").post(f"/invoices/{visit.pk}/write-offs", {"amount": "100.00", "reason": "Will not pay"})
    assert written.status_code == 201, written.content
    assert (written.json()["payment"]["kind"], written.json()["invoice"]["balance"]) == ("write_off", "0.00")


def test_another_clinics_invoice_is_404_and_nothing_is_recorded(api, personas, billing, visit):
    issued(personas, visit)
    outsider = api("outsider")
    for response in (
        outsider.get(f"/invoices/{visit.pk}"),
        outsider.post(f"/invoices/{visit.pk}/payments", {"method": "cash", "amount": "1.00"}),
        outsider.post(f"/invoices/{visit.pk}/credit-notes", {"reason": "x"}),
        outsider.delete(f"/invoices/{visit.pk}"),
        outsider.get(f"/clients/{personas.carol.pk}/packages"),
    ):
        assert response.status_code == 404, response.content
        assert response.json() == {"detail": "Not found."}
    assert outsider.get("/invoices").json()["items"] == []
    assert outsider.post("/invoices", {"client": personas.carol.pk}).json()["errors"] == {
        "client": ["No such client in this clinic."]
    }
    assert not Payment.objects.exists()


def test_a_therapist_sees_their_care_teams_invoices_only(api, personas, billing, visit):
    assert api("therapist").get(f"/invoices/{visit.pk}").status_code == 200
    theo = api("therapist2")
    assert theo.get(f"/invoices/{visit.pk}").status_code == 404
    assert theo.post(f"/invoices/{visit.pk}/issue").status_code == 404
    assert theo.get("/invoices").json()["items"] == []
    assert Invoice.objects.get(pk=visit.pk).is_draft


# --- Idempotency-Key -----------------------------------------------------------------------------


def test_a_payment_retried_with_its_key_is_recorded_once(api, personas, billing, visit):
    issued(personas, visit)
    desk = api("front_desk")
    body = {"method": "card", "amount": "50.00"}
    headers = {"HTTP_IDEMPOTENCY_KEY": "till-7-0001"}
    url = f"/api/v1/invoices/{visit.pk}/payments"
    first = desk.client.post(url, body, content_type="application/json", **desk.headers, **headers)
    second = desk.client.post(url, body, content_type="application/json", **desk.headers, **headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json() and second["Idempotent-Replayed"] == "true"
    assert Payment.objects.filter(invoice=visit).count() == 1
    other = desk.client.post(
        url, {**body, "amount": "60.00"}, content_type="application/json", **desk.headers, **headers
    )
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["errors"]


# --- Memberships and gift cards ------------------------------------------------------------------


def test_a_membership_starts_pauses_resumes_and_cancels(api, personas, billing):
    plan = MembershipPlan.objects.create(
        clinic=personas.harbour,
        name="Monthly",
        monthly_fee=Decimal("99.00"),
        appointment_type=billing.schedule.treatment,
        sessions_per_month=1,
    )
    desk = api("front_desk")
    started = desk.post(f"/clients/{personas.carol.pk}/memberships", {"plan": plan.pk})
    assert started.status_code == 201, started.content
    membership = started.json()
    assert (membership["status"], membership["monthly_fee"], membership["currency"]) == ("active", "99.00", "CAD")
    twice = desk.post(f"/clients/{personas.carol.pk}/memberships", {"plan": plan.pk})
    assert twice.status_code == 422 and "plan" in twice.json()["errors"]
    unknown = desk.post(f"/clients/{personas.carol.pk}/memberships", {"plan": 999999})
    assert unknown.json()["errors"] == {"plan": ["No such membership in this clinic."]}

    assert desk.post(f"/memberships/{membership['id']}/pause").json()["status"] == "paused"
    assert desk.post(f"/memberships/{membership['id']}/pause").status_code == 409
    assert desk.post(f"/memberships/{membership['id']}/resume").json()["status"] == "active"
    assert desk.post(f"/memberships/{membership['id']}/cancel").json()["status"] == "cancelled"
    assert desk.post(f"/memberships/{membership['id']}/cancel").status_code == 409
    assert [m["status"] for m in desk.get(f"/clients/{personas.carol.pk}/memberships").json()] == ["cancelled"]
    # The first month's credit is a package of one session.
    assert [p["source"] for p in desk.get(f"/clients/{personas.carol.pk}/packages").json()] == ["membership"]
    assert api("outsider").post(f"/memberships/{membership['id']}/resume").status_code == 404


def test_a_gift_card_is_sold_looked_up_and_spent(api, personas, billing, visit):
    desk = api("front_desk")
    sold = desk.post(f"/clients/{personas.dan.pk}/gift-cards", {"amount": "50.00", "recipient_name": "Carol"})
    assert sold.status_code == 201, sold.content
    card, sale = sold.json()["gift_card"], sold.json()["invoice"]
    assert (card["active"], card["amount"]) == (False, "50.00")
    assert desk.post(f"/invoices/{sale}/issue").status_code == 200
    code = card["code"]
    looked = desk.get(f"/gift-cards/{code.lower().replace('-', '')}").json()
    assert (looked["active"], looked["balance"], looked["currency"], looked["expired"]) == (True, "50.00", "CAD", False)
    assert api("outsider").get(f"/gift-cards/{code}").status_code == 404
    assert desk.get("/gift-cards/NOPE-NOPE-NOPE-NOPE").status_code == 404

    issued(personas, visit)
    spent = desk.post(f"/invoices/{visit.pk}/gift-card-payments", {"code": code, "amount": "50.00"})
    assert spent.status_code == 201, spent.content
    assert spent.json()["invoice"]["balance"] == "85.60"
    assert desk.get(f"/gift-cards/{code}").json()["balance"] == "0.00"
    over = desk.post(f"/invoices/{visit.pk}/gift-card-payments", {"code": code, "amount": "1.00"})
    assert over.status_code == 422 and "amount" in over.json()["errors"]
    assert GiftCard.objects.get(code=code).balance == Decimal("0.00")


# --- The list ------------------------------------------------------------------------------------


def _invoices(p: Personas, b: Billing, count: int) -> None:
    owner = p.actor("owner")
    for n in range(count):
        draft = invoices.invoice_create(actor=owner, clinic=p.harbour, client=p.carol if n % 2 else p.dan)
        invoices.line_add_custom(actor=owner, invoice=draft, description=f"Item {n}", unit_price=Decimal("10.00"))
        if n % 3:
            invoices.invoice_issue(actor=owner, invoice=draft)


def _list_queries(desk, **params) -> tuple[int, list]:
    with CaptureQueriesContext(connection) as captured:
        response = desk.get("/invoices", params)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries), response.json()["items"]


def test_the_list_filters_and_its_queries_do_not_grow_with_the_invoices(api, personas, billing):
    desk = api("front_desk")
    _invoices(personas, billing, 2)
    _list_queries(desk)  # the token's first use writes its last_used_at; not counted
    small, _ = _list_queries(desk)
    _invoices(personas, billing, 28)
    # Eight, at 2 invoices and at 30: the token and its membership (authentication); one page of
    # rows with client, payer and corrected invoice joined; the audit row of the read (its
    # savepoint, the chain's last hash, the insert, the release); the count for the paginator.
    large, rows = _list_queries(desk)
    # PostgreSQL adds one: the audit chain's per-clinic advisory lock.
    assert small == large == (9 if connection.vendor == "postgresql" else 8), (
        f"{small} queries with 2 invoices, {large} with 30"
    )
    assert len(rows) == 30
    _, drafts = _list_queries(desk, status="draft")
    assert drafts and {r["status"] for r in drafts} == {"draft"}
    _, owing = _list_queries(desk, owing="true")
    assert owing and all(r["status"] == "issued" and r["balance"] == "10.00" for r in owing)
    _, dans = _list_queries(desk, client=personas.dan.pk)
    assert dans and {r["client"] for r in dans} == {personas.dan.pk}
    bad = desk.get("/invoices", {"status": "paid"})
    assert bad.status_code == 422 and "status" in bad.json()["errors"]


# --- Superbills ----------------------------------------------------------------------------------


def test_superbills_of_an_invoice_and_of_a_period(api, personas, billing, visit):
    desk = api("front_desk")
    draft = desk.get(f"/invoices/{visit.pk}/superbill")
    assert draft.status_code == 409 and "issue the invoice first" in draft.json()["detail"]
    issued(personas, visit)
    response = desk.get(f"/invoices/{visit.pk}/superbill")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["invoice_label"], body["currency"], body["client_id"]) == ("INV-000001", "CAD", personas.carol.pk)
    assert body["total_charges"] == "135.60" and isinstance(body["balance"], str)
    assert not _strings(body)

    today = personas.today.isoformat()
    period = desk.get(f"/clients/{personas.carol.pk}/superbill", {"from": today, "to": today})
    assert period.status_code == 200, period.content
    assert (period.json()["start"], period.json()["end"]) == (today, today)
    bad = desk.get(f"/clients/{personas.carol.pk}/superbill", {"from": today, "to": "someday"})
    assert bad.status_code == 422 and "to" in bad.json()["errors"]
    assert api("therapist2").get(f"/invoices/{visit.pk}/superbill").status_code == 404
    assert api("outsider").get(f"/clients/{personas.carol.pk}/superbill").status_code == 404
