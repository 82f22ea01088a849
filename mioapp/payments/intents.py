"""A payment's state machine: the one writer of `Payment.status`, and the one function that
applies a Stripe PaymentIntent to the ledger.

The synchronous answer of a charge, the browser's card confirmation (re-fetched on the
server), the webhook, the sweep and the demo seed all end here. Applying the same intent
twice changes nothing; a payment that took money never goes back. Functions here flush and
never commit: the caller owns the transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session, select

from mioapp.db import lock_and_get, lock_row
from mioapp.models import (
    AuditEntry,
    Payment,
    PaymentLink,
    PaymentLinkStatus,
    PaymentStatus,
    add_audit,
    status_writer,
    utcnow,
)
from mioapp.notifications.receipts import queue_payment_emails
from mioapp.payments.cards import save_card
from mioapp.payments.gateway import GatewayError, IntentSnapshot

logger = logging.getLogger(__name__)

# Metadata on every PaymentIntent: the local payment and its attempt key, so an intent whose
# create call got no answer is found again, and never mistaken for another database's.
PAYMENT_ID_KEY = "mio_payment_id"
ATTEMPT_KEY = "mio_attempt"
CUSTOMER_ID_KEY = "mio_customer_id"

# Statuses a payment may move to from each status. Money taken is never lost: a canceled or
# failed attempt whose intent succeeds after all (a late confirmation) becomes succeeded.
_ALLOWED: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.CREATED: frozenset(PaymentStatus) - {PaymentStatus.CREATED},
    PaymentStatus.UNKNOWN: frozenset(PaymentStatus)
    - {PaymentStatus.UNKNOWN, PaymentStatus.CREATED},
    PaymentStatus.PROCESSING: frozenset(
        {
            PaymentStatus.SUCCEEDED,
            PaymentStatus.FAILED,
            PaymentStatus.CANCELED,
            PaymentStatus.REQUIRES_ACTION,
        }
    ),
    PaymentStatus.REQUIRES_ACTION: frozenset(
        {
            PaymentStatus.SUCCEEDED,
            PaymentStatus.PROCESSING,
            PaymentStatus.FAILED,
            PaymentStatus.CANCELED,
        }
    ),
    PaymentStatus.FAILED: frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.PROCESSING}),
    PaymentStatus.CANCELED: frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.PROCESSING}),
    PaymentStatus.SUCCEEDED: frozenset(),
}
# A reason given by the step before is kept when one of these follows it: a decline, then
# the cancellation that closes the intent, still reads as the decline.
_KEEPS_REASON = frozenset({PaymentStatus.CANCELED})


def metadata(payment: Payment) -> dict[str, str]:
    return {
        PAYMENT_ID_KEY: str(payment.id),
        ATTEMPT_KEY: payment.idempotency_key,
        CUSTOMER_ID_KEY: str(payment.customer_id),
    }


def set_status(
    session: Session,
    payment: Payment,
    status: PaymentStatus,
    *,
    code: str | None = None,
    message: str | None = None,
    at: datetime | None = None,
    card_saved_on_success: bool = False,
    intent: IntentSnapshot | None = None,
    announce: bool = True,
) -> bool:
    """Move `payment` to `status` if the state machine allows it; the only writer of
    `Payment.status`. Call it under the payment's row lock. Returns whether it changed.

    On success it also marks the payment link paid, saves the card the customer agreed to
    keep, and queues the receipt and the merchant notice, all in the caller's transaction:
    announced exactly when recorded. `announce=False` records history (the demo seed's
    past payments) without emails.
    """
    if status == payment.status or status not in _ALLOWED[payment.status]:
        return False
    keep_reason = status in _KEEPS_REASON and payment.failure_message
    now = at or utcnow()
    with status_writer():
        payment.status = status
    if not keep_reason:
        payment.failure_code, payment.failure_message = code, message
    payment.updated_at = now
    if status == PaymentStatus.SUCCEEDED:
        payment.succeeded_at = now
        payment.failure_code = payment.failure_message = None
        if card_saved_on_success and intent is not None and intent.card is not None:
            save_card(session, customer_id=payment.customer_id, card=intent.card)
        if payment.payment_link_id is not None:
            link = session.get(PaymentLink, payment.payment_link_id)
            link.status, link.paid_at = PaymentLinkStatus.PAID, now
        session.flush()
        if announce:
            queue_payment_emails(session, payment)
    session.flush()
    parts = (payment.stripe_payment_intent_id, code, message)
    add_audit(
        session,
        action=f"payment.{status.value}",
        subject=f"payment {payment.id}",
        detail=" ".join(part for part in parts if part)[:2000],
    )
    return True


def outcome(intent: IntentSnapshot) -> tuple[PaymentStatus | None, str | None, str | None]:
    """Ledger status, failure code and Stripe's message for an intent; None for the status
    means "nothing has happened yet" (waiting for a card or a confirmation)."""
    if intent.status == "succeeded":
        return PaymentStatus.SUCCEEDED, None, None
    if intent.status in ("processing", "requires_capture"):
        return PaymentStatus.PROCESSING, None, None
    if intent.status == "canceled":
        return PaymentStatus.CANCELED, "canceled", "Canceled before any money moved."
    if intent.status == "requires_action" or intent.error_code == "authentication_required":
        return (
            PaymentStatus.REQUIRES_ACTION,
            "authentication_required",
            "The bank wants the customer to confirm this payment themselves.",
        )
    if intent.error_code or intent.error_message:
        code = intent.decline_code if intent.error_code == "card_declined" else intent.error_code
        message = describe_failure(intent.error_code, intent.decline_code, intent.error_message)
        return PaymentStatus.FAILED, code or intent.error_code, message
    return None, None, None


def describe_failure(code: str | None, decline_code: str | None, message: str | None) -> str:
    """Stripe's reason in plain words, e.g. "Your card was declined (insufficient funds)."."""
    if code == "payment_intent_authentication_failure":
        return (
            "3D Secure authentication failed, so nothing was charged. "
            "Try again or use another card."
        )
    if code == "card_declined":
        if decline_code and decline_code not in ("generic_decline", "card_declined"):
            return f"Your card was declined ({decline_code.replace('_', ' ')})."
        return "Your card was declined."
    return message or "The payment failed."


