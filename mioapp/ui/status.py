"""The statuses the dashboard shows, one enum per domain, and how a record maps to one."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from mioapp.billing.balances import is_abandoned
from mioapp.formatting import card_label
from mioapp.models import Payment, PaymentStatus


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
