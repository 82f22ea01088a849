"""Balances read from the database: what each booking was paid, refunded and still owes,
what attempts in flight hold back, and so what a new charge may take."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from mioapp.billing.allocated import allocated_column, paid_column, refunded_column
from mioapp.billing.errors import ChargeError
from mioapp.billing.ledger import BookingMoney, allocate
from mioapp.billing.money import DEFAULT_LOCALE, format_money
from mioapp.business import current_profile
from mioapp.keyset import one_of
from mioapp.models import (
    Booking,
    Payment,
    PaymentAllocation,
    PaymentStatus,
    utcnow,
)

# Attempts whose money may still move. `processing` and `unknown` ones hold their amount
# until Stripe settles them (money may have moved); so does a `created` one whose call to
# Stripe is under way (no `hold_until`). One waiting for a card in a browser holds only until
# its `hold_until`: after that it is abandoned, holds nothing, and is canceled at Stripe by
# the sweep or the merchant.
SETTLING = (PaymentStatus.PROCESSING, PaymentStatus.UNKNOWN)


def holding(now: datetime) -> sa.ColumnElement[bool]:
    """The condition on Payment for "its amount is held against the balance" at `now`."""
    return sa.or_(
        col(Payment.status).in_(SETTLING),
        sa.and_(
            Payment.status == PaymentStatus.CREATED,
            sa.or_(col(Payment.hold_until).is_(None), col(Payment.hold_until) > now),
        ),
    )


def is_abandoned(payment: Payment, now: datetime | None = None) -> bool:
    """A `created` attempt whose hold has run out: the customer or the browser went away."""
    return (
        payment.status == PaymentStatus.CREATED
        and payment.hold_until is not None
        and payment.hold_until <= (now or utcnow())
    )


@lru_cache(maxsize=1)
def _paid() -> sa.ScalarSelect:
    return paid_column(Booking.id)


@lru_cache(maxsize=1)
def _refunded() -> sa.ScalarSelect:
    return refunded_column(Booking.id)


def booking_money(session: Session, bookings: Iterable[Booking]) -> dict[int, BookingMoney]:
    """Paid and refunded totals of each booking, from succeeded allocations only (one query).
    `bookings`: Booking objects, or rows with their `id` and `total_amount`."""
    bookings = list(bookings)
    ids = [b.id for b in bookings]
    if not ids:
        return {}
    rows = session.exec(
        select(Booking.id, _paid(), _refunded()).where(one_of(col(Booking.id), ids))
    ).all()
    sums = {booking_id: (int(paid), int(refunded)) for booking_id, paid, refunded in rows}
    return {
        b.id: BookingMoney(total=b.total_amount, paid=sums[b.id][0], refunded=sums[b.id][1])
        for b in bookings
    }


def format_totals(totals: dict[str, int], locale: str = DEFAULT_LOCALE) -> str:
    """`{"usd": 24000}` -> `$240.00`; several currencies are joined; nothing -> `$0.00`-like."""
    shown = [format_money(amount, cur, locale) for cur, amount in sorted(totals.items()) if amount]
    return " + ".join(shown) if shown else format_money(0, next(iter(totals), "usd"), locale)


def held_amounts(
    session: Session,
    booking_ids: list[int],
    *,
    now: datetime | None = None,
    excluding_payment: int | None = None,
) -> dict[int, int]:
    """Booking id -> what attempts in flight hold on it at `now`."""
    if not booking_ids:
        return {}
    query = (
        select(PaymentAllocation.booking_id, func.sum(PaymentAllocation.amount))
        .join(Payment, col(Payment.id) == PaymentAllocation.payment_id)
        .where(col(PaymentAllocation.booking_id).in_(booking_ids))
        .where(holding(now or utcnow()))
        .group_by(PaymentAllocation.booking_id)
    )
    if excluding_payment is not None:
        query = query.where(Payment.id != excluding_payment)
    return {booking_id: int(amount) for booking_id, amount in session.exec(query).all()}


@dataclass(frozen=True)
class ChargeableBooking:
    booking: Booking
    balance: int  # what the booking still owes
    available: int  # the balance minus what attempts in flight hold


@lru_cache(maxsize=1)
def _chargeable_query() -> sa.Select:
    held = allocated_column(PaymentAllocation, Payment, holding(sa.bindparam("now")), Booking.id)
    return (
        select(Booking, _paid(), _refunded(), held)
        .where(Booking.customer_id == sa.bindparam("customer_id"))
        .order_by(col(Booking.starts_at), col(Booking.id))
    )


def chargeable_bookings(
    session: Session, customer_id: int, *, now: datetime | None = None
) -> list[ChargeableBooking]:
    """The customer's bookings with something left to charge, earliest tour first."""
    rows = session.exec(
        _chargeable_query(), params={"customer_id": customer_id, "now": now or utcnow()}
    ).all()
    result = []
    for booking, paid, refunded, held_amount in rows:
        balance = BookingMoney(
            total=booking.total_amount, paid=int(paid), refunded=int(refunded)
        ).balance
        available = balance - int(held_amount)
        if available > 0:
            result.append(ChargeableBooking(booking, balance, available))
    return result


@dataclass(frozen=True)
class ChargePlan:
    customer_id: int
    currency: str
    amount: int
    allocations: list[tuple[int, int]]  # (booking_id, amount), earliest tour first


