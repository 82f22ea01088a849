"""The statuses the dashboard shows, one enum per domain, and how a record maps to one."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from mioapp.billing.balances import is_abandoned
from mioapp.business import BusinessProfile
from mioapp.formatting import card_label, day
from mioapp.models import Payment, PaymentStatus, SavedCard


class PaymentDisplayStatus(StrEnum):
    """A payment as listed: its ledger status, with refunds and abandonment shown over it."""

    SUCCEEDED = "succeeded"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    PENDING = "created"
    ABANDONED = "abandoned"
    PROCESSING = "processing"
    REQUIRES_ACTION = "requires_action"
    UNKNOWN = "unknown"
    FAILED = "failed"
    CANCELED = "canceled"


class EmailDelivery(StrEnum):
    """Whether an email went out, as the customer page shows it next to a link."""

    NONE = ""
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"


class CustomerBalance(StrEnum):
    """A customer in the customers list: nothing owed, a balance due, or one overdue (a
    booking whose activity date has passed still owes money)."""

    PAID_UP = "paid_up"
    DUE = "due"
    OVERDUE = "overdue"


def customer_balance(*, owes: bool, overdue: bool) -> CustomerBalance:
    if overdue:
        return CustomerBalance.OVERDUE
    return CustomerBalance.DUE if owes else CustomerBalance.PAID_UP


def payment_display_status(
    payment: Payment, refunded: int, now: datetime | None = None
) -> PaymentDisplayStatus:
    if payment.status == PaymentStatus.SUCCEEDED and refunded:
        if refunded >= payment.amount:
            return PaymentDisplayStatus.REFUNDED
        return PaymentDisplayStatus.PARTIALLY_REFUNDED
    if is_abandoned(payment, now):
        return PaymentDisplayStatus.ABANDONED
    return PaymentDisplayStatus(payment.status.value)


def payment_method_label(payment: Payment) -> str:
    """`Visa •••• 4242` when the card is known, else the way it was taken."""
    if payment.card_last4:
        return card_label(payment.card_brand, payment.card_last4)
    return payment.method_kind.label


# Why a payment failed, in words for the merchant (the pay page speaks to the customer).
_GENERIC_DECLINES = frozenset({None, "", "card_declined", "generic_decline", "do_not_honor"})
_MERCHANT_REASONS = {
    "expired_card": "The customer's card has expired.",
    "incorrect_cvc": "The card's security code was wrong.",
    "incorrect_number": "The card number is wrong.",
    "processing_error": "The card could not be processed; trying again may work.",
    "lost_card": "The customer's bank declined the card: it was reported lost.",
    "stolen_card": "The customer's bank declined the card: it was reported stolen.",
    "pickup_card": "The customer's bank declined the card and asks that it not be used again.",
    "payment_intent_authentication_failure": (
        "The customer did not pass 3D Secure authentication, so nothing was charged."
    ),
}
DECLINED_NEXT_STEP = "Try another card, or send the customer a payment link."


def merchant_reason(payment: Payment) -> str:
    """A failed payment's reason as the merchant reads it, e.g. "The customer's bank declined
    the card (insufficient funds).". Other statuses keep their recorded words."""
    if payment.status != PaymentStatus.FAILED:
        return payment.failure_message or ""
    code = payment.failure_code
    if code in _MERCHANT_REASONS:
        return _MERCHANT_REASONS[code]
    if code in _GENERIC_DECLINES:
        return "The customer's bank declined the card."
    return f"The customer's bank declined the card ({code.replace('_', ' ')})."


_DEAD_CARD_WORDS = {
    "expired_card": "declined as expired",
    "lost_card": "declined: reported lost",
    "stolen_card": "declined: reported stolen",
    "pickup_card": "declined: the bank asks not to use it",
}


def card_decline_words(card: SavedCard, profile: BusinessProfile) -> str:
    """ "Declined: reported lost on Jun 14, 2026" for a card a charge found dead, else ""."""
    if not card.declined_code or card.declined_at is None:
        return ""
    words = _DEAD_CARD_WORDS.get(card.declined_code, "declined")
    return f"{words.capitalize()} on {day(card.declined_at, profile)}"
