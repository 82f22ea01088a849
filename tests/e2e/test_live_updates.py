"""Open customer pages follow changes pushed to them, and an idle page costs nothing."""

from __future__ import annotations

import re
import time
import urllib.request

from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from devtools.stack import METRICS_TOKEN, LocalStack
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import booking_row, new_customer, open_charge


def _statements(stack: LocalStack) -> int:
    request = urllib.request.Request(
        f"{stack.base_url}/api/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        text = response.read().decode()
    return sum(int(n) for n in re.findall(r"^mio_db_statements_total\{[^}]*\} (\d+)$", text, re.M))


def _merchant_tab(browser: Browser, stack: LocalStack) -> Page:
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 1360, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page)
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    return page


def test_another_merchants_charge_reaches_an_open_page_within_a_second(
    merchant_page: Page, browser: Browser, stack: LocalStack, session: Session, credentials
) -> None:
    customer = new_customer(session, credentials, totals=[4_400], card="4242424242424242")
    watcher = _merchant_tab(browser, stack)
    watcher.goto(f"/customers/{customer.id}")
    row = booking_row(watcher, f"BK-T{customer.id}-0")
    expect(row).to_contain_text("Unpaid")

    dialog = open_charge(merchant_page, customer)
    dialog.get_by_role("button", name="Charge $44.00").click()
    expect(merchant_page.get_by_text(f"Charged {customer.name} $44.00.")).to_be_visible()

    expect(row).to_contain_text("Charged in Full", timeout=1_000)
    watcher.context.close()


def test_idle_open_customer_pages_send_no_queries(
    browser: Browser, stack: LocalStack, session: Session, credentials
) -> None:
    customers = [new_customer(session, credentials, totals=[1_000]) for _ in range(5)]
    tabs = []
    for customer in customers:
        tab = _merchant_tab(browser, stack)
        tab.goto(f"/customers/{customer.id}")
        expect(tab.get_by_role("heading", name=customer.name)).to_be_visible()
        tabs.append(tab)

    before = _statements(stack)
    time.sleep(10)
    after = _statements(stack)

    assert after - before == 0, f"{after - before} statements in 10 s from idle pages"
    for tab in tabs:
        tab.context.close()
