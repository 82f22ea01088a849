"""Customers list and customer page, checked against the database's derived statuses."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from mioapp.billing.money import format_money
from mioapp.customers.detail import customer_detail
from mioapp.models import Booking, Customer, SavedCard, utcnow


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


def _names_in_order(session: Session, *order) -> list[str]:
    return [c.name for c in session.exec(select(Customer).order_by(*order))]


def test_pages_turn_through_the_url_and_the_back_button(
    merchant_page: Page, session: Session
) -> None:
    page = merchant_page
    names = _names_in_order(session, Customer.search_text, Customer.id)
    assert len(names) > 50, "the demo data fills at least three pages"
    expect(page.get_by_text(f"{len(names)} customers")).to_be_visible()
    expect(page.get_by_role("row").nth(1)).to_contain_text(names[0])
    expect(page.get_by_role("button", name="Previous")).to_be_disabled()

    page.get_by_role("button", name="Next").click()
    expect(page).to_have_url(re.compile(r"/customers\?after=\d+$"))
    expect(page.get_by_role("row").nth(1)).to_contain_text(names[25])
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("row").nth(1)).to_contain_text(names[50])
    page.get_by_role("button", name="Previous").click()
    expect(page).to_have_url(re.compile(r"/customers\?before=\d+$"))
    expect(page.get_by_role("row").nth(1)).to_contain_text(names[25])
    expect(page.get_by_role("row").nth(25)).to_contain_text(names[49])

    page.go_back()
    expect(page.get_by_role("row").nth(1)).to_contain_text(names[50])
    page.go_back()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/customers/?$"))
    expect(page.get_by_role("row").nth(1)).to_contain_text(names[0])


def test_search_and_sort_live_in_a_shareable_url(merchant_page: Page, session: Session) -> None:
    page = merchant_page
    by_outstanding = _names_in_order(session, Customer.outstanding_total.desc(), Customer.id.desc())
    page.get_by_role("combobox", name="Sort customers").click()
    page.get_by_role("option", name="Outstanding").click()
    expect(page).to_have_url(re.compile(r"/customers\?sort=outstanding$"))
    expect(page.get_by_role("row").nth(1)).to_contain_text(by_outstanding[0])
    expect(page.get_by_role("row").nth(2)).to_contain_text(by_outstanding[1])

    customer = session.exec(
        select(Customer).order_by(Customer.outstanding_total.desc(), Customer.id.desc())
    ).first()
    surname = customer.name.split()[-1]
    page.get_by_role("searchbox", name="Search customers").fill(surname)
    expect(page).to_have_url(re.compile(rf"/customers\?q={surname}&sort=outstanding$"))
    expect(page.get_by_role("row").nth(1)).to_contain_text(customer.name)

    # Shared: another tab opens the same list from the address alone.
    other = page.context.new_page()
    other.goto(page.url)
    expect(other.get_by_role("searchbox", name="Search customers")).to_have_value(surname)
    expect(other.get_by_role("combobox", name="Sort customers")).to_contain_text("Outstanding")
    expect(other.get_by_role("row").nth(1)).to_contain_text(customer.name)
    other.close()

    # Back leaves the search; back again, the default order.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/customers\?sort=outstanding$"))
    expect(page.get_by_role("searchbox", name="Search customers")).to_have_value("")
    expect(page.get_by_role("row").nth(1)).to_contain_text(by_outstanding[0])
    page.go_back()
    expect(page.get_by_role("combobox", name="Sort customers")).to_contain_text("Name")


def test_sort_by_last_activity(merchant_page: Page, session: Session) -> None:
    page = merchant_page
    latest = _names_in_order(session, Customer.last_activity_at.desc(), Customer.id.desc())
    page.goto("/customers?sort=activity")
    expect(page.get_by_role("row").nth(1)).to_contain_text(latest[0])
    expect(page.get_by_role("row").nth(2)).to_contain_text(latest[1])


def _overdue_customer(session: Session) -> tuple[Customer, Booking]:
    """A demo customer with a booking whose date has passed and that still owes money."""
    now = utcnow()
    for customer in session.exec(select(Customer).order_by(Customer.id)).all():
        for line in customer_detail(session, customer.id).bookings:
            if line.booking.starts_at < now and line.money.balance > 0:
                return customer, line.booking
    raise AssertionError("the demo data has no overdue balance")


def test_overdue_balances_are_flagged_in_the_list_and_the_charge_modal(
    merchant_page: Page, session: Session
) -> None:
    page = merchant_page
    customer, booking = _overdue_customer(session)
    page.get_by_role("searchbox", name="Search customers").fill(customer.email)
    row = page.get_by_role("row").filter(has_text=customer.email)
    expect(row).to_contain_text("Overdue")

    paid_up = next(
        c
        for c in session.exec(select(Customer).order_by(Customer.id)).all()
        if not any(line.money.balance for line in customer_detail(session, c.id).bookings)
    )
    page.get_by_role("searchbox", name="Search customers").fill(paid_up.email)
    paid_row = page.get_by_role("row").filter(has_text=paid_up.email)
    expect(paid_row).to_contain_text("Paid up")
    expect(paid_row).not_to_contain_text("Overdue")

    page.goto(f"/customers/{customer.id}")
    page.get_by_role("button", name="Charge Customer").click()
    dialog = page.get_by_role("dialog")
    option = dialog.locator("label").filter(has_text=booking.reference)
    expect(option).to_contain_text("Overdue")
    future = [
        line.booking
        for line in customer_detail(session, customer.id).bookings
        if line.booking.starts_at > utcnow() and line.money.balance > 0
    ]
    for later in future:
        expect(dialog.locator("label").filter(has_text=later.reference)).not_to_contain_text(
            "Overdue"
        )


def test_phones_get_stacked_cards_and_desktops_every_column(
    merchant_page: Page, session: Session
) -> None:
    page = merchant_page
    names = _names_in_order(session, Customer.search_text, Customer.id)
    first = session.exec(select(Customer).where(Customer.name == names[0])).first()
    detail = customer_detail(session, first.id)
    outstanding = format_money(sum(line.money.balance for line in detail.bookings), "usd")

    # 1366 px: a table whose every column shows its whole heading and cells.
    page.set_viewport_size({"width": 1366, "height": 900})
    expect(page.get_by_role("table")).to_be_visible()
    clipped = page.evaluate(
        """() => [...document.querySelectorAll('table th, table td')]
            .filter(cell => cell.scrollWidth > cell.clientWidth + 1).length"""
    )
    assert clipped == 0
    table_fits = page.evaluate(
        "() => { const t = document.querySelector('table');"
        " return t.scrollWidth <= t.parentElement.clientWidth + 1; }"
    )
    assert table_fits

    # 390 px: cards with name, amount and status; nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_role("table")).to_be_hidden()
    cards = page.get_by_role("list", name="Customers").get_by_role("listitem")
    expect(cards).to_have_count(25)
    expect(cards.first).to_contain_text(names[0])
    expect(cards.first).to_contain_text(outstanding)
    expect(cards.first).to_contain_text(re.compile("Overdue|Balance due|Paid up"))
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), (
        "the page scrolls sideways at 390 px"
    )
    cards.first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/customers/{first.id}$"))


def test_saved_cards_are_listed(merchant_page: Page, session: Session) -> None:
    card = session.exec(select(SavedCard).order_by(SavedCard.id)).first()
    assert card is not None, "a third of demo customers have a saved card"
    merchant_page.goto(f"/customers/{card.customer_id}")
    methods = merchant_page.get_by_role("region", name="Payment methods")
    expect(methods.get_by_text(f"•••• {card.last4}")).to_be_visible()
    expect(
        methods.get_by_text(f"Expires {card.exp_month:02d}/{card.exp_year % 100:02d}")
    ).to_be_visible()


def test_unknown_and_malformed_customer_ids_get_not_found(
    merchant_page: Page, session: Session
) -> None:
    page = merchant_page
    for path in ("/customers/999999", "/customers/abc", "/customers/1e3"):
        page.goto(path)
        expect(page.get_by_role("heading", name="Customer not found")).to_be_visible()
    assert session.get(Booking, 1) is not None
