"""The Stripe provider against a local fake of Stripe's API (tests/billing/fake_stripe.py): no network.

The SDK makes every HTTP call; the fake answers as Stripe documents, and signs its webhooks with its
own HMAC, so a webhook the provider accepts shows that Mend and Stripe's scheme agree.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
import stripe
import time_machine

from mend.billing.providers import (
    REFERENCE_KEY,
    CheckoutRequest,
    ProviderError,
    StripeProvider,
    WebhookSignatureError,
    provider_from_settings,
)
from tests.billing.fake_stripe import FakeStripe

# Ten seconds into a minute: a create and its retry a moment later fall in the same minute.
INSTANT = datetime(2026, 3, 2, 9, 15, 10, tzinfo=UTC)


def provider_for(fake: FakeStripe, **kwargs: object) -> StripeProvider:
    return StripeProvider(fake.secret_key, fake.webhook_secret, api_base=fake.base_url, **kwargs)  # type: ignore[arg-type]


def deposit(**changes: object) -> CheckoutRequest:
    fields: dict[str, object] = {
        "amount_minor": 2500,
        "currency": "EUR",
        "description": "Deposit: 60-minute therapeutic massage",
        "reference": "pay_41",
        "customer_email": "ada@example.com",
        "success_url": "https://clinic.example/book/done?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://clinic.example/book/cancelled",
        "expires_in_minutes": 30,
        "metadata": {"appointment": "appt_7"},
    }
    fields.update(changes)
    return CheckoutRequest(**fields)  # type: ignore[arg-type]


def test_checkout_reaches_stripe_as_its_api_documents(fake_stripe):
    before = time.time()
    session = provider_for(fake_stripe).create_checkout(deposit())

    [sent] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert sent.headers["authorization"] == f"Bearer {fake_stripe.secret_key}"
    assert sent.headers["idempotency-key"].startswith("mend-checkout-pay_41-")
    assert sent.headers["stripe-version"]
    form = sent.form
    assert form["mode"] == "payment"
    assert form["line_items[0][price_data][unit_amount]"] == "2500"
    assert form["line_items[0][price_data][currency]"] == "eur"
    assert form["line_items[0][price_data][product_data][name]"] == "Deposit: 60-minute therapeutic massage"
    assert form["line_items[0][quantity]"] == "1"
    assert form["client_reference_id"] == "pay_41"
    assert form["customer_email"] == "ada@example.com"
    assert form[f"metadata[{REFERENCE_KEY}]"] == "pay_41"
    assert form["metadata[appointment]"] == "appt_7"
    assert form[f"payment_intent_data[metadata][{REFERENCE_KEY}]"] == "pay_41"
    assert form["success_url"] == "https://clinic.example/book/done?session={CHECKOUT_SESSION_ID}"
    assert form["cancel_url"] == "https://clinic.example/book/cancelled"
    assert before + 30 * 60 <= int(form["expires_at"]) <= before + 30 * 60 + 120

    assert session.provider == "stripe"
    assert session.session_id.startswith("cs_test_")
    assert session.url == fake_stripe.sessions[session.session_id]["url"]
    assert (session.status, session.payment_reference) == ("open", None)
    assert (session.amount_minor, session.currency) == (2500, "EUR")


def test_a_zero_decimal_currency_goes_through_in_its_own_units(fake_stripe):
    session = provider_for(fake_stripe).create_checkout(deposit(amount_minor=3000, currency="JPY"))

    [sent] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert sent.form["line_items[0][price_data][unit_amount]"] == "3000"
    assert (session.amount_minor, session.currency) == (3000, "JPY")


def test_retrieving_reads_the_session_back(fake_stripe):
    provider = provider_for(fake_stripe)
    created = provider.create_checkout(deposit())

    assert provider.retrieve_checkout(created.session_id) == created
    assert fake_stripe.requests_to("GET", f"/v1/checkout/sessions/{created.session_id}")


def test_a_retried_create_returns_the_same_session(fake_stripe):
    provider = provider_for(fake_stripe)
    with time_machine.travel(INSTANT, tick=False):
        first = provider.create_checkout(deposit())
        again = provider.create_checkout(deposit())

    assert again == first
    assert len(fake_stripe.sessions) == 1
    assert [r.replayed for r in fake_stripe.requests_to("POST", "/v1/checkout/sessions")] == [False, True]


def test_a_lost_response_is_retried_by_the_sdk_without_a_second_session(fake_stripe, monkeypatch):
    # The SDK waits half a second before a retry; the test needs no real wait.
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.01)
    fake_stripe.drop_next_response()

    session = provider_for(fake_stripe).create_checkout(deposit())

    first, retry = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert retry.headers["idempotency-key"] == first.headers["idempotency-key"]
    assert retry.replayed
    assert list(fake_stripe.sessions) == [session.session_id]


def test_the_same_reference_with_other_details_is_refused(fake_stripe):
    provider = provider_for(fake_stripe)
    with time_machine.travel(INSTANT, tick=False):
        provider.create_checkout(deposit())
        with pytest.raises(ProviderError, match="already started with different details"):
            provider.create_checkout(deposit(amount_minor=3000))

    assert len(fake_stripe.sessions) == 1


def test_a_checkout_stripe_would_refuse_is_refused_before_sending(fake_stripe):
    with pytest.raises(ValueError, match="30 to 1440 minutes"):
        provider_for(fake_stripe).create_checkout(deposit(expires_in_minutes=10))

    assert fake_stripe.requests == []


def test_a_paid_checkout_webhook_is_checkout_completed_with_the_payment_reference(fake_stripe):
    provider = provider_for(fake_stripe)
    session = provider.create_checkout(deposit())

    webhook = fake_stripe.complete(session.session_id)
    event = provider.parse_webhook(webhook.payload, webhook.signature)

    [intent_id] = fake_stripe.payment_intents
    assert event.event_id == webhook.event["id"]
    assert event.kind == "checkout_completed"
    assert event.raw_type == "checkout.session.completed"
    assert (event.session_id, event.payment_reference, event.reference) == (session.session_id, intent_id, "pay_41")
    assert (event.amount_minor, event.currency) == (2500, "EUR")
    assert fake_stripe.payment_intents[intent_id]["metadata"][REFERENCE_KEY] == "pay_41"
    paid = provider.retrieve_checkout(session.session_id)
    assert (paid.status, paid.payment_reference) == ("paid", intent_id)


def test_the_same_webhook_delivered_twice_parses_to_the_same_event(fake_stripe):
    provider = provider_for(fake_stripe)
    webhook = fake_stripe.complete(provider.create_checkout(deposit()).session_id)

    assert provider.parse_webhook(webhook.payload, webhook.signature) == provider.parse_webhook(
        webhook.payload, webhook.signature
    )


def test_a_completed_checkout_still_awaiting_its_payment_is_ignored(fake_stripe):
    provider = provider_for(fake_stripe)
    session_id = provider.create_checkout(deposit()).session_id
    session = {**fake_stripe.sessions[session_id], "status": "complete", "payment_status": "unpaid"}

    webhook = fake_stripe.webhook("checkout.session.completed", session)

    assert provider.parse_webhook(webhook.payload, webhook.signature).kind == "ignored"


def test_an_expired_checkout_webhook_is_checkout_expired(fake_stripe):
    provider = provider_for(fake_stripe)
    session = provider.create_checkout(deposit())

    webhook = fake_stripe.expire(session.session_id)
    event = provider.parse_webhook(webhook.payload, webhook.signature)

    assert (event.kind, event.session_id, event.reference) == ("checkout_expired", session.session_id, "pay_41")
    assert event.payment_reference is None
    assert provider.retrieve_checkout(session.session_id).status == "expired"


def test_expiring_a_checkout_closes_it_and_stripe_sends_checkout_expired(fake_stripe):
    provider = provider_for(fake_stripe)
    session = provider.create_checkout(deposit())

    expired = provider.expire_checkout(session.session_id)

    assert expired.status == "expired"
    assert fake_stripe.requests_to("POST", f"/v1/checkout/sessions/{session.session_id}/expire")
    webhook = fake_stripe.events[-1]
    assert provider.parse_webhook(webhook.payload, webhook.signature).kind == "checkout_expired"


def test_expiring_a_checkout_the_client_already_paid_answers_it_as_paid(fake_stripe):
    provider = provider_for(fake_stripe)
    session = provider.create_checkout(deposit())
    fake_stripe.complete(session.session_id)

    answered = provider.expire_checkout(session.session_id)

    assert answered.status == "paid"
    assert answered.payment_reference == next(iter(fake_stripe.payment_intents))


def test_a_tampered_payload_is_refused(fake_stripe):
    provider = provider_for(fake_stripe)
    webhook = fake_stripe.complete(provider.create_checkout(deposit()).session_id)
    tampered = webhook.payload.replace(b'"amount_total": 2500', b'"amount_total": 25')
    assert tampered != webhook.payload

    with pytest.raises(WebhookSignatureError):
        provider.parse_webhook(tampered, webhook.signature)


def test_a_signature_made_with_another_secret_is_refused(fake_stripe):
    provider = provider_for(fake_stripe)
    webhook = fake_stripe.complete(provider.create_checkout(deposit()).session_id)

    with pytest.raises(WebhookSignatureError):
        provider.parse_webhook(webhook.payload, fake_stripe.sign(webhook.payload, secret="whsec_someone_else"))
    with pytest.raises(WebhookSignatureError):
        StripeProvider(fake_stripe.secret_key, "whsec_other_endpoint").parse_webhook(webhook.payload, webhook.signature)


def test_a_signature_older_than_the_tolerance_is_refused_and_one_just_inside_it_accepted(fake_stripe):
    provider = provider_for(fake_stripe)
    webhook = fake_stripe.complete(provider.create_checkout(deposit()).session_id)
    now = int(time.time())

    with pytest.raises(WebhookSignatureError):
        provider.parse_webhook(webhook.payload, fake_stripe.sign(webhook.payload, timestamp=now - 301))
    accepted = provider.parse_webhook(webhook.payload, fake_stripe.sign(webhook.payload, timestamp=now - 290))
    assert accepted.kind == "checkout_completed"


@pytest.mark.parametrize("header", ["", "v1=deadbeef", "t=notanumber,v1=deadbeef"])
def test_a_missing_or_malformed_signature_header_is_refused(fake_stripe, header):
    webhook = fake_stripe.webhook("checkout.session.completed", {"id": "cs_test_1", "object": "checkout.session"})

    with pytest.raises(WebhookSignatureError):
        provider_for(fake_stripe).parse_webhook(webhook.payload, header)


def test_a_signed_body_that_is_no_event_is_refused(fake_stripe):
    payload = b"not json"

    with pytest.raises(WebhookSignatureError, match="not a Stripe event"):
        provider_for(fake_stripe).parse_webhook(payload, fake_stripe.sign(payload))


def test_an_unrelated_event_is_ignored(fake_stripe):
    webhook = fake_stripe.webhook("customer.created", {"id": "cus_1", "object": "customer", "metadata": {}})

    event = provider_for(fake_stripe).parse_webhook(webhook.payload, webhook.signature)

    assert (event.kind, event.raw_type, event.event_id) == ("ignored", "customer.created", webhook.event["id"])
    assert (event.session_id, event.payment_reference, event.amount_minor) == (None, None, None)


def test_a_refund_reaches_stripe_and_its_webhook_carries_the_total_refunded(fake_stripe):
    provider = provider_for(fake_stripe)
    fake_stripe.complete(provider.create_checkout(deposit()).session_id)
    [intent_id] = fake_stripe.payment_intents

    first = provider.refund(intent_id, 1000, idempotency_key="refund-pay_41-1")
    second = provider.refund(intent_id, 500, idempotency_key="refund-pay_41-2")

    assert first.refund_id.startswith("re_")
    assert (first.status, first.amount_minor) == ("succeeded", 1000)
    sent = fake_stripe.requests_to("POST", "/v1/refunds")[0]
    assert (sent.form, sent.headers["idempotency-key"]) == (
        {"payment_intent": intent_id, "amount": "1000"},
        "refund-pay_41-1",
    )
    webhook = fake_stripe.events[-1]
    event = provider.parse_webhook(webhook.payload, webhook.signature)
    assert (event.kind, event.payment_reference, event.amount_minor, event.currency) == (
        "refunded",
        intent_id,
        1500,
        "EUR",
    )
    assert second.amount_minor == 500


def test_a_retried_refund_refunds_once(fake_stripe):
    provider = provider_for(fake_stripe)
    fake_stripe.complete(provider.create_checkout(deposit()).session_id)
    [intent_id] = fake_stripe.payment_intents

    first = provider.refund(intent_id, 1000, idempotency_key="refund-pay_41-1")
    again = provider.refund(intent_id, 1000, idempotency_key="refund-pay_41-1")

    assert again == first
    assert len(fake_stripe.refunds) == 1


def test_refunding_more_than_was_paid_is_refused_in_words(fake_stripe):
    provider = provider_for(fake_stripe)
    fake_stripe.complete(provider.create_checkout(deposit()).session_id)
    [intent_id] = fake_stripe.payment_intents
    provider.refund(intent_id, 2500, idempotency_key="refund-all")

    with pytest.raises(ProviderError, match="already been refunded in full") as refused:
        provider.refund(intent_id, 100, idempotency_key="refund-more")
    assert refused.value.code == "charge_already_refunded"
    assert not refused.value.retryable


def test_an_unreachable_stripe_is_a_readable_error_without_the_key():
    with FakeStripe() as fake:
        provider = provider_for(fake, max_network_retries=0)
    # The fake has stopped: nothing listens on its port any more.

    with pytest.raises(ProviderError) as failed:
        provider.create_checkout(deposit())

    message = str(failed.value)
    assert message == "Mend could not reach Stripe. Try again in a minute, or take the payment at the desk."
    assert failed.value.retryable
    assert fake.secret_key not in message
    assert fake.secret_key not in repr(failed.value)


def test_a_wrong_key_is_a_readable_error_without_the_key(fake_stripe):
    wrong = "sk_test_wrongwrongwrongwrong9876"
    provider = StripeProvider(wrong, fake_stripe.webhook_secret, api_base=fake_stripe.base_url)

    with pytest.raises(ProviderError) as refused:
        provider.create_checkout(deposit())

    [sent] = fake_stripe.requests
    assert sent.headers["authorization"] == f"Bearer {wrong}"
    assert refused.value.code is None
    message = str(refused.value)
    assert "Stripe did not accept the clinic's Stripe key" in message
    for secret in (wrong, "9876", fake_stripe.secret_key):
        assert secret not in message
    assert fake_stripe.sessions == {}


def test_without_a_key_the_clinic_has_no_provider(settings):
    settings.MEND_STRIPE_SECRET_KEY = ""

    assert provider_from_settings() is None


def test_with_a_key_the_provider_talks_to_the_configured_api(settings, fake_stripe):
    settings.MEND_STRIPE_SECRET_KEY = fake_stripe.secret_key
    settings.MEND_STRIPE_WEBHOOK_SECRET = fake_stripe.webhook_secret
    settings.MEND_STRIPE_API_BASE = fake_stripe.base_url

    provider = provider_from_settings()

    assert provider is not None
    assert provider.name == "stripe"
    session = provider.create_checkout(deposit())
    webhook = fake_stripe.complete(session.session_id)
    assert provider.parse_webhook(webhook.payload, webhook.signature).kind == "checkout_completed"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"MEND_STRIPE_SECRET_KEY": "pk_test_publishable0key"}, "MEND_STRIPE_SECRET_KEY"),
        ({"MEND_STRIPE_SECRET_KEY": "sk_test_secret0key0value"}, "MEND_STRIPE_WEBHOOK_SECRET"),
    ],
)
def test_settings_refuse_a_stripe_key_that_cannot_work_naming_the_variable_not_the_value(tmp_path, env, named):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MEND_", "DJANGO_"))}
    result = subprocess.run(
        [sys.executable, "-c", "import mend.settings"],
        env={**clean, "MEND_ENV": "test", "MEND_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert f"EnvError: {named}" in result.stderr
    assert env["MEND_STRIPE_SECRET_KEY"] not in result.stderr
