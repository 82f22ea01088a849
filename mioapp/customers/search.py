"""Customer search and the paged customer list, with each customer's outstanding balance."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from mioapp.billing.balances import booking_money, format_totals
from mioapp.models import Booking, Customer

PAGE_SIZE = 25


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
