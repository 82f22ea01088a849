"""The only module importing `stripe`: clients, webhook signatures, small typed answers.

Every call the app makes is `async` (stripe-python's HTTPX client and `*_async` methods),
so waiting on Stripe never holds up Reflex's event loop. One client per key and event loop
keeps connections open between calls. `build_client` (synchronous) is for dev tools only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import weakref
from dataclasses import dataclass, field, replace

import httpx
import stripe

from mioapp.settings import get_settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StripeCredentials:
    secret_key: str
    publishable_key: str
    webhook_secret: str | None = None
    api_base: str | None = None  # None = api.stripe.com

    @property
    def mode(self) -> str:
        if self.api_base:
            return "emulator"
        return "live" if self.secret_key.startswith(("sk_live_", "rk_live_")) else "test"


@dataclass(frozen=True)
class AccountInfo:
    account_id: str
    display_name: str


@dataclass(frozen=True)
class CardDetails:
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class GatewayError(Exception):
    """A Stripe call failed; `message` is fit to show a merchant.

    `transient`: Stripe could not be reached or did not answer in time, so the outcome of
    a charge is unknown. `internal`: our request was wrong (e.g. an idempotency key reused
    with other parameters): a fault on our side, never the customer's card.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        transient: bool = False,
        internal: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.transient = transient
        self.internal = internal


def _base(credentials: StripeCredentials) -> dict[str, str] | None:
    return {"api": credentials.api_base.rstrip("/")} if credentials.api_base else None


def build_client(credentials: StripeCredentials) -> stripe.StripeClient:
    """A synchronous client, for scripts and tests; the app itself uses `_client`."""
    settings = get_settings()
    return stripe.StripeClient(
        credentials.secret_key,
        base_addresses=_base(credentials),
        max_network_retries=settings.stripe_max_network_retries,
    )


# A client's HTTPX connection pool belongs to the event loop that opened it (the web
# server's loop, or a job's own), so clients are kept per loop and per key.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict] = weakref.WeakKeyDictionary()


def _client(credentials: StripeCredentials) -> stripe.StripeClient:
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    key = (credentials.secret_key, credentials.api_base)
    if key not in per_loop:
        settings = get_settings()
        timeout = httpx.Timeout(
            settings.stripe_read_timeout, connect=settings.stripe_connect_timeout
        )
        http = stripe.HTTPXClient(timeout=timeout)
        client = stripe.StripeClient(
            credentials.secret_key,
            base_addresses=_base(credentials),
            http_client=http,
            # Retries reuse the request's idempotency key, so a retried charge is one charge.
            max_network_retries=settings.stripe_max_network_retries,
        )
        per_loop[key] = (client, http)
    return per_loop[key][0]


async def close_clients() -> None:
    """Close this event loop's connections: a job's loop ends after its task, the web
    server's never does."""
    for _, http in _clients.pop(asyncio.get_running_loop(), {}).values():
        await http.close_async()


def translate_error(exc: stripe.StripeError) -> GatewayError:
    if isinstance(exc, stripe.AuthenticationError):
        return GatewayError("Stripe rejected the secret key.", code="invalid_api_key")
    if isinstance(exc, stripe.PermissionError):
        return GatewayError("This key lacks the permissions the app needs.", code="permission")
    if isinstance(exc, stripe.APIConnectionError):
        return GatewayError("Could not reach Stripe. Try again.", transient=True)
    if isinstance(exc, stripe.RateLimitError | stripe.APIError):
        return GatewayError("Stripe is not answering right now. Try again.", transient=True)
    if isinstance(exc, stripe.IdempotencyError):
        return GatewayError(
            "Stripe refused the request: its idempotency key was already used for another request.",
            code=exc.code or "idempotency_error",
            internal=True,
        )
    return GatewayError(exc.user_message or str(exc.error or exc), code=exc.code)


def check_key_formats(secret_key: str, publishable_key: str) -> None:
    """Raise GatewayError unless the keys look like a matching Stripe secret/publishable pair."""
    if not secret_key.startswith(("sk_test_", "sk_live_", "rk_test_", "rk_live_")):
        raise GatewayError("The secret key starts with sk_test_ or sk_live_.", code="format")
    if not publishable_key.startswith(("pk_test_", "pk_live_")):
        raise GatewayError("The publishable key starts with pk_test_ or pk_live_.", code="format")
    if ("_live_" in secret_key) != ("_live_" in publishable_key):
        raise GatewayError(
            "The secret and publishable keys are from different modes (test and live).",
            code="mode_mismatch",
        )


async def verify_credentials(credentials: StripeCredentials) -> AccountInfo:
    """Prove the secret key works with a real API call and return the account it belongs to."""
    check_key_formats(credentials.secret_key, credentials.publishable_key)
    if credentials.webhook_secret and not credentials.webhook_secret.startswith("whsec_"):
        raise GatewayError("The webhook signing secret starts with whsec_.", code="format")
    try:
        account = await _client(credentials).v1.accounts.retrieve_current_async()
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc
    settings = getattr(account, "settings", None)
    dashboard = getattr(settings, "dashboard", None) if settings else None
    name = getattr(dashboard, "display_name", None) or getattr(account, "email", None) or ""
    return AccountInfo(account_id=account.id, display_name=name or "")


