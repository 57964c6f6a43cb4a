"""A local stand-in for Stripe's API, for the official SDK to talk to where Stripe cannot be reached.

It follows docs.stripe.com/api for the few endpoints Mend uses, as the SDK speaks to them:

- ``POST /v1/checkout/sessions`` (mode ``payment``, ``line_items`` with ``price_data``),
  ``GET /v1/checkout/sessions/{id}``, ``POST /v1/checkout/sessions/{id}/expire``, ``POST /v1/refunds``;
- bodies form-encoded with nested keys (``line_items[0][price_data][unit_amount]=2500``), decoded
  into dicts and lists the way Stripe reads them; unknown parameters refused as Stripe refuses them;
- the secret key as ``Authorization: Bearer`` (or HTTP Basic, as curl sends it), a wrong one answered
  401 with Stripe's error body;
- ``Idempotency-Key``: the first answer to a key is saved and replayed for the same endpoint and
  parameters (``Idempotent-Replayed: true``); the same key with other parameters is a 400
  ``idempotency_error``. As Stripe does, a request refused by validation saves nothing;
- errors as ``{"error": {"type", "message", "code", "param", "doc_url"}}`` with Stripe's statuses;
- objects with Stripe's ``object`` names and id prefixes (``cs_test_``, ``pi_``, ``ch_``, ``re_``, ``evt_``).

What Stripe would deliver to the webhook endpoint is kept in :attr:`FakeStripe.events`, each signed
as Stripe documents (``Stripe-Signature: t=<unix time>,v1=<HMAC-SHA256 of "<t>.<body>" with the
endpoint secret>``) by this module's own HMAC, not the SDK's signer, so a test that the SDK accepts
it shows the two agree. :meth:`FakeStripe.complete` and :meth:`FakeStripe.expire` play the client
paying and the clock running out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

DOCS = "https://stripe.com/docs/error-codes"
_SESSION_PARAMS = {
    "mode",
    "line_items",
    "client_reference_id",
    "metadata",
    "payment_intent_data",
    "success_url",
    "cancel_url",
    "expires_at",
    "customer_email",
    "locale",
    "payment_method_types",
    "expand",
}
_PRICE_DATA_PARAMS = {"currency", "unit_amount", "product_data"}
_PAYMENT_INTENT_DATA_PARAMS = {"metadata", "description", "receipt_email", "statement_descriptor"}
_REFUND_PARAMS = {"payment_intent", "charge", "amount", "reason", "metadata", "expand"}


@dataclass(frozen=True)
class RecordedRequest:
    """A request as it reached the fake: ``form`` holds the pairs as sent, ``params`` them decoded."""

    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]
    params: dict[str, Any]
    replayed: bool


@dataclass(frozen=True)
class SignedWebhook:
    """A webhook as Stripe would POST it: the exact body and its ``Stripe-Signature`` header."""

    payload: bytes
    signature: str
    event: dict[str, Any]


class ApiError(Exception):
    """An error answer; ``saved`` is False for a request refused before Stripe would run it."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        saved: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.saved = saved
        self.body: dict[str, Any] = {"type": type, "message": message}
        if code:
            self.body["code"] = code
            self.body["doc_url"] = f"{DOCS}#{code.replace('_', '-')}"
        if param:
            self.body["param"] = param


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header for ``payload``, by Stripe's documented scheme.

    Test mode adds a ``v0`` signature under another secret; a verifier must use ``v1`` only.
    """
    signed = f"{timestamp}.".encode() + payload
    v1 = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    v0 = hmac.new(b"not-the-endpoint-secret", signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={v1},v0={v0}"


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``a[b][0][c]=1`` pairs into nested dicts, lists where every key is an index, as Stripe reads them."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = [key.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", key)]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ApiError(400, f"Invalid parameter structure: {key}", param=parts[0])
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        return [_listify(node[k]) for k in sorted(node, key=int)]
    return {k: _listify(v) for k, v in node.items()}


class FakeStripe:
    """The fake API on 127.0.0.1, on a free port, served by a thread; a context manager."""

    def __init__(
        self,
        secret_key: str = "sk_test_mendfake0SECRET0key0abcd",
        webhook_secret: str = "whsec_mendfake0endpoint0secret",
    ) -> None:
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.requests: list[RecordedRequest] = []
        self.sessions: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.events: list[SignedWebhook] = []
        self.api_version = "2025-01-27.acacia"
        self._saved: dict[str, tuple[str, dict[str, Any], int, bytes]] = {}
        self._drop_next = False
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        # A short poll so that stopping, which waits for the next poll, costs a test little.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-stripe", daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FakeStripe:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- For tests ------------------------------------------------------------------------------

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    def drop_next_response(self) -> None:
        """Run the next request, save its answer, then hang up without sending it (a lost response)."""
        self._drop_next = True

    def complete(self, session_id: str) -> SignedWebhook:
        """The client pays: a PaymentIntent and its Charge succeed, and checkout.session.completed goes out."""
        with self._lock:
            session = self.sessions[session_id]
            if session["status"] != "open":
                raise AssertionError(f"{session_id} is {session['status']}, not open")
            now = int(time.time())
            intent_id, charge_id = _id("pi_"), _id("ch_")
            self.charges[charge_id] = {
                "id": charge_id,
                "object": "charge",
                "amount": session["amount_total"],
                "amount_captured": session["amount_total"],
                "amount_refunded": 0,
                "captured": True,
                "created": now,
                "currency": session["currency"],
                "livemode": False,
                "metadata": {},
                "paid": True,
                "payment_intent": intent_id,
                "refunded": False,
                "status": "succeeded",
            }
            self.payment_intents[intent_id] = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": session["amount_total"],
                "amount_received": session["amount_total"],
                "created": now,
                "currency": session["currency"],
                "description": session["_payment_intent_data"].get("description"),
                "latest_charge": charge_id,
                "livemode": False,
                "metadata": dict(session["_payment_intent_data"].get("metadata", {})),
                "status": "succeeded",
            }
            session.update(status="complete", payment_status="paid", payment_intent=intent_id)
            return self._emit("checkout.session.completed", session)

    def expire(self, session_id: str) -> SignedWebhook:
        """The session's expires_at passes unpaid: checkout.session.expired goes out."""
        with self._lock:
            session = self.sessions[session_id]
            if session["status"] != "open":
                raise AssertionError(f"{session_id} is {session['status']}, not open")
            session.update(status="expired", url=None)
            return self._emit("checkout.session.expired", session)

    def webhook(self, event_type: str, obj: dict[str, Any], *, timestamp: int | None = None) -> SignedWebhook:
        """Any event, signed with the endpoint secret, as Stripe would send it (not kept in ``events``)."""
        return self._signed(self._event(event_type, obj), timestamp)

    def sign(self, payload: bytes, *, secret: str | None = None, timestamp: int | None = None) -> str:
        return sign(
            payload, self.webhook_secret if secret is None else secret, _now() if timestamp is None else timestamp
        )

    # --- The API ----------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes, dict[str, str]]:
        """One request to the API: (status, JSON body, extra headers)."""
        url = urlsplit(path)
        with self._lock:
            pairs = parse_qsl(body.decode() if method == "POST" else url.query, keep_blank_values=True)
            form = dict(pairs)
            key = headers.get("idempotency-key")
            replayed = False
            try:
                self._authenticate(headers.get("authorization", ""))
                params = decode_form(pairs)
                if method == "POST" and key:
                    saved = self._saved.get(key)
                    if saved is not None:
                        if saved[0] != f"{method} {url.path}" or saved[1] != params:
                            raise ApiError(
                                400,
                                "Keys for idempotent requests can only be used with the same parameters they were "
                                f"first used with. Try using a key other than '{key}' if you meant to execute a "
                                "different request.",
                                type="idempotency_error",
                            )
                        replayed = True
                        status, answer = saved[2], saved[3]
                if not replayed:
                    self.api_version = headers.get("stripe-version", self.api_version)
                    try:
                        status, answer = 200, json.dumps(self._route(method, url.path, params)).encode()
                    except ApiError as exc:
                        if not exc.saved:
                            raise
                        status, answer = exc.status, json.dumps({"error": exc.body}).encode()
                    if method == "POST" and key:
                        self._saved[key] = (f"{method} {url.path}", params, status, answer)
            except ApiError as exc:
                status, answer, params = exc.status, json.dumps({"error": exc.body}).encode(), {}
            self.requests.append(RecordedRequest(method, url.path, headers, form, params, replayed))
            extra = {"Request-Id": _id("req_"), "Stripe-Version": self.api_version}
            if key:
                extra["Idempotency-Key"] = key
            if replayed:
                extra["Idempotent-Replayed"] = "true"
            return status, answer, extra

    def take_drop(self) -> bool:
        with self._lock:
            drop, self._drop_next = self._drop_next, False
            return drop

    def _authenticate(self, authorization: str) -> None:
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() == "basic":
            credential = base64.b64decode(credential).decode().partition(":")[0]
        elif scheme.lower() != "bearer":
            credential = ""
        if not credential:
            raise ApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the Authorization header, "
                "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            )
        if not hmac.compare_digest(credential, self.secret_key):
            raise ApiError(401, f"Invalid API Key provided: {credential[:8]}{'*' * 8}{credential[-4:]}")

    def _route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        parts = path.strip("/").split("/")
        if method == "POST" and parts == ["v1", "checkout", "sessions"]:
            return self._create_session(params)
        if method == "GET" and parts[:3] == ["v1", "checkout", "sessions"] and len(parts) == 4:
            return self._public(self._session(parts[3]))
        if method == "POST" and parts[:3] == ["v1", "checkout", "sessions"] and parts[4:] == ["expire"]:
            return self._expire_session(parts[3])
        if method == "POST" and parts == ["v1", "refunds"]:
            return self._create_refund(params)
        raise ApiError(404, f"Unrecognized request URL ({method}: {path}).")

    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        _known(params, _SESSION_PARAMS, "")
        if params.get("mode") != "payment":
            raise ApiError(400, "This fake implements mode=payment only.", param="mode")
        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            raise ApiError(400, "You must provide at least one line item.", param="line_items")
        currencies, total = set(), 0
        for i, item in enumerate(items):
            _known(item, {"price_data", "quantity"}, f"line_items[{i}]")
            price = item.get("price_data")
            if not isinstance(price, dict):
                raise ApiError(400, "You must specify either `price` or `price_data`.", param=f"line_items[{i}]")
            _known(price, _PRICE_DATA_PARAMS, f"line_items[{i}][price_data]")
            currency = price.get("currency", "")
            if not re.fullmatch(r"[a-z]{3}", currency):
                raise ApiError(400, f"Invalid currency: {currency}.", param=f"line_items[{i}][price_data][currency]")
            name = (price.get("product_data") or {}).get("name")
            if not name:
                raise ApiError(
                    400, "Missing required param: name.", param=f"line_items[{i}][price_data][product_data][name]"
                )
            quantity = _integer(item.get("quantity"), f"line_items[{i}][quantity]", minimum=1)
            total += (
                _integer(price.get("unit_amount"), f"line_items[{i}][price_data][unit_amount]", minimum=0) * quantity
            )
            currencies.add(currency)
        if len(currencies) > 1:
            raise ApiError(400, "All line items must be in the same currency.", param="line_items")
        for url_param in ("success_url", "cancel_url"):
            url = params.get(url_param)
            if url is not None and not re.match(r"https?://[^/]", url):
                raise ApiError(400, "Not a valid URL", code="url_invalid", param=url_param)
        if params.get("success_url") is None:
            raise ApiError(400, "Missing required param: success_url.", code="parameter_missing", param="success_url")
        now = _now()
        expires_at = now + 24 * 3600
        if "expires_at" in params:
            expires_at = _integer(params["expires_at"], "expires_at", minimum=0)
            if expires_at < now + 30 * 60:
                raise ApiError(
                    400, "The `expires_at` timestamp must be at least 30 minutes from now.", param="expires_at"
                )
            if expires_at > now + 24 * 3600:
                raise ApiError(
                    400, "The `expires_at` timestamp must be less than 24 hours from now.", param="expires_at"
                )
        reference = params.get("client_reference_id")
        if reference is not None and not 0 < len(reference) <= 200:
            raise ApiError(400, "client_reference_id must be 1 to 200 characters.", param="client_reference_id")
        email = params.get("customer_email")
        if email is not None and "@" not in email:
            raise ApiError(400, "Invalid email address: " + email, code="email_invalid", param="customer_email")
        metadata = _metadata(params.get("metadata"), "metadata")
        intent_data = params.get("payment_intent_data") or {}
        _known(intent_data, _PAYMENT_INTENT_DATA_PARAMS, "payment_intent_data")
        intent_data = {
            **intent_data,
            "metadata": _metadata(intent_data.get("metadata"), "payment_intent_data[metadata]"),
        }

        session_id = _id("cs_test_", 58)
        self.sessions[session_id] = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": reference,
            "created": now,
            "currency": currencies.pop(),
            "customer": None,
            "customer_email": email,
            "expires_at": expires_at,
            "livemode": False,
            "metadata": metadata,
            "mode": "payment",
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params["success_url"],
            "url": f"{self.base_url}/c/pay/{session_id}",
            "_payment_intent_data": intent_data,
        }
        return self._public(self.sessions[session_id])

    def _expire_session(self, session_id: str) -> dict[str, Any]:
        session = self._session(session_id)
        if session["status"] != "open":
            raise ApiError(
                400,
                f'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a '
                f'status of "{session["status"]}".',
                saved=True,
            )
        self.expire(session_id)
        return self._public(session)

    def _create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        _known(params, _REFUND_PARAMS, "")
        intent_id = params.get("payment_intent")
        if not intent_id:
            raise ApiError(
                400, "One of the following params should be provided for this request: payment_intent or charge."
            )
        intent = self.payment_intents.get(intent_id)
        if intent is None:
            raise ApiError(
                404, f"No such payment_intent: '{intent_id}'", code="resource_missing", param="payment_intent"
            )
        charge = self.charges[intent["latest_charge"]]
        remaining = charge["amount"] - charge["amount_refunded"]
        amount = _integer(params["amount"], "amount", minimum=1) if "amount" in params else remaining
        if remaining == 0:
            raise ApiError(
                400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded", saved=True
            )
        if amount > remaining:
            raise ApiError(
                400,
                f"Refund amount ({amount} {charge['currency']}) is greater than unrefunded amount on charge "
                f"({remaining} {charge['currency']})",
                param="amount",
                saved=True,
            )
        refund_id = _id("re_")
        self.refunds[refund_id] = refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "created": _now(),
            "currency": charge["currency"],
            "metadata": _metadata(params.get("metadata"), "metadata"),
            "payment_intent": intent_id,
            "reason": params.get("reason"),
            "status": "succeeded",
        }
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self._emit("charge.refunded", charge, previous=previous)
        return dict(refund)

    def _session(self, session_id: str) -> dict[str, Any]:
        session = self.sessions.get(session_id)
        if session is None:
            raise ApiError(404, f"No such checkout.session: '{session_id}'", code="resource_missing", param="session")
        return session

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def _event(self, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"object": self._public(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        return {
            "id": _id("evt_"),
            "object": "event",
            "api_version": self.api_version,
            "created": _now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }

    def _emit(self, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> SignedWebhook:
        signed = self._signed(self._event(event_type, obj, previous), None)
        self.events.append(signed)
        return signed

    def _signed(self, event: dict[str, Any], timestamp: int | None) -> SignedWebhook:
        payload = json.dumps(event, indent=2).encode()
        return SignedWebhook(payload, self.sign(payload, timestamp=timestamp), event)


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def do_GET(self) -> None:
        if self.path.startswith("/c/pay/"):
            self._send(200, b"<!doctype html><title>Fake Stripe Checkout</title>", {}, "text/html")
        else:
            self._api("GET")

    def do_POST(self) -> None:
        self._api("POST")

    def do_DELETE(self) -> None:
        self._api("DELETE")

    def _api(self, method: str) -> None:
        fake: FakeStripe = self.server.fake  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        if (
            method == "POST"
            and body
            and not headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        ):
            raise AssertionError(f"Stripe's v1 API takes form-encoded bodies, not {headers.get('content-type')}")
        status, answer, extra = fake.handle(method, self.path, headers, body)
        if fake.take_drop():
            self.close_connection = True
            return
        self._send(status, answer, extra, "application/json")

    def _send(self, status: int, body: bytes, headers: dict[str, str], content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _known(params: object, allowed: set[str], prefix: str) -> None:
    if not isinstance(params, dict):
        raise ApiError(400, f"Invalid object: {prefix}", param=prefix or None)
    for name in params:
        if name not in allowed:
            full = f"{prefix}[{name}]" if prefix else name
            raise ApiError(400, f"Received unknown parameter: {full}", code="parameter_unknown", param=full)


def _integer(value: object, param: str, *, minimum: int) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise ApiError(400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=param)
    number = int(value)
    if number < minimum:
        raise ApiError(400, f"This value must be greater than or equal to {minimum}.", param=param)
    return number


def _metadata(value: object, param: str) -> dict[str, str]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise ApiError(400, f"Invalid hash: {param}", param=param)
    if len(value) > 50:
        raise ApiError(400, "Metadata can have up to 50 keys.", param=param)
    for key, item in value.items():
        if len(key) > 40 or not isinstance(item, str) or len(item) > 500:
            raise ApiError(400, f"Metadata key {key!r} or its value is too long.", param=f"{param}[{key}]")
    return dict(value)


def _id(prefix: str, length: int = 24) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def _now() -> int:
    return int(time.time())
