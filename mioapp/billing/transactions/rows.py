"""The rows of a page: a payment, or a refund with the payment it returns money from, read
with their customer, bookings and refunded total in a few queries by id."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from mioapp.billing.transactions.filters import Cursor, TransactionKind
from mioapp.models import (
    Booking,
    Customer,
    Payment,
    PaymentAllocation,
    Refund,
    RefundAllocation,
    RefundStatus,
)

Key = tuple[datetime, TransactionKind, int]


@dataclass(frozen=True)
class Transaction:
    """One row: a payment, or a refund with the payment it returns money from."""

    kind: TransactionKind
    id: int
    at: datetime
    payment: Payment
    refund: Refund | None
    customer: Customer
    bookings: list[str] = field(default_factory=list)
    # For a payment: the total of its succeeded refunds.
    refunded: int = 0

    @property
    def amount(self) -> int:
        return (self.refund or self.payment).amount

    @property
    def currency(self) -> str:
        return (self.refund or self.payment).currency

    @property
    def customer_id(self) -> int:
        return self.customer.id

    @property
    def customer_name(self) -> str:
        return self.customer.name

    @property
    def customer_email(self) -> str:
        return self.customer.email

    @property
    def cursor(self) -> Cursor:
        return Cursor(at=self.at, kind=self.kind, id=self.id)


@dataclass(frozen=True)
class TransactionPage:
    rows: list[Transaction]
    # Cursors for the neighbouring pages; None where there is none.
    newer: Cursor | None
    older: Cursor | None


# Where each kind's bookings are: (allocation table, its owner's column).
_ALLOCATIONS = {
    TransactionKind.PAYMENT: (PaymentAllocation, PaymentAllocation.payment_id),
    TransactionKind.REFUND: (RefundAllocation, RefundAllocation.refund_id),
}


def _booking_references(
    session: Session, ids: dict[TransactionKind, list[int]]
) -> dict[tuple[str, int], list[str]]:
    """Each row's booking references, in allocation order, by (kind, id); one query."""
    parts = [
        select(sa.literal(kind.value), owner, Booking.reference, table.id)
        .join(Booking, col(Booking.id) == table.booking_id)
        .where(col(owner).in_(ids[kind]))
        for kind, (table, owner) in _ALLOCATIONS.items()
        if ids[kind]
    ]
    references: dict[tuple[str, int], list[str]] = defaultdict(list)
    if parts:
        union = sa.union_all(*parts) if len(parts) > 1 else parts[0]
        for kind, owner, reference, _ in sorted(session.execute(union).all()):
            references[(kind, owner)].append(reference)
    return references


def load_rows(session: Session, keys: list[Key]) -> list[Transaction]:
    """The rows behind `keys`, in a few queries by id (each skipped when it has nothing to do)."""
    ids = {kind: [i for _, k, i in keys if k == kind] for kind in TransactionKind}
    refunds: dict[int, Refund] = {}
    if ids[TransactionKind.REFUND]:
        found = session.exec(
            select(Refund).where(col(Refund.id).in_(ids[TransactionKind.REFUND]))
        ).all()
        refunds = {r.id: r for r in found}
    wanted = set(ids[TransactionKind.PAYMENT]) | {r.payment_id for r in refunds.values()}
    # Each payment with its customer and the total of its succeeded refunds.
    refunded_total = (
        select(func.coalesce(func.sum(Refund.amount), 0))
        .where(Refund.payment_id == Payment.id, Refund.status == RefundStatus.SUCCEEDED)
        .correlate(Payment)
        .scalar_subquery()
    )
    payments: dict[int, tuple[Payment, Customer, int]] = {}
    if wanted:
        for payment, customer, refunded in session.exec(
            select(Payment, Customer, refunded_total)
            .join(Customer, col(Customer.id) == Payment.customer_id)
            .where(col(Payment.id).in_(wanted))
        ).all():
            payments[payment.id] = (payment, customer, int(refunded))
    references = _booking_references(session, ids)
    rows = []
    for at, kind, ident in keys:
        refund = refunds[ident] if kind == TransactionKind.REFUND else None
        payment, customer, refunded = payments[refund.payment_id if refund else ident]
        bookings = references.get((kind.value, ident), [])
        rows.append(
            Transaction(
                kind, ident, at, payment, refund, customer, bookings, 0 if refund else refunded
            )
        )
    return rows
