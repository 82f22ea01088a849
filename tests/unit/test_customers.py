"""Customer search, outstanding balances and the customer page, with money from the ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from mioapp.billing.balances import booking_money
from mioapp.billing.ledger import BookingMoney, BookingStatus
from mioapp.customers.detail import customer_detail
from mioapp.customers.search import search_customers
from mioapp.models import PaymentStatus, RefundStatus, SavedCard, utcnow
from tests.unit.factories import make_booking, make_customer, make_payment, make_refund


def _names(session: Session, query: str) -> list[str]:
    return [row.name for row in search_customers(session, query=query).rows]


@pytest.fixture
def three_customers(session: Session) -> None:
    make_customer(session, name="Ana Lima", email="ana.lima@example.test", phone="+1 808 555 0101")
    make_customer(session, name="Bruno Costa", email="bc77@mail.test", phone="+1 808 555 0202")
    make_customer(session, name="Carla Dias", email="carla@example.test", phone="+44 20 7946 0303")


@pytest.mark.parametrize(
    ("query", "names"),
    [
        pytest.param("lim", ["Ana Lima"], id="part-of-name"),
        pytest.param("CARLA DI", ["Carla Dias"], id="name-any-case"),
        pytest.param("BC77@Mail", ["Bruno Costa"], id="part-of-email"),
        pytest.param("example.test", ["Ana Lima", "Carla Dias"], id="email-domain"),
        pytest.param("555 02", ["Bruno Costa"], id="part-of-phone"),
        pytest.param("+44", ["Carla Dias"], id="phone-prefix"),
        pytest.param("  dias  ", ["Carla Dias"], id="surrounding-spaces"),
        pytest.param("", ["Ana Lima", "Bruno Costa", "Carla Dias"], id="empty-lists-all"),
        pytest.param("zzz", [], id="no-match"),
    ],
)
@pytest.mark.usefixtures("three_customers")
def test_search_by_name_email_or_phone(session: Session, query: str, names: list[str]) -> None:
    assert _names(session, query) == names


def test_search_ignores_the_case_of_accented_letters(session: Session) -> None:
    make_customer(session, name="Élodie Ørsted")
    make_customer(session, name="Elodie Orsted")
    assert _names(session, "élodie ørsted") == ["Élodie Ørsted"]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        pytest.param("0% t", ["100% Tours"], id="percent"),
        pytest.param("a_l", ["Ana_Lima"], id="underscore-inside"),
        pytest.param("k\\s", ["Back\\slash"], id="backslash"),
        pytest.param("%", ["% Off Club"], id="percent-prefix"),
        pytest.param("a_", [], id="underscore-is-no-wildcard"),
    ],
)
def test_like_wildcards_in_the_query_are_literal(
    session: Session, query: str, names: list[str]
) -> None:
    for name in ("100% Tours", "1000 Islands", "Ana_Lima", "Anna Lima", "Back\\slash", "Zed"):
        make_customer(session, name=name)
    make_customer(session, name="% Off Club")
    assert _names(session, query) == names


def test_rows_show_booking_count_and_outstanding_per_currency(session: Session) -> None:
    ana = make_customer(session, name="Ana Lima")
    partly_paid = make_booking(session, ana, total=10_000, currency="usd")
    make_booking(session, ana, total=5_000, currency="usd")
    paid_in_euros = make_booking(session, ana, total=3_000, currency="eur")
    make_payment(session, ana, [(partly_paid, 4_000)])
    make_payment(session, ana, [(paid_in_euros, 3_000)])
    owes_yen = make_customer(session, name="Bruno Costa")
    make_booking(session, owes_yen, total=8_000, currency="jpy")
    make_booking(session, owes_yen, total=2_000, currency="usd")
    make_customer(session, name="Carla Dias")

    rows = {row.name: row for row in search_customers(session).rows}

    assert rows["Ana Lima"].booking_count == 3
    assert rows["Ana Lima"].outstanding == {"usd": 11_000, "eur": 0}
    assert rows["Ana Lima"].outstanding_display == "$110.00"
    assert rows["Bruno Costa"].outstanding == {"jpy": 8_000, "usd": 2_000}
    assert rows["Bruno Costa"].outstanding_display == "¥8,000 + $20.00"
    assert (rows["Carla Dias"].booking_count, rows["Carla Dias"].outstanding) == (0, {})
    assert rows["Carla Dias"].outstanding_display == "$0.00"


def test_a_payment_split_over_bookings_pays_each_its_share(session: Session) -> None:
    ana = make_customer(session)
    first = make_booking(session, ana, total=10_000)
    second = make_booking(session, ana, total=10_000)
    make_payment(session, ana, [(first, 10_000), (second, 2_500)])
    assert booking_money(session, [first, second]) == {
        first.id: BookingMoney(total=10_000, paid=10_000),
        second.id: BookingMoney(total=10_000, paid=2_500),
    }


@pytest.mark.parametrize(
    "status", [s for s in PaymentStatus if s is not PaymentStatus.SUCCEEDED], ids=str
)
def test_only_succeeded_payments_count(session: Session, status: PaymentStatus) -> None:
    ana = make_customer(session)
    booking = make_booking(session, ana, total=10_000)
    make_payment(session, ana, [(booking, 3_000)])
    make_payment(session, ana, [(booking, 7_000)], status=status)

    money = booking_money(session, [booking])[booking.id]
    assert money == BookingMoney(total=10_000, paid=3_000)
    assert money.status is BookingStatus.PARTIALLY_PAID
    assert search_customers(session).rows[0].outstanding == {"usd": 7_000}


@pytest.mark.parametrize(
    "status", [s for s in RefundStatus if s is not RefundStatus.SUCCEEDED], ids=str
)
def test_only_succeeded_refunds_count(session: Session, status: RefundStatus) -> None:
    ana = make_customer(session)
    booking = make_booking(session, ana, total=10_000)
    payment = make_payment(session, ana, [(booking, 10_000)])
    make_refund(session, payment, [(booking, 2_500)])
    make_refund(session, payment, [(booking, 7_500)], status=status)

    money = booking_money(session, [booking])[booking.id]
    assert money == BookingMoney(total=10_000, paid=10_000, refunded=2_500)
    assert money.status is BookingStatus.PARTIALLY_REFUNDED
    assert money.balance == 2_500


def test_booking_money_of_no_bookings_is_empty(session: Session) -> None:
    assert booking_money(session, []) == {}


def test_customer_detail_lists_newest_bookings_first_with_statuses(session: Session) -> None:
    ana = make_customer(session, name="Ana Lima")
    now = utcnow()
    oldest = make_booking(session, ana, total=10_000, starts_at=now - timedelta(days=30))
    middle = make_booking(session, ana, total=6_000, starts_at=now + timedelta(days=2))
    newest = make_booking(session, ana, total=9_000, starts_at=now + timedelta(days=40))
    other_customer = make_customer(session, name="Bruno Costa")
    make_booking(session, other_customer)
    paid = make_payment(
        session, ana, [(oldest, 10_000), (middle, 2_000)], created_at=now - timedelta(days=1)
    )
    make_refund(session, paid, [(oldest, 10_000)])
    declined = make_payment(session, ana, [(newest, 9_000)], status=PaymentStatus.FAILED)

    detail = customer_detail(session, ana.id)

    assert detail is not None
    assert detail.customer.name == "Ana Lima"
    assert [(line.booking.id, line.status) for line in detail.bookings] == [
        (newest.id, BookingStatus.UNPAID),
        (middle.id, BookingStatus.PARTIALLY_PAID),
        (oldest.id, BookingStatus.REFUNDED),
    ]
    assert detail.outstanding == {"usd": 9_000 + 4_000 + 10_000}
    assert [p.id for p in detail.payments] == [declined.id, paid.id]
    assert sorted(detail.payment_bookings[paid.id]) == sorted([oldest.reference, middle.reference])
    assert detail.payment_bookings[declined.id] == [newest.reference]


def test_customer_detail_lists_the_default_card_first(session: Session) -> None:
    ana = make_customer(session)
    for pm, is_default in (("pm_old", False), ("pm_default", True), ("pm_new", False)):
        session.add(
            SavedCard(
                customer_id=ana.id,
                stripe_payment_method_id=pm,
                brand="visa",
                last4="4242",
                exp_month=12,
                exp_year=2030,
                is_default=is_default,
            )
        )
        session.flush()
    detail = customer_detail(session, ana.id)
    assert detail.cards[0].stripe_payment_method_id == "pm_default"


def test_customer_detail_of_unknown_customer_is_none(session: Session) -> None:
    make_customer(session)
    assert customer_detail(session, 999_999) is None
