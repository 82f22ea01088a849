"""Every payment and refund across customers, newest first: the filter the Payments page and
its CSV export share, and keyset pages of the rows it selects.

Rows are ordered by (time, kind, id), newest first; a page is read after (older) or before
(newer) a cursor on that key, so page 1,000 costs what page 1 does. Payments and refunds
are read by two queries, each walking an index in the page's order and stopping after a
page's worth, and merged here; the few rows of a page then get their details (customer,
bookings, refunded total) by id.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from mioapp.models import (
    Booking,
    Customer,
    Payment,
    PaymentAllocation,
    PaymentMethodKind,
    PaymentStatus,
    Refund,
    RefundAllocation,
    RefundStatus,
)

PAGE_SIZE = 25
# What the export reads per query: big enough to be quick, small enough to stream.
EXPORT_BATCH = 1000
MAX_SEARCH = 100


class TransactionKind(StrEnum):
    # The values sort in the key's order: at one instant, refunds come before payments.
    PAYMENT = "payment"
    REFUND = "refund"


class StatusFilter(StrEnum):
    """The statuses a merchant filters by; each covers payment and refund statuses."""

    SUCCEEDED = "succeeded"
    PENDING = "pending"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def label(self) -> str:
        return self.value.capitalize()


_PAYMENT_STATUSES: dict[StatusFilter, tuple[PaymentStatus, ...]] = {
    StatusFilter.SUCCEEDED: (PaymentStatus.SUCCEEDED,),
    StatusFilter.PENDING: (
        PaymentStatus.CREATED,
        PaymentStatus.PROCESSING,
        PaymentStatus.REQUIRES_ACTION,
        PaymentStatus.UNKNOWN,
    ),
    StatusFilter.FAILED: (PaymentStatus.FAILED,),
    StatusFilter.CANCELED: (PaymentStatus.CANCELED,),
}
_REFUND_STATUSES: dict[StatusFilter, tuple[RefundStatus, ...]] = {
    StatusFilter.SUCCEEDED: (RefundStatus.SUCCEEDED,),
    StatusFilter.PENDING: (RefundStatus.PENDING,),
    StatusFilter.FAILED: (RefundStatus.FAILED,),
    StatusFilter.CANCELED: (),
}


class SearchKind(StrEnum):
    """What a search text was read as."""

    NONE = ""
    CUSTOMER = "customer"  # part of a name, email or phone
    RECEIPT = "receipt"  # MIO-000123
    BOOKING = "booking"  # a booking's reference, exactly
    PAYMENT_INTENT = "payment_intent"  # pi_...
    STRIPE_REFUND = "stripe_refund"  # re_...


_RECEIPT = re.compile(r"MIO-?0*(\d{1,12})", re.IGNORECASE)
_STRIPE_ID = re.compile(r"[A-Za-z0-9_]+")
# What a booking reference can look like (BK-100123): worth one look-up by its unique index.
_REFERENCE = re.compile(r"(?=.*\d)[A-Za-z0-9-]{3,32}")


@dataclass(frozen=True)
class TransactionFilter:
    """What the Payments page shows and its export writes; kept in the page's URL."""

    status: StatusFilter | None = None
    method: PaymentMethodKind | None = None
    kind: TransactionKind | None = None
    # Days on the business's clock, both included.
    date_from: date | None = None
    date_to: date | None = None
    search: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> TransactionFilter:
        """From URL query parameters; a value that means nothing is ignored, never an error."""

        def text(name: str) -> str:
            value = params.get(name, "")
            if isinstance(value, list | tuple):
                value = value[0] if value else ""
            return str(value).strip()

        def choice(enum: type[StrEnum], name: str):
            try:
                return enum(text(name)) if text(name) else None
            except ValueError:
                return None

        def day(name: str) -> date | None:
            try:
                return date.fromisoformat(text(name)) if text(name) else None
            except ValueError:
                return None

        return cls(
            status=choice(StatusFilter, "status"),
            method=choice(PaymentMethodKind, "method"),
            kind=choice(TransactionKind, "type"),
            date_from=day("from"),
            date_to=day("to"),
            search=text("q")[:MAX_SEARCH],
        )

    def to_params(self) -> dict[str, str]:
        """The query parameters that give this filter back (empty ones left out)."""
        params = {
            "status": self.status.value if self.status else "",
            "method": self.method.value if self.method else "",
            "type": self.kind.value if self.kind else "",
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "q": self.search,
        }
        return {name: value for name, value in params.items() if value}


