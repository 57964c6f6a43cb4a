"""Deposits at online booking through Stripe Checkout (a local fake of Stripe's API), and its webhooks."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

import pytest

from mend.billing.models import Invoice, Payment, ProviderCheckout
from mend.billing.services import checkout
from mend.core.availability import exact_local
from mend.scheduling.models import Appointment
from mend.scheduling.queries.online import link_token
from mend.scheduling.services import appointment_book
from mend.testing import Personas

from .helpers import Billing, build_billing


@pytest.fixture
def billing(personas: Personas, settings, fake_stripe) -> Billing:
    settings.MEND_STRIPE_SECRET_KEY = fake_stripe.secret_key
    settings.MEND_STRIPE_WEBHOOK_SECRET = fake_stripe.webhook_secret
    settings.MEND_STRIPE_API_BASE = fake_stripe.base_url
    built = build_billing(personas)
    built.profile.deposit_percent = 50
    built.profile.save()
    return built


def _online_booking(p: Personas, b: Billing) -> Appointment:
    start = exact_local(p.today + timedelta(days=3), time(10), "America/Toronto")
    appointment = appointment_book(
        clinic=p.harbour,
        actor=p.actor("front_desk"),
        client=p.carol,
        therapist=p.memberships["therapist"],
        appointment_type=b.schedule.treatment,
        starts_at=start,
        now=start - timedelta(days=3),
    )
    Appointment.objects.filter(pk=appointment.pk).update(channel=Appointment.Channel.ONLINE)
    appointment.refresh_from_db()
    return appointment


def test_the_booked_page_asks_the_deposit_and_paying_it_records_an_online_payment(
    client, personas, billing, fake_stripe
):
    appointment = _online_booking(personas, billing)
    token = link_token(appointment, "booked")
    page = client.get(f"/book/{personas.harbour.slug}/booked/{token}/")
    assert page.status_code == 200
    assert b"67.80 CAD" in page.content  # half of 120.00 + 13% HST
    to_stripe = client.post(f"/billing/deposit/{token}/pay/")
    assert to_stripe.status_code == 302
    opened = ProviderCheckout.objects.get()
    assert to_stripe["Location"] == opened.url
    assert client.post(f"/billing/deposit/{token}/pay/")["Location"] == opened.url  # a second click: same session
    [created] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert created.params["line_items"][0]["price_data"]["unit_amount"] == "6780"
    invoice = Invoice.objects.get(appointment=appointment)
    assert invoice.number == 1 and invoice.total == Decimal("135.60")
    hook = fake_stripe.complete(opened.session_id)
    for _ in range(2):  # Stripe retries a delivery: the payment is recorded once
        answer = client.post(
            "/billing/webhooks/stripe/",
            hook.payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=hook.signature,
        )
        assert answer.status_code == 200
    payment = Payment.objects.get(invoice=invoice)
    assert (payment.method, payment.amount) == ("online", Decimal("67.80"))
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("67.80")
    assert b"Deposit paid" in client.get(f"/book/{personas.harbour.slug}/booked/{token}/").content


def test_a_tampered_webhook_changes_nothing(client, personas, billing, fake_stripe):
    appointment = _online_booking(personas, billing)
    checkout.deposit_checkout_start(
        appointment=appointment, success_url="https://x.test/", cancel_url="https://x.test/"
    )
    session = ProviderCheckout.objects.get()
    hook = fake_stripe.complete(session.session_id)
    forged = hook.payload.replace(b'"amount_total": 6780', b'"amount_total": 1')
    answer = client.post(
        "/billing/webhooks/stripe/",
        forged + b" ",
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=hook.signature,
    )
    assert answer.status_code == 400
    assert not Payment.objects.exists()


def test_an_unpaid_deposit_lapses_the_booking_and_frees_the_time(client, personas, billing, fake_stripe):
    appointment = _online_booking(personas, billing)
    checkout.deposit_checkout_start(
        appointment=appointment, success_url="https://x.test/", cancel_url="https://x.test/"
    )
    session = ProviderCheckout.objects.get()
    hook = fake_stripe.expire(session.session_id)
    answer = client.post(
        "/billing/webhooks/stripe/", hook.payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=hook.signature
    )
    assert answer.content == b"lapsed"
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    invoice = Invoice.objects.get(appointment=appointment)
    assert invoice.balance == Decimal("0.00")  # reversed by a credit note: nothing owed for a lapsed booking
    assert invoice.credit_notes.get().total == Decimal("-135.60")


def test_no_deposit_without_a_provider(client, personas, billing, settings):
    settings.MEND_STRIPE_SECRET_KEY = ""
    appointment = _online_booking(personas, billing)
    page = client.get(f"/book/{personas.harbour.slug}/booked/{link_token(appointment, 'booked')}/")
    assert page.status_code == 200 and b"deposit" not in page.content


def test_an_online_payment_is_refunded_to_the_card_through_stripe(login, personas, billing, fake_stripe):
    appointment = _online_booking(personas, billing)
    checkout.deposit_checkout_start(
        appointment=appointment, success_url="https://x.test/", cancel_url="https://x.test/"
    )
    session = ProviderCheckout.objects.get()
    hook = fake_stripe.complete(session.session_id)
    checkout.webhook_handle(payload=hook.payload, signature=hook.signature)
    payment = Payment.objects.get()
    owner = login("owner")
    answer = owner.post(
        f"/billing/invoices/{payment.invoice_id}/payments/{payment.pk}/refund/",
        {"amount": "20.00", "reason": "Shorter visit"},
    )
    assert answer.status_code == 302
    [refund] = fake_stripe.requests_to("POST", "/v1/refunds")
    assert refund.params["amount"] == "2000"
    assert Payment.objects.get(refund_of=payment).amount == Decimal("-20.00")
    too_much = owner.post(
        f"/billing/invoices/{payment.invoice_id}/payments/{payment.pk}/refund/",
        {"amount": "60.00", "reason": "Again"},
    )
    assert too_much.status_code == 400 and b"47.80" in too_much.content
    assert len(fake_stripe.requests_to("POST", "/v1/refunds")) == 1


def test_a_client_buys_a_package_online_and_it_is_usable_once_paid(client, personas, billing, fake_stripe):
    from mend.billing.models import Package, PackagePlan

    PackagePlan.objects.create(
        clinic=personas.harbour,
        name="Five visits",
        appointment_type=billing.schedule.treatment,
        sessions=5,
        price=Decimal("540.00"),
        sold_online=True,
    )
    appointment = _online_booking(personas, billing)
    token = link_token(appointment, "booked")
    page = client.get(f"/book/{personas.harbour.slug}/booked/{token}/")
    assert b"Five visits" in page.content
    plan = PackagePlan.objects.get()
    to_stripe = client.post(f"/billing/deposit/{token}/package/{plan.pk}/")
    assert to_stripe.status_code == 302
    package = Package.objects.get()
    assert not package.is_active  # not before the money arrives
    sale = Invoice.objects.get(lines__package=package)
    assert sale.total == Decimal("540.00")
    session = ProviderCheckout.objects.get(invoice=sale)
    hook = fake_stripe.complete(session.session_id)
    checkout.webhook_handle(payload=hook.payload, signature=hook.signature)
    package.refresh_from_db()
    sale.refresh_from_db()
    assert package.is_active and sale.balance == Decimal("0.00")


def test_the_fee_policy_is_shown_at_booking_and_in_the_reminder(personas, billing, settings):
    from mend.billing.queries.setup import cancellation_policy_text
    from mend.outbox.models import OutboundMessage
    from mend.scheduling.services.reminders import reminders_schedule

    settings.MEND_STRIPE_SECRET_KEY = ""
    policy = cancellation_policy_text(billing.profile, "CAD")
    assert "24 hours" in policy and "40.00" in policy and "60.00" in policy
    personas.carol.email, personas.carol.consent_email = "carol@example.com", True
    personas.carol.save()
    appointment = _online_booking(personas, billing)
    OutboundMessage.objects.all().delete()
    [reminder] = reminders_schedule(appointment, now=appointment.starts_at - timedelta(days=3))
    assert policy in reminder.body