def plan_charge(
    session: Session,
    *,
    customer_id: int,
    booking_ids: list[int],
    amount: int,
    shares: dict[int, int] | None = None,
    now: datetime | None = None,
) -> ChargePlan:
    """Check a requested charge against the live balances; the browser's numbers are only
    a request. `shares` (booking id -> amount) puts each part on the booking the merchant
    meant; without it the amount fills the bookings earliest tour first. Bookings that
    receive nothing are not part of the plan."""
    if not booking_ids:
        raise ChargeError("Choose at least one booking to charge.", field="bookings")
    chargeable = {c.booking.id: c for c in chargeable_bookings(session, customer_id, now=now)}
    if any(booking_id not in chargeable for booking_id in booking_ids):
        raise ChargeError(
            "A chosen booking has nothing left to charge or is not this customer's. "
            "Reload the page to see the current balances.",
            field="bookings",
        )
    chosen = [c for booking_id, c in chargeable.items() if booking_id in set(booking_ids)]
    currencies = {c.booking.currency for c in chosen}
    if len(currencies) > 1:
        raise ChargeError("Charge bookings in one currency at a time.", field="bookings")
    currency = currencies.pop()
    # The refusals quote amounts as the merchant reads them everywhere else.
    locale = current_profile(session).locale
    available = sum(c.available for c in chosen)
    if amount <= 0:
        raise ChargeError("Enter an amount greater than zero.", field="amount")
    if amount > available:
        most = format_money(available, currency, locale)
        raise ChargeError(f"The most you can charge for these bookings is {most}.", field="amount")
    if shares is None:
        allocations = allocate(amount, [(c.booking.id, c.available) for c in chosen])
    else:
        allocations = _checked_shares(chosen, shares, amount, currency, locale)
    return ChargePlan(customer_id, currency, amount, allocations)


def _checked_shares(
    chosen: list[ChargeableBooking],
    shares: dict[int, int],
    amount: int,
    currency: str,
    locale: str,
) -> list[tuple[int, int]]:
    by_id = {c.booking.id: c for c in chosen}
    if any(booking_id not in by_id for booking_id in shares):
        raise ChargeError("A share is for a booking that is not chosen.", field="shares")
    allocations = []
    for c in chosen:
        share = shares.get(c.booking.id, 0)
        if share < 0:
            raise ChargeError("A booking's share cannot be negative.", field="shares")
        if share > c.available:
            most = format_money(c.available, currency, locale)
            raise ChargeError(
                f"{c.booking.reference} can take at most {most}.", field=f"share-{c.booking.id}"
            )
        if share:
            allocations.append((c.booking.id, share))
    total = sum(share for _, share in allocations)
    if total != amount:
        raise ChargeError(
            f"The bookings' shares add up to {format_money(total, currency, locale)}, not "
            f"{format_money(amount, currency, locale)}.",
            field="shares",
        )
    return allocations


def default_shares(
    chargeable: list[ChargeableBooking], booking_ids: list[int], amount: int
) -> dict[int, int]:
    """How `amount` fills the chosen bookings, earliest tour first: the modal's starting
    point, which the merchant may change booking by booking."""
    chosen = [(c.booking.id, c.available) for c in chargeable if c.booking.id in booking_ids]
    room = sum(available for _, available in chosen)
    return dict(allocate(min(amount, room), chosen)) if amount > 0 and room else {}


@dataclass(frozen=True)
class BookingShare:
    """One booking's part of a payment, as the customer reads it on the pay page, the link
    email and the receipt: what it costs, what was paid before, this payment, what remains."""

    booking: Booking
    total: int
    paid_before: int
    amount: int

    @property
    def remaining(self) -> int:
        return max(self.total - self.paid_before - self.amount, 0)

    @property
    def is_deposit(self) -> bool:
        return self.remaining > 0


def booking_shares(
    session: Session, allocations: list[tuple[int, int]], *, counted_payment: int | None = None
) -> list[BookingShare]:
    """The breakdown of a payment's `allocations` (booking id, amount), earliest tour first.
    `counted_payment`: a succeeded payment already in the ledger, whose part is this payment,
    not "paid before"."""
    if not allocations:
        return []
    parts = dict(allocations)
    rows = session.exec(
        select(Booking, _paid(), _refunded())
        .where(col(Booking.id).in_(list(parts)))
        .order_by(col(Booking.starts_at), col(Booking.id))
    ).all()
    counted = counted_payment is not None
    return [
        BookingShare(
            booking=b,
            total=b.total_amount,
            paid_before=BookingMoney(
                total=b.total_amount, paid=int(paid), refunded=int(refunded)
            ).net_paid
            - (parts[b.id] if counted else 0),
            amount=parts[b.id],
        )
        for b, paid, refunded in rows
    ]


@lru_cache(maxsize=1)
def _payment_shares_query() -> sa.Select:
    return (
        select(Booking, PaymentAllocation.amount, _paid(), _refunded())
        .join(PaymentAllocation, PaymentAllocation.booking_id == Booking.id)
        .where(PaymentAllocation.payment_id == sa.bindparam("payment_id"))
        .order_by(col(Booking.starts_at), col(Booking.id))
    )


def payment_shares(session: Session, payment_id: int) -> list[BookingShare]:
    """`booking_shares` of a succeeded payment already in the ledger, read with its
    allocations in one query (built once)."""
    rows = session.exec(_payment_shares_query(), params={"payment_id": payment_id}).all()
    return [
        BookingShare(
            booking=b,
            total=b.total_amount,
            paid_before=int(paid) - int(refunded) - amount,
            amount=amount,
        )
        for b, amount, paid, refunded in rows
    ]
