"""Keyset pages of the rows a filter selects, newest first.

Rows are ordered by (time, kind, id), newest first; a page is read after (older) or before
(newer) a cursor on that key, so page 1,000 costs what page 1 does. Payments and refunds
are read by two queries, each walking an index in the page's order and stopping after a
page's worth, and merged here; the few rows of a page then get their details by id
(`rows.load_rows`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mioapp.billing.transactions.filters import (
    PAYMENT_STATUSES,
    REFUND_STATUSES,
    Cursor,
    TransactionFilter,
    TransactionKind,
)
from mioapp.billing.transactions.rows import Transaction, TransactionPage, load_rows
from mioapp.billing.transactions.search import Search, SearchKind, matches_customer, resolve_search
from mioapp.keyset import one_of
from mioapp.models import Customer, Payment, PaymentAllocation, Refund, RefundAllocation

PAGE_SIZE = 25
# What the export reads per query: big enough to be quick, small enough to stream.
EXPORT_BATCH = 1000


def _day_start(day: date, time_zone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(time_zone)).astimezone(UTC)


def _keyset(
    at: sa.ColumnElement,
    ident: sa.ColumnElement,
    kind: TransactionKind,
    cursor: Cursor,
    older: bool,
) -> sa.ColumnElement[bool]:
    """This kind's rows beyond `cursor` in the (time, kind, id) order, older or newer."""
    if kind == cursor.kind:
        pair, bound = sa.tuple_(at, ident), sa.tuple_(cursor.at, cursor.id)
        return pair < bound if older else pair > bound
    # At the cursor's instant, this kind is on the far side of it, or on the near side.
    beyond = (kind < cursor.kind) == older
    if older:
        return at <= cursor.at if beyond else at < cursor.at
    return at >= cursor.at if beyond else at > cursor.at


def _searched(
    stmt: sa.Select, kind: TransactionKind, search: Search, ident, payment_id
) -> sa.Select | None:
    """`stmt` narrowed to the rows `search` finds; None if this kind can have none."""
    match search.kind:
        case SearchKind.CUSTOMER:
            if search.customer_ids is not None:
                # A few customers: their payments by the (customer, time) index.
                owner = one_of(col(Payment.customer_id), search.customer_ids)
            else:
                # Many: rows are read in order and each one's customer checked, which finds
                # a page after a few dozen rows when so many customers match.
                owner = (
                    select(Customer.id)
                    .where(col(Customer.id) == Payment.customer_id)
                    .where(matches_customer(search.text))
                    .exists()
                )
            if kind == TransactionKind.PAYMENT:
                return stmt.where(owner)
            return stmt.join(Payment, col(Payment.id) == payment_id).where(owner)
        case SearchKind.RECEIPT:
            return stmt.where(payment_id == search.number)
        case SearchKind.PAYMENT_INTENT:
            return stmt.where(
                payment_id.in_(
                    select(Payment.id).where(Payment.stripe_payment_intent_id == search.text)
                )
            )
        case SearchKind.STRIPE_REFUND:
            if kind == TransactionKind.PAYMENT:
                return None
            return stmt.where(Refund.stripe_refund_id == search.text)
        case SearchKind.BOOKING:
            if kind == TransactionKind.PAYMENT:
                parts = select(PaymentAllocation.payment_id).where(
                    PaymentAllocation.booking_id == search.number
                )
            else:
                parts = select(RefundAllocation.refund_id).where(
                    RefundAllocation.booking_id == search.number
                )
            return stmt.where(ident.in_(parts))
    return stmt


def _branch(
    kind: TransactionKind,
    f: TransactionFilter,
    search: Search,
    time_zone: str,
    cursor: Cursor | None,
    older: bool,
    limit: int,
) -> sa.Select | None:
    """One kind's rows for the filter, in the page's order; None if the filter excludes it."""
    if f.kind is not None and f.kind != kind:
        return None
    if kind == TransactionKind.PAYMENT:
        at, ident = col(Payment.created_at), col(Payment.id)
        stmt = select(Payment.created_at, Payment.id)
        payment_id = col(Payment.id)
        if f.status is not None:
            stmt = stmt.where(col(Payment.status).in_(PAYMENT_STATUSES[f.status]))
        if f.method is not None:
            stmt = stmt.where(col(Payment.method_kind) == f.method)
    else:
        at, ident = col(Refund.created_at), col(Refund.id)
        stmt = select(Refund.created_at, Refund.id)
        payment_id = col(Refund.payment_id)
        if f.status is not None:
            statuses = REFUND_STATUSES[f.status]
            if not statuses:
                return None
            stmt = stmt.where(col(Refund.status).in_(statuses))
        if f.method is not None:
            # Refunds are read in order, each one's payment looked up by id: driving from
            # the payments of a method would visit a third of all payments.
            stmt = stmt.where(
                select(Payment.id)
                .where(col(Payment.id) == payment_id, col(Payment.method_kind) == f.method)
                .exists()
            )
    if f.date_from is not None:
        stmt = stmt.where(at >= _day_start(f.date_from, time_zone))
    if f.date_to is not None:
        stmt = stmt.where(at < _day_start(f.date_to + timedelta(days=1), time_zone))
    stmt = _searched(stmt, kind, search, ident, payment_id)
    if stmt is None:
        return None
    if cursor is not None:
        stmt = stmt.where(_keyset(at, ident, kind, cursor, older))
    order = (at.desc(), ident.desc()) if older else (at.asc(), ident.asc())
    return stmt.order_by(*order).limit(limit)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def transaction_page(
    session: Session,
    f: TransactionFilter,
    *,
    time_zone: str,
    after: Cursor | None = None,
    before: Cursor | None = None,
    page_size: int = PAGE_SIZE,
) -> TransactionPage:
    """The page of rows older than `after` (or newer than `before`; the newest without
    either), newest first, with cursors to the pages on each side."""
    older = before is None
    cursor = after if older else before
    search = resolve_search(session, f.search)
    keys: list[tuple[datetime, TransactionKind, int]] = []
    for kind in TransactionKind:
        stmt = _branch(kind, f, search, time_zone, cursor, older, page_size + 1)
        if stmt is not None:
            keys += [(_aware(at), kind, ident) for at, ident in session.exec(stmt).all()]
    keys.sort(reverse=older)
    more = len(keys) > page_size
    keys = keys[:page_size]
    if not older:
        keys.reverse()
    rows = load_rows(session, keys)
    first = rows[0].cursor if rows else None
    last = rows[-1].cursor if rows else None
    if older:
        newer, older_cursor = (first if cursor is not None else None), (last if more else None)
    else:
        newer, older_cursor = (first if more else None), last
    return TransactionPage(rows=rows, newer=newer, older=older_cursor)


def iter_transactions(
    session: Session, f: TransactionFilter, *, time_zone: str, batch: int = EXPORT_BATCH
) -> Iterator[list[Transaction]]:
    """Every row the filter selects, newest first, a batch at a time (for the export)."""
    after = None
    while True:
        page = transaction_page(session, f, time_zone=time_zone, after=after, page_size=batch)
        if page.rows:
            yield page.rows
        if page.older is None:
            return
        after = page.older
