"""Reading customers, their bookings, cards and transactions, with money derived by `ledger`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from mioapp.ledger import BookingMoney, BookingStatus
from mioapp.models import (
    Booking,
    Customer,
    EmailMessage,
    Payment,
    PaymentAllocation,
    PaymentLink,
    PaymentStatus,
    Refund,
    RefundAllocation,
    RefundStatus,
    SavedCard,
)
from mioapp.money import format_money

PAGE_SIZE = 25


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


@dataclass(frozen=True)
class CustomerRow:
    id: int
    name: str
    email: str
    phone: str
    booking_count: int
    outstanding: dict[str, int] = field(default_factory=dict)

    @property
    def outstanding_display(self) -> str:
        return format_totals(self.outstanding)


@dataclass(frozen=True)
class CustomerPage:
    rows: list[CustomerRow]
    total: int
    page: int
    page_count: int


def _search_filter(query: str) -> sa.ColumnElement[bool] | None:
    text = query.strip().casefold()
    if not text:
        return None
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return col(Customer.search_text).like(f"%{escaped}%", escape="\\")


def search_customers(
    session: Session, *, query: str = "", page: int = 1, page_size: int = PAGE_SIZE
) -> CustomerPage:
    """One page of customers matching `query` in name, email or phone, in name order."""
    condition = _search_filter(query)
    count_stmt = select(func.count()).select_from(Customer)
    # search_text starts with the case-folded name, so this is name order read off one index.
    page_stmt = select(Customer).order_by(Customer.search_text, Customer.id)
    if condition is not None:
        count_stmt = count_stmt.where(condition)
        page_stmt = page_stmt.where(condition)
    total = session.exec(count_stmt).one()
    page_count = max(1, -(-total // page_size))
    page = min(max(page, 1), page_count)
    customers = session.exec(page_stmt.offset((page - 1) * page_size).limit(page_size)).all()

    bookings = session.exec(
        select(Booking).where(col(Booking.customer_id).in_([c.id for c in customers]))
    ).all()
    money = booking_money(session, bookings)
    counts: dict[int, int] = defaultdict(int)
    outstanding: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for booking in bookings:
        counts[booking.customer_id] += 1
        outstanding[booking.customer_id][booking.currency] += money[booking.id].balance
    rows = [
        CustomerRow(
            id=c.id,
            name=c.name,
            email=c.email,
            phone=c.phone,
            booking_count=counts[c.id],
            outstanding=dict(outstanding[c.id]),
        )
        for c in customers
    ]
    return CustomerPage(rows=rows, total=total, page=page, page_count=page_count)


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


def card_is_expired(card: SavedCard, now: datetime) -> bool:
    return (card.exp_year, card.exp_month) < (now.year, now.month)


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
