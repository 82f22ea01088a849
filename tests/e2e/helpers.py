"""Helpers the browser tests share: customers of their own, the charge modal, statuses."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import timedelta

from playwright.sync_api import Browser, Locator, Page, expect
from sqlmodel import Session, select

from devtools.demo import stripe_data
from devtools.stack import EMULATOR_PUBLISHABLE_KEY, EMULATOR_SECRET_KEY, LocalStack
from mioapp.billing.ledger import BookingStatus
from mioapp.customers.detail import customer_detail
from mioapp.models import Booking, Customer, PaymentLink, utcnow
from mioapp.payments import cards, gateway, links
from mioapp.payments.gateway import StripeCredentials, build_client
from mioapp.ui import radix_css
from mioapp.ui.build_plugin import TRIMMED_SHEETS, radix_sheet
from tests.conftest import run_coroutine


def new_customer(
    session: Session,
    credentials: StripeCredentials,
    *,
    totals: list[int],
    card: str | None = None,
    name: str = "Test Customer",
) -> Customer:
    """A customer of our own, with a Stripe customer, bookings and maybe a saved card."""
    customer = Customer(name=name, email=f"{utcnow().timestamp()}@charge.test")
    session.add(customer)
    session.flush()
    customer.stripe_customer_id = run_coroutine(
        gateway.create_customer(
            credentials, name=name, email=customer.email, phone="", local_id=customer.id
        )
    )
    for n, total in enumerate(totals):
        session.add(
            Booking(
                reference=f"BK-T{customer.id}-{n}",
                customer_id=customer.id,
                tour_name=f"Reef Snorkel {n + 1}",
                starts_at=utcnow() + timedelta(days=10 + n),
                participants=2,
                total_amount=total,
                currency="usd",
            )
        )
    if card:
        details = stripe_data.attach_test_card(
            credentials,
            stripe_customer_id=customer.stripe_customer_id,
            number=card,
            exp_month=12,
            exp_year=2031,
        )
        cards.save_card(session, customer_id=customer.id, card=details)
    session.commit()
    return customer


def new_link(session: Session, customer: Customer, amount: int) -> PaymentLink:
    """A payment link for all of `customer`'s bookings, made as the dashboard makes it (its
    email queued), committed."""
    bookings = session.exec(select(Booking).where(Booking.customer_id == customer.id)).all()
    link = links.create_link(
        session,
        customer_id=customer.id,
        booking_ids=[b.id for b in bookings],
        amount=amount,
        expires_in_days=7,
        message="",
        user_id=None,
    )
    session.commit()
    return link


def pay_link(session: Session, customer: Customer, amount: int) -> tuple[PaymentLink, str]:
    """`new_link`, and its `/pay/<token>` path (a copied URL, as the dashboard's Copy link
    gives it)."""
    link = new_link(session, customer, amount)
    url = links.copy_url(session, link_id=link.id, customer_id=customer.id)
    session.commit()
    return link, url[url.index("/pay/") :]


def open_charge(page: Page, customer: Customer) -> Locator:
    page.goto(f"/customers/{customer.id}")
    page.get_by_role("button", name="Charge Customer").click()
    dialog = page.get_by_role("dialog", name=f"Charge {customer.name}")
    expect(dialog).to_be_visible()
    return dialog


def statuses(session: Session, customer: Customer) -> list[BookingStatus]:
    session.expire_all()
    return [line.status for line in customer_detail(session, customer.id).bookings]


def intents_of(credentials: StripeCredentials, customer: Customer) -> list:
    listing = build_client(credentials).v1.payment_intents.list(
        params={"customer": customer.stripe_customer_id}
    )
    return listing.data


def booking_row(page: Page, reference: str) -> Locator:
    return page.get_by_role("region", name="Bookings").get_by_role("row").filter(has_text=reference)


def fill_card(dialog: Locator, number: str) -> None:
    dialog.get_by_label("Card number").fill(number)
    dialog.get_by_label("Expiration month").fill("12")
    dialog.get_by_label("Expiration year").fill("2031")
    dialog.get_by_label("CVC").fill("123")
    postal = dialog.get_by_label("Postal code")
    if postal.count():
        postal.fill("94110")


@dataclass
class Scene:
    """What the tests share: a customer with bookings, a card, a payment, links (one open,
    one paid) and the pay page addresses."""

    customer_id: int
    customer_name: str
    open_path: str
    paid_path: str


def build_scene(stack: LocalStack, browser: Browser, engine) -> Scene:
    credentials = StripeCredentials(
        secret_key=EMULATOR_SECRET_KEY,
        publishable_key=EMULATOR_PUBLISHABLE_KEY,
        api_base=stack.emulator.base_url,
    )
    from tests.e2e.test_payment_links import link_for, pay

    with Session(engine) as session:
        customer = new_customer(
            session,
            credentials,
            totals=[48_000, 12_500, 9_900],
            card="4242424242424242",
            name="Aroha Whitcombe-Delacroix",
        )
        customer_id, customer_name = customer.id, customer.name
        _, paid_path = link_for(session, stack, customer, 9_000)
        _, open_path = link_for(session, stack, customer, 20_000)
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(paid_path)
        pay(page, "4242424242424242")
        expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    finally:
        context.close()
    return Scene(
        customer_id=customer_id,
        customer_name=customer_name,
        open_path=open_path,
        paid_path=paid_path + "/success",
    )


# Every Radix Themes class on the page (components, `rt-r-*` utilities, `sm:rt-*` responsive
# variants), and the text of every rule of the page's style sheets.
_RADIX_CLASSES_AND_RULES = """() => {
  const classes = new Set();
  for (const el of document.querySelectorAll("[class*='rt-']")) {
    for (const name of el.classList) if (/^([a-z]+:)?rt-/.test(name)) classes.add(name);
  }
  const rules = [];
  const walk = (list) => {
    for (const rule of list) {
      if (rule.selectorText !== undefined) rules.push(rule.cssText);
      else if (rule.cssRules) walk(rule.cssRules);  // @media, @layer, @supports
    }
  };
  for (const sheet of document.styleSheets) walk(sheet.cssRules);
  return [[...classes], rules.join("\\n")];
}"""


@functools.cache
def _radix_sheets() -> str:
    """Radix Themes' own component and utility style sheets, untrimmed."""
    return "".join(radix_sheet(name).read_text() for name in TRIMMED_SHEETS)


