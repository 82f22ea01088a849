"""The only package importing `stripe`: clients, webhook signatures, small typed answers.

Every call the app makes is `async` (stripe-python's HTTPX client and `*_async` methods),
so waiting on Stripe never holds up Reflex's event loop. One client per key and event loop
keeps connections open between calls. `build_client` (synchronous) is for dev tools only.

Modules by concern: `client` (credentials, errors, the client cache), `accounts`, `snapshots`,
`intents`, `refunds`, `webhooks`. Callers use the names re-exported here, as
`gateway.charge_saved_card(...)`, so patching `gateway.<name>` reaches them.
"""

from __future__ import annotations

from mioapp.payments.gateway.accounts import (
    AccountInfo,
    check_key_formats,
    create_customer,
    verify_credentials,
)
from mioapp.payments.gateway.client import (
    GatewayError,
    StripeCredentials,
    build_client,
    close_clients,
    translate_error,
)
from mioapp.payments.gateway.intents import (
    cancel_intent,
    charge_saved_card,
    create_card_intent,
    find_intent,
    intent_client_secret,
    retrieve_intent,
)
from mioapp.payments.gateway.refunds import create_refund, list_refunds
from mioapp.payments.gateway.snapshots import (
    CardDetails,
    IntentSnapshot,
    RefundSnapshot,
    card_details,
    intent_from_dict,
)
from mioapp.payments.gateway.webhooks import WebhookEvent, verified_event

__all__ = [
    "AccountInfo",
    "CardDetails",
    "GatewayError",
    "IntentSnapshot",
    "RefundSnapshot",
    "StripeCredentials",
    "WebhookEvent",
    "build_client",
    "cancel_intent",
    "card_details",
    "charge_saved_card",
    "check_key_formats",
    "close_clients",
    "create_card_intent",
    "create_customer",
    "create_refund",
    "find_intent",
    "intent_client_secret",
    "intent_from_dict",
    "list_refunds",
    "retrieve_intent",
    "translate_error",
    "verified_event",
    "verify_credentials",
]
