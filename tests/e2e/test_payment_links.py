"""Payment links in the browser: the email, the public pay page, receipts and the dashboard."""

from __future__ import annotations

import re
import time
import urllib.request
from email.message import EmailMessage as MimeMessage

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from devtools.stack import LocalStack
from mioapp.billing.ledger import BookingStatus
from mioapp.models import (
    Booking,
    Customer,
    EmailMessage,
    Payment,
    PaymentLink,
    PaymentLinkStatus,
    PaymentStatus,
    SavedCard,
)
from mioapp.payments import links
from tests.e2e.helpers import (
    booking_row,
    fill_card,
    intents_of,
    new_customer,
    new_link,
    open_charge,
    statuses,
)

PAY_URL = re.compile(r"https?://[^\"'\s<>]+/pay/[A-Za-z0-9_-]{43}")


def mail_to(stack: LocalStack, address: str, subject_part: str = "") -> list[MimeMessage]:
    return [
        m
        for m in stack.mail.messages()
        if address in str(m["To"]) and subject_part.lower() in str(m["Subject"]).lower()
    ]


def wait_for_mail(stack: LocalStack, address: str, subject_part: str, count: int = 1) -> list:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = mail_to(stack, address, subject_part)
        if len(found) >= count:
            return found
        time.sleep(0.25)
    raise AssertionError(f"no email to {address} about {subject_part!r} arrived")