async def create_customer(
    credentials: StripeCredentials, *, name: str, email: str, phone: str, local_id: int
) -> str:
    """Create the Stripe customer for a local one; the local id makes retries harmless."""
    try:
        customer = await _client(credentials).v1.customers.create_async(
            params={
                "name": name,
                "email": email,
                "phone": phone or None,
                "metadata": {"mio_customer_id": str(local_id)},
            },
            options={"idempotency_key": f"customer-{local_id}-{_digest(email)}"},
        )
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc
    return customer.id


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def card_details(payment_method: stripe.PaymentMethod) -> CardDetails:
    card = payment_method.card
    if card is None:
        raise GatewayError("That payment method is not a card.", code="not_a_card")
    return CardDetails(
        payment_method_id=payment_method.id,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
    )


@dataclass(frozen=True)
class IntentSnapshot:
    """What the ledger needs to know about a PaymentIntent, whatever call produced it."""

    id: str
    status: str
    amount: int
    currency: str
    customer: str | None = None
    payment_method_id: str | None = None
    card: CardDetails | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    setup_future_usage: str | None = None
    error_code: str | None = None
    decline_code: str | None = None
    error_message: str | None = None
    livemode: bool = False

    @property
    def unpaid(self) -> bool:
        """Stripe holds no money for it yet and would still take a card or a confirmation."""
        return self.status in (
            "requires_payment_method",
            "requires_confirmation",
            "requires_action",
        )


@dataclass(frozen=True)
class RefundSnapshot:
    id: str
    amount: int
    currency: str
    status: str
    reason: str
    metadata: dict[str, str] = field(default_factory=dict)
    failure_reason: str | None = None


def _card_from(data: dict) -> CardDetails | None:
    card = data.get("card") or {}
    if not card.get("last4"):
        return None
    return CardDetails(
        payment_method_id=data.get("id", ""),
        brand=card.get("brand") or "card",
        last4=card["last4"],
        exp_month=int(card.get("exp_month") or 0),
        exp_year=int(card.get("exp_year") or 0),
    )


def intent_from_dict(data: dict) -> IntentSnapshot:
    """Read a PaymentIntent as Stripe serialises it (API answer, error body or webhook)."""
    method = data.get("payment_method")
    method_id = method.get("id") if isinstance(method, dict) else method
    card = _card_from(method) if isinstance(method, dict) else None
    error = data.get("last_payment_error") or {}
    customer = data.get("customer")
    return IntentSnapshot(
        id=data["id"],
        status=data["status"],
        amount=int(data["amount"]),
        currency=data["currency"],
        customer=customer.get("id") if isinstance(customer, dict) else customer,
        payment_method_id=method_id,
        card=card,
        metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
        setup_future_usage=data.get("setup_future_usage"),
        error_code=error.get("code"),
        decline_code=error.get("decline_code"),
        error_message=error.get("message"),
        livemode=bool(data.get("livemode")),
    )


def _refund_from(refund: stripe.Refund) -> RefundSnapshot:
    data = refund.to_dict()
    return RefundSnapshot(
        id=data["id"],
        amount=int(data["amount"]),
        currency=data["currency"],
        status=data.get("status") or "",
        reason=data.get("reason") or "",
        metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
        failure_reason=data.get("failure_reason"),
    )


def _intent_from_error(exc: stripe.StripeError) -> IntentSnapshot | None:
    """A card error (402) carries the intent it happened on; the ledger records it as such."""
    error = exc.error.to_dict() if exc.error is not None else {}
    intent = error.get("payment_intent")
    if not isinstance(intent, dict) or "id" not in intent:
        return None
    snapshot = intent_from_dict(intent)
    return replace(
        snapshot,
        error_code=snapshot.error_code or error.get("code"),
        decline_code=snapshot.decline_code or error.get("decline_code"),
        error_message=snapshot.error_message or error.get("message"),
    )


# The card's brand and last four digits come with the intent in the same call.
_EXPAND_CARD = ["payment_method"]


