"""Customers list and customer page, checked against the database's derived statuses."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from mioapp.billing.money import format_money
from mioapp.customers.detail import customer_detail
from mioapp.models import Booking, Customer, SavedCard


def _customer_with_mixed_statuses(session: Session) -> Customer:
    """A seeded customer whose bookings show at least two different statuses."""
    for customer in session.exec(select(Customer).order_by(Customer.id)).all():
        detail = customer_detail(session, customer.id)
        if len({line.status for line in detail.bookings}) >= 2:
            return customer
    raise AssertionError("the demo data has no customer with mixed booking statuses")


def test_search_open_customer_and_see_bookings(merchant_page: Page, session: Session) -> None:
    page = merchant_page
    customer = _customer_with_mixed_statuses(session)
    detail = customer_detail(session, customer.id)

    page.get_by_role("searchbox", name="Search customers").fill(customer.email[:12])
    row = page.get_by_role("row").filter(has_text=customer.email)
    expect(row).to_have_count(1)
    outstanding = sum(line.money.balance for line in detail.bookings)
    expect(row).to_contain_text(format_money(outstanding, "usd"))
    row.get_by_role("link", name=customer.name).click()

    expect(page).to_have_url(re.compile(rf"/customers/{customer.id}$"))
    expect(page.get_by_role("heading", name=customer.name)).to_be_visible()
    expect(page.get_by_text(customer.email)).to_be_visible()
    bookings = page.get_by_role("region", name="Bookings")
    expect(bookings.get_by_role("row")).to_have_count(len(detail.bookings) + 1)
    for line in detail.bookings:
        booking_row = bookings.get_by_role("row").filter(has_text=line.booking.reference)
        expect(booking_row).to_contain_text(line.booking.tour_name)
        expect(booking_row).to_contain_text(line.status.value)
        expect(booking_row).to_contain_text(format_money(line.money.balance, "usd"))
    expect(page.get_by_role("button", name="Charge Customer")).to_be_enabled()

    transactions = page.get_by_role("region", name="Transactions")
    expect(transactions.get_by_role("row")).to_have_count(len(detail.payments) + 1)
    for payment in detail.payments:
        payment_row = transactions.get_by_role("row").filter(
            has_text=payment.stripe_payment_intent_id
        )
        expect(payment_row).to_contain_text(format_money(payment.amount, payment.currency))
        expect(payment_row).to_contain_text("Succeeded")


def test_search_by_phone_and_no_match_empty_state(merchant_page: Page, session: Session) -> None:
    page = merchant_page
    customer = session.exec(
        select(Customer).where(Customer.phone != "").order_by(Customer.id.desc())
    ).first()
    search = page.get_by_role("searchbox", name="Search customers")
    search.fill(customer.phone[-8:])
    expect(page.get_by_role("row").filter(has_text=customer.name).first).to_be_visible()
    search.fill("zzz-no-such-customer")
    expect(page.get_by_text("No customers match your search")).to_be_visible()


def test_pagination_moves_through_customers(merchant_page: Page, session: Session) -> None:
    page = merchant_page
    names = [
        c.name for c in session.exec(select(Customer).order_by(Customer.search_text, Customer.id))
    ]
    pages = -(-len(names) // 25)
    assert pages >= 3, "the demo data fills at least three pages"
    expect(page.get_by_text(f"Page 1 of {pages}")).to_be_visible()
    expect(page.get_by_role("row").nth(1)).to_contain_text(names[0])
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text(f"Page 2 of {pages}")).to_be_visible()
    expect(page.get_by_role("row").nth(1)).to_contain_text(names[25])
    expect(page.get_by_role("button", name="Previous")).to_be_enabled()


def test_saved_cards_are_listed(merchant_page: Page, session: Session) -> None:
    card = session.exec(select(SavedCard).order_by(SavedCard.id)).first()
    assert card is not None, "a third of demo customers have a saved card"
    merchant_page.goto(f"/customers/{card.customer_id}")
    expect(merchant_page.get_by_text(f"•••• {card.last4}")).to_be_visible()
    expect(
        merchant_page.get_by_text(f"Expires {card.exp_month:02d}/{card.exp_year % 100:02d}")
    ).to_be_visible()


def test_unknown_and_malformed_customer_ids_get_not_found(
    merchant_page: Page, session: Session
) -> None:
    page = merchant_page
    for path in ("/customers/999999", "/customers/abc", "/customers/1e3"):
        page.goto(path)
        expect(page.get_by_role("heading", name="Customer not found")).to_be_visible()
    assert session.get(Booking, 1) is not None
