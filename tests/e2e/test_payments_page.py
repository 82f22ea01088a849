"""The Payments page in the browser: filters and search kept in the URL, keyset paging,
a row opening its customer at that transaction, the CSV download (and its refusal when
signed out), and stacked rows on a phone."""

from __future__ import annotations

import csv
import io
import re
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from devtools.stack import LocalStack
from mioapp.billing.money import format_money
from mioapp.billing.transactions import (
    StatusFilter,
    TransactionFilter,
    TransactionKind,
    transaction_page,
)
from mioapp.business import default_profile
from mioapp.models import Customer, PaymentStatus, utcnow
from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.unit.factories import make_booking, make_customer, make_payment, make_refund

PAYMENTS = 30
FAILED_EVERY = 4  # every fourth payment of the test customer failed: 8 of 30
FAILED = 8


@pytest.fixture
def customer(session: Session) -> Customer:
    """A customer with a name no demo customer has, 30 payments (some failed) and a refund,
    the newest a minute old."""
    name = f"Quill {secrets.token_hex(3)}"
    customer = make_customer(session, name=name, email=f"{name.split()[1]}@quill.test")
    booking = make_booking(session, customer, total=900_000)
    now = utcnow()
    payments = [
        make_payment(
            session,
            customer,
            [(booking, 1_000 + n)],
            status=PaymentStatus.FAILED if n % FAILED_EVERY == 0 else PaymentStatus.SUCCEEDED,
            created_at=now - timedelta(minutes=1 + n),
        )
        for n in range(PAYMENTS)
    ]
    refund = make_refund(session, payments[1], [(booking, 500)])
    refund.created_at = now - timedelta(minutes=10)
    session.commit()
    return customer


def _params(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_filters_and_search_live_in_the_url_with_keyset_paging(
    merchant_page: Page, customer: Customer
) -> None:
    page = merchant_page
    page.get_by_role("link", name="Payments").first.click()
    expect(page.get_by_role("heading", name="Payments", level=1)).to_be_visible()

    page.get_by_role("searchbox", name="Search payments").fill(customer.name)
    expect(page).to_have_url(re.compile(r"[?&]q=Quill"))
    rows = page.get_by_role("table").locator("tbody tr")
    # 30 payments and a refund: a full page, then the rest on the older page.
    expect(rows).to_have_count(25)
    expect(rows.first).to_contain_text(customer.name)
    page.get_by_role("link", name="Older").click()
    expect(page).to_have_url(re.compile(r"[?&]after="))
    expect(rows).to_have_count(6)
    assert _params(page)["q"] == [customer.name]
    expect(page.get_by_role("button", name="Older")).to_be_disabled()
    page.get_by_role("link", name="Newer").click()
    expect(rows).to_have_count(25)
    expect(page.get_by_role("button", name="Newer")).to_be_disabled()

    page.get_by_role("combobox", name="Status").click()
    page.get_by_role("option", name="Failed").click()
    expect(page).to_have_url(re.compile(r"[?&]status=failed"))
    expect(rows).to_have_count(FAILED)
    for n in range(rows.count()):
        expect(rows.nth(n)).to_contain_text("Failed")
    assert "after" not in _params(page)

    # The URL is the page: reloading or sharing it shows the same rows and filters.
    page.reload()
    expect(rows).to_have_count(FAILED)
    expect(page.get_by_role("combobox", name="Status")).to_have_text("Failed")
    expect(page.get_by_role("searchbox", name="Search payments")).to_have_value(customer.name)

    page.get_by_label("From").fill(utcnow().date().isoformat())
    expect(page).to_have_url(re.compile(r"[?&]from=\d{4}-\d\d-\d\d"))
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"[?&]from="))
    expect(page).to_have_url(re.compile(r"[?&]status=failed"))

    page.get_by_role("button", name="Clear filters").click()
    expect(page).to_have_url(re.compile(r"/payments$"))
    expect(page.get_by_role("searchbox", name="Search payments")).to_have_value("")


