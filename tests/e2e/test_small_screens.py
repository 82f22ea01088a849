"""Phones and wide screens: at 390 px no amount, balance or status is off-screen (tables turn
into one card a row) and the charge modal fits; at 1366 px no table column is clipped;
Revoke asks before it acts."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlmodel import Session, select

from devtools.stack import LocalStack
from mioapp.models import PaymentLink, PaymentLinkStatus
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import Scene, build_scene
from tests.e2e.test_accessibility import WIDTHS, _context_page

SIDEWAYS = """el => ({scroll: el.scrollWidth, client: el.clientWidth})"""


@pytest.fixture(scope="module")
def scene(stack: LocalStack, browser: Browser, engine) -> Scene:
    return build_scene(stack, browser, engine)


@pytest.fixture
def phone(browser: Browser, stack: LocalStack) -> Iterator[Page]:
    for page in _context_page(browser, stack, WIDTHS["phone"]):
        sign_in(page)
        expect(page.get_by_role("heading", name="Customers", level=1)).to_be_visible()
        yield page


@pytest.fixture
def desktop(browser: Browser, stack: LocalStack) -> Iterator[Page]:
    for page in _context_page(browser, stack, WIDTHS["desktop"]):
        sign_in(page)
        expect(page.get_by_role("heading", name="Customers", level=1)).to_be_visible()
        yield page


def _no_sideways_scroll(page: Page) -> None:
    sizes = page.locator("html").evaluate(SIDEWAYS)
    assert sizes["scroll"] <= sizes["client"], f"the page scrolls sideways: {sizes}"
    for table in page.locator(".rt-TableRoot").all():
        sizes = table.locator("xpath=..").evaluate(SIDEWAYS)
        assert sizes["scroll"] <= sizes["client"], f"a table scrolls sideways: {sizes}"


def _fully_on_screen(element: Locator) -> None:
    """`element` can be scrolled to and then lies wholly inside the viewport (not cut off by
    the screen's edge or by a table scrolling inside its card)."""
    element.scroll_into_view_if_needed()
    expect(element).to_be_in_viewport(ratio=1)


def _open_customer(page: Page, scene: Scene) -> None:
    page.goto(f"/customers/{scene.customer_id}")
    expect(page.get_by_role("heading", name=scene.customer_name, level=1)).to_be_visible()
    expect(page.get_by_role("region", name="Payment links")).to_contain_text("Paid")


def test_the_customer_page_shows_every_amount_on_a_phone(phone: Page, scene: Scene) -> None:
    _open_customer(phone, scene)
    _no_sideways_scroll(phone)
    bookings = phone.get_by_role("region", name="Bookings")
    for amount in ("$480.00", "$390.00", "$125.00", "$99.00", "Partially Paid", "Unpaid"):
        _fully_on_screen(bookings.get_by_text(amount, exact=True).first)
    # Each value says what it is: the column's title stands beside it.
    balance = bookings.locator("td[data-label='Balance']").first
    assert balance.evaluate("el => getComputedStyle(el, '::before').content") == '"Balance"'

    transactions = phone.get_by_role("region", name="Transactions")
    _fully_on_screen(transactions.get_by_text("$90.00", exact=True))
    _fully_on_screen(transactions.get_by_text("Succeeded", exact=True))
    _fully_on_screen(transactions.get_by_text(re.compile(r"^pi_")))

    links = phone.get_by_role("region", name="Payment links")
    for text in ("$200.00", "$90.00", re.compile("^(Sent|Opened)$"), "Paid"):
        _fully_on_screen(links.get_by_text(text, exact=True).first)
    _fully_on_screen(links.get_by_role("button", name="Revoke"))


def test_the_outbox_fits_a_phone(phone: Page, scene: Scene) -> None:
    phone.goto("/outbox")
    expect(phone.get_by_role("heading", name="Outbox", level=1)).to_be_visible()
    first = phone.get_by_role("row").filter(has_text="Payment request").first
    expect(first).to_be_visible()
    _no_sideways_scroll(phone)
    _fully_on_screen(first.get_by_text(re.compile(r"\$\d+\.\d\d")).first)
    _fully_on_screen(first.get_by_text("Sent", exact=True))
    _fully_on_screen(first.get_by_role("button", name=re.compile("^Preview")))
    first.get_by_role("button", name=re.compile("^Preview")).click()
    _fits(phone, phone.get_by_role("dialog"))


def _fits(page: Page, dialog: Locator) -> None:
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    size = page.viewport_size
    assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"], box
    assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"], box


def test_the_charge_modal_fits_a_phone(phone: Page, scene: Scene) -> None:
    _open_customer(phone, scene)
    phone.get_by_role("button", name="Charge Customer").click()
    dialog = phone.get_by_role("dialog", name=f"Charge {scene.customer_name}")
    _fits(phone, dialog)
    for tab in ("Card on file", "New card", "Payment link"):
        dialog.get_by_role("tab", name=tab).click()
        _fits(phone, dialog)
        _no_sideways_scroll(phone)
        _fully_on_screen(dialog.get_by_role("button", name="Cancel"))
        for part in dialog.get_by_role("textbox").all():
            if part.is_visible():
                _fully_on_screen(part)


def test_no_column_is_clipped_on_a_desktop(desktop: Page, scene: Scene) -> None:
    _open_customer(desktop, scene)
    _no_sideways_scroll(desktop)
    for name in ("Bookings", "Transactions", "Payment links"):
        region = desktop.get_by_role("region", name=name)
        for header in region.get_by_role("columnheader").all():
            _fully_on_screen(header)
        for button in region.get_by_role("button").all():
            _fully_on_screen(button)
    desktop.goto("/outbox")
    expect(desktop.get_by_role("row").nth(1)).to_be_visible()
    _no_sideways_scroll(desktop)
    for header in desktop.get_by_role("columnheader").all():
        _fully_on_screen(header)


def test_revoke_asks_first(desktop: Page, scene: Scene, session: Session) -> None:
    _open_customer(desktop, scene)
    row = (
        desktop.get_by_role("region", name="Payment links")
        .get_by_role("row")
        .filter(has_text="$200.00")
    )
    row.get_by_role("button", name="Revoke").click()
    question = desktop.get_by_role("alertdialog", name="Revoke this payment link?")
    expect(question).to_contain_text("$200.00")
    question.get_by_role("button", name="Cancel").click()
    expect(question).to_be_hidden()
    expect(row).to_contain_text(re.compile("Sent|Opened"))
    session.expire_all()
    links = session.exec(select(PaymentLink).where(PaymentLink.customer_id == scene.customer_id))
    assert PaymentLinkStatus.REVOKED not in {link.status for link in links}
