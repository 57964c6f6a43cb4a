"""The demo clinics' two years of books (mend.demo.billing), loaded once for the module and only read.

The demo is loaded here again rather than shared with tests/test_demo.py: a module-scoped fixture
lives and rolls back with its module.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Q

from mend.audit.models import AuditEvent
from mend.billing.models import (
    ZERO,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    NumberSequence,
    Package,
    PackageRedemption,
    Payment,
    PaymentKind,
    PaymentMethod,
    PaymentShare,
)
from mend.clinics.models import Clinic
from mend.core import money
from mend.platform import clock
from mend.scheduling.models import Appointment, AppointmentStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def module_demo(module_db) -> None:
    module_db(lambda: call_command("demo", stdout=StringIO()))


@pytest.fixture
def clinics(db, module_demo) -> list[Clinic]:
    return list(Clinic.objects.filter(slug__in=["harbour", "northside"]).order_by("slug"))


def test_demo_invoice_and_credit_note_numbers_run_from_one_without_a_gap(clinics):
    for clinic in clinics:
        for kind in InvoiceKind.values:
            numbers = sorted(
                Invoice.objects.filter(clinic=clinic, kind=kind, status=InvoiceStatus.ISSUED).values_list(
                    "number", flat=True
                )
            )
            assert numbers == list(range(1, len(numbers) + 1)), (clinic.slug, kind)
            assert NumberSequence.objects.get(clinic=clinic, kind=kind).next_number == len(numbers) + 1
        assert Invoice.objects.filter(clinic=clinic, kind=InvoiceKind.INVOICE).count() > 300
        assert Invoice.objects.filter(clinic=clinic, kind=InvoiceKind.CREDIT_NOTE).count() >= 1
    # Numbers follow the order of issue.
    for clinic in clinics:
        days = list(
            Invoice.objects.filter(clinic=clinic, kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED)
            .order_by("number")
            .values_list("issued_on", flat=True)
        )
        assert days == sorted(days)


def test_demo_invoice_amounts_are_the_sums_of_lines_computed_by_the_money_rules(clinics):
    lines = defaultdict(list)
    for line in InvoiceLine.objects.filter(clinic__in=clinics).select_related("invoice"):
        lines[line.invoice_id].append(line)
    invoices = list(Invoice.objects.filter(clinic__in=clinics))
    assert len(invoices) > 1000
    for invoice in invoices:
        mine = lines[invoice.pk]
        assert mine, invoice.pk
        for line in mine:
            if invoice.kind == InvoiceKind.CREDIT_NOTE:
                expected = -money.line_amounts(
                    -line.quantity, line.unit_price, -line.discount, line.tax_rate, invoice.currency
                )
            else:
                expected = money.line_amounts(
                    line.quantity, line.unit_price, line.discount, line.tax_rate, invoice.currency
                )
            assert (line.net, line.tax, line.total) == (expected.net, expected.tax, expected.total)
        assert invoice.total == sum((x.total for x in mine), ZERO)
        assert invoice.tax_total == sum((x.tax for x in mine), ZERO)
        assert invoice.discount_total == sum((x.discount for x in mine), ZERO)
        assert invoice.subtotal == sum(
            (money.quantize(x.quantity * x.unit_price, invoice.currency) for x in mine), ZERO
        )


def test_demo_paid_written_off_and_credited_are_the_sums_of_their_records(clinics):
    paid, written = defaultdict(lambda: ZERO), defaultdict(lambda: ZERO)
    for payment in Payment.objects.filter(clinic__in=clinics):
        if payment.kind == PaymentKind.WRITE_OFF:
            written[payment.invoice_id] += payment.amount
        else:
            paid[payment.invoice_id] += payment.amount
    credited = defaultdict(lambda: ZERO)
    for note in Invoice.objects.filter(clinic__in=clinics, kind=InvoiceKind.CREDIT_NOTE):
        credited[note.corrects_id] -= note.total
    owed_to_client = 0
    for invoice in Invoice.objects.filter(clinic__in=clinics, kind=InvoiceKind.INVOICE):
        assert invoice.amount_paid == paid[invoice.pk], invoice.pk
        assert invoice.amount_written_off == written[invoice.pk], invoice.pk
        assert invoice.amount_credited == credited[invoice.pk], invoice.pk
        if invoice.is_draft:
            assert invoice.amount_paid == ZERO
        if invoice.balance < 0:
            owed_to_client += 1
            assert invoice.amount_credited > 0  # only a credit note leaves the client owed
    assert owed_to_client >= 1
    methods = set(Payment.objects.filter(clinic__in=clinics).values_list("method", flat=True))
    assert {PaymentMethod.CARD, PaymentMethod.CASH, PaymentMethod.PACKAGE, PaymentMethod.GIFT_CARD} <= methods
    assert {PaymentMethod.INSURER, PaymentMethod.WRITE_OFF} <= methods
    assert Payment.objects.filter(clinic__in=clinics, kind=PaymentKind.REFUND).count() >= 4


def test_demo_payments_are_shared_over_their_invoices_lines_to_the_cent(clinics):
    """Each payment's shares (the cash report's rows) add up to it exactly, as the services record them."""
    shared = defaultdict(lambda: ZERO)
    for share in PaymentShare.objects.filter(clinic__in=clinics):
        shared[share.payment_id] += share.net + share.tax
    payments = list(Payment.objects.filter(clinic__in=clinics))
    assert payments
    for payment in payments:
        assert shared[payment.pk] == payment.amount, payment.pk


def test_demo_ageing_has_a_balance_in_every_bucket(clinics):
    for clinic in clinics:
        today = clock.local_today(clinic.timezone)
        issued = Invoice.objects.filter(clinic=clinic, kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED)
        late = [(today - i.due_on).days for i in issued if i.balance > 0]
        buckets = {"current": False, "1-30": False, "31-60": False, "61-90": False, "90+": False}
        for days in late:
            key = (
                "current"
                if days <= 0
                else "1-30"
                if days <= 30
                else "31-60"
                if days <= 60
                else "61-90"
                if days <= 90
                else "90+"
            )
            buckets[key] = True
        assert all(buckets.values()), (clinic.slug, sorted(late))
        assert len(late) < 40  # a few, not a collections problem


def test_demo_packages_used_are_their_unreversed_redemptions(clinics):
    used = dict(
        Package.objects.filter(clinic__in=clinics)
        .annotate(n=Count("redemptions", filter=Q(redemptions__reversed_at__isnull=True)))
        .values_list("pk", "n")
    )
    packages = list(Package.objects.filter(clinic__in=clinics))
    assert len(packages) > 20
    for package in packages:
        assert package.sessions_used == used[package.pk] <= package.sessions_total
    assert PackageRedemption.objects.filter(clinic__in=clinics, reversed_at__isnull=False).exists()
    for redemption in PackageRedemption.objects.filter(clinic__in=clinics).select_related("payment", "line"):
        assert redemption.payment.method == PaymentMethod.PACKAGE
        assert redemption.line.invoice_id == redemption.payment.invoice_id


def test_demo_books_span_two_years_and_agree_with_the_calendar(clinics):
    for clinic in clinics:
        today = clock.local_today(clinic.timezone)
        days = Invoice.objects.filter(clinic=clinic, status=InvoiceStatus.ISSUED).values_list("issued_on", flat=True)
        assert min(days) <= today - timedelta(days=700)
        assert max(days) <= today
        # Every completed visit before today has its invoice; today's wait at checkout as drafts.
        completed = Appointment.objects.filter(clinic=clinic, status=AppointmentStatus.COMPLETED)
        assert not completed.filter(invoice__isnull=True).exists()
        for appointment in completed.select_related("invoice"):
            on = clock.local_date(appointment.starts_at, clinic.timezone)
            if on == today:
                assert appointment.invoice.is_draft
        fees = Invoice.objects.filter(clinic=clinic, appointment__status__in=["no_show", "cancelled"])
        assert fees.exists()
        assert Invoice.objects.filter(clinic=clinic, appointment__isnull=True, lines__therapist__isnull=False).exists()


def test_demo_billing_is_in_the_audit_chain(clinics):
    for clinic in clinics:
        invoices = Invoice.objects.filter(clinic=clinic).count()
        logged = AuditEvent.objects.filter(clinic_id=clinic.pk, object_type="billing.invoice", action="create")
        assert logged.count() == invoices
        payments = Payment.objects.filter(clinic=clinic).count()
        assert AuditEvent.objects.filter(clinic_id=clinic.pk, object_type="billing.payment").count() == payments


def test_demo_gift_cards_hold_what_was_not_spent(clinics):
    from mend.billing.models import GiftCard

    for card in GiftCard.objects.filter(clinic__in=clinics):
        spent = sum((p.amount for p in card.entries.all()), Decimal(0))
        assert card.balance == card.amount - spent
        assert card.is_active
