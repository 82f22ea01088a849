"""Time, place and identity in the browser: the business profile set in Settings reaches the
dashboard, the pay page, the receipt and its email; the 404 page; tab titles; the Outbox
preview opening a payment link's pay page."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from devtools.stack import LocalStack
from mioapp import business
from mioapp.business import BusinessProfile, default_profile
from mioapp.formatting import when, when_in_zone
from mioapp.models import (
    Booking,
    Business,
    EmailMessage,
    Payment,
    PaymentLinkStatus,
    PaymentLinkToken,
)
from mioapp.notifications.render import MASK
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import new_customer, open_charge
from tests.e2e.test_payment_links import html_part, link_for, pay, wait_for_mail

REEF = BusinessProfile(
    name="Reef Runners Berlin",
    email="hello@reef-runners.test",
    phone="+49 30 1234 5678",
    reply_to="desk@reef-runners.test",
    time_zone="Europe/Berlin",
    locale="de_DE",
)
# Summer in Berlin: 16:30 UTC is 18:30 MESZ.
TOUR_STARTS = datetime(2031, 7, 14, 16, 30, tzinfo=UTC)
LABELS = {
    "name": "Business name",
    "email": "Contact email",
    "phone": "Contact phone (optional)",
    "reply_to": "Reply-to address (optional)",
    "time_zone": "Time zone",
    "locale": "Locale",
}


def _save_in_settings(page: Page, values: dict[str, str]) -> None:
    page.goto("/settings/business")
    expect(page.get_by_role("heading", name="Business profile")).to_be_visible()
    for field, text in values.items():
        page.get_by_label(LABELS[field], exact=True).fill(text)
    page.get_by_role("button", name="Save business profile").click()


@pytest.fixture
def phone(browser: Browser, stack: LocalStack) -> Iterator[Page]:
    """The customer's phone: a browser of its own, signed in to nothing."""
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _stored(session: Session) -> Business | None:
    session.expire_all()
    return session.exec(select(Business)).first()


@pytest.fixture
def profile_restored(browser: Browser, stack: LocalStack, engine: sa.Engine) -> Iterator[None]:
    """Puts the environment's profile back through Settings (so the app's cache has it at
    once): the browser tests share one app, and the ones after this expect the defaults."""
    yield
    defaults = default_profile()
    context = browser.new_context(base_url=stack.base_url)
    try:
        page = context.new_page()
        sign_in(page)
        expect(page.get_by_role("heading", name="Customers")).to_be_visible()
        _save_in_settings(page, {f: getattr(defaults, f) for f in LABELS})
        expect(page.get_by_text("Business profile saved.")).to_be_visible()
    except Exception:
        # Settings itself is broken: clear the row and wait out the app's cache instead.
        with engine.begin() as connection:
            connection.execute(sa.delete(Business))
        time.sleep(business.PROFILE_TTL + 1)
        raise
    finally:
        context.close()
        business.forget_cached_profile()


def test_the_profile_set_in_settings_is_what_every_page_and_email_shows(
    merchant_page: Page,
    phone: Page,
    session: Session,
    stack: LocalStack,
    credentials,
    profile_restored: None,
) -> None:
    page = merchant_page
    customer = new_customer(session, credentials, totals=[123_456], name="Lena Vogel")
    booking = session.exec(select(Booking).where(Booking.customer_id == customer.id)).one()
    booking.starts_at = TOUR_STARTS
    session.commit()

    # A wrong value is said next to its field; nothing typed is lost, nothing is saved.
    _save_in_settings(page, {"time_zone": "Mars/Olympus_Mons", "email": "hello at reef"})
    zone = page.get_by_label("Time zone", exact=True)
    expect(page.get_by_text("Choose a time zone from the list")).to_be_visible()
    expect(page.get_by_text("Enter an email address such as hello@example.com")).to_be_visible()
    expect(zone).to_have_value("Mars/Olympus_Mons")
    expect(zone).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Contact email", exact=True)).to_have_value("hello at reef")
    assert _stored(session) is None

    _save_in_settings(
        page,
        {
            "name": REEF.name,
            "email": REEF.email,
            "phone": REEF.phone,
            "reply_to": REEF.reply_to,
            "time_zone": "europe/berlin",
            "locale": "de-DE",
        },
    )
    expect(page.get_by_text("Business profile saved.")).to_be_visible()
    expect(page.get_by_label("Time zone", exact=True)).to_have_value("Europe/Berlin")
    expect(page.get_by_text(re.compile(r"Dates read 14\.07\.2026 · 18:30 MESZ"))).to_be_visible()
    stored = _stored(session)
    assert (stored.name, stored.time_zone, stored.locale) == (REEF.name, "Europe/Berlin", "de_DE")
    assert (stored.contact_phone, stored.reply_to) == (REEF.phone, REEF.reply_to)
    business.forget_cached_profile()  # this process queues the link's email below

    # The dashboard: the business's name, dates on its clock, amounts as Germans write them.
    page.goto(f"/customers/{customer.id}")
    expect(page.get_by_text(REEF.name).first).to_be_visible()
    bookings = page.get_by_role("region", name="Bookings")
    expect(bookings).to_contain_text("14.07.2031 · 18:30")
    expect(bookings).to_contain_text("1.234,56\xa0$")
    # ...and typed the same way in the charge form.
    dialog = open_charge(page, customer)
    amount = dialog.get_by_label("Amount", exact=True)
    expect(amount).to_have_value("1234,56")
    amount.fill("100,50")
    expect(dialog.get_by_role("button", name="Charge 100,50\xa0$")).to_be_visible()
    dialog.get_by_role("button", name="Close").click()

    # The customer's pay page, on a phone.
    _, url = link_for(session, stack, customer, 123_456)
    link_email = session.exec(
        select(EmailMessage).where(EmailMessage.customer_id == customer.id)
    ).one()
    assert "14.07.2031 · 18:30 MESZ" in link_email.text_body, "the email names the zone"
    phone.goto(url)
    expect(phone.get_by_role("heading", name=REEF.name)).to_be_visible()
    expect(phone).to_have_title(f"Pay {REEF.name}")
    expect(phone.get_by_label("Amount due")).to_have_text("1.234,56\xa0$")
    expect(phone.get_by_role("list", name="Bookings")).to_contain_text("14.07.2031 · 18:30")
    contact = phone.get_by_text(f"Questions? Contact {REEF.name} at")
    expect(contact.get_by_role("link", name=REEF.email)).to_have_attribute(
        "href", f"mailto:{REEF.email}"
    )
    expect(contact.get_by_role("link", name=REEF.phone)).to_have_attribute(
        "href", "tel:+493012345678"
    )

    pay(phone, "4242424242424242")
    expect(phone.get_by_role("heading", name="Payment received")).to_be_visible()
    expect(phone).to_have_title(f"Payment received · {REEF.name}")
    session.expire_all()
    payment = session.exec(select(Payment).where(Payment.customer_id == customer.id)).one()
    paid_at = when_in_zone(payment.succeeded_at or payment.updated_at, REEF)
    assert re.search(r" ME(S)?Z$", paid_at), paid_at
    expect(phone.get_by_text(paid_at)).to_be_visible()
    expect(phone.get_by_text(f"Questions? Contact {REEF.name} at")).to_be_visible()

    # The receipt email: replies go to the business, the date names the zone.
    [receipt] = wait_for_mail(stack, customer.email, "receipt")
    assert receipt["Reply-To"] == REEF.reply_to
    text = receipt.get_body(("plain",)).get_content()
    assert f"Date: {when_in_zone(payment.succeeded_at, REEF)}" in text
    assert f"Questions? Contact {REEF.name}: {REEF.email}, {REEF.phone}" in text
    assert "1.234,56\xa0$" in html_part(receipt)

    # The dashboard's transaction follows too; an invalid link still says whom to ask.
    page.goto(f"/customers/{customer.id}")
    transactions = page.get_by_role("region", name="Transactions")
    expect(transactions).to_contain_text(when(payment.created_at, REEF))
    phone.goto("/pay/" + "A" * 43)
    expect(phone.get_by_text(f"Please contact {REEF.name} for a new link.")).to_be_visible()
    expect(phone.get_by_role("link", name=REEF.email)).to_be_visible()


