"""Refunds at Stripe: listing a PaymentIntent's refunds and creating one."""

from __future__ import annotations

import stripe

from mioapp.payments.gateway.client import StripeCredentials, _client, translate_error
from mioapp.payments.gateway.snapshots import RefundSnapshot, _refund_from


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
