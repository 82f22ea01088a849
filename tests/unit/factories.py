"""Plain helpers that write rows for tests; each flushes so the row has its id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import count

from sqlmodel import Session

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
    utcnow,
)
from mioapp.payments.intents import set_status
from mioapp.payments.refunds import set_refund_status

_serial = count(1)


def make_customer(
    session: Session, *, name: str = "Ana Lima", email: str | None = None, phone: str = ""
) -> Customer:
    n = next(_serial)
    customer = Customer(name=name, email=email or f"customer{n}@example.test", phone=phone)
    session.add(customer)
    session.flush()
    return customer


def make_booking(
    session: Session,
    customer: Customer,
    *,
    total: int = 10_000,
    currency: str = "usd",
    starts_at: datetime | None = None,
    tour_name: str = "Sunset Kayak Tour",
) -> Booking:
    n = next(_serial)
    booking = Booking(
        reference=f"BK-{n:05d}",
        customer_id=customer.id,
        tour_name=tour_name,
        starts_at=starts_at or utcnow() + timedelta(days=n),
        participants=2,
        total_amount=total,
        currency=currency,
    )
    session.add(booking)
    session.flush()
    return booking


def make_payment(
    session: Session,
    customer: Customer,
    allocations: Sequence[tuple[Booking, int]],
    *,
    status: PaymentStatus = PaymentStatus.SUCCEEDED,
    created_at: datetime | None = None,
    hold_until: datetime | None = None,
) -> Payment:
    """A card-on-file payment of the sum of `allocations`, split over those bookings, moved
    to `status` by the one writer (without emails)."""
    payment = Payment(
        customer_id=customer.id,
        amount=sum(amount for _, amount in allocations),
        currency=allocations[0][0].currency,
        method_kind=PaymentMethodKind.CARD_ON_FILE,
        idempotency_key=f"test-payment-{next(_serial)}",
        created_at=created_at or utcnow(),
        hold_until=hold_until,
    )
    session.add(payment)
    session.flush()
    session.add_all(
        PaymentAllocation(payment_id=payment.id, booking_id=booking.id, amount=amount)
        for booking, amount in allocations
    )
    session.flush()
    if status != PaymentStatus.CREATED:
        set_status(session, payment, status, at=payment.created_at, announce=False)
    return payment


def make_refund(
    session: Session,
    payment: Payment,
    allocations: Sequence[tuple[Booking, int]],
    *,
    status: RefundStatus = RefundStatus.SUCCEEDED,
) -> Refund:
    """A refund on `payment` of the sum of `allocations`, taken off those bookings."""
    refund = Refund(
        payment_id=payment.id,
        amount=sum(amount for _, amount in allocations),
        currency=payment.currency,
    )
    session.add(refund)
    session.flush()
    session.add_all(
        RefundAllocation(refund_id=refund.id, booking_id=booking.id, amount=amount)
        for booking, amount in allocations
    )
    session.flush()
    if status != RefundStatus.PENDING:
        set_refund_status(session, refund, status)
    return refund
