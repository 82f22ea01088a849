"""Demo and test-only Stripe helpers: save Stripe's test cards and make past test payments.

They refuse live keys. Only the demo seed and the tests use them; the app never does.
"""

from __future__ import annotations

import stripe

from mioapp.payments.gateway import (
    CardDetails,
    GatewayError,
    IntentSnapshot,
    StripeCredentials,
    build_client,
    card_details,
    intent_from_dict,
    translate_error,
)

# Test card numbers the emulator accepts as raw numbers; real Stripe test mode needs the
# matching test PaymentMethod tokens instead (raw numbers need special approval there).
TEST_CARD_TOKENS = {
    "4242424242424242": "pm_card_visa",
    "5555555555554444": "pm_card_mastercard",
    "378282246310005": "pm_card_amex",
    "4000002500003155": "pm_card_authenticationRequiredOnSetup",
    "4000000000000341": "pm_card_chargeCustomerFail",
}


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
        raise translate_error(exc) from exc
    return card_details(attached)


def list_customer_cards(
    credentials: StripeCredentials, stripe_customer_id: str
) -> list[CardDetails]:
    try:
        methods = build_client(credentials).v1.payment_methods.list(
            params={"customer": stripe_customer_id, "type": "card", "limit": 100}
        )
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc
    return [card_details(pm) for pm in methods.data]


def create_demo_payment(
    credentials: StripeCredentials,
    *,
    amount: int,
    currency: str,
    stripe_customer_id: str,
    idempotency_key: str,
    metadata: dict[str, str],
) -> IntentSnapshot:
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
                "expand": ["payment_method"],
            },
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc
    if intent.status != "succeeded":
        raise GatewayError(f"Demo payment ended as {intent.status}.", code=intent.status)
    return intent_from_dict(intent.to_dict())