async def charge_saved_card(
    credentials: StripeCredentials,
    *,
    amount: int,
    currency: str,
    stripe_customer_id: str,
    payment_method_id: str,
    description: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> IntentSnapshot:
    """Charge a saved card with the customer absent. A decline or an authentication demand
    comes back as the intent it left behind; only Stripe being unreachable raises."""
    try:
        intent = await _client(credentials).v1.payment_intents.create_async(
            params={
                "amount": amount,
                "currency": currency,
                "customer": stripe_customer_id,
                "payment_method": payment_method_id,
                "payment_method_types": ["card"],
                "off_session": True,
                "confirm": True,
                "description": description or None,
                "metadata": metadata,
                # No `expand`: the saved card's brand and last four are on the payment row
                # already, and an off-session charge saves no card.
            },
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as exc:
        snapshot = _intent_from_error(exc)
        if snapshot is not None:
            return snapshot
        raise translate_error(exc) from exc
    return intent_from_dict(intent.to_dict())


async def create_card_intent(
    credentials: StripeCredentials,
    *,
    amount: int,
    currency: str,
    stripe_customer_id: str,
    save_card: bool,
    description: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> tuple[IntentSnapshot, str]:
    """An unconfirmed PaymentIntent for a card typed into Stripe.js; returns its client
    secret, which only the browser confirming it may see."""
    params = {
        "amount": amount,
        "currency": currency,
        "customer": stripe_customer_id,
        "payment_method_types": ["card"],
        "description": description or None,
        "metadata": metadata,
    }
    if save_card:
        params["setup_future_usage"] = "off_session"
    try:
        intent = await _client(credentials).v1.payment_intents.create_async(
            params=params, options={"idempotency_key": idempotency_key}
        )
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc
    return intent_from_dict(intent.to_dict()), intent.client_secret


async def retrieve_intent(credentials: StripeCredentials, intent_id: str) -> IntentSnapshot:
    try:
        intent = await _client(credentials).v1.payment_intents.retrieve_async(
            intent_id, params={"expand": _EXPAND_CARD}
        )
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc
    return intent_from_dict(intent.to_dict())


async def intent_client_secret(credentials: StripeCredentials, intent_id: str) -> str:
    try:
        intent = await _client(credentials).v1.payment_intents.retrieve_async(intent_id)
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc
    return intent.client_secret


async def cancel_intent(credentials: StripeCredentials, intent_id: str) -> IntentSnapshot:
    """Cancel an intent that took no money; one that succeeded meanwhile comes back as is."""
    client = _client(credentials)
    try:
        intent = await client.v1.payment_intents.cancel_async(
            intent_id, params={"expand": _EXPAND_CARD}
        )
    except stripe.InvalidRequestError as exc:
        # "You cannot cancel this PaymentIntent because it has a status of succeeded": the
        # customer finished just now, so report the intent as it really is.
        if exc.code == "payment_intent_unexpected_state":
            return await retrieve_intent(credentials, intent_id)
        raise translate_error(exc) from exc
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc
    return intent_from_dict(intent.to_dict())


async def find_intent(
    credentials: StripeCredentials, *, stripe_customer_id: str, metadata: dict[str, str]
) -> IntentSnapshot | None:
    """The customer's intent whose metadata includes all of `metadata`: how a payment whose
    create call got no answer is found again. Pages through every intent of the customer."""
    client = _client(credentials)
    try:
        listing = await client.v1.payment_intents.list_async(
            params={"customer": stripe_customer_id, "limit": 100}
        )
        async for intent in listing.auto_paging_iter():
            data = intent.to_dict()
            found = data.get("metadata") or {}
            if all(found.get(key) == value for key, value in metadata.items()):
                return await retrieve_intent(credentials, data["id"])
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc
    return None


async def list_refunds(
    credentials: StripeCredentials, payment_intent_id: str
) -> list[RefundSnapshot]:
    client = _client(credentials)
    try:
        listing = await client.v1.refunds.list_async(
            params={"payment_intent": payment_intent_id, "limit": 100}
        )
        return [_refund_from(refund) async for refund in listing.auto_paging_iter()]
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc


async def create_refund(
    credentials: StripeCredentials,
    *,
    payment_intent_id: str,
    amount: int,
    metadata: dict[str, str],
    idempotency_key: str,
) -> RefundSnapshot:
    try:
        refund = await _client(credentials).v1.refunds.create_async(
            params={"payment_intent": payment_intent_id, "amount": amount, "metadata": metadata},
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc
    return _refund_from(refund)


@dataclass(frozen=True)
class WebhookEvent:
    """The parts of a verified event the app acts on; the object itself is re-fetched."""

    id: str
    type: str
    livemode: bool
    object_id: str | None
    payment_intent_id: str | None  # charge and refund events name the intent they belong to


def _short_str(value: object, limit: int) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def verified_event(
    payload: bytes, signature: str | None, secret: str, tolerance: int
) -> WebhookEvent | None:
    """The event if `signature` signs exactly these bytes within `tolerance` seconds."""
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance)
        data = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    event_id, event_type = _short_str(data.get("id"), 255), _short_str(data.get("type"), 100)
    if event_id is None or event_type is None:
        return None
    obj = (data.get("data") or {}).get("object") or {}
    if not isinstance(obj, dict):
        obj = {}
    return WebhookEvent(
        id=event_id,
        type=event_type,
        livemode=bool(data.get("livemode")),
        object_id=_short_str(obj.get("id"), 255),
        payment_intent_id=_short_str(obj.get("payment_intent"), 255),
    )