def _metadata_payment_id(intent: IntentSnapshot) -> int | None:
    local_id = intent.metadata.get(PAYMENT_ID_KEY, "")
    return int(local_id) if local_id.isdigit() and len(local_id) < 19 else None


def find_payment(
    session: Session, intent: IntentSnapshot, *, locked: Payment | None = None
) -> Payment | None:
    """The local payment behind an intent, or None when the intent is not ours: found by the
    metadata written at creation (attempt key included, so a payment id reused by another
    database never matches), or by the intent id stored on it (an intent of ours created
    without that metadata). Rows are read afresh (`populate_existing`); `locked` is the row
    the metadata names, already read afresh with its lock (`lock_and_get`)."""
    payment = None
    local_id = _metadata_payment_id(intent)
    if local_id is not None:
        candidate = (
            locked
            if locked is not None and locked.id == local_id
            else session.get(Payment, local_id, populate_existing=True)
        )
        if (
            candidate is not None
            and candidate.stripe_payment_intent_id in (None, intent.id)
            and intent.metadata.get(ATTEMPT_KEY, candidate.idempotency_key)
            == candidate.idempotency_key
        ):
            payment = candidate
    if payment is None:
        payment = session.exec(
            select(Payment)
            .where(Payment.stripe_payment_intent_id == intent.id)
            .execution_options(populate_existing=True)
        ).first()
    if payment is not None and (payment.amount, payment.currency) != (
        intent.amount,
        intent.currency,
    ):
        logger.warning("intent %s does not match payment %s; ignored", intent.id, payment.id)
        return None
    return payment


def apply_payment_intent(
    session: Session, intent: IntentSnapshot, *, cancel_reason: str | None = None
) -> Payment | None:
    """Bring the local payment in line with a PaymentIntent, under the payment's row lock.

    Idempotent and order-proof. Returns None (changing nothing) for intents not ours.
    `cancel_reason` words a cancellation we made ourselves (e.g. an abandoned attempt).
    """
    # The row the metadata names is locked and read in one statement (UPDATE ... RETURNING),
    # so the read is already the locked one. Locking a row that turns out not to be this
    # intent's is harmless: the caller's transaction is short and holds it only until it ends.
    local_id = _metadata_payment_id(intent)
    locked = lock_and_get(session, Payment, local_id) if local_id is not None else None
    payment = find_payment(session, intent, locked=locked)
    if payment is None:
        return None
    if payment is not locked:
        lock_row(session, Payment, payment.id)
        session.refresh(payment)
    if payment.stripe_payment_intent_id is None:
        payment.stripe_payment_intent_id = intent.id
    if intent.card is not None and payment.card_last4 is None:
        payment.card_brand, payment.card_last4 = intent.card.brand, intent.card.last4
    status, code, message = outcome(intent)
    if status == PaymentStatus.CANCELED and cancel_reason:
        code, message = "abandoned", cancel_reason
    if status is not None:
        set_status(
            session,
            payment,
            status,
            code=code,
            message=message,
            card_saved_on_success=bool(intent.setup_future_usage),
            intent=intent,
        )
    session.flush()
    return payment


UNKNOWN_MESSAGE = "Stripe did not answer. The payment will be checked again before anything else."


def record_gateway_error(session: Session, payment_id: int, error: GatewayError) -> Payment:
    """A Stripe call for the payment raised instead of answering with an intent.

    No answer (timeout, outage) or a fault of ours (an idempotency key clash) leaves the
    payment `unknown`: money may have moved, so it is checked again, never called failed.
    Any other refusal is a plain failure.
    """
    payment = session.get(Payment, payment_id)
    lock_row(session, Payment, payment_id)
    session.refresh(payment)
    if error.transient or error.internal:
        message = UNKNOWN_MESSAGE if error.transient else error.message
        set_status(session, payment, PaymentStatus.UNKNOWN, code=error.code, message=message)
        if error.internal:
            logger.error("payment %s: %s", payment.id, error.message)
            session.add(
                AuditEntry(
                    action="payment.internal_error",
                    subject=f"payment {payment.id}",
                    detail=f"{error.code}: {error.message}"[:2000],
                )
            )
    else:
        set_status(session, payment, PaymentStatus.FAILED, code=error.code, message=error.message)
    session.flush()
    return payment
