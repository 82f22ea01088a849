"""Refunds: the one writer of `Refund.status`, refunds made in Stripe recorded once, and
giving back what a booking was overpaid (row first, like a charge)."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from mioapp.billing.balances import booking_money
from mioapp.billing.errors import ChargeError
from mioapp.billing.ledger import allocate
from mioapp.billing.money import format_money
from mioapp.db import Database, lock_row
from mioapp.models import (
    AuditEntry,
    Booking,
    Customer,
    Payment,
    PaymentAllocation,
    PaymentStatus,
    Refund,
    RefundAllocation,
    RefundStatus,
    status_writer,
    utcnow,
)
from mioapp.payments import gateway
from mioapp.payments.gateway import GatewayError, RefundSnapshot, StripeCredentials

logger = logging.getLogger(__name__)

REFUND_ID_KEY = "mio_refund_id"
# A refund of ours that Stripe has no record of this long after it was written never got there.
NEVER_RECEIVED_AFTER = timedelta(minutes=5)
SETTLE_AFTER = timedelta(minutes=1)

_ALLOWED = {
    RefundStatus.PENDING: frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED}),
    # Stripe can fail a refund after reporting it succeeded (e.g. a closed card account).
    RefundStatus.SUCCEEDED: frozenset({RefundStatus.FAILED}),
    RefundStatus.FAILED: frozenset(),
}
_STRIPE_STATUS = {
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}


def set_refund_status(
    session: Session, refund: Refund, status: RefundStatus, *, message: str | None = None
) -> bool:
    """The only writer of `Refund.status`; returns whether it changed."""
    if status == refund.status or status not in _ALLOWED[refund.status]:
        return False
    with status_writer():
        refund.status = status
    refund.failure_message = message if status == RefundStatus.FAILED else None
    session.add(
        AuditEntry(
            action=f"refund.{status.value}",
            subject=f"refund {refund.id}",
            detail=f"payment {refund.payment_id} {refund.stripe_refund_id or ''}".strip(),
        )
    )
    session.flush()
    return True


def _apply_snapshot(session: Session, refund: Refund, snapshot: RefundSnapshot) -> None:
    refund.stripe_refund_id = refund.stripe_refund_id or snapshot.id
    status = _STRIPE_STATUS.get(snapshot.status)
    if status is not None:
        message = f"Stripe could not refund it ({snapshot.failure_reason or 'no reason given'})."
        set_refund_status(session, refund, status, message=message)


def _refunded_by_booking(session: Session, payment_id: int) -> dict[int, int]:
    """What refunds of a payment (succeeded or still pending) took off each booking."""
    return dict(
        session.exec(
            select(RefundAllocation.booking_id, func.sum(RefundAllocation.amount))
            .join(Refund, col(Refund.id) == RefundAllocation.refund_id)
            .where(Refund.payment_id == payment_id)
            .where(col(Refund.status).in_((RefundStatus.SUCCEEDED, RefundStatus.PENDING)))
            .group_by(RefundAllocation.booking_id)
        ).all()
    )


def record_refunds(session: Session, payment_id: int, refunds: list[RefundSnapshot]) -> int:
    """Store refunds made in Stripe (dashboard or API) that we have not seen, and settle our
    own pending ones; a new one comes off the payment's bookings, latest tour first.
    Returns how many were new."""
    lock_row(session, Payment, payment_id)
    known = {
        refund.stripe_refund_id: refund
        for refund in session.exec(select(Refund).where(Refund.payment_id == payment_id)).all()
    }
    allocations = session.exec(
        select(PaymentAllocation)
        .where(PaymentAllocation.payment_id == payment_id)
        .order_by(col(PaymentAllocation.id).desc())
    ).all()
    added = 0
    for snapshot in refunds:
        ours = snapshot.metadata.get(REFUND_ID_KEY, "")
        refund = known.get(snapshot.id) or (
            session.get(Refund, int(ours)) if ours.isdigit() else None
        )
        if refund is not None and refund.payment_id == payment_id:
            _apply_snapshot(session, refund, snapshot)
            continue
        if snapshot.status != "succeeded":
            continue
        refund = Refund(
            payment_id=payment_id,
            amount=snapshot.amount,
            currency=snapshot.currency,
            stripe_refund_id=snapshot.id,
            reason=snapshot.reason[:100],
        )
        session.add(refund)
        session.flush()
        refunded = _refunded_by_booking(session, payment_id)
        room = [(a.booking_id, a.amount - int(refunded.get(a.booking_id, 0))) for a in allocations]
        for booking_id, share in allocate(snapshot.amount, room):
            session.add(RefundAllocation(refund_id=refund.id, booking_id=booking_id, amount=share))
        set_refund_status(session, refund, RefundStatus.SUCCEEDED)
        added += 1
    session.flush()
    return added


def _open_overpayment_refund(
    session: Session, *, booking_id: int, customer_id: int, user_id: int | None
) -> Refund:
    """The Refund row (pending) for what the booking was paid beyond its total, taken from
    its latest payments first. Raises ChargeError when nothing is overpaid."""
    lock_row(session, Customer, customer_id)
    booking = session.get(Booking, booking_id)
    if booking is None or booking.customer_id != customer_id:
        raise ChargeError("That booking is not this customer's.")
    money = booking_money(session, [booking])[booking.id]
    pending = session.exec(
        select(func.sum(RefundAllocation.amount))
        .join(Refund, col(Refund.id) == RefundAllocation.refund_id)
        .where(RefundAllocation.booking_id == booking_id, Refund.status == RefundStatus.PENDING)
    ).one()
    excess = money.net_paid - booking.total_amount - int(pending or 0)
    if excess <= 0:
        raise ChargeError("This booking is not overpaid.")
    candidates = session.exec(
        select(Payment, PaymentAllocation.amount)
        .join(PaymentAllocation, col(PaymentAllocation.payment_id) == Payment.id)
        .where(PaymentAllocation.booking_id == booking_id)
        .where(Payment.status == PaymentStatus.SUCCEEDED)
        .where(col(Payment.stripe_payment_intent_id).is_not(None))
        .order_by(col(Payment.succeeded_at).desc(), col(Payment.id).desc())
    ).all()
    for payment, allocated in candidates:
        room = allocated - int(_refunded_by_booking(session, payment.id).get(booking_id, 0))
        if room <= 0:
            continue
        amount = min(excess, room)
        refund = Refund(
            payment_id=payment.id,
            amount=amount,
            currency=payment.currency,
            reason="overpaid",
            created_by_user_id=user_id,
        )
        session.add(refund)
        session.flush()
        refund.idempotency_key = f"mio-refund-{refund.id}-{secrets.token_hex(6)}"
        session.add(RefundAllocation(refund_id=refund.id, booking_id=booking_id, amount=amount))
        session.add(
            AuditEntry(
                actor_user_id=user_id,
                action="refund.started",
                subject=f"refund {refund.id}",
                detail=f"{booking.reference} overpaid {format_money(amount, payment.currency)}",
            )
        )
        session.flush()
        return refund
    raise ChargeError("No card payment on this booking can take the refund.")


async def refund_overpayment(
    db: Database,
    credentials: StripeCredentials,
    *,
    booking_id: int,
    customer_id: int,
    user_id: int | None,
) -> Refund:
    """Give back what a booking was paid beyond its total (e.g. a late confirmation landed
    after another payment covered it): the refund row first, then Stripe, then its answer."""
    refund = await db.run(
        lambda s: _open_overpayment_refund(
            s, booking_id=booking_id, customer_id=customer_id, user_id=user_id
        )
    )
    intent_id = await db.run(lambda s: s.get(Payment, refund.payment_id).stripe_payment_intent_id)
    try:
        snapshot = await gateway.create_refund(
            credentials,
            payment_intent_id=intent_id,
            amount=refund.amount,
            metadata={REFUND_ID_KEY: str(refund.id)},
            idempotency_key=refund.idempotency_key,
        )
    except GatewayError as exc:
        if exc.transient:
            return refund  # pending: the sweep asks Stripe again before anything else
        message = exc.message
        return await db.run(lambda s: _fail(s, refund.id, message))

    def apply(session: Session) -> Refund:
        row = session.get(Refund, refund.id)
        lock_row(session, Payment, row.payment_id)
        _apply_snapshot(session, row, snapshot)
        return row

    return await db.run(apply)


def _fail(session: Session, refund_id: int, message: str) -> Refund:
    refund = session.get(Refund, refund_id)
    set_refund_status(session, refund, RefundStatus.FAILED, message=message)
    return refund


def pending_refunds_due(session: Session, *, now: datetime, limit: int) -> list[int]:
    return list(
        session.exec(
            select(Refund.id)
            .where(Refund.status == RefundStatus.PENDING)
            .where(col(Refund.created_at) <= now - SETTLE_AFTER)
            .order_by(col(Refund.created_at))
            .limit(limit)
        ).all()
    )


async def settle_refund(
    db: Database, credentials: StripeCredentials, refund_id: int, *, now: datetime | None = None
) -> Refund:
    """Ask Stripe about a refund of ours still pending (its answer was lost)."""
    now = now or utcnow()
    refund = await db.run(lambda s: s.get(Refund, refund_id))
    payment = await db.run(lambda s: s.get(Payment, refund.payment_id))
    try:
        found = await gateway.list_refunds(credentials, payment.stripe_payment_intent_id)
    except GatewayError as exc:
        logger.warning("refund %s not settled: %s", refund_id, exc.message)
        return refund
    await db.run(lambda s: record_refunds(s, payment.id, found))
    refund = await db.run(lambda s: s.get(Refund, refund_id))
    if refund.status == RefundStatus.PENDING and refund.created_at <= now - NEVER_RECEIVED_AFTER:
        refund = await db.run(
            lambda s: _fail(s, refund_id, "Stripe never received this refund; nothing was sent.")
        )
    return refund
