"""Settling payments whose outcome is not final: ask Stripe, apply, close abandoned attempts.

Used by Check status and Release on the customer page, by the end of a card confirmation,
and by the sweep job that settles what nobody is watching.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mioapp.billing.balances import is_abandoned
from mioapp.billing.errors import ChargeError
from mioapp.db import Database, lock_row
from mioapp.models import Customer, Payment, PaymentStatus, utcnow
from mioapp.payments import gateway, intents
from mioapp.payments.gateway import GatewayError, IntentSnapshot, StripeCredentials

logger = logging.getLogger(__name__)

# Unsettled payments older than this are asked about by the sweep.
SETTLE_AFTER = timedelta(minutes=1)
# An attempt Stripe has no record of this long after it was written never reached Stripe:
# by then every call and retry for it has ended (timeouts are seconds).
NEVER_RECEIVED_AFTER = timedelta(minutes=5)
# The sweep cancels an abandoned attempt this long after its hold ran out; the merchant's
# Release does it at once. (Its amount is free from the moment the hold ran out.)
SWEEP_ABANDONED_AFTER = timedelta(minutes=5)
# An off-session charge the bank wants the customer to approve is closed after this; the
# merchant has sent a payment link (a new intent) or moved on.
REQUIRES_ACTION_FOR = timedelta(minutes=15)

ABANDONED_MESSAGE = "Abandoned: the card was never confirmed, so the hold was released."
NEVER_RECEIVED_MESSAGE = "Stripe never received this payment, so nothing was charged."


def _load(session: Session, payment_id: int) -> tuple[Payment, str | None]:
    payment = session.get(Payment, payment_id)
    customer = session.get(Customer, payment.customer_id)
    return payment, customer.stripe_customer_id


async def _find(
    credentials: StripeCredentials, payment: Payment, stripe_customer_id: str | None
) -> IntentSnapshot | None:
    if payment.stripe_payment_intent_id:
        return await gateway.retrieve_intent(credentials, payment.stripe_payment_intent_id)
    if not stripe_customer_id:
        return None
    return await gateway.find_intent(
        credentials,
        stripe_customer_id=stripe_customer_id,
        metadata={
            intents.PAYMENT_ID_KEY: str(payment.id),
            intents.ATTEMPT_KEY: payment.idempotency_key,
        },
    )


def _should_close(payment: Payment, *, release: bool, now: datetime) -> bool:
    """Whether an unpaid intent behind `payment` is to be canceled now."""
    if release:
        return True  # the attempt is over (finished in the browser, released, revoked)
    if payment.status == PaymentStatus.UNKNOWN:
        return True  # nobody holds its client secret: the create call's answer was lost
    if payment.status == PaymentStatus.CREATED:
        return is_abandoned(payment, now)
    if payment.status == PaymentStatus.REQUIRES_ACTION:
        return payment.created_at <= now - REQUIRES_ACTION_FOR
    return False


def _close_without_intent(session: Session, payment_id: int, now: datetime) -> Payment:
    payment = session.get(Payment, payment_id)
    lock_row(session, Payment, payment_id)
    session.refresh(payment)
    if (
        payment.stripe_payment_intent_id is None
        and payment.created_at <= now - NEVER_RECEIVED_AFTER
    ):
        intents.set_status(
            session,
            payment,
            PaymentStatus.CANCELED,
            code="not_received",
            message=NEVER_RECEIVED_MESSAGE,
        )
    return payment


async def settle_payment(
    db: Database,
    credentials: StripeCredentials,
    payment_id: int,
    *,
    release: bool = False,
    now: datetime | None = None,
) -> Payment:
    """Re-fetch the payment's intent from Stripe and apply it; with `release`, or once the
    attempt is abandoned, cancel an intent that has taken no money. Stripe being
    unreachable changes nothing (the next check tries again)."""
    now = now or utcnow()
    payment, stripe_customer_id = await db.run(lambda s: _load(s, payment_id))
    if payment.status == PaymentStatus.SUCCEEDED:
        return payment
    try:
        intent = await _find(credentials, payment, stripe_customer_id)
    except GatewayError as exc:
        if exc.transient:
            return payment
        raise ChargeError(exc.message) from exc
    if intent is None:
        return await db.run(lambda s: _close_without_intent(s, payment_id, now))

    def apply(session: Session, snapshot: IntentSnapshot, reason: str | None) -> Payment:
        applied = intents.apply_payment_intent(session, snapshot, cancel_reason=reason)
        return applied or session.get(Payment, payment_id)

    payment = await db.run(lambda s: apply(s, intent, None))
    if not (intent.unpaid and _should_close(payment, release=release, now=now)):
        return payment
    try:
        closed = await gateway.cancel_intent(credentials, intent.id)
    except GatewayError as exc:
        # The hold runs out by itself; the next sweep tries the cancellation again.
        logger.warning("could not cancel unfinished intent %s: %s", intent.id, exc.message)
        return payment
    reason = ABANDONED_MESSAGE if payment.status == PaymentStatus.CREATED else None
    return await db.run(lambda s: apply(s, closed, reason))


def due_for_settling(session: Session, *, now: datetime, limit: int) -> list[int]:
    """Payments the sweep should ask Stripe about, oldest first."""
    due = sa.or_(
        sa.and_(
            col(Payment.status).in_((PaymentStatus.UNKNOWN, PaymentStatus.PROCESSING)),
            col(Payment.updated_at) <= now - SETTLE_AFTER,
        ),
        sa.and_(
            Payment.status == PaymentStatus.CREATED,
            col(Payment.hold_until) <= now - SWEEP_ABANDONED_AFTER,
        ),
        sa.and_(
            Payment.status == PaymentStatus.CREATED,
            col(Payment.hold_until).is_(None),
            col(Payment.created_at) <= now - NEVER_RECEIVED_AFTER,
        ),
        sa.and_(
            Payment.status == PaymentStatus.REQUIRES_ACTION,
            col(Payment.created_at) <= now - REQUIRES_ACTION_FOR,
        ),
    )
    query = select(Payment.id).where(due).order_by(col(Payment.created_at)).limit(limit)
    return list(session.exec(query).all())


async def settle_due(
    db: Database, credentials: StripeCredentials, *, now: datetime | None = None, limit: int = 50
) -> int:
    """One pass of the sweep: settle what is due; returns how many payments changed."""
    now = now or utcnow()
    changed = 0
    for payment_id in await db.run(lambda s: due_for_settling(s, now=now, limit=limit)):
        before = await db.run(lambda s, pid=payment_id: s.get(Payment, pid).status)
        try:
            after = await settle_payment(db, credentials, payment_id, now=now)
        except ChargeError as exc:
            logger.warning("payment %s could not be settled: %s", payment_id, exc.message)
            continue
        changed += after.status != before
    return changed