@dataclass(frozen=True)
class Cursor:
    """A row's place in the order: (time, kind, id)."""

    at: datetime
    kind: TransactionKind
    id: int

    def encode(self) -> str:
        return f"{self.at.astimezone(UTC).strftime('%Y%m%dT%H%M%S.%f')}~{self.kind.value}~{self.id}"

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        """None for anything that is not a cursor this module wrote."""
        parts = str(text).split("~")
        if len(parts) != 3 or not parts[2].isdigit() or len(parts[2]) > 18:
            return None
        try:
            at = datetime.strptime(parts[0], "%Y%m%dT%H%M%S.%f").replace(tzinfo=UTC)
            return cls(at=at, kind=TransactionKind(parts[1]), id=int(parts[2]))
        except ValueError:
            return None


@dataclass(frozen=True)
class Transaction:
    """One row: a payment, or a refund with the payment it returns money from."""

    kind: TransactionKind
    id: int
    at: datetime
    amount: int
    currency: str
    payment: Payment
    refund: Refund | None
    customer_id: int
    customer_name: str
    customer_email: str
    bookings: list[str] = field(default_factory=list)
    # For a payment: the total of its succeeded refunds.
    refunded: int = 0

    @property
    def cursor(self) -> Cursor:
        return Cursor(at=self.at, kind=self.kind, id=self.id)


@dataclass(frozen=True)
class TransactionPage:
    rows: list[Transaction]
    # Cursors for the neighbouring pages; None where there is none.
    newer: Cursor | None
    older: Cursor | None


# Up to this many matching customers are looked up once and their payments read by the
# (customer, time) index; a search matching more is so common that reading rows in time
# order and checking each one's customer fills a page sooner (measured by bench_payments).
CUSTOMER_IDS_LISTED = 300


@dataclass(frozen=True)
class _Search:
    kind: SearchKind
    text: str = ""
    number: int = 0
    customer_ids: tuple[int, ...] | None = None


def classify_search(text: str) -> _Search:
    """Read a search text as a receipt number, a Stripe id, a booking reference (when one
    exists, checked by the caller) or else part of a customer's name, email or phone."""
    text = text.strip()[:MAX_SEARCH]
    if not text:
        return _Search(SearchKind.NONE)
    receipt = _RECEIPT.fullmatch(text)
    if receipt:
        return _Search(SearchKind.RECEIPT, text, int(receipt[1]))
    if _STRIPE_ID.fullmatch(text):
        if text.startswith("pi_"):
            return _Search(SearchKind.PAYMENT_INTENT, text)
        if text.startswith("re_"):
            return _Search(SearchKind.STRIPE_REFUND, text)
    return _Search(SearchKind.CUSTOMER, text)


def _resolve_search(session: Session, text: str) -> _Search:
    search = classify_search(text)
    if search.kind != SearchKind.CUSTOMER:
        return search
    if _REFERENCE.fullmatch(search.text):
        booking_id = session.exec(
            select(Booking.id).where(Booking.reference == search.text.upper())
        ).first()
        if booking_id is not None:
            return _Search(SearchKind.BOOKING, search.text, booking_id)
    if "@" in search.text:
        # A whole email address is found by its index, without reading every customer.
        exact = {search.text, search.text.lower()}
        ids = session.exec(select(Customer.id).where(col(Customer.email).in_(exact))).all()
        if ids:
            return replace(search, customer_ids=tuple(ids))
    ids = session.exec(
        select(Customer.id).where(_matches_customer(search.text)).limit(CUSTOMER_IDS_LISTED + 1)
    ).all()
    if len(ids) <= CUSTOMER_IDS_LISTED:
        return replace(search, customer_ids=tuple(ids))
    return search


def _matches_customer(text: str) -> sa.ColumnElement[bool]:
    """Part of a customer's name, email or phone (as customer search reads it)."""
    folded = text.casefold()
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return col(Customer.search_text).like(f"%{escaped}%", escape="\\")


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