def in_rules(name: str, css: str) -> bool:
    """Whether a rule of `css` selects the class `name` (`sm:rt-x` is written `.sm\\:rt-x`)."""
    selector = "." + name.replace(":", "\\:")
    return re.search(re.escape(selector) + r"(?![\w-])", css) is not None


@functools.cache
def _cut_selectors() -> tuple[str, ...]:
    """Selectors of Radix's sheets that radix_css.trimmed() leaves out, as querySelector
    takes them (pseudo-elements and Radix's hover-only states dropped)."""
    cut = radix_css.selectors(_radix_sheets()) - radix_css.selectors(
        radix_css.trimmed(_radix_sheets())
    )
    plain = {re.sub(r"(?<!\\)::?[a-z-]+(?![\w(-])", "", s) for s in cut}
    return tuple(sorted(s for s in plain if s.strip()))


_MATCHING = """(selectors) => selectors.filter((s) => {
  try { return document.querySelector(s) !== null; } catch { return false; }
})"""


def matching_cut_selectors(page: Page) -> list[str]:
    """Selectors cut from Radix's style sheets that match something on the page: what
    mioapp/ui/radix_css.py took for unused but is not."""
    return page.evaluate(_MATCHING, list(_cut_selectors()))


def unstyled_radix_classes(page: Page) -> list[str]:
    """Radix classes on the page that Radix styles but the served style sheet does not: what
    mioapp/ui/radix_css.py must never cut."""
    classes, served = page.evaluate(_RADIX_CLASSES_AND_RULES)
    radix = _radix_sheets()
    return sorted(n for n in classes if in_rules(n, radix) and not in_rules(n, served))
