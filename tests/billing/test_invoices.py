"""Invoices: the draft a visit makes, issuing with a number, credit notes, fees, receipts and authorisations."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from mend.audit.models import AuditEvent
from mend.billing.models import Invoice, InvoiceLine, LineKind, NumberSequence, Payer, ReceiptStandard
from mend.billing.services import invoices, payments
from mend.clinical import services as clinical
from mend.clinical.models import Referral
from mend.scheduling.services import appointment_book, appointment_cancel, appointment_status_set
from mend.testing import Personas

from .helpers import Billing, build_billing, completed_visit


@pytest.fixture
def billing(personas: Personas) -> Billing:
    return build_billing(personas)


def test_a_completed_visit_makes_a_draft_invoice_at_the_price_list_fee_with_its_tax(personas, billing):
    invoice = completed_visit(personas, billing)
    assert invoice.is_draft and invoice.number is None
    [line] = invoice.lines.all()
    assert (line.kind, line.unit_price, line.tax_name, line.tax, line.total) == (
        LineKind.SERVICE,
        Decimal("120.00"),
        "HST",
        Decimal("15.60"),
        Decimal("135.60"),
    )
    assert line.therapist_id == personas.memberships["therapist"].pk
    assert invoice.total == Decimal("135.60")


def test_issuing_numbers_invoices_one_after_another_and_freezes_them(personas, billing):
    desk = personas.actor("front_desk")
    first = invoices.invoice_issue(actor=desk, invoice=completed_visit(personas, billing, hour=9))
    second = invoices.invoice_issue(
        actor=desk, invoice=completed_visit(personas, billing, hour=11, client=personas.dan)
    )
    assert (first.number, second.number) == (1, 2)
    assert first.label == "INV-000001"
    line = first.lines.get()
    with pytest.raises(ValidationError, match="credit note"):
        invoices.line_discount_set(actor=desk, line=line, discount=Decimal("10"), reason="Loyalty")
    with pytest.raises(ValidationError, match="credit note"):
        invoices.line_remove(actor=desk, line=line)
    with pytest.raises(ValidationError, match="credit note"):
        invoices.invoice_discard(actor=desk, invoice=first)


def test_a_failed_issue_gives_its_number_back(personas, billing):
    desk = personas.actor("front_desk")
    draft = completed_visit(personas, billing)
    with pytest.raises(RuntimeError), transaction.atomic():
        invoices.invoice_issue(actor=desk, invoice=draft)
        raise RuntimeError("the connection dropped before commit")
    issued = invoices.invoice_issue(actor=desk, invoice=draft)
    assert issued.number == 1
    assert NumberSequence.objects.get(clinic=personas.harbour, kind="invoice").next_number == 2


def test_a_discarded_draft_leaves_no_gap(personas, billing):
    desk = personas.actor("front_desk")
    invoices.invoice_discard(actor=desk, invoice=completed_visit(personas, billing, hour=9))
    kept = invoices.invoice_issue(actor=desk, invoice=completed_visit(personas, billing, hour=11))
    assert kept.number == 1


def test_the_database_refuses_two_invoices_with_one_number(personas, billing):
    desk = personas.actor("front_desk")
    first = invoices.invoice_issue(actor=desk, invoice=completed_visit(personas, billing, hour=9))
    second = invoices.invoice_issue(actor=desk, invoice=completed_visit(personas, billing, hour=11))
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=second.pk).update(number=first.number)


def test_cents_are_exact_by_line_on_the_invoice_and_on_its_credit_note(personas, billing):
    """55.55 + 11.11 at 13% with a discount: the tax is the lines' sum, on the invoice and (negated) its credit note."""
    owner, desk = personas.actor("owner"), personas.actor("front_desk")
    draft = invoices.invoice_create(actor=desk, clinic=personas.harbour, client=personas.carol)
    a = invoices.line_add_custom(
        actor=desk, invoice=draft, description="Report", unit_price=Decimal("55.55"), tax_rate=billing.hst
    )
    invoices.line_add_custom(
        actor=desk, invoice=draft, description="Tape", unit_price=Decimal("11.11"), tax_rate=billing.hst
    )
    invoices.line_discount_set(actor=desk, line=a, discount=Decimal("5.55"), reason="Returning client")
    issued = invoices.invoice_issue(actor=desk, invoice=draft)
    lines = list(issued.lines.all())
    assert [line.tax for line in lines] == [Decimal("6.50"), Decimal("1.44")]
    assert issued.tax_total == sum(line.tax for line in lines) == Decimal("7.94")
    assert issued.total == Decimal("50.00") + Decimal("11.11") + Decimal("7.94")
    payments.payment_record(actor=desk, invoice=issued, method="card", amount=Decimal("30.00"))
    note = invoices.credit_note_create(actor=owner, invoice=issued, reason="Charged in error")
    assert note.label == "CN-000001"
    assert note.tax_total == -issued.tax_total and note.total == -issued.total
    issued.refresh_from_db()
    # Nothing owed by the client (no 0.01 left over); what they paid is theirs to be refunded.
    assert issued.balance == Decimal("-30.00")


