"""Payment providers: deposits and prepayments for online booking, taken on the provider's own page.

A clinic that sets no provider takes every payment at its own terminal and records it by hand; then
:func:`provider_from_settings` answers ``None`` and nothing here runs. A clinic with a Stripe
account gets :class:`StripeProvider`, built on Stripe's official SDK (``stripe.StripeClient``):

- :meth:`~PaymentProvider.create_checkout` opens a hosted Checkout Session and answers its URL, to
  which the client is sent to pay;
- the provider then tells Mend what happened through a signed webhook, which
  :meth:`~PaymentProvider.parse_webhook` verifies and turns into a :class:`ProviderEvent`;
- :meth:`~PaymentProvider.retrieve_checkout` reads a session again (a webhook that never came),
  :meth:`~PaymentProvider.expire_checkout` closes one whose booking hold has lapsed, and
  :meth:`~PaymentProvider.refund` gives money back.

This module knows no model: the billing services call it and keep what it answers. It reads Django
settings only inside :func:`provider_from_settings`, never at import time.

Amounts are in the currency's minor unit as the provider counts it, passed through unchanged: 2500
is EUR 25.00, and for a zero-decimal currency such as JPY 2500 is ¥2,500 (Stripe's list of
zero-decimal currencies decides which those are). Currencies leave here as ISO 4217 codes in
capitals, whatever case the provider writes them in.

Idempotency, both ways:

- Out: a create carries an ``Idempotency-Key`` built from our reference, so the SDK's own retries
  after a lost response, and a caller's retry of the same request, find the session already made
  instead of making a second. A refund carries the key its caller gives (one per refund the clinic
  means to make).
- In: the provider delivers a webhook at least once and retries it until it is answered with a
  2xx, so the same ``event_id`` can arrive several times and out of order. The caller records
  ``event_id`` under a unique constraint; the values an event carries are states, not deltas (a
  refund event carries the total refunded so far), so applying one twice changes nothing.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

import stripe

if TYPE_CHECKING:
    from stripe.checkout import Session as StripeSession
    from stripe.params.checkout import SessionCreateParams

T = TypeVar("T")

EventKind = Literal["checkout_completed", "checkout_expired", "refunded", "ignored"]
CheckoutStatus = Literal["open", "processing", "paid", "expired"]

# The metadata key our reference travels under, on the session and on its PaymentIntent, so that
# whatever Stripe object an event carries, it leads back to our row.
REFERENCE_KEY = "mend_reference"
# Stripe's documented tolerance for a webhook's timestamp: an older signature is a replay.
WEBHOOK_TOLERANCE_SECONDS = 300
# Stripe accepts a Checkout Session's expires_at from 30 minutes to 24 hours ahead.
STRIPE_MIN_EXPIRY_MINUTES = 30
STRIPE_MAX_EXPIRY_MINUTES = 24 * 60
# Stripe's metadata limits (docs.stripe.com/api/metadata) and client_reference_id's length.
_METADATA_KEYS = 50
_METADATA_KEY_CHARS = 40
_METADATA_VALUE_CHARS = 500
_REFERENCE_CHARS = 200
# Anything shaped like a Stripe key or webhook secret, should one ever appear in a message.
_SECRET_SHAPE = re.compile(r"\b(?:sk|rk|pk|whsec)_[A-Za-z0-9_*]+")


class ProviderError(Exception):
    """The provider refused a request or could not be reached.

    ``str(error)`` is written for the receptionist and never holds a secret; ``code`` is the
    provider's error code when it gave one, ``request_id`` its request id for support, and
    ``retryable`` says whether trying the same thing again later may succeed.
    """

    def __init__(
        self, message: str, *, code: str | None = None, request_id: str | None = None, retryable: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id
        self.retryable = retryable


class WebhookSignatureError(ValueError):
    """A webhook whose signature is missing, wrong or too old, or whose body is no event: answer 400."""


@dataclass(frozen=True)
class CheckoutRequest:
    """What to charge online and where to send the client afterwards.

    ``reference`` is our id for the payment: it becomes the session's ``client_reference_id`` and
    its metadata (and its PaymentIntent's), and keys the create's idempotency, so one reference
    opens one session. ``success_url`` may hold ``{CHECKOUT_SESSION_ID}``, which Stripe fills in.
    """

    amount_minor: int
    currency: str
    description: str
    reference: str
    customer_email: str
    success_url: str
    cancel_url: str
    expires_in_minutes: int
    metadata: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.amount_minor <= 0:
            raise ValueError(f"amount_minor must be positive, not {self.amount_minor}")
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ValueError(f"currency must be a three-letter ISO 4217 code, not {self.currency!r}")
        if not self.reference or not self.description:
            raise ValueError("a checkout needs a reference and a description")


@dataclass(frozen=True)
class CheckoutSession:
    """A hosted checkout as the provider holds it.

    ``status``: ``open`` (the client can still pay), ``processing`` (completed, with a payment
    method that confirms later, such as a bank debit), ``paid`` or ``expired``.
    ``payment_reference`` is the provider's id for the payment (Stripe's PaymentIntent), the one to
    refund; it is ``None`` until the client pays.
    """

    provider: str
    session_id: str
    url: str
    payment_reference: str | None
    status: str
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class ProviderEvent:
    """A verified webhook, reduced to what billing acts on.

    - ``checkout_completed``: the session was paid (``payment_reference`` and the amount set);
    - ``checkout_expired``: the session ended without payment (it expired, or a payment that
      confirms later failed);
    - ``refunded``: money went back; ``amount_minor`` is the total refunded on that payment so far;
    - ``ignored``: any other event, and a completed session still waiting for its payment to confirm.
      Answer 2xx all the same, or the provider keeps resending it.
    """

    event_id: str
    kind: EventKind
    session_id: str | None
    payment_reference: str | None
    reference: str | None
    amount_minor: int | None
    currency: str | None
    raw_type: str


@dataclass(frozen=True)
class RefundResult:
    """A refund the provider accepted; ``status`` is its own (Stripe: pending, succeeded, failed…)."""

    refund_id: str
    status: str
    amount_minor: int


class PaymentProvider(Protocol):
    name: str

    def create_checkout(self, req: CheckoutRequest) -> CheckoutSession: ...

    def retrieve_checkout(self, session_id: str) -> CheckoutSession: ...

    def expire_checkout(self, session_id: str) -> CheckoutSession: ...

    def refund(self, payment_reference: str, amount_minor: int, idempotency_key: str) -> RefundResult: ...

    def parse_webhook(self, payload: bytes, signature_header: str) -> ProviderEvent: ...


class StripeProvider:
    """Stripe Checkout through Stripe's SDK.

    ``api_base`` points the SDK somewhere other than ``https://api.stripe.com`` (a local fake in
    tests, stripe-mock in development); it receives the secret key, so only ever a host you run.
    ``max_network_retries`` is the SDK's: it retries connection errors and 409/5xx answers with the
    same idempotency key, so a retry cannot make a second object.
    """

    name = "stripe"

    def __init__(
        self,
        secret_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        timeout_seconds: float = 10,
        *,
        max_network_retries: int = 2,
    ) -> None:
        if not secret_key:
            raise ValueError("StripeProvider needs a secret key")
        self._secret_key = secret_key
        self._webhook_secret = webhook_secret
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_network_retries,
            # Our own HTTP client only to bound the wait: the SDK's default waits 80 seconds.
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
        )

    def __repr__(self) -> str:
        return "StripeProvider()"

    def create_checkout(self, req: CheckoutRequest) -> CheckoutSession:
        _check_stripe_limits(req)
        expires_at = _expires_at(req.expires_in_minutes, time.time())
        metadata = {**req.metadata, REFERENCE_KEY: req.reference}
        params: SessionCreateParams = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": req.currency.lower(),
                        "unit_amount": req.amount_minor,
                        "product_data": {"name": req.description},
                    },
                }
            ],
            "client_reference_id": req.reference,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata, "description": req.description},
            "success_url": req.success_url,
            "cancel_url": req.cancel_url,
            "expires_at": expires_at,
        }
        if req.customer_email:
            params["customer_email"] = req.customer_email
        # Stripe replays the first answer to a key only for identical parameters and refuses a
        # change. expires_at moves with the clock, so the key carries it: a retry within the same
        # minute gets the session already made, a later one a second session. A caller retries
        # only when it lost the first answer, so nobody holds the first session's URL and it lapses
        # unpaid; one open session per payment is otherwise the caller's rule, on its own rows.
        key = f"mend-checkout-{req.reference}-{expires_at}"
        session = self._call(lambda: self._client.v1.checkout.sessions.create(params, {"idempotency_key": key}))
        return self._session(session)

    def retrieve_checkout(self, session_id: str) -> CheckoutSession:
        return self._session(self._call(lambda: self._client.v1.checkout.sessions.retrieve(session_id)))

    def expire_checkout(self, session_id: str) -> CheckoutSession:
        """Close an open session (Stripe's shortest is 30 minutes, longer than a booking hold).

        A session already paid or expired cannot be expired; it is answered as it stands, so a
        caller sees a payment that beat the expiry and can refund it.
        """
        try:
            session = self._client.v1.checkout.sessions.expire(session_id)
        except stripe.InvalidRequestError as exc:
            if exc.code == "resource_missing":
                raise self._error(exc) from None
            current = self.retrieve_checkout(session_id)
            if current.status == "open":
                raise self._error(exc) from None
            return current
        except stripe.StripeError as exc:
            raise self._error(exc) from None
        return self._session(session)

    def refund(self, payment_reference: str, amount_minor: int, idempotency_key: str) -> RefundResult:
        if amount_minor <= 0:
            raise ValueError(f"amount_minor must be positive, not {amount_minor}")
        if not idempotency_key:
            raise ValueError("a refund needs an idempotency key")
        refund = self._call(
            lambda: self._client.v1.refunds.create(
                {"payment_intent": payment_reference, "amount": amount_minor},
                {"idempotency_key": idempotency_key},
            )
        )
        return RefundResult(refund_id=refund.id, status=refund.status or "pending", amount_minor=refund.amount)

    def parse_webhook(self, payload: bytes, signature_header: str) -> ProviderEvent:
        try:
            event = self._client.construct_event(
                payload, signature_header, self._webhook_secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError:
            # Stripe's message names the failure; ours stays short and carries neither header nor body.
            raise WebhookSignatureError("The Stripe signature is missing, wrong or too old.") from None
        except ValueError:
            raise WebhookSignatureError("The webhook body is not a Stripe event.") from None
        return _event(event.id, event.type, event.data.object.to_dict())

    def _call(self, request: Callable[[], T]) -> T:
        try:
            return request()
        except stripe.StripeError as exc:
            raise self._error(exc) from None

    def _session(self, session: StripeSession) -> CheckoutSession:
        return _checkout_session(self.name, session.to_dict())

    def _error(self, exc: stripe.StripeError) -> ProviderError:
        """A message a receptionist can act on; Stripe's own words only where they are meant for people."""
        message: str
        retryable = False
        if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
            message = "Stripe did not accept the clinic's Stripe key. Ask whoever set up payments to check it."
        elif isinstance(exc, stripe.APIConnectionError):
            message = "Mend could not reach Stripe. Try again in a minute, or take the payment at the desk."
            retryable = True
        elif isinstance(exc, stripe.RateLimitError):
            message = "Stripe is busy. Try again in a minute."
            retryable = True
        elif isinstance(exc, stripe.IdempotencyError):
            message = "This payment was already started with different details. Start it again from the booking."
        elif isinstance(exc, stripe.CardError):
            message = f"The card was declined: {self._scrub(exc.user_message or 'no reason given')}"
        elif isinstance(exc, stripe.InvalidRequestError):
            if exc.code == "charge_already_refunded":
                message = "This payment has already been refunded in full."
            elif exc.code == "resource_missing":
                message = "Stripe has no record of this payment."
            else:
                message = f"Stripe refused the request: {self._scrub(exc.user_message or 'no reason given')}"
        else:
            message = "Stripe had a problem on its side. Try again in a few minutes."
            retryable = True
        return ProviderError(message, code=exc.code, request_id=exc.request_id, retryable=retryable)

    def _scrub(self, text: str) -> str:
        text = text.replace(self._secret_key, "[key]")
        if self._webhook_secret:
            text = text.replace(self._webhook_secret, "[key]")
        return _SECRET_SHAPE.sub("[key]", text)


def provider_from_settings() -> PaymentProvider | None:
    """The clinic's online payment provider, or ``None`` when it takes payments at its own terminal only."""
    from django.conf import settings

    secret_key: str = getattr(settings, "MEND_STRIPE_SECRET_KEY", "")
    if not secret_key:
        return None
    return StripeProvider(
        secret_key,
        getattr(settings, "MEND_STRIPE_WEBHOOK_SECRET", ""),
        api_base=getattr(settings, "MEND_STRIPE_API_BASE", None) or None,
    )


def _check_stripe_limits(req: CheckoutRequest) -> None:
    """Stripe's documented limits, refused here as the programming errors they are."""
    if not STRIPE_MIN_EXPIRY_MINUTES <= req.expires_in_minutes <= STRIPE_MAX_EXPIRY_MINUTES:
        raise ValueError(
            f"Stripe keeps a checkout open {STRIPE_MIN_EXPIRY_MINUTES} to {STRIPE_MAX_EXPIRY_MINUTES} minutes, "
            f"not {req.expires_in_minutes}"
        )
    if len(req.reference) > _REFERENCE_CHARS:
        raise ValueError(f"reference is longer than Stripe's {_REFERENCE_CHARS} characters")
    if req.metadata.get(REFERENCE_KEY, req.reference) != req.reference:
        raise ValueError(f"metadata key {REFERENCE_KEY!r} is the reference's own")
    if len({**req.metadata, REFERENCE_KEY: ""}) > _METADATA_KEYS:
        raise ValueError(f"Stripe keeps at most {_METADATA_KEYS} metadata keys")
    for key, value in req.metadata.items():
        if len(key) > _METADATA_KEY_CHARS or len(value) > _METADATA_VALUE_CHARS:
            raise ValueError(f"metadata {key!r} is longer than Stripe allows")


def _expires_at(minutes: int, now: float) -> int:
    """``minutes`` from ``now``, on a whole minute so that retries within a minute send the same value.

    Rounded up with half a minute to spare, so it is never short of Stripe's 30-minute minimum by
    the time the request arrives, and never past its 24 hours.
    """
    return min(math.ceil((now + 30) / 60) * 60 + minutes * 60, int(now) + STRIPE_MAX_EXPIRY_MINUTES * 60)


def _checkout_session(provider: str, data: Mapping[str, Any]) -> CheckoutSession:
    status = data.get("status")
    payment_status = data.get("payment_status")
    shown: CheckoutStatus
    if status == "complete":
        shown = "paid" if payment_status in ("paid", "no_payment_required") else "processing"
    elif status == "expired":
        shown = "expired"
    else:
        shown = "open"
    return CheckoutSession(
        provider=provider,
        session_id=str(data["id"]),
        url=data.get("url") or "",
        payment_reference=_id_of(data.get("payment_intent")),
        status=shown,
        amount_minor=int(data.get("amount_total") or 0),
        currency=str(data.get("currency") or "").upper(),
    )


def _event(event_id: str, raw_type: str, obj: Mapping[str, Any]) -> ProviderEvent:
    kind: EventKind = "ignored"
    if raw_type == "checkout.session.completed":
        # A bank debit completes the session before the money arrives; its
        # checkout.session.async_payment_succeeded is then the one that says paid.
        if obj.get("payment_status") in ("paid", "no_payment_required"):
            kind = "checkout_completed"
    elif raw_type == "checkout.session.async_payment_succeeded":
        kind = "checkout_completed"
    elif raw_type in ("checkout.session.expired", "checkout.session.async_payment_failed"):
        kind = "checkout_expired"
    elif raw_type == "charge.refunded":
        kind = "refunded"

    if kind == "ignored":
        return ProviderEvent(event_id, "ignored", None, None, None, None, None, raw_type)
    metadata = obj.get("metadata") or {}
    currency = str(obj.get("currency") or "").upper() or None
    if kind == "refunded":
        # data.object is the Charge; amount_refunded is its running total, not this refund's.
        return ProviderEvent(
            event_id=event_id,
            kind=kind,
            session_id=None,
            payment_reference=_id_of(obj.get("payment_intent")),
            reference=metadata.get(REFERENCE_KEY),
            amount_minor=int(obj.get("amount_refunded") or 0),
            currency=currency,
            raw_type=raw_type,
        )
    total = obj.get("amount_total")
    return ProviderEvent(
        event_id=event_id,
        kind=kind,
        session_id=obj.get("id"),
        payment_reference=_id_of(obj.get("payment_intent")),
        reference=obj.get("client_reference_id") or metadata.get(REFERENCE_KEY),
        amount_minor=int(total) if total is not None else None,
        currency=currency,
        raw_type=raw_type,
    )


def _id_of(value: object) -> str | None:
    """An expandable field's id: Stripe sends the id, or the whole object when it was expanded."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        found = value.get("id")
        return str(found) if found else None
    return None
