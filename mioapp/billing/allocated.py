"""SQL columns for a query on bookings: what each booking took of the payments and refunds,
summed from their allocation rows (balances, the customers list's sort keys).

Imports nothing above the models, so the models' commit hooks can use it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col, func, select

from mioapp.models import (
    Payment,
    PaymentAllocation,
    PaymentStatus,
    Refund,
    RefundAllocation,
    RefundStatus,
)


def allocated_column(
    allocation, parent, condition: sa.ColumnElement[bool], booking_id: sa.ColumnElement[int]
) -> sa.ScalarSelect:
    """The sum of the `allocation` rows of the booking `booking_id` (a column of the outer
    query) whose `parent` (payment or refund) meets `condition`, 0 if none."""
    parent_id = allocation.payment_id if parent is Payment else allocation.refund_id
    return (
        select(func.coalesce(func.sum(allocation.amount), 0))
        .select_from(allocation)
        .join(parent, col(parent.id) == parent_id)
        .where(allocation.booking_id == booking_id)
        .where(condition)
        .scalar_subquery()
    )


def paid_column(booking_id: sa.ColumnElement[int]) -> sa.ScalarSelect:
    """What the booking `booking_id` was paid: its part of the succeeded payments."""
    succeeded = Payment.status == PaymentStatus.SUCCEEDED
    return allocated_column(PaymentAllocation, Payment, succeeded, booking_id)


def refunded_column(booking_id: sa.ColumnElement[int]) -> sa.ScalarSelect:
    """What the booking `booking_id` was refunded: its part of the succeeded refunds."""
    succeeded = Refund.status == RefundStatus.SUCCEEDED
    return allocated_column(RefundAllocation, Refund, succeeded, booking_id)