def html_part(message: MimeMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def link_for(
    session: Session, stack: LocalStack, customer: Customer, amount: int
) -> tuple[PaymentLink, str]:
    """`new_link`; its path read from the email received."""
    link = new_link(session, customer, amount)
    queued = session.exec(
        select(EmailMessage).where(EmailMessage.dedupe_key == f"payment-link:{link.id}:send:1")
    ).one()
    # The outbox stores no token: read the URL from the email the app sent (its Message-ID
    # names the outbox row).
    deadline = time.monotonic() + 20
    while not (
        received := [
            m
            for m in stack.mail.messages()
            if str(m["Message-ID"]).startswith(f"<mio.{queued.id}.")
        ]
    ):
        assert time.monotonic() < deadline, f"the email of payment link {link.id} never arrived"
        time.sleep(0.25)
    url = PAY_URL.search(html_part(received[0])).group(0)
    return link, url[url.index("/pay/") :]  # this process's APP_BASE_URL is not the app's


@pytest.fixture
def customer_page(browser: Browser, stack: LocalStack):
    """A separate browser, signed in to nothing: the customer's phone."""
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def pay(page: Page, number: str, *, save: bool = False) -> None:
    fill_card(page.locator("body"), number)
    if save:
        page.get_by_role("checkbox", name=re.compile("Save this card")).click()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()


def test_link_story_from_email_to_saved_card(
    merchant_page: Page, customer_page: Page, session: Session, stack: LocalStack, credentials
) -> None:
    customer = new_customer(session, credentials, totals=[9_000, 6_000], name="Nia Okoro")
    dialog = open_charge(merchant_page, customer)
    dialog.get_by_role("tab", name="Payment link").click()
    dialog.get_by_label("Personal message (optional)").fill("See you at the dock!")
    dialog.get_by_role("button", name="Send Payment Link").click()
    expect(merchant_page.get_by_text(f"Payment link sent to {customer.email}.")).to_be_visible()
    expect(merchant_page.get_by_role("region", name="Payment links")).to_contain_text("$150.00")

    [email] = wait_for_mail(stack, customer.email, "payment")
    html = html_part(email)
    assert "Complete Payment" in html and "See you at the dock!" in html
    url = PAY_URL.search(html).group(0)

    customer_page.goto(url)
    expect(customer_page.get_by_text("Payment for Nia Okoro")).to_be_visible()
    expect(customer_page.get_by_label("Amount due")).to_have_text("$150.00")
    expect(customer_page.get_by_role("list", name="Bookings")).to_contain_text("Reef Snorkel 2")
    pay(customer_page, "4242424242424242", save=True)

    expect(customer_page.get_by_role("heading", name="Payment received")).to_be_visible()
    expect(customer_page).to_have_url(re.compile(r"/pay/[A-Za-z0-9_-]{43}/success$"))
    expect(customer_page.get_by_text(re.compile(r"MIO-\d{6}"))).to_be_visible()
    customer_page.reload()
    expect(customer_page.get_by_role("heading", name="Payment received")).to_be_visible()
    customer_page.goto(url)  # the link itself now shows the receipt, not a form
    expect(customer_page.get_by_role("heading", name="Payment received")).to_be_visible()

    assert statuses(session, customer) == [BookingStatus.CHARGED_IN_FULL] * 2
    # The merchant's open customer page catches up by itself, no reload.
    for n in range(2):
        expect(booking_row(merchant_page, f"BK-T{customer.id}-{n}")).to_contain_text(
            "Charged in Full"
        )
    expect(merchant_page.get_by_role("region", name="Payment links")).to_contain_text("Paid")
    expect(merchant_page.get_by_role("region", name="Payment methods")).to_contain_text("4242")

    [receipt] = wait_for_mail(stack, customer.email, "receipt")
    assert "$150.00" in html_part(receipt)
    merchant_email = session.exec(
        select(EmailMessage)
        .where(EmailMessage.kind == "merchant_payment")
        .where(EmailMessage.customer_id == customer.id)
    ).one()
    wait_for_mail(stack, merchant_email.to_address, customer.name)
    time.sleep(2)  # a late duplicate would have arrived by now
    assert len(mail_to(stack, customer.email, "receipt")) == 1
    assert len(mail_to(stack, merchant_email.to_address, customer.name)) == 1

    # The card saved on the pay page works for a later card-on-file charge.
    session.add(
        Booking(
            reference=f"BK-T{customer.id}-9",
            customer_id=customer.id,
            tour_name="Sunset Sail",
            starts_at=customer.created_at,
            participants=2,
            total_amount=3_000,
            currency="usd",
        )
    )
    session.commit()
    dialog = open_charge(merchant_page, customer)
    expect(dialog.get_by_role("radio", name=re.compile("Visa •••• 4242"))).to_be_checked()
    dialog.get_by_role("button", name="Charge $30.00").click()
    expect(booking_row(merchant_page, f"BK-T{customer.id}-9")).to_contain_text("Charged in Full")


def test_partial_link_leaves_partially_paid(
    customer_page: Page, session: Session, stack: LocalStack, credentials
) -> None:
    customer = new_customer(session, credentials, totals=[20_000])
    _, url = link_for(session, stack, customer, 5_000)

    customer_page.goto(url)
    expect(customer_page.get_by_label("Amount due")).to_have_text("$50.00")
    pay(customer_page, "4242424242424242")

    expect(customer_page.get_by_role("heading", name="Payment received")).to_be_visible()
    assert statuses(session, customer) == [BookingStatus.PARTIALLY_PAID]
    assert session.exec(select(SavedCard).where(SavedCard.customer_id == customer.id)).all() == []


@pytest.mark.parametrize("complete", [True, False], ids=["completed", "failed"])
def test_3d_secure_on_the_pay_page(
    customer_page: Page, session: Session, stack: LocalStack, credentials, complete: bool
) -> None:
    customer = new_customer(session, credentials, totals=[4_000])
    _, url = link_for(session, stack, customer, 4_000)
    customer_page.goto(url)

    pay(customer_page, "4000002760003184")
    challenge = customer_page.get_by_role("dialog", name="3D Secure authentication")
    name = "Complete authentication" if complete else "Fail authentication"
    challenge.get_by_role("button", name=name).click()

    if complete:
        expect(customer_page.get_by_role("heading", name="Payment received")).to_be_visible()
        assert statuses(session, customer) == [BookingStatus.CHARGED_IN_FULL]
    else:
        expect(customer_page.get_by_role("alert")).to_contain_text("3D Secure")
        assert statuses(session, customer) == [BookingStatus.UNPAID]


def test_declined_card_then_a_good_one(
    customer_page: Page, session: Session, stack: LocalStack, credentials
) -> None:
    customer = new_customer(session, credentials, totals=[6_500])
    _, url = link_for(session, stack, customer, 6_500)
    customer_page.goto(url)

    pay(customer_page, "4000000000009995")
    expect(customer_page.get_by_role("alert")).to_contain_text("insufficient funds")
    pay(customer_page, "4242424242424242")

    expect(customer_page.get_by_role("heading", name="Payment received")).to_be_visible()
    assert statuses(session, customer) == [BookingStatus.CHARGED_IN_FULL]
    session.expire_all()
    payments = session.exec(select(Payment).where(Payment.customer_id == customer.id)).all()
    assert sorted(p.status for p in payments) == [PaymentStatus.FAILED, PaymentStatus.SUCCEEDED]


def test_expired_revoked_unknown_and_malformed_links_look_the_same(
    customer_page: Page, session: Session, stack: LocalStack, credentials
) -> None:
    customer = new_customer(session, credentials, totals=[1_000, 1_000])
    expired, expired_url = link_for(session, stack, customer, 1_000)
    expired.expires_at = expired.created_at
    session.commit()
    revoked, revoked_url = link_for(session, stack, customer, 1_000)
    links.revoke_link(session, link_id=revoked.id, customer_id=customer.id, user_id=None)
    session.commit()
    unknown_url = "/pay/" + "A" * 43

    texts = []
    for url in (expired_url, revoked_url, unknown_url, expired_url[:-5]):
        customer_page.goto(url)
        heading = customer_page.get_by_role("heading", name="This payment link is no longer valid")
        expect(heading).to_be_visible()
        texts.append(customer_page.locator("body").inner_text())
    assert len(set(texts[:4])) == 1, "no hint which case it was"


def test_two_tabs_paying_the_same_link_charge_once(
    browser: Browser, stack: LocalStack, session: Session, credentials
) -> None:
    customer = new_customer(session, credentials, totals=[7_700])
    _, url = link_for(session, stack, customer, 7_700)
    context = browser.new_context(base_url=stack.base_url)
    context.set_default_timeout(15_000)
    first, second = context.new_page(), context.new_page()
    for tab in (first, second):
        tab.goto(url)
        fill_card(tab.locator("body"), "4242424242424242")

    for tab in (first, second):
        tab.get_by_role("button", name="Pay $77.00").click()

    expect(first.get_by_role("heading", name="Payment received")).to_be_visible()
    expect(second.get_by_role("heading", name="Payment received")).to_be_visible()
    context.close()
    succeeded = [i for i in intents_of(credentials, customer) if i.status == "succeeded"]
    assert len(succeeded) == 1
    session.expire_all()
    paid = session.exec(
        select(Payment)
        .where(Payment.customer_id == customer.id)
        .where(Payment.status == PaymentStatus.SUCCEEDED)
    ).all()
    assert len(paid) == 1


def test_an_open_pay_page_follows_a_payment_made_in_another_tab(
    browser: Browser, stack: LocalStack, session: Session, credentials
) -> None:
    customer = new_customer(session, credentials, totals=[5_300])
    _, url = link_for(session, stack, customer, 5_300)
    context = browser.new_context(base_url=stack.base_url)
    context.set_default_timeout(15_000)
    payer, watcher = context.new_page(), context.new_page()
    watcher.goto(url)
    expect(watcher.get_by_role("button", name="Pay $53.00")).to_be_visible()
    payer.goto(url)
    fill_card(payer.locator("body"), "4242424242424242")
    payer.get_by_role("button", name="Pay $53.00").click()

    expect(payer.get_by_role("heading", name="Payment received")).to_be_visible()
    # Untouched and unreloaded, the other tab learns of it and shows the receipt.
    expect(watcher.get_by_role("heading", name="Payment received")).to_be_visible()
    expect(watcher).to_have_url(re.compile(r"/success$"))
    context.close()


def test_a_mail_scanner_get_changes_nothing(
    stack: LocalStack, session: Session, credentials
) -> None:
    customer = new_customer(session, credentials, totals=[2_000])
    link, path = link_for(session, stack, customer, 2_000)
    url = stack.base_url + path

    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
    with urllib.request.urlopen(url + "/success", timeout=10) as response:
        assert response.status == 200

    session.expire_all()
    assert session.get(PaymentLink, link.id).status == PaymentLinkStatus.SENT
    assert session.exec(select(Payment).where(Payment.customer_id == customer.id)).all() == []
    assert intents_of(credentials, customer) == []


def test_copy_resend_and_revoke_from_the_customer_page(
    merchant_page: Page,
    customer_page: Page,
    session: Session,
    stack: LocalStack,
    credentials,
) -> None:
    customer = new_customer(session, credentials, totals=[4_400])
    link, first_path = link_for(session, stack, customer, 4_400)
    merchant_page.goto(f"/customers/{customer.id}")
    row = merchant_page.get_by_role("region", name="Payment links").get_by_role("row").nth(1)
    expect(row).to_contain_text("Sent")

    row.get_by_role("button", name="Copy link").click()
    copied = merchant_page.get_by_label("Payment link address")
    expect(copied).to_have_value(re.compile(r"/pay/[A-Za-z0-9_-]{43}$"))
    copied_path = "/pay/" + copied.input_value().rsplit("/pay/", 1)[1]
    merchant_page.get_by_role("button", name="Done").click()
    assert copied_path != first_path

    row.get_by_role("button", name="Resend").click()
    expect(
        merchant_page.get_by_text(f"Payment link sent again to {customer.email}.")
    ).to_be_visible()
    resent = wait_for_mail(stack, customer.email, "payment", count=2)  # created, resent
    resent_path = PAY_URL.search(html_part(resent[-1])).group(0)
    resent_path = resent_path[resent_path.index("/pay/") :]
    assert resent_path not in (first_path, copied_path)

    for path in (first_path, copied_path, resent_path):
        customer_page.goto(path)
        expect(customer_page.get_by_label("Amount due")).to_have_text("$44.00")

    row.get_by_role("button", name="Revoke").click()
    merchant_page.get_by_role("alertdialog").get_by_role("button", name="Revoke link").click()
    expect(row).to_contain_text("Revoked")
    for path in (first_path, copied_path, resent_path):
        customer_page.goto(path)
        expect(
            customer_page.get_by_role("heading", name="This payment link is no longer valid")
        ).to_be_visible()
    session.expire_all()
    assert session.get(PaymentLink, link.id).status == PaymentLinkStatus.REVOKED
