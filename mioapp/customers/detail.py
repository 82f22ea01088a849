"""The customer page's data: bookings with derived status, cards, payments, refunds."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session, col, func, select

from mioapp.billing.balances import booking_money
from mioapp.billing.ledger import BookingMoney, BookingStatus
from mioapp.models import (
    Booking,
    Customer,
    EmailMessage,
    Payment,
    PaymentAllocation,
    PaymentLink,
    Refund,
    RefundStatus,
    SavedCard,
)


@dataclass(frozen=True)
class BookingLine:
    booking: Booking
    money: BookingMoney

    @property
    def status(self) -> BookingStatus:
        return self.money.status


@dataclass(frozen=True)
class CustomerDetail:
    customer: Customer
    bookings: list[BookingLine]
    cards: list[SavedCard]
    payments: list[Payment]
    payment_bookings: dict[int, list[str]]
    allocations: list[PaymentAllocation] = field(default_factory=list)
    refunded: dict[int, int] = field(default_factory=dict)  # payment id -> refunded amount

    @property
    def outstanding(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for line in self.bookings:
            totals[line.booking.currency] += line.money.balance
        return dict(totals)


def customer_detail(session: Session, customer_id: int) -> CustomerDetail | None:
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    bookings = session.exec(
        select(Booking)
        .where(Booking.customer_id == customer_id)
        .order_by(col(Booking.starts_at).desc())
    ).all()
    money = booking_money(session, bookings)
    cards = session.exec(
        select(SavedCard)
        .where(SavedCard.customer_id == customer_id)
        .order_by(col(SavedCard.is_default).desc(), col(SavedCard.created_at).desc())
    ).all()
    payments = session.exec(
        select(Payment)
        .where(Payment.customer_id == customer_id)
        .order_by(col(Payment.created_at).desc(), col(Payment.id).desc())
    ).all()
    references = {b.id: b.reference for b in bookings}
    payment_ids = [p.id for p in payments]
    allocations = session.exec(
        select(PaymentAllocation)
        .where(col(PaymentAllocation.payment_id).in_(payment_ids))
        .order_by(col(PaymentAllocation.id))
    ).all()
    payment_bookings: dict[int, list[str]] = defaultdict(list)
    for allocation in allocations:
        payment_bookings[allocation.payment_id].append(references.get(allocation.booking_id, ""))
    refunded = dict(
        session.exec(
            select(Refund.payment_id, func.sum(Refund.amount))
            .where(col(Refund.payment_id).in_(payment_ids))
            .where(Refund.status == RefundStatus.SUCCEEDED)
            .group_by(Refund.payment_id)
        ).all()
    )
    return CustomerDetail(
        customer=customer,
        bookings=[BookingLine(booking=b, money=money[b.id]) for b in bookings],
        cards=list(cards),
        payments=list(payments),
        payment_bookings=dict(payment_bookings),
        allocations=list(allocations),
        refunded={k: int(v) for k, v in refunded.items()},
    )


def change_marker(session: Session, customer_id: int) -> tuple:
    """A cheap fingerprint of everything on the customer page that payments change: it
    differs as soon as a payment, refund, card, link or email of the customer does."""

    def one(statement):
        return session.exec(statement).one()

    return (
        one(
            select(func.count(), func.max(Payment.updated_at)).where(
                Payment.customer_id == customer_id
            )
        ),
        one(
            select(func.count(Refund.id))
            .join(Payment, col(Payment.id) == Refund.payment_id)
            .where(Payment.customer_id == customer_id)
        ),
        one(select(func.count(SavedCard.id)).where(SavedCard.customer_id == customer_id)),
        one(
            select(func.count(), func.max(PaymentLink.paid_at), func.max(PaymentLink.opened_at))
            .select_from(PaymentLink)
            .where(PaymentLink.customer_id == customer_id)
        ),
        one(
            select(func.count(), func.max(EmailMessage.sent_at), func.max(EmailMessage.attempts))
            .select_from(EmailMessage)
            .where(EmailMessage.customer_id == customer_id)
        ),
    )