def _branch(
    kind: TransactionKind,
    f: TransactionFilter,
    search: _Search,
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
            stmt = stmt.where(col(Payment.status).in_(_PAYMENT_STATUSES[f.status]))
    else:
        at, ident = col(Refund.created_at), col(Refund.id)
        stmt = select(Refund.created_at, Refund.id)
        payment_id = col(Refund.payment_id)
        if f.status is not None:
            statuses = _REFUND_STATUSES[f.status]
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
    if kind == TransactionKind.PAYMENT and f.method is not None:
        stmt = stmt.where(col(Payment.method_kind) == f.method)
    if f.date_from is not None:
        stmt = stmt.where(at >= _day_start(f.date_from, time_zone))
    if f.date_to is not None:
        stmt = stmt.where(at < _day_start(f.date_to + timedelta(days=1), time_zone))
    match search.kind:
        case SearchKind.CUSTOMER:
            if search.customer_ids is not None:
                # A few customers: their payments by the (customer, time) index.
                owner = col(Payment.customer_id).in_(search.customer_ids)
            else:
                # Many: rows are read in order and each one's customer checked, which finds
                # a page after a few dozen rows when so many customers match.
                owner = (
                    select(Customer.id)
                    .where(col(Customer.id) == Payment.customer_id)
                    .where(_matches_customer(search.text))
                    .exists()
                )
            if kind == TransactionKind.PAYMENT:
                stmt = stmt.where(owner)
            else:
                stmt = stmt.join(Payment, col(Payment.id) == payment_id).where(owner)
        case SearchKind.RECEIPT:
            stmt = stmt.where(payment_id == search.number)
        case SearchKind.PAYMENT_INTENT:
            stmt = stmt.where(
                payment_id.in_(
                    select(Payment.id).where(Payment.stripe_payment_intent_id == search.text)
                )
            )
        case SearchKind.STRIPE_REFUND:
            if kind == TransactionKind.PAYMENT:
                return None
            stmt = stmt.where(Refund.stripe_refund_id == search.text)
        case SearchKind.BOOKING:
            if kind == TransactionKind.PAYMENT:
                parts = select(PaymentAllocation.payment_id).where(
                    PaymentAllocation.booking_id == search.number
                )
            else:
                parts = select(RefundAllocation.refund_id).where(
                    RefundAllocation.booking_id == search.number
                )
            stmt = stmt.where(ident.in_(parts))
    if cursor is not None:
        stmt = stmt.where(_keyset(at, ident, kind, cursor, older))
    order = (at.desc(), ident.desc()) if older else (at.asc(), ident.asc())
    return stmt.order_by(*order).limit(limit)


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
    search = _resolve_search(session, f.search)
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
    rows = _details(session, keys)
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


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _details(
    session: Session, keys: list[tuple[datetime, TransactionKind, int]]
) -> list[Transaction]:
    """The rows behind `keys`, in a few queries by id (each skipped when it has nothing to do)."""
    payment_ids = [i for _, kind, i in keys if kind == TransactionKind.PAYMENT]
    refund_ids = [i for _, kind, i in keys if kind == TransactionKind.REFUND]
    refunds: dict[int, Refund] = {}
    if refund_ids:
        found = session.exec(select(Refund).where(col(Refund.id).in_(refund_ids))).all()
        refunds = {r.id: r for r in found}
    wanted = set(payment_ids) | {r.payment_id for r in refunds.values()}
    payments: dict[int, Payment] = {}
    customers: dict[int, Customer] = {}
    if wanted:
        for payment, customer in session.exec(
            select(Payment, Customer)
            .join(Customer, col(Customer.id) == Payment.customer_id)
            .where(col(Payment.id).in_(wanted))
        ).all():
            payments[payment.id], customers[customer.id] = payment, customer
    refunded: dict[int, int] = {}
    if payment_ids:
        refunded = dict(
            session.exec(
                select(Refund.payment_id, func.sum(Refund.amount))
                .where(col(Refund.payment_id).in_(payment_ids))
                .where(Refund.status == RefundStatus.SUCCEEDED)
                .group_by(Refund.payment_id)
            ).all()
        )
    references: dict[tuple[str, int], list[str]] = defaultdict(list)
    parts = []
    if payment_ids:
        parts.append(
            select(
                sa.literal(TransactionKind.PAYMENT.value),
                PaymentAllocation.payment_id,
                Booking.reference,
                PaymentAllocation.id,
            )
            .join(Booking, col(Booking.id) == PaymentAllocation.booking_id)
            .where(col(PaymentAllocation.payment_id).in_(payment_ids))
        )
    if refund_ids:
        parts.append(
            select(
                sa.literal(TransactionKind.REFUND.value),
                RefundAllocation.refund_id,
                Booking.reference,
                RefundAllocation.id,
            )
            .join(Booking, col(Booking.id) == RefundAllocation.booking_id)
            .where(col(RefundAllocation.refund_id).in_(refund_ids))
        )
    if parts:
        union = sa.union_all(*parts) if len(parts) > 1 else parts[0]
        for kind, owner, reference, _ in sorted(session.execute(union).all()):
            references[(kind, owner)].append(reference)

    rows = []
    for at, kind, ident in keys:
        refund = refunds[ident] if kind == TransactionKind.REFUND else None
        payment = payments[refund.payment_id if refund else ident]
        customer = customers[payment.customer_id]
        money = refund or payment
        rows.append(
            Transaction(
                kind=kind,
                id=ident,
                at=at,
                amount=money.amount,
                currency=money.currency,
                payment=payment,
                refund=refund,
                customer_id=customer.id,
                customer_name=customer.name,
                customer_email=customer.email,
                bookings=references.get((kind.value, ident), []),
                refunded=0 if refund else int(refunded.get(ident, 0)),
            )
        )
    return rows