def test_row_opens_the_customer_with_that_transaction_highlighted(
    merchant_page: Page, session: Session, customer: Customer
) -> None:
    page = merchant_page
    succeeded = TransactionFilter(
        search=customer.name, status=StatusFilter.SUCCEEDED, kind=TransactionKind.PAYMENT
    )
    rows = transaction_page(session, succeeded, time_zone="UTC").rows
    assert len(rows) == PAYMENTS - FAILED
    # Far down the customer's Transactions, so the page has to scroll to it.
    target = rows[-3]
    page.goto(f"/payments?q={customer.name}&status=succeeded&type=payment")
    expect(page.get_by_role("table").locator("tbody tr")).to_have_count(PAYMENTS - FAILED)
    page.locator(f'tr[data-key="payment-{target.id}"]').click()

    expect(page).to_have_url(re.compile(rf"/customers/{customer.id}\?highlight={target.id}$"))
    transactions = page.get_by_role("region", name="Transactions")
    highlighted = transactions.locator('tr[aria-current="true"]')
    expect(highlighted).to_have_count(1)
    expect(highlighted).to_have_id(f"transaction-{target.id}")
    expect(highlighted).to_contain_text(format_money(target.amount, "usd"))
    expect(highlighted).to_be_in_viewport()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "customer-highlight-1366.png")


def test_export_downloads_exactly_the_filtered_rows(
    merchant_page: Page, session: Session, customer: Customer
) -> None:
    page = merchant_page
    page.goto(f"/payments?q={customer.name}&status=succeeded")
    expect(page.get_by_role("table").locator("tbody tr").first).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    text = download_info.value.path().read_text(encoding="utf-8-sig")
    lines = list(csv.DictReader(io.StringIO(text)))
    expected = transaction_page(
        session,
        TransactionFilter(search=customer.name, status=StatusFilter.SUCCEEDED),
        time_zone=default_profile().time_zone,
        page_size=100,
    ).rows
    # Every page of them (the refund too), not only the 25 shown.
    assert len(expected) == PAYMENTS - FAILED + 1
    assert [
        (line["Type"], line["Receipt number"], line["Amount"], line["Currency"]) for line in lines
    ] == [
        (
            t.kind.value,
            f"MIO-{t.payment.id:06d}",
            f"{(-t.amount if t.refund else t.amount) / 100:.2f}",
            "USD",
        )
        for t in expected
    ]
    assert {line["Customer"] for line in lines} == {customer.name}
    assert [line["Status"] for line in lines].count("partially_refunded") == 1


def test_signed_out_export_is_refused(browser: Browser, stack: LocalStack) -> None:
    context = browser.new_context(base_url=stack.base_url)
    try:
        response = context.request.get("/api/payments/export.csv")
        assert response.status == 401
        assert "MIO-" not in response.text()
        forged = context.request.get(
            "/api/payments/export.csv", headers={"Cookie": "mio_session=forged"}
        )
        assert forged.status == 401
    finally:
        context.close()


def test_phone_shows_stacked_rows_with_amount_and_status(
    browser: Browser, stack: LocalStack, customer: Customer
) -> None:
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page)
        expect(page.get_by_role("heading", name="Customers")).to_be_visible()
        page.goto(f"/payments?q={customer.name}")
        items = page.get_by_role("list", name="Transactions").get_by_role("link")
        expect(items).to_have_count(25)
        expect(page.get_by_role("table")).to_be_hidden()
        newest = items.first
        expect(newest).to_contain_text(customer.name)
        expect(newest).to_contain_text(format_money(1_000, "usd"))
        expect(newest).to_contain_text("Failed")
        expect(newest).to_be_in_viewport()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "payments-390.png", full_page=False)
        page.set_viewport_size({"width": 1366, "height": 900})
        expect(page.get_by_role("table")).to_be_visible()
        page.screenshot(path=ARTIFACTS / "payments-1366.png", full_page=False)
    finally:
        context.close()
