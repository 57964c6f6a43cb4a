"""The reports' figures on a small set built by hand through the services, each expectation worked out
in the test: accrual against cash, tax, what is owed and how late, packages and gift cards held,
missed-visit fees and write-offs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from mend.audit.models import AuditEvent
from mend.billing.models import Invoice, PackagePlan
from mend.billing.queries import reports
from mend.billing.queries.reports import Period
from mend.billing.services import credits, invoices, payments
from mend.core.availability import exact_local
from mend.scheduling.services import appointment_book, appointment_status_set
from mend.testing import Personas

from .helpers import ZONE, Billing, build_billing, completed_visit

D = Decimal
CENT = D("0.01")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Books:
    p: Personas
    b: Billing
    today_only: Period


def _no_show(p: Personas, b: Billing, hour: int) -> Invoice:
    start = exact_local(p.today - timedelta(days=1), time(hour), ZONE)
    desk = p.actor("front_desk")
    missed = appointment_book(
        clinic=p.harbour,
        actor=desk,
        client=p.carol,
        therapist=p.memberships["therapist"],
        appointment_type=b.schedule.treatment,
        starts_at=start,
        now=start - timedelta(days=3),
    )
    appointment_status_set(actor=desk, appointment=missed, status="no_show", now=start + timedelta(minutes=30))
    return Invoice.objects.get(appointment=missed)


@pytest.fixture
def books(personas: Personas) -> Books:
    """Carol's invoices at Harbour (treatment 120.00 + 13% HST = 135.60), all issued and paid today
    (E and the missed visit were yesterday; the day's book has room for four treatments):

    A: issued, 100.00 cash, 20.00 of it refunded.           B: issued, then credited whole.
    C: issued, 85.60 by card, 50.00 written off.            A package of 5 sessions sold for 500.00, paid by card.
    D: issued, paid by one package session (worth 100.00).  A 100.00 gift card sold, paid in cash.
    E: issued, 50.00 from the gift card and 85.60 cash.     A no-show fee (60.00 + 7.80 HST) issued, 30.00 by card.
    F: a visit 45 days ago, issued then, unpaid.
    """
    p = personas
    b = build_billing(p)
    owner = p.actor("owner")

    def issued(hour: int, **kw: object) -> Invoice:
        return invoices.invoice_issue(actor=owner, invoice=completed_visit(p, b, hour=hour, **kw))  # type: ignore[arg-type]

    a = issued(9)
    cash = payments.payment_record(actor=owner, invoice=a, method="cash", amount=D("100.00"))
    payments.payment_refund(actor=owner, payment=cash, amount=D("20.00"), reason="Overcharged")
    invoices.credit_note_create(actor=owner, invoice=issued(11), reason="Billed twice")
    c = issued(13)
    payments.payment_record(actor=owner, invoice=c, method="card", amount=D("85.60"))
    payments.invoice_write_off(actor=owner, invoice=c, amount=D("50.00"), reason="Hardship")
    plan = PackagePlan.objects.create(
        clinic=p.harbour, name="Five", appointment_type=b.schedule.treatment, sessions=5, price=D("500.00")
    )
    package = credits.package_sell(actor=owner, client=p.carol, plan=plan)
    sale = invoices.invoice_issue(actor=owner, invoice=Invoice.objects.get(lines__package=package))
    payments.payment_record(actor=owner, invoice=sale, method="card", amount=D("500.00"))
    d = issued(15)
    payments.package_redeem(actor=owner, invoice=d, line=d.lines.get(), package=package)
    card = credits.gift_card_sell(actor=owner, purchaser=p.carol, amount=D("100.00"))
    card_sale = invoices.invoice_issue(actor=owner, invoice=Invoice.objects.get(lines__gift_card=card))
    payments.payment_record(actor=owner, invoice=card_sale, method="cash", amount=D("100.00"))
    e = issued(9, day=p.today - timedelta(days=1))
    payments.gift_card_redeem(actor=owner, invoice=e, code=card.code, amount=D("50.00"))
    payments.payment_record(actor=owner, invoice=e, method="cash", amount=D("85.60"))
    fee = invoices.invoice_issue(actor=owner, invoice=_no_show(p, b, 11))
    payments.payment_record(actor=owner, invoice=fee, method="card", amount=D("30.00"))
    old = p.today - timedelta(days=45)
    invoices.invoice_issue(actor=owner, invoice=completed_visit(p, b, day=old, hour=9), issued_on=old)
    return Books(p, b, Period(p.today, p.today))


def test_accrual_revenue_is_the_net_of_issued_lines_less_credit_notes_without_package_and_gift_card_sales(books):
    owner = books.p.actor("owner")
    found = reports.revenue(owner, books.today_only, reports.ACCRUAL)
    # A, B, C, D, E at 120.00 each, B's credit note −120.00, the no-show fee 60.00; the package (500.00)
    # and gift card (100.00) sales are held, not earned.
    assert found.total == D("120.00") * 5 - D("120.00") + D("60.00") == D("540.00")
    assert [(m.label, m.amount) for m in found.by_month] == [(f"{books.p.today:%b %Y}", D("540.00"))]
    assert [(a.label, a.amount) for a in found.by_therapist] == [("Tess Therapist", D("540.00"))]
    assert [(a.label, a.amount) for a in found.by_service] == [
        ("Treatment 60", D("480.00")),
        ("No-show fee", D("60.00")),
    ]
    # 15.60 on each visit (the credit note takes B's back) and 7.80 on the fee.
    assert [(a.label, a.amount) for a in found.tax] == [("HST", D("15.60") * 4 + D("7.80"))]
    assert found.tips == D("0.00")


def test_cash_revenue_is_money_received_net_of_its_invoices_tax_without_package_gift_card_or_write_off(books):
    owner = books.p.actor("owner")
    found = reports.revenue(owner, books.today_only, reports.CASH)
    visit = D("120.00") / D("135.60")  # the net part of a visit's payment
    fee = D("60.00") / D("67.80")
    net = (D("80.00") + D("85.60") + D("85.60")) * visit + D("500.00") + D("100.00") + D("30.00") * fee
    assert found.total == cents(net) == D("848.85")
    tax = cents((D("80.00") + D("85.60") + D("85.60")) * D("15.60") / D("135.60") + D("30.00") * D("7.80") / D("67.80"))
    assert [(a.label, a.amount) for a in found.tax] == [("HST", tax)] == [("HST", D("32.35"))]
    # Every dollar in the till is net or tax: 80 + 85.60 + 500 + 100 + 85.60 + 30.
    assert found.total + tax == D("881.20")
    services = {a.label: a.amount for a in found.by_service}
    assert services == {
        "Package": D("500.00"),
        "Gift card": D("100.00"),
        "Treatment 60": cents((D("80.00") + D("85.60") + D("85.60")) * visit),
        "No-show fee": cents(D("30.00") * fee),
    }
    therapists = {a.label: a.amount for a in found.by_therapist}
    assert therapists["No therapist (products, memberships, other)"] == D("600.00")


def test_cash_and_accrual_differ_where_money_and_invoices_part(books):
    owner = books.p.actor("owner")
    accrual = reports.revenue(owner, books.today_only, reports.ACCRUAL).total
    cash = reports.revenue(owner, books.today_only, reports.CASH).total
    assert (accrual, cash) == (D("540.00"), D("848.85"))
    # A day with nothing in it is nothing on either basis; F's day is 120.00 invoiced and nothing received.
    old = books.p.today - timedelta(days=45)
    assert reports.revenue(owner, Period(old, old), reports.ACCRUAL).total == D("120.00")
    assert reports.revenue(owner, Period(old, old), reports.CASH).total == D("0.00")


def test_ageing_buckets_what_each_client_owes_by_days_past_due_and_audits_the_read(books):
    owner = books.p.actor("owner")
    before = AuditEvent.objects.filter(object_type="billing.report_ageing").count()
    found = reports.ageing(owner)
    # A owes 135.60 − 80.00 = 55.60 and the fee 67.80 − 30.00 = 37.80, both due today; F 135.60, 45 days late.
    assert [(r.name, r.invoices, r.buckets, r.total) for r in found.rows] == [
        (
            books.p.carol.display_name,
            3,
            (D("93.40"), D("0.00"), D("135.60"), D("0.00"), D("0.00")),
            D("229.00"),
        )
    ]
    assert found.totals == (D("93.40"), D("0.00"), D("135.60"), D("0.00"), D("0.00"))
    assert (found.clients, found.total) == (1, D("229.00"))
    assert AuditEvent.objects.filter(object_type="billing.report_ageing").count() == before + 1


def test_liability_is_unused_package_sessions_and_active_gift_card_balances(books):
    owner = books.p.actor("owner")
    found = reports.liability(owner, books.today_only)
    # 4 of 5 sessions left at 500.00 ÷ 5; the card's 100.00 less the 50.00 spent.
    assert (found.packages.count, found.packages.sessions, found.packages.value) == (1, 4, D("400.00"))
    assert (found.gift_cards.count, found.gift_cards.value) == (1, D("50.00"))
    assert found.total == D("450.00")
    assert (found.expired_packages.count, found.expired_packages.value) == (0, D("0.00"))
    assert found.sessions_used_value == D("100.00")


def test_an_expired_package_with_sessions_left_is_listed_apart(books):
    from mend.billing.models import Package

    Package.objects.filter(clinic=books.p.harbour).update(expires_on=books.p.today - timedelta(days=1))
    found = reports.liability(books.p.actor("owner"))
    assert (found.packages.count, found.packages.value) == (0, D("0.00"))
    assert (found.expired_packages.count, found.expired_packages.sessions, found.expired_packages.value) == (
        1,
        4,
        D("400.00"),
    )


def test_fees_report_what_was_charged_and_paid(books):
    found = {row.label: row for row in reports.fees(books.p.actor("owner"), books.today_only)}
    no_show = found["No-show fee"]
    assert (no_show.charged, no_show.amount, no_show.credited, no_show.paid, no_show.written_off, no_show.owing) == (
        1,
        D("67.80"),
        D("0.00"),
        D("30.00"),
        D("0.00"),
        D("37.80"),
    )
    assert found["Late-cancellation fee"].charged == 0


def test_write_offs_list_each_one_with_its_reason(books):
    found = reports.write_offs(books.p.actor("owner"), books.today_only)
    assert (found.count, found.total) == (1, D("50.00"))
    assert [(r.client, r.amount, r.reason) for r in found.rows] == [
        (books.p.carol.display_name, D("50.00"), "Hardship")
    ]


def test_another_clinics_books_are_not_in_its_reports(books):
    outsider = books.p.actor("outsider")
    assert reports.revenue(outsider, books.today_only, reports.ACCRUAL).total == D("0.00")
    assert reports.revenue(outsider, books.today_only, reports.CASH).total == D("0.00")
    assert reports.ageing(outsider).rows == []
    assert reports.liability(outsider).total == D("0.00")
    assert reports.write_offs(outsider, books.today_only).rows == []


def test_the_csv_of_a_section_has_every_row_and_numbers_as_numbers(books):
    header, rows = reports.section_table(books.p.actor("owner"), "revenue-service", books.today_only, reports.CASH)
    assert header == ["Service", "Amount (cash)"]
    assert ("Package", D("500.00")) in rows