def test_a_line_is_credited_once_and_only_owners_and_admins_credit(personas, billing):
    desk, owner = personas.actor("front_desk"), personas.actor("owner")
    issued = invoices.invoice_issue(actor=desk, invoice=completed_visit(personas, billing))
    with pytest.raises(PermissionDenied):
        invoices.credit_note_create(actor=desk, invoice=issued, reason="Wrong price")
    with pytest.raises(ValidationError, match="why"):
        invoices.credit_note_create(actor=owner, invoice=issued, reason=" ")
    invoices.credit_note_create(actor=owner, invoice=issued, reason="Wrong price")
    with pytest.raises(ValidationError, match="credited already"):
        invoices.credit_note_create(actor=owner, invoice=issued, reason="Again")


def test_a_no_show_and_a_late_cancellation_charge_their_fee_as_its_own_line(personas, billing):
    desk = personas.actor("front_desk")
    from datetime import time

    from mend.core.availability import exact_local

    start = exact_local(personas.today, time(14), "America/Toronto")
    missed = appointment_book(
        clinic=personas.harbour,
        actor=desk,
        client=personas.carol,
        therapist=personas.memberships["therapist"],
        appointment_type=billing.schedule.treatment,
        starts_at=start,
        now=start - timedelta(days=3),
    )
    appointment_status_set(actor=desk, appointment=missed, status="no_show", now=start + timedelta(minutes=30))
    fee = Invoice.objects.get(appointment=missed).lines.get()
    assert (fee.kind, fee.unit_price, fee.description) == (
        LineKind.NO_SHOW_FEE,
        Decimal("60.00"),
        "No-show fee: Treatment 60",
    )
    later = start + timedelta(days=7)
    late = appointment_book(
        clinic=personas.harbour,
        actor=desk,
        client=personas.dan,
        therapist=personas.memberships["therapist"],
        appointment_type=billing.schedule.treatment,
        starts_at=later,
        now=later - timedelta(days=3),
    )
    appointment_cancel(actor=desk, appointment=late, now=later - timedelta(hours=5))
    assert Invoice.objects.get(appointment=late).lines.get().kind == LineKind.LATE_CANCEL_FEE
    early = appointment_book(
        clinic=personas.harbour,
        actor=desk,
        client=personas.dan,
        therapist=personas.memberships["therapist"],
        appointment_type=billing.schedule.treatment,
        starts_at=later + timedelta(days=1),
        now=later - timedelta(days=3),
    )
    appointment_cancel(actor=desk, appointment=early, now=later - timedelta(days=2))
    assert not Invoice.objects.filter(appointment=early).exists()


def test_undoing_a_completion_takes_its_draft_away_and_completing_again_makes_one(personas, billing):
    desk = personas.actor("front_desk")
    draft = completed_visit(personas, billing)
    appointment = draft.appointment
    appointment_status_set(actor=desk, appointment=appointment, status="arrived", now=appointment.ends_at)
    assert not Invoice.objects.filter(appointment=appointment).exists()
    appointment_status_set(actor=desk, appointment=appointment, status="completed", now=appointment.ends_at)
    assert Invoice.objects.get(appointment=appointment).lines.count() == 1


