"""The customers list's pages: keyset pages in three orders of every customer or of those a
search matches, each customer with their outstanding balance and whether any of it is
overdue.

How a page is found depends on how common the match is, so neither case scans: a rare one
is read from the search index in full and the page sorted from it (`index`); a common one
is walked in the list's order (`walks`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mioapp.billing.balances import booking_money, format_totals
from mioapp.customers.search import limits
from mioapp.customers.search.index import _candidates
from mioapp.customers.search.terms import ORDERS, CustomerSort, normalize
from mioapp.customers.search.walks import _common_page
from mioapp.keyset import KeysetPage, one_of, page_of
from mioapp.models import Booking, Customer, utcnow


@dataclass(frozen=True)
class CustomerRow:
    id: int
    name: str
    email: str
    phone: str
    booking_count: int
    last_activity_at: datetime
    outstanding: dict[str, int] = field(default_factory=dict)
    # Money is still owed on a booking whose activity date has passed.
    overdue: bool = False

    @property
    def outstanding_display(self) -> str:
        return format_totals(self.outstanding)

    @property
    def owes(self) -> bool:
        return any(self.outstanding.values())


@dataclass(frozen=True)
class CustomerPage:
    rows: list[CustomerRow]
    has_previous: bool
    has_next: bool
    # How many customers match; a floor when `more` (counting stops at COUNT_LIMIT).
    total: int
    more: bool


def _name_page(
    session: Session,
    keys: list[tuple[str, int]],
    *,
    after: tuple | None,
    before: tuple | None,
    size: int,
) -> KeysetPage:
    """A page in name order of the customers whose (search_text, id) are `keys`, as `page_of`
    gives it, reading only that page's customers (byte order, as the name index sorts on both
    databases here; see `_common_page`)."""
    keys = sorted(keys)
    if after is not None:
        rest = [k for k in keys if k > tuple(after)]
        chosen, has_previous, has_next = rest[:size], True, len(rest) > size
    elif before is not None:
        head = [k for k in keys if k < tuple(before)]
        chosen, has_previous, has_next = head[-size:] if size else [], len(head) > size, True
    else:
        chosen, has_previous, has_next = keys[:size], False, len(keys) > size
    ids = [i for _, i in chosen]
    found = {c.id: c for c in session.exec(select(Customer).where(one_of(col(Customer.id), ids)))}
    return KeysetPage([found[i] for i in ids if i in found], has_previous, has_next)


def search_customers(
    session: Session,
    *,
    query: str = "",
    sort: CustomerSort = CustomerSort.NAME,
    after: int | None = None,
    before: int | None = None,
    page_size: int = limits.PAGE_SIZE,
    now: datetime | None = None,
) -> CustomerPage:
    """One page of customers matching `query` (all of them when empty), in `sort` order:
    the first page, the one after customer `after`, or the one before customer `before`.
    A cursor that names no customer gives the first page."""
    text = normalize(query)
    order = ORDERS[sort]
    cursor_id = after if after is not None else before
    cursor = session.get(Customer, cursor_id) if cursor_id is not None else None
    values = _sort_values(cursor, sort) if cursor is not None else None
    keys = {
        "after": values if after is not None else None,
        "before": values if before is not None else None,
    }
    if not text:
        page = page_of(session, select(Customer), order, size=page_size, **keys)
        total, more = _count(session)
    else:
        candidates = _candidates(session, text, keyed=sort is CustomerSort.NAME)
        ids = candidates.ids
        if ids is not None:
            if not ids:
                return CustomerPage([], has_previous=False, has_next=False, total=0, more=False)
            if sort is CustomerSort.NAME:
                page = _name_page(session, candidates.keys, size=page_size, **keys)
            else:
                matches = select(Customer).where(one_of(col(Customer.id), ids))
                page = page_of(session, matches, order, size=page_size, **keys)
            total, more = len(ids), False
        else:
            page = _common_page(
                session,
                text,
                sort,
                clustered=candidates.mostly_at_start,
                spacing=candidates.spacing,
                size=page_size,
                **keys,
            )
            total, more = limits.CANDIDATE_LIMIT, True  # the index found more than that already
    if values is not None and before is not None and not page.items:
        # Nothing before that row (it moved, or the list changed): start over.
        return search_customers(session, query=query, sort=sort, page_size=page_size, now=now)
    return CustomerPage(
        rows=_rows(session, page.items, now or utcnow()),
        has_previous=page.has_previous,
        has_next=page.has_next,
        total=total,
        more=more,
    )


def _rows(session: Session, customers: list[Customer], now: datetime) -> list[CustomerRow]:
    # The columns a row needs, not Booking objects: a page of owing customers can hold a
    # few hundred bookings.
    bookings = session.execute(
        select(
            Booking.id,
            Booking.customer_id,
            Booking.total_amount,
            Booking.currency,
            Booking.starts_at,
        ).where(one_of(col(Booking.customer_id), [c.id for c in customers]))
    ).all()
    money = booking_money(session, bookings)
    counts: dict[int, int] = defaultdict(int)
    outstanding: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    overdue: set[int] = set()
    for booking in bookings:
        balance = money[booking.id].balance
        counts[booking.customer_id] += 1
        outstanding[booking.customer_id][booking.currency] += balance
        if balance > 0 and booking.starts_at < now:
            overdue.add(booking.customer_id)
    return [
        CustomerRow(
            id=c.id,
            name=c.name,
            email=c.email,
            phone=c.phone,
            booking_count=counts[c.id],
            last_activity_at=c.last_activity_at,
            outstanding=dict(outstanding[c.id]),
            overdue=c.id in overdue,
        )
        for c in customers
    ]


def _count(session: Session) -> tuple[int, bool]:
    """How many customers there are, counted up to COUNT_LIMIT."""
    inner = select(Customer.id).limit(limits.COUNT_LIMIT + 1).subquery()
    counted = session.execute(select(sa.func.count()).select_from(inner)).scalar_one()
    return min(counted, limits.COUNT_LIMIT), counted > limits.COUNT_LIMIT


def _sort_values(customer: Customer, sort: CustomerSort) -> tuple:
    return tuple(getattr(customer, c.key) for c in ORDERS[sort].columns)
