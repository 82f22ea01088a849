"""What the Charge Customer modal says about a charge's outcome: the payments code decides,
this module only puts it into words (unit-tested without a browser)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mioapp.billing.money import format_money
from mioapp.formatting import when
from mioapp.models import Payment, PaymentStatus
from mioapp.ui.status import DECLINED_NEXT_STEP, merchant_reason


class Outcome(StrEnum):
    """What the modal shows after a submit."""

    NONE = ""
    CHARGED = "charged"  # the modal closes with a success toast
    REQUIRES_ACTION = "requires_action"  # the customer must approve: offer a payment link
    PENDING = "pending"  # Stripe has not settled it: the modal closes, the list updates
    DECLINED = "declined"  # an error next to the card; the merchant may try again


@dataclass(frozen=True)
class ChargeResult:
    outcome: Outcome
    toast: str = ""
    error: str = ""


def charge_result(payment: Payment, customer_name: str, *, card_saved: bool) -> ChargeResult:
    """The words for a submitted charge, from the payment as the ledger recorded it."""
    shown = format_money(payment.amount, payment.currency)
    if payment.status == PaymentStatus.SUCCEEDED:
        saved = " The card is saved." if card_saved else ""
        return ChargeResult(Outcome.CHARGED, toast=f"Charged {customer_name} {shown}.{saved}")
    if payment.status == PaymentStatus.REQUIRES_ACTION:
        return ChargeResult(Outcome.REQUIRES_ACTION)
    if payment.status in (PaymentStatus.UNKNOWN, PaymentStatus.PROCESSING, PaymentStatus.CREATED):
        if payment.failure_code and payment.failure_code.startswith("idempotency"):
            return ChargeResult(
                Outcome.PENDING,
                toast="Something went wrong on our side, not with the card: the payment request "
                "clashed with an earlier one. It is marked for checking; do not charge again "
                "until it is settled.",
            )
        return ChargeResult(
            Outcome.PENDING,
            toast="Stripe hasn't confirmed this payment yet. It is listed under Transactions "
            "and will update by itself.",
        )
    reason = merchant_reason(payment) or "The payment failed."
    return ChargeResult(Outcome.DECLINED, error=f"{reason} {DECLINED_NEXT_STEP}")


def duplicate_question(customer_name: str, amount: int, currency: str, at: datetime) -> str:
    shown = format_money(amount, currency)
    return f"{customer_name} was charged {shown} at {when(at)}. Charge the same amount again?"


def summary(customer_name: str, amount: int, currency: str, booking_count: int) -> str:
    noun = "booking" if booking_count == 1 else "bookings"
    shown = format_money(amount, currency)
    return f"You are charging {customer_name} {shown} for {booking_count} {noun}"
