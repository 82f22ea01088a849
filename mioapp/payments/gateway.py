"""The only module importing `stripe`: builds clients, turns Stripe's answers into small types."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import stripe

logger = logging.getLogger(__name__)

MAX_NETWORK_RETRIES = 2

# Test card numbers the emulator accepts as raw numbers; real Stripe test mode needs the
# matching test PaymentMethod tokens instead (raw numbers need special approval there).
TEST_CARD_TOKENS = {
    "4242424242424242": "pm_card_visa",
    "5555555555554444": "pm_card_mastercard",
    "378282246310005": "pm_card_amex",
    "4000002500003155": "pm_card_authenticationRequiredOnSetup",
    "4000000000000341": "pm_card_chargeCustomerFail",
}


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


def _translate(exc: stripe.StripeError) -> GatewayError:
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
        raise _translate(exc) from exc
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
        raise _translate(exc) from exc
    return customer.id


def _card_details(payment_method: stripe.PaymentMethod) -> CardDetails:
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


def _test_payment_method_id(
    client: stripe.StripeClient,
    credentials: StripeCredentials,
    *,
    number: str,
    exp_month: int,
    exp_year: int,
    idempotency_key: str | None = None,
) -> str:
    """A PaymentMethod for a Stripe test card. Only the emulator takes raw numbers; Stripe's
    test mode takes its test PaymentMethod ids (each use makes a fresh copy)."""
    if credentials.mode != "emulator":
        return TEST_CARD_TOKENS[number]
    card = {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": "123"}
    return client.v1.payment_methods.create(
        params={"type": "card", "card": card},
        options={"idempotency_key": idempotency_key} if idempotency_key else None,
    ).id


def attach_test_card(
    credentials: StripeCredentials,
    *,
    stripe_customer_id: str,
    number: str,
    exp_month: int,
    exp_year: int,
) -> CardDetails:
    """Save a Stripe test card on a customer (demo data only; refuses live keys)."""
    if credentials.mode == "live":
        raise GatewayError("Test cards cannot be saved with live keys.", code="live_mode")
    client = build_client(credentials)
    try:
        pm_id = _test_payment_method_id(
            client, credentials, number=number, exp_month=exp_month, exp_year=exp_year
        )
        attached = client.v1.payment_methods.attach(pm_id, params={"customer": stripe_customer_id})
    except stripe.StripeError as exc:
        raise _translate(exc) from exc
    return _card_details(attached)


def list_customer_cards(
    credentials: StripeCredentials, stripe_customer_id: str
) -> list[CardDetails]:
    try:
        methods = build_client(credentials).v1.payment_methods.list(
            params={"customer": stripe_customer_id, "type": "card", "limit": 100}
        )
    except stripe.StripeError as exc:
        raise _translate(exc) from exc
    return [_card_details(pm) for pm in methods.data]


@dataclass(frozen=True)
class DemoPayment:
    payment_intent_id: str
    card_brand: str
    card_last4: str


def create_demo_payment(
    credentials: StripeCredentials,
    *,
    amount: int,
    currency: str,
    stripe_customer_id: str,
    idempotency_key: str,
    metadata: dict[str, str],
) -> DemoPayment:
    """A succeeded test-card PaymentIntent for the demo's payment history (refuses live keys)."""
    if credentials.mode == "live":
        raise GatewayError("Demo payments cannot be made with live keys.", code="live_mode")
    client = build_client(credentials)
    try:
        # Keyed too, so a retried seed reuses the card and the intent's key still matches.
        pm_id = _test_payment_method_id(
            client,
            credentials,
            number="4242424242424242",
            exp_month=12,
            exp_year=2030,
            idempotency_key=f"{idempotency_key}-card",
        )
        intent = client.v1.payment_intents.create(
            params={
                "amount": amount,
                "currency": currency,
                "customer": stripe_customer_id,
                "payment_method": pm_id,
                "payment_method_types": ["card"],
                "confirm": True,
                "metadata": metadata,
            },
            options={"idempotency_key": idempotency_key},
        )
        card = client.v1.payment_methods.retrieve(intent.payment_method).card
    except stripe.StripeError as exc:
        raise _translate(exc) from exc
    if intent.status != "succeeded":
        raise GatewayError(f"Demo payment ended as {intent.status}.", code=intent.status)
    return DemoPayment(payment_intent_id=intent.id, card_brand=card.brand, card_last4=card.last4)
