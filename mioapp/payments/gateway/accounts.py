"""The merchant's account and customers: key checks, verifying credentials, creating customers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import stripe

from mioapp.payments.gateway.client import GatewayError, StripeCredentials, _client, translate_error


@dataclass(frozen=True)
class AccountInfo:
    account_id: str
    display_name: str


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
