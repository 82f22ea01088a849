"""Derived booking status, what is still owed, and how a payment is spread over bookings."""

from __future__ import annotations

import pytest

from mioapp.billing.ledger import BookingMoney, BookingStatus, allocate, derive_status


@pytest.mark.parametrize(
    ("total", "paid", "refunded", "expected"),
    [
        pytest.param(10_000, 0, 0, BookingStatus.UNPAID, id="unpaid"),
        pytest.param(10_000, 4_000, 0, BookingStatus.PARTIALLY_PAID, id="partial"),
        pytest.param(10_000, 9_999, 0, BookingStatus.PARTIALLY_PAID, id="one-cent-short"),
        pytest.param(10_000, 10_000, 0, BookingStatus.CHARGED_IN_FULL, id="charged-in-full"),
        pytest.param(10_000, 10_001, 0, BookingStatus.OVERPAID, id="overpaid"),
        pytest.param(10_000, 10_000, 10_000, BookingStatus.REFUNDED, id="refunded"),
        pytest.param(10_000, 4_000, 4_000, BookingStatus.REFUNDED, id="partial-payment-refunded"),
        pytest.param(10_000, 10_000, 2_500, BookingStatus.PARTIALLY_REFUNDED, id="part-refunded"),
        pytest.param(
            10_000, 12_000, 2_000, BookingStatus.PARTIALLY_REFUNDED, id="refund-shown-over-paid"
        ),
        pytest.param(0, 0, 0, BookingStatus.CHARGED_IN_FULL, id="free-booking"),
        pytest.param(0, 500, 0, BookingStatus.OVERPAID, id="free-booking-paid"),
    ],
)
def test_derive_status(total: int, paid: int, refunded: int, expected: BookingStatus) -> None:
    assert derive_status(total=total, paid=paid, refunded=refunded) is expected
    assert BookingMoney(total=total, paid=paid, refunded=refunded).status is expected


@pytest.mark.parametrize(
    ("total", "paid", "refunded"),
    [
        pytest.param(-1, 0, 0, id="negative-total"),
        pytest.param(10_000, -1, 0, id="negative-paid"),
        pytest.param(10_000, 0, -1, id="negative-refund"),
        pytest.param(10_000, 4_000, 4_001, id="refund-more-than-paid"),
        pytest.param(10_000, 0, 1, id="refund-without-payment"),
    ],
)
def test_derive_status_rejects_impossible_amounts(total: int, paid: int, refunded: int) -> None:
    with pytest.raises(ValueError):
        derive_status(total=total, paid=paid, refunded=refunded)


@pytest.mark.parametrize(
    ("money", "net_paid", "balance"),
    [
        pytest.param(BookingMoney(total=10_000), 0, 10_000, id="unpaid"),
        pytest.param(BookingMoney(total=10_000, paid=4_000), 4_000, 6_000, id="partial"),
        pytest.param(BookingMoney(total=10_000, paid=10_000), 10_000, 0, id="paid"),
        pytest.param(BookingMoney(total=10_000, paid=15_000), 15_000, 0, id="overpaid-not-credit"),
        pytest.param(
            BookingMoney(total=10_000, paid=10_000, refunded=2_500), 7_500, 2_500, id="refund-owed"
        ),
        pytest.param(
            BookingMoney(total=10_000, paid=15_000, refunded=3_000), 12_000, 0, id="refund-excess"
        ),
        pytest.param(BookingMoney(total=0), 0, 0, id="free"),
    ],
)
def test_balance_is_what_is_still_owed_and_never_negative(
    money: BookingMoney, net_paid: int, balance: int
) -> None:
    assert money.net_paid == net_paid
    assert money.balance == balance


@pytest.mark.parametrize(
    ("amount", "balances", "expected"),
    [
        pytest.param(15_000, [(1, 10_000), (2, 10_000)], [(1, 10_000), (2, 5_000)], id="in-order"),
        pytest.param(5_000, [(2, 10_000), (1, 10_000)], [(2, 5_000)], id="first-given-first"),
        pytest.param(
            20_000, [(1, 10_000), (2, 10_000)], [(1, 10_000), (2, 10_000)], id="exact-total"
        ),
        pytest.param(
            3_000,
            [(1, 1_000), (2, 1_000), (3, 5_000)],
            [(1, 1_000), (2, 1_000), (3, 1_000)],
            id="capped-per-booking",
        ),
        pytest.param(500, [(1, 0), (2, 1_000)], [(2, 500)], id="skips-settled-booking"),
        pytest.param(1, [(7, 1)], [(7, 1)], id="one-minor-unit"),
    ],
)
def test_allocate(amount: int, balances: list[tuple[int, int]], expected: list) -> None:
    allocations = allocate(amount, iter(balances))
    assert allocations == expected
    assert sum(share for _, share in allocations) == amount


@pytest.mark.parametrize(
    ("amount", "balances"),
    [
        pytest.param(20_001, [(1, 10_000), (2, 10_000)], id="more-than-owed"),
        pytest.param(100, [], id="nothing-owed"),
        pytest.param(100, [(1, 0)], id="all-settled"),
        pytest.param(0, [(1, 10_000)], id="zero"),
        pytest.param(-100, [(1, 10_000)], id="negative"),
    ],
)
def test_allocate_rejects(amount: int, balances: list[tuple[int, int]]) -> None:
    with pytest.raises(ValueError):
        allocate(amount, balances)
