"""Balances read from the database: what each booking was paid, refunded and still owes."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, func, select

from mioapp.billing.ledger import BookingMoney
from mioapp.billing.money import format_money
from mioapp.models import (
    Booking,
    Payment,
    PaymentAllocation,
    PaymentStatus,
    Refund,
    RefundAllocation,
    RefundStatus,
)


def booking_money(session: Session, bookings: Iterable[Booking]) -> dict[int, BookingMoney]:
    """Paid and refunded totals of each booking, from succeeded allocations only."""
    bookings = list(bookings)
    ids = [b.id for b in bookings]
    if not ids:
        return {}
    paid = dict(
        session.exec(
            select(PaymentAllocation.booking_id, func.sum(PaymentAllocation.amount))
            .join(Payment, col(Payment.id) == PaymentAllocation.payment_id)
            .where(col(PaymentAllocation.booking_id).in_(ids))
            .where(Payment.status == PaymentStatus.SUCCEEDED)
            .group_by(PaymentAllocation.booking_id)
        ).all()
    )
    refunded = dict(
        session.exec(
            select(RefundAllocation.booking_id, func.sum(RefundAllocation.amount))
            .join(Refund, col(Refund.id) == RefundAllocation.refund_id)
            .where(col(RefundAllocation.booking_id).in_(ids))
            .where(Refund.status == RefundStatus.SUCCEEDED)
            .group_by(RefundAllocation.booking_id)
        ).all()
    )
    return {
        b.id: BookingMoney(
            total=b.total_amount, paid=int(paid.get(b.id, 0)), refunded=int(refunded.get(b.id, 0))
        )
        for b in bookings
    }


def format_totals(totals: dict[str, int]) -> str:
    """`{"usd": 24000}` -> `$240.00`; several currencies are joined; nothing -> `$0.00`-like."""
    shown = [format_money(amount, cur) for cur, amount in sorted(totals.items()) if amount]
    return " + ".join(shown) if shown else format_money(0, next(iter(totals), "usd"))
