"""Packages, gift cards and memberships: sold on an invoice, used at checkout, charged by the worker."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from mend.billing.models import ClientMembership, GiftCard, Invoice, MembershipPlan, Package, PackagePlan
from mend.billing.services import credits, invoices, payments
from mend.core.availability import exact_local
from mend.testing import Personas

from .helpers import Billing, build_billing, completed_visit

ZONE = "America/Toronto"


@pytest.fixture
def billing(personas: Personas) -> Billing:
    return build_billing(personas)


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert credits.add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert credits.add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert credits.add_months(date(2027, 11, 15), 3) == date(2028, 2, 15)


def test_a_package_is_usable_only_once_its_sale_is_issued_and_a_family_member_may_share_it(personas, billing):
    owner = personas.actor("owner")
    plan = PackagePlan.objects.create(
        clinic=personas.harbour,
        name="Three",
        appointment_type=billing.schedule.treatment,
        sessions=3,
        price=Decimal("300.00"),
    )
    package = credits.package_sell(actor=owner, client=personas.carol, plan=plan)
    credits.package_share(actor=owner, package=package, members=[personas.dan])
    visit = invoices.invoice_issue(actor=owner, invoice=completed_visit(personas, billing, client=personas.dan))
    with pytest.raises(ValidationError, match="not paid for yet"):
        payments.package_redeem(actor=owner, invoice=visit, line=visit.lines.get(), package=package)
    invoices.invoice_issue(actor=owner, invoice=Invoice.objects.get(lines__package=package))
    payments.package_redeem(actor=owner, invoice=visit, line=visit.lines.get(), package=package)
    package.refresh_from_db()
    assert package.sessions_left == 2
    redemption = package.redemptions.get()
    assert redemption.value == Decimal("100.00")  # the session's worth: the price over the sessions


def test_refunding_a_package_payment_gives_the_session_back(personas, billing):
    owner = personas.actor("owner")
    plan = PackagePlan.objects.create(
        clinic=personas.harbour,
        name="One",
        appointment_type=billing.schedule.treatment,
        sessions=1,
        price=Decimal("100.00"),
    )
    package = credits.package_sell(actor=owner, client=personas.carol, plan=plan)
    invoices.invoice_issue(actor=owner, invoice=Invoice.objects.get(lines__package=package))
    visit = invoices.invoice_issue(actor=owner, invoice=completed_visit(personas, billing))
    paid = payments.package_redeem(actor=owner, invoice=visit, line=visit.lines.get(), package=package)
    with pytest.raises(ValidationError, match="already paid for this visit"):
        payments.package_redeem(actor=owner, invoice=visit, line=visit.lines.get(), package=package)
    payments.payment_refund(actor=owner, payment=paid, amount=paid.amount, reason="Paid by card instead")
    package.refresh_from_db()
    visit.refresh_from_db()
    assert package.sessions_left == 1 and visit.balance == Decimal("135.60")


def test_a_gift_card_carries_no_tax_at_sale_and_pays_a_taxed_visit(personas, billing):
    owner = personas.actor("owner")
    card = credits.gift_card_sell(actor=owner, purchaser=personas.dan, amount=Decimal("100"), recipient_name="Carol")
    sale = Invoice.objects.get(lines__gift_card=card)
    assert (sale.tax_total, sale.total) == (Decimal("0.00"), Decimal("100.00"))
    invoices.invoice_issue(actor=owner, invoice=sale)
    visit = invoices.invoice_issue(actor=owner, invoice=completed_visit(personas, billing))
    assert visit.tax_total == Decimal("15.60")  # the tax falls on the service it pays for
    with pytest.raises(ValidationError, match=r"holds 100\.00"):
        payments.gift_card_redeem(actor=owner, invoice=visit, code=card.code, amount=Decimal("120.00"))
    payments.gift_card_redeem(
        actor=owner, invoice=visit, code=card.code.lower().replace("-", " "), amount=Decimal("100")
    )
    card.refresh_from_db()
    visit.refresh_from_db()
    assert card.balance == Decimal("0.00") and visit.balance == Decimal("35.60")
    with pytest.raises(ValidationError, match="No gift card has that code"):
        payments.gift_card_redeem(actor=owner, invoice=visit, code="AAAA-BBBB-CCCC-DDDD", amount=Decimal("1"))


def test_a_membership_charges_each_month_on_its_day_and_not_while_paused(personas, billing, run_worker):
    owner = personas.actor("owner")
    plan = MembershipPlan.objects.create(
        clinic=personas.harbour,
        name="Monthly care",
        monthly_fee=Decimal("99.00"),
        appointment_type=billing.schedule.treatment,
        sessions_per_month=1,
        member_discount_percent=10,
        tax_rate=billing.hst,
    )
    today = personas.today
    membership = credits.membership_start(actor=owner, client=personas.carol, plan=plan)
    [first] = Invoice.objects.filter(lines__kind="membership")
    assert first.number is not None and first.total == Decimal("111.87")
    credit = Package.objects.get(membership=membership)
    assert (credit.is_active, credit.sessions_left) == (True, 1)
    # A member's visit is at the member price.
    visit = completed_visit(personas, billing)
    assert visit.lines.get().discount == Decimal("12.00")
    # A month later the worker charges the second month, once.
    next_day = credits.add_months(today, 1)
    with time_machine.travel(exact_local(next_day, time(7), ZONE), tick=False):
        run_worker()
        run_worker()
    assert Invoice.objects.filter(lines__kind="membership").count() == 2
    membership.refresh_from_db()
    assert membership.next_charge_on == credits.add_months(today, 2)
    # Paused: the third month is not charged.
    credits.membership_pause(actor=owner, membership=membership)
    with time_machine.travel(exact_local(credits.add_months(today, 2), time(7), ZONE), tick=False):
        run_worker()
    assert Invoice.objects.filter(lines__kind="membership").count() == 2
    assert ClientMembership.objects.get(pk=membership.pk).status == "paused"


def test_a_credit_note_of_an_unused_package_sale_withdraws_the_package(personas, billing):
    owner = personas.actor("owner")
    plan = PackagePlan.objects.create(
        clinic=personas.harbour,
        name="Two",
        appointment_type=billing.schedule.treatment,
        sessions=2,
        price=Decimal("200.00"),
    )
    package = credits.package_sell(actor=owner, client=personas.carol, plan=plan)
    sale = invoices.invoice_issue(actor=owner, invoice=Invoice.objects.get(lines__package=package))
    note = invoices.credit_note_create(actor=owner, invoice=sale, reason="Changed their mind")
    package.refresh_from_db()
    assert not package.is_active
    assert note.total == Decimal("-200.00")


def test_a_spent_gift_card_cannot_be_credited_whole(personas, billing):
    owner = personas.actor("owner")
    card = credits.gift_card_sell(actor=owner, purchaser=personas.dan, amount=Decimal("50"))
    sale = invoices.invoice_issue(actor=owner, invoice=Invoice.objects.get(lines__gift_card=card))
    visit = invoices.invoice_issue(actor=owner, invoice=completed_visit(personas, billing))
    payments.gift_card_redeem(actor=owner, invoice=visit, code=card.code, amount=Decimal("10"))
    with pytest.raises(ValidationError, match="spent from"):
        invoices.credit_note_create(actor=owner, invoice=sale, reason="Refund the card")
    assert GiftCard.objects.get(pk=card.pk).balance == Decimal("40.00")


def test_whoever_books_sees_the_package_balance_on_the_calendar(login, personas, billing):
    owner = personas.actor("owner")
    plan = PackagePlan.objects.create(
        clinic=personas.harbour,
        name="Five treatments",
        appointment_type=billing.schedule.treatment,
        sessions=5,
        price=Decimal("500.00"),
    )
    package = credits.package_sell(actor=owner, client=personas.carol, plan=plan)
    invoices.invoice_issue(actor=owner, invoice=Invoice.objects.get(lines__package=package))
    completed_visit(personas, billing)
    day = login("front_desk").get(f"/schedule/?date={personas.today}&view=day")
    assert b"Five treatments: 5 of 5 left" in day.content
