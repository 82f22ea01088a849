"""Planning a charge over several bookings: where each part of the amount goes."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from mioapp.billing.balances import (
    booking_shares,
    chargeable_bookings,
    default_shares,
    plan_charge,
)
from mioapp.billing.errors import ChargeError
from mioapp.models import PaymentStatus
from tests.unit.factories import make_booking, make_customer, make_payment


@pytest.fixture
def two_bookings(session: Session):
    customer = make_customer(session)
    first = make_booking(session, customer, total=48_000)
    second = make_booking(session, customer, total=30_000)
    session.commit()
    return customer, first, second


def test_without_shares_the_amount_fills_the_earliest_tour_first(session, two_bookings) -> None:
    customer, first, second = two_bookings
    plan = plan_charge(
        session, customer_id=customer.id, booking_ids=[first.id, second.id], amount=20_000
    )
    assert plan.allocations == [(first.id, 20_000)]


def test_shares_put_the_deposit_on_the_booking_the_merchant_meant(session, two_bookings) -> None:
    customer, first, second = two_bookings
    plan = plan_charge(
        session,
        customer_id=customer.id,
        booking_ids=[first.id, second.id],
        amount=20_000,
        shares={first.id: 5_000, second.id: 15_000},
    )
    assert plan.allocations == [(first.id, 5_000), (second.id, 15_000)]


@pytest.mark.parametrize(
    ("shares", "field", "message"),
    [
        ({"first": 5_000, "second": 10_000}, "shares", r"add up to \$150\.00, not \$200\.00"),
        ({"first": 0, "second": 30_001}, "share-second", r"can take at most \$300\.00"),
        ({"first": -1, "second": 20_001}, "shares", "cannot be negative"),
    ],
)
def test_shares_that_do_not_fit_are_refused(session, two_bookings, shares, field, message) -> None:
    customer, first, second = two_bookings
    ids = {"first": first.id, "second": second.id}
    with pytest.raises(ChargeError, match=message) as refused:
        plan_charge(
            session,
            customer_id=customer.id,
            booking_ids=[first.id, second.id],
            amount=20_000,
            shares={ids[name]: amount for name, amount in shares.items()},
        )
    assert refused.value.field == field.replace("second", str(second.id))


def test_default_shares_are_the_modal_starting_point(session, two_bookings) -> None:
    customer, first, second = two_bookings
    chargeable = chargeable_bookings(session, customer.id)
    assert default_shares(chargeable, [first.id, second.id], 50_000) == {
        first.id: 48_000,
        second.id: 2_000,
    }
    assert default_shares(chargeable, [second.id], 50_000) == {second.id: 30_000}


def test_a_share_says_what_was_paid_before_and_what_remains(session, two_bookings) -> None:
    customer, first, _ = two_bookings
    make_payment(session, customer, [(first, 8_000)], status=PaymentStatus.SUCCEEDED)
    later = make_payment(session, customer, [(first, 20_000)], status=PaymentStatus.SUCCEEDED)
    session.commit()

    [ahead] = booking_shares(session, [(first.id, 20_000)])
    [counted] = booking_shares(session, [(first.id, 20_000)], counted_payment=later.id)

    assert (counted.total, counted.paid_before, counted.amount) == (48_000, 8_000, 20_000)
    assert (counted.remaining, counted.is_deposit) == (20_000, True)
    assert (ahead.paid_before, ahead.remaining) == (28_000, 0)