def test_an_ontario_receipt_is_not_issued_without_the_registration_and_hst_numbers(personas, billing):
    billing.profile.receipt_standard = ReceiptStandard.ONTARIO_RMT
    billing.profile.tax_number = ""
    billing.profile.save()
    draft = completed_visit(personas, billing)
    personas.licence.licence_type = "LMT"
    personas.licence.save()
    with pytest.raises(ValidationError) as refused:
        invoices.invoice_issue(actor=personas.actor("front_desk"), invoice=draft)
    text = " ".join(refused.value.messages)
    assert "HST number is missing" in text
    assert "no current RMT registration number" in text
    draft.refresh_from_db()
    assert draft.is_draft and draft.number is None


def test_an_insurer_is_not_billed_past_the_referral_and_the_page_says_why(personas, billing):
    desk = personas.actor("front_desk")
    insurer = Payer.objects.create(clinic=personas.harbour, name="Sun Life")
    episode = clinical.episode_open(
        actor=personas.actor("therapist"),
        client=personas.carol,
        data={
            "title": "Low back pain",
            "condition": "low_back_pain",
            "started_on": personas.today - timedelta(days=60),
        },
    )
    referral = Referral.objects.create(
        clinic=personas.harbour,
        client=personas.carol,
        episode=episode,
        referred_on=personas.today - timedelta(days=60),
        received_on=personas.today - timedelta(days=59),
        visits_authorised=1,
        valid_until=personas.today + timedelta(days=30),
    )
    first = completed_visit(personas, billing, hour=9)
    invoices.invoice_payer_set(actor=desk, invoice=first, payer=insurer, referral=referral)
    invoices.invoice_issue(actor=desk, invoice=first)
    second = completed_visit(personas, billing, hour=12)
    invoices.invoice_payer_set(actor=desk, invoice=second, payer=insurer, referral=referral)
    with pytest.raises(ValidationError, match="authorises 1 visits and 1 are already billed"):
        invoices.invoice_issue(actor=desk, invoice=second)
    referral.valid_until = personas.today - timedelta(days=1)
    referral.visits_authorised = 5
    referral.save()
    with pytest.raises(ValidationError, match="referral expired on"):
        invoices.invoice_issue(actor=desk, invoice=second)
    invoices.invoice_payer_set(actor=desk, invoice=second, payer=None, referral=None)
    assert invoices.invoice_issue(actor=desk, invoice=second).is_self_pay


def test_every_invoice_write_is_audited(personas, billing):
    issued = invoices.invoice_issue(actor=personas.actor("front_desk"), invoice=completed_visit(personas, billing))
    events = AuditEvent.objects.filter(object_type="billing.invoice", object_id=str(issued.pk))
    # Made by the visit's completion (no one signed in made it), issued by the front desk.
    assert [(e.action, e.user_email) for e in events.order_by("pk")] == [
        ("create", ""),
        ("update", personas.front_desk.email),
    ]
    assert InvoiceLine.objects.filter(invoice=issued).count() == 1


def test_a_payment_is_shared_over_the_lines_net_and_tax_to_the_cent(personas, billing):
    """The cash report's rows: a part payment split by line totals, each part into net and tax, summing exactly."""
    from mend.billing.models import PaymentShare

    desk = personas.actor("front_desk")
    draft = invoices.invoice_create(actor=desk, clinic=personas.harbour, client=personas.carol)
    invoices.line_add_custom(
        actor=desk, invoice=draft, description="A", unit_price=Decimal("55.55"), tax_rate=billing.hst
    )
    invoices.line_add_custom(actor=desk, invoice=draft, description="B", unit_price=Decimal("11.11"))
    issued = invoices.invoice_issue(actor=desk, invoice=draft)
    paid = payments.payment_record(actor=desk, invoice=issued, method="cash", amount=Decimal("33.33"))
    shares = list(PaymentShare.objects.filter(payment=paid).order_by("line__position"))
    assert sum(s.net + s.tax for s in shares) == Decimal("33.33")
    # 62.77 and 11.11 of 73.88: 28.32 and 5.01; the first line's part carries its 13% HST.
    assert [(s.net + s.tax) for s in shares] == [Decimal("28.32"), Decimal("5.01")]
    assert shares[0].tax == Decimal("3.26") and shares[1].tax == Decimal("0.00")
