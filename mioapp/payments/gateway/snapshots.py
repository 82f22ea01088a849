"""Small typed answers (intents, refunds, cards) and reading them from what Stripe sends."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import stripe

from mioapp.payments.gateway.client import GatewayError


@dataclass(frozen=True)
class CardDetails:
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


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