def test_an_unknown_address_gets_a_404_page_with_a_way_back(merchant_page: Page) -> None:
    page = merchant_page
    response = page.goto("/no/such/page")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1, name="Page not found")).to_be_visible()
    expect(page).to_have_title("Page not found · MioCommerce")
    page.get_by_role("link", name="Go to Customers").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/customers$"))


def test_the_phone_names_the_customer_in_the_tab(
    merchant_page: Page, session: Session, credentials
) -> None:
    customer = new_customer(session, credentials, totals=[5_000], name="Ana Lima")
    merchant_page.goto(f"/customers/{customer.id}")
    expect(merchant_page.get_by_role("heading", name="Ana Lima")).to_be_visible()
    expect(merchant_page).to_have_title("Ana Lima · Customers · MioCommerce")


def test_the_outbox_preview_opens_the_pay_page_of_a_live_link_in_a_new_tab(
    merchant_page: Page, session: Session, stack: LocalStack, credentials
) -> None:
    page = merchant_page
    customer = new_customer(session, credentials, totals=[4_200], name="Noor Haddad")
    link, _ = link_for(session, stack, customer, 4_200)
    email = session.exec(
        select(EmailMessage).where(EmailMessage.dedupe_key == f"payment-link:{link.id}:send:1")
    ).one()
    urls_before = len(
        session.exec(
            select(PaymentLinkToken).where(PaymentLinkToken.payment_link_id == link.id)
        ).all()
    )

    page.goto("/outbox")
    row = page.get_by_role("row").filter(has_text=email.subject).filter(has_text=customer.email)
    row.get_by_role("button", name="Preview").click()
    dialog = page.get_by_role("dialog")
    frame = dialog.frame_locator("iframe")
    expect(frame.get_by_role("link", name="Complete Payment")).to_have_attribute(
        "href", re.compile(re.escape(f"/pay/{MASK}") + "$")
    )
    with page.context.expect_page() as opened:
        dialog.get_by_role("button", name="Open pay page").click()
    pay_tab = opened.value
    pay_tab.wait_for_load_state()
    assert re.search(r"/pay/[A-Za-z0-9_-]{43}$", pay_tab.url), pay_tab.url
    expect(pay_tab.get_by_text("Payment for Noor Haddad")).to_be_visible()
    expect(pay_tab.get_by_label("Amount due")).to_have_text("$42.00")
    session.expire_all()
    tokens = session.exec(
        select(PaymentLinkToken).where(PaymentLinkToken.payment_link_id == link.id)
    ).all()
    assert len(tokens) == urls_before + 1, "a fresh URL, not the emailed one"
    pay_tab.close()
    dialog.get_by_role("button", name="Close").click()

    # Once the link can't be paid, the preview offers no pay page.
    link.status = PaymentLinkStatus.REVOKED
    session.add(link)
    session.commit()
    page.reload()
    row = page.get_by_role("row").filter(has_text=email.subject).filter(has_text=customer.email)
    row.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("dialog").get_by_role("heading", name=email.subject)).to_be_visible()
    expect(page.get_by_role("button", name="Open pay page")).to_have_count(0)
