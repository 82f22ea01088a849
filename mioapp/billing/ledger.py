"""Money rules with no I/O: a booking's derived payment status and how a payment is allocated."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class BookingStatus(StrEnum):
    UNPAID = "Unpaid"
    PARTIALLY_PAID = "Partially Paid"
    CHARGED_IN_FULL = "Charged in Full"
    OVERPAID = "Overpaid"
    PARTIALLY_REFUNDED = "Partially Refunded"
    REFUNDED = "Refunded"


def derive_status(*, total: int, paid: int, refunded: int) -> BookingStatus:
    """The one place a booking's payment status is decided.

    `paid` is the sum of succeeded allocations and `refunded` the sum of succeeded refund
    allocations, both in minor units. Refunds win over everything: a merchant who returned
    money needs to see it, whether or not the remainder still covers the total.
    """
    if min(total, paid, refunded) < 0:
        raise ValueError("amounts cannot be negative")
    if refunded > paid:
        raise ValueError("cannot refund more than was paid")
    if refunded:
        return BookingStatus.REFUNDED if refunded == paid else BookingStatus.PARTIALLY_REFUNDED
    if paid == 0:
        return BookingStatus.CHARGED_IN_FULL if total == 0 else BookingStatus.UNPAID
    if paid < total:
        return BookingStatus.PARTIALLY_PAID
    if paid == total:
        return BookingStatus.CHARGED_IN_FULL
    return BookingStatus.OVERPAID


@dataclass(frozen=True)
class BookingMoney:
    """What a booking costs and what has been paid and refunded on it."""

    total: int
    paid: int = 0
    refunded: int = 0

    @property
    def net_paid(self) -> int:
        return self.paid - self.refunded

    @property
    def balance(self) -> int:
        """What is still owed; never negative (an overpayment is not a credit to charge)."""
        return max(self.total - self.net_paid, 0)

    @property
    def status(self) -> BookingStatus:
        return derive_status(total=self.total, paid=self.paid, refunded=self.refunded)


def allocate(amount: int, balances: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spread `amount` over `(booking_id, balance)` pairs in the given order.

    Each booking receives at most its balance; the amount may not exceed their sum.
    Returns `(booking_id, allocated)` pairs, omitting bookings that receive nothing.
    """
    if amount <= 0:
        raise ValueError("amount must be positive")
    allocations: list[tuple[int, int]] = []
    remaining = amount
    for booking_id, balance in balances:
        if remaining == 0:
            break
        share = min(balance, remaining)
        if share > 0:
            allocations.append((booking_id, share))
            remaining -= share
    if remaining:
        raise ValueError("amount is more than the outstanding balance")
    return allocations
