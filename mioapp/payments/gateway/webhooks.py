"""Webhook events: checking a payload's signature and reading the parts the app acts on."""

from __future__ import annotations

import json
from dataclasses import dataclass

import stripe


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
