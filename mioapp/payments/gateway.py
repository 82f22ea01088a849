"""The only module importing `stripe`: builds clients, turns Stripe's answers into small types."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import stripe

logger = logging.getLogger(__name__)

MAX_NETWORK_RETRIES = 2


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
    """A Stripe call failed; `message` is fit to show a merchant."""

    def __init__(self, message: str, *, code: str | None = None, transient: bool = False):
        super().__init__(message)
        self.message = message
        self.code = code
        self.transient = transient


def build_client(credentials: StripeCredentials) -> stripe.StripeClient:
    base = {"api": credentials.api_base.rstrip("/")} if credentials.api_base else None
    return stripe.StripeClient(
        credentials.secret_key, base_addresses=base, max_network_retries=MAX_NETWORK_RETRIES
    )


def translate_error(exc: stripe.StripeError) -> GatewayError:
    if isinstance(exc, stripe.AuthenticationError):
        return GatewayError("Stripe rejected the secret key.", code="invalid_api_key")
    if isinstance(exc, stripe.PermissionError):
        return GatewayError("This key lacks the permissions the app needs.", code="permission")
    if isinstance(exc, stripe.APIConnectionError):
        return GatewayError("Could not reach Stripe. Try again.", transient=True)
    if isinstance(exc, stripe.RateLimitError | stripe.APIError):
        return GatewayError("Stripe is not answering right now. Try again.", transient=True)
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


def verify_credentials(credentials: StripeCredentials) -> AccountInfo:
    """Prove the secret key works with a real API call and return the account it belongs to."""
    check_key_formats(credentials.secret_key, credentials.publishable_key)
    if credentials.webhook_secret and not credentials.webhook_secret.startswith("whsec_"):
        raise GatewayError("The webhook signing secret starts with whsec_.", code="format")
    try:
        account = build_client(credentials).v1.accounts.retrieve_current()
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc
    settings = getattr(account, "settings", None)
    dashboard = getattr(settings, "dashboard", None) if settings else None
    name = getattr(dashboard, "display_name", None) or getattr(account, "email", None) or ""
    return AccountInfo(account_id=account.id, display_name=name or "")


def create_customer(
    credentials: StripeCredentials, *, name: str, email: str, phone: str, local_id: int
) -> str:
    """Create the Stripe customer for a local one; the local id makes retries harmless."""
    try:
        customer = build_client(credentials).v1.customers.create(
            params={
                "name": name,
                "email": email,
                "phone": phone or None,
                "metadata": {"mio_customer_id": str(local_id)},
            },
            options={"idempotency_key": f"customer-{local_id}"},
        )
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc
    return customer.id


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


@dataclass(frozen=True)
class RefundSnapshot:
    id: str
    amount: int
    currency: str
    status: str
    reason: str


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


def _with_card(client: stripe.StripeClient, intent: IntentSnapshot) -> IntentSnapshot:
    """Fill in the card's brand and last4 when Stripe sent only the PaymentMethod id."""
    if intent.card is not None or not intent.payment_method_id:
        return intent
    method = client.v1.payment_methods.retrieve(intent.payment_method_id)
    return replace(intent, card=_card_from(method.to_dict()))


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


def charge_saved_card(
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
    client = build_client(credentials)
    try:
        intent = client.v1.payment_intents.create(
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
            },
            options={"idempotency_key": idempotency_key},
        )
        return _with_card(client, intent_from_dict(intent.to_dict()))
    except stripe.StripeError as exc:
        snapshot = _intent_from_error(exc)
        if snapshot is not None:
            return snapshot
        raise translate_error(exc) from exc


def create_card_intent(
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
        intent = build_client(credentials).v1.payment_intents.create(
            params=params, options={"idempotency_key": idempotency_key}
        )
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc
    return intent_from_dict(intent.to_dict()), intent.client_secret


def retrieve_intent(credentials: StripeCredentials, intent_id: str) -> IntentSnapshot:
    client = build_client(credentials)
    try:
        intent = client.v1.payment_intents.retrieve(intent_id)
        return _with_card(client, intent_from_dict(intent.to_dict()))
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc


def intent_client_secret(credentials: StripeCredentials, intent_id: str) -> str:
    try:
        return build_client(credentials).v1.payment_intents.retrieve(intent_id).client_secret
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc


def cancel_intent(credentials: StripeCredentials, intent_id: str) -> IntentSnapshot:
    try:
        intent = build_client(credentials).v1.payment_intents.cancel(intent_id)
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc
    return intent_from_dict(intent.to_dict())


def find_intent(
    credentials: StripeCredentials, *, stripe_customer_id: str, metadata_key: str, value: str
) -> IntentSnapshot | None:
    """The customer's intent whose metadata names a local payment: how a payment whose
    create call got no answer is found again."""
    client = build_client(credentials)
    try:
        intents = client.v1.payment_intents.list(
            params={"customer": stripe_customer_id, "limit": 100}
        )
        for intent in intents.data:
            data = intent.to_dict()
            if (data.get("metadata") or {}).get(metadata_key) == value:
                return _with_card(client, intent_from_dict(data))
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc
    return None


def list_refunds(credentials: StripeCredentials, payment_intent_id: str) -> list[RefundSnapshot]:
    try:
        refunds = build_client(credentials).v1.refunds.list(
            params={"payment_intent": payment_intent_id, "limit": 100}
        )
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc
    return [
        RefundSnapshot(
            id=r.id, amount=r.amount, currency=r.currency, status=r.status, reason=r.reason or ""
        )
        for r in refunds.data
    ]
