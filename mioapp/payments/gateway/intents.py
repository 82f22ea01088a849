"""PaymentIntents: charging a saved card, card intents for Stripe.js, retrieve, cancel, find."""

from __future__ import annotations

import stripe

from mioapp.payments.gateway.client import StripeCredentials, _client, translate_error
from mioapp.payments.gateway.snapshots import IntentSnapshot, _intent_from_error, intent_from_dict

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
