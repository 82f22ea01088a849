"""Email end to end: the job consumer delivers the outbox over SMTP; the Outbox page shows it."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import EmailMessage as MimeMessage

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import Session, select

from devtools.mailserver import start_mail_server
from devtools.stack import LocalStack
from mioapp.billing.balances import booking_shares
from mioapp.jobs.outbox import send_outbox
from mioapp.models import Booking, Customer, EmailMessage, EmailStatus, utcnow
from mioapp.notifications.outbox import queue_email
from mioapp.notifications.render import MASK, PAYMENT_LINK, booking_lines
from mioapp.notifications.sender import MAX_ATTEMPTS

# Each commit that queues an email nudges the app's job consumer: seconds, not minutes.
DELIVERY_TIMEOUT = 15.0


def _customer(session: Session, nth: int) -> Customer:
    customers = session.exec(
        select(Customer).join(Booking, Booking.customer_id == Customer.id).order_by(Customer.id)
    ).unique()
    return list(customers)[nth]


def _queue_payment_link(
    session: Session, customer: Customer, amount: int, message: str = ""
) -> tuple[EmailMessage, str]:
    """A payment-link email for `customer`'s first booking, its token kept out of the stored
    email as the app keeps it; the caller commits, as the app does."""
    booking = session.exec(
        select(Booking).where(Booking.customer_id == customer.id).order_by(Booking.id)
    ).first()
    token = secrets.token_urlsafe(32)
    pay_url = f"http://localhost/pay/{token}"
    email = queue_email(
        session,
        dedupe_key=f"test:outbox:{uuid.uuid4()}",
        kind=PAYMENT_LINK,
        to_address=customer.email,
        customer_id=customer.id,
        context={
            "customer_name": customer.name,
            "bookings": booking_lines(booking_shares(session, [(booking.id, amount)])),
            "amount": amount,
            "currency": booking.currency,
            "pay_url": pay_url,
            "expires_at": utcnow() + timedelta(days=7),
            "message": message,
        },
        secret=token,
    )
    assert email is not None
    return email, pay_url


def _wait_until(check: Callable[[], object], what: str, timeout: float = DELIVERY_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _received(stack: LocalStack, to: str, subject: str) -> list[MimeMessage]:
    return [m for m in stack.mail.messages() if m["To"] == to and m["Subject"] == subject]


def _reloaded(session: Session, email: EmailMessage) -> EmailMessage:
    session.expire_all()
    return session.get(EmailMessage, email.id)


def _marked_sent(session: Session, email: EmailMessage) -> EmailMessage:
    """The consumer commits `sent` just after the server accepts the message: wait for that."""
    return _wait_until(
        lambda: (e := _reloaded(session, email)).status == EmailStatus.SENT and e,
        "the email to be marked sent",
    )


def _outbox_row(page: Page, email: EmailMessage) -> Locator:
    page.goto("/outbox")
    expect(page.get_by_role("heading", name="Outbox")).to_be_visible()
    return page.get_by_role("row").filter(has_text=email.subject).filter(has_text=email.to_address)


@pytest.fixture
def mail_outage(stack: LocalStack) -> Iterator[Callable[[], None]]:
    """Stops the local SMTP server; the callable (or the end of the test) starts it again."""
    port, store = stack.mail.port, stack.mail.store_dir
    stack.mail.stop()
    down = True

    def restore() -> None:
        nonlocal down
        if down:
            stack.mail = start_mail_server(port, store)
            down = False

    try:
        yield restore
    finally:
        restore()


def test_worker_delivers_email_and_outbox_previews_it(
    merchant_page: Page, session: Session, stack: LocalStack
) -> None:
    page = merchant_page
    customer = _customer(session, 0)
    email, pay_url = _queue_payment_link(
        session, customer, 4321, message="See you at the pier at 8:45."
    )
    session.commit()

    received = _wait_until(
        lambda: _received(stack, customer.email, email.subject), "the email at the SMTP server"
    )
    assert len(received) == 1
    mime = received[0]
    text = mime.get_body(("plain",)).get_content()
    html = mime.get_body(("html",)).get_content()
    assert "$43.21" in email.subject
    assert f"Hi {customer.name}" in text
    assert f"Complete Payment: {pay_url}" in text
    assert "See you at the pier at 8:45." in text
    assert f'href="{pay_url}"' in html
    sent = _marked_sent(session, email)
    assert sent.sent_at is not None
    assert sent.attempts == 0

    row = _outbox_row(page, email)
    expect(row).to_have_count(1)
    expect(page.get_by_role("row").nth(1)).to_contain_text(email.subject)  # newest first
    expect(row).to_contain_text("Payment link")
    expect(row).to_contain_text("Sent")

    row.get_by_role("button", name="Preview").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=email.subject)).to_be_visible()
    expect(dialog).to_contain_text(f"To {customer.email}")
    iframe = dialog.locator("iframe")
    expect(iframe).to_have_attribute("sandbox", "")
    # The merchant sees where the button goes, never the token that would open the link.
    masked_url = f"http://localhost/pay/{MASK}"
    frame = dialog.frame_locator("iframe")
    button = frame.get_by_role("link", name="Complete Payment")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("href", masked_url)
    expect(frame.get_by_text(masked_url)).to_be_visible()
    expect(frame.get_by_text("See you at the pier at 8:45.")).to_be_visible()

    dialog.get_by_role("tab", name="Plain text").click()
    plain = dialog.get_by_label("Plain-text part of the email")
    expect(plain).to_contain_text(f"Complete Payment: {masked_url}")
    expect(plain).not_to_contain_text(pay_url)
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    assert len(_received(stack, customer.email, email.subject)) == 1, "previewing sends nothing"


def test_smtp_outage_keeps_email_queued_with_its_error_then_retries(
    merchant_page: Page, session: Session, stack: LocalStack, mail_outage: Callable[[], None]
) -> None:
    page = merchant_page
    customer = _customer(session, 1)
    email, _ = _queue_payment_link(session, customer, 5678)
    session.commit()

    failed_once = _wait_until(
        lambda: (e := _reloaded(session, email)).attempts >= 1 and e, "a failed attempt"
    )
    assert failed_once.status == EmailStatus.QUEUED
    assert "Connection refused" in failed_once.last_error
    assert failed_once.next_attempt_at > failed_once.created_at

    row = _outbox_row(page, email)
    expect(row).to_contain_text("Queued")
    expect(row).to_contain_text("1 failed attempt")
    expect(row).to_contain_text("Connection refused")

    # The server comes back; rather than wait out the backoff (and the minute's sweep), make
    # the retry due now and nudge the consumer, as a commit that queues an email does.
    mail_outage()
    failed_once.next_attempt_at = utcnow()
    session.add(failed_once)
    session.commit()
    send_outbox()
    _wait_until(lambda: _received(stack, customer.email, email.subject), "the retried email")
    delivered = _marked_sent(session, email)
    assert delivered.attempts == 1

    page.get_by_role("button", name="Refresh").click()
    expect(row).to_contain_text("Sent")
    expect(row).to_contain_text("Sent after 1 failed attempt")
    expect(row).not_to_contain_text("Connection refused")


def test_outbox_shows_an_email_given_up_on(merchant_page: Page, session: Session) -> None:
    customer = _customer(session, 2)
    email, _ = _queue_payment_link(session, customer, 6789)
    # Marked as the sender leaves it after the last try, before the consumer can see it.
    email.status = EmailStatus.FAILED
    email.attempts = MAX_ATTEMPTS
    email.last_error = "SMTPRecipientsRefused: 1 recipient(s) refused"
    session.add(email)
    session.commit()

    row = _outbox_row(merchant_page, email)
    expect(row).to_contain_text("Failed")
    expect(row).to_contain_text(f"Gave up after {MAX_ATTEMPTS} attempts")
    expect(row).to_contain_text("SMTPRecipientsRefused")


def test_outbox_shows_an_email_that_may_have_been_delivered(
    merchant_page: Page, session: Session
) -> None:
    customer = _customer(session, 3)
    email, _ = _queue_payment_link(session, customer, 2345)
    # As the sender leaves it when the server's reply was lost once too often.
    email.status = EmailStatus.UNCONFIRMED
    email.attempts = email.unconfirmed_attempts = 2
    email.last_error = (
        "The server received this email but the connection was lost before it confirmed "
        "(2 times): it may have been delivered, so it is not sent again."
    )
    session.add(email)
    session.commit()

    row = _outbox_row(merchant_page, email)
    expect(row).to_contain_text("Unconfirmed")
    expect(row).to_contain_text("Stopped after 2 attempts: may have been delivered")
    expect(row).to_contain_text("it may have been delivered, so it is not sent again")


def test_outbox_pages_newest_first(merchant_page: Page, session: Session) -> None:
    customer = _customer(session, 4)
    for n in range(27):
        email, _ = _queue_payment_link(session, customer, 1000 + n)
        email.to_address = f"pager{n}@example.test"
        session.add(email)
    session.commit()
    newest_first = [
        e.to_address for e in session.exec(select(EmailMessage).order_by(EmailMessage.id.desc()))
    ]

    page = merchant_page
    page.goto("/outbox")
    rows = page.get_by_role("row")
    expect(page.get_by_text(f"{len(newest_first)} emails")).to_be_visible()
    expect(rows.nth(1)).to_contain_text(newest_first[0])
    expect(page.get_by_role("button", name="Previous")).to_be_disabled()
    page.get_by_role("button", name="Next").click()
    expect(rows.nth(1)).to_contain_text(newest_first[25])
    page.get_by_role("button", name="Refresh").click()
    expect(rows.nth(1)).to_contain_text(newest_first[25])
    page.get_by_role("button", name="Previous").click()
    expect(rows.nth(1)).to_contain_text(newest_first[0])
    expect(page.get_by_role("button", name="Previous")).to_be_disabled()
