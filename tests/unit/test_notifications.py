"""Email templates render safely and fully; the outbox queues each key once, with the caller."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from html import unescape

import pytest
import sqlalchemy as sa
from jinja2 import UndefinedError
from sqlmodel import Session, func, select

from mioapp.business import BusinessProfile
from mioapp.models import EmailMessage, EmailStatus
from mioapp.notifications import outbox, render
from mioapp.notifications.outbox import queue_email
from mioapp.notifications.render import render_email
from mioapp.ui.pages.outbox.state import _preview_data, _row_data
from tests.unit.factories import make_booking, make_customer

PAY_URL = "https://pay.example.test/pay/tok123?x=1&y=2"
TOKEN = "Qm9va2luZ3MtYXJlLWZ1bi0xMjM0NTY3ODkwYWJjZGVm"
TOKEN_URL = f"https://pay.example.test/pay/{TOKEN}"
EXPIRES = datetime(2031, 6, 21, 14, 0, tzinfo=UTC)
PROFILE = BusinessProfile(
    name="Lagoon Adventures",
    email="hello@lagoon.test",
    phone="+1 808 555 0134",
    reply_to="",
    time_zone="UTC",
    locale="en_US",
)


def _render(kind: str, context: dict, **kwargs) -> render.RenderedEmail:
    return render_email(kind, context, profile=kwargs.pop("profile", PROFILE), **kwargs)


def _bookings() -> list[dict]:
    """As `render.booking_lines` makes them: one paid in full, one with a deposit."""
    return [
        {
            "reference": "BK-100001",
            "tour_name": "Sunset Kayak Tour",
            "starts_at": datetime(2031, 6, 14, 9, 30, tzinfo=UTC),
            "participants": 2,
            "total": 12_000,
            "paid_before": 0,
            "amount": 12_000,
            "remaining": 0,
            "is_deposit": False,
        },
        {
            "reference": "BK-100002",
            "tour_name": "Reef & Snorkel",
            "starts_at": datetime(2031, 6, 15, 16, 0, tzinfo=UTC),
            "participants": 1,
            "total": 20_000,
            "paid_before": 4_000,
            "amount": 5_050,
            "remaining": 10_950,
            "is_deposit": True,
        },
    ]


def _link_context(**overrides) -> dict:
    context = {
        "business_name": "Lagoon Adventures",
        "customer_name": "Ana Lima",
        "bookings": _bookings(),
        "amount": 17_050,
        "currency": "usd",
        "pay_url": PAY_URL,
        "expires_at": EXPIRES,
        "message": "",
    }
    return {**context, **overrides}


def test_payment_link_email_has_button_bookings_amount_and_expiry() -> None:
    email = _render("payment_link", _link_context())

    assert email.subject == "Payment request from Lagoon Adventures: $170.50"
    buttons = re.findall(r'<a href="([^"]+)"[^>]*>\s*Complete Payment\s*</a>', email.html)
    assert [unescape(url) for url in buttons] == [PAY_URL]
    for part in (email.html, email.text):
        assert "Lagoon Adventures" in part
        assert "Hi Ana Lima," in part
        assert "Sunset Kayak Tour" in part
        assert "Jun 14, 2031 · 9:30\u202fAM UTC" in part
        assert "2 participants" in part
        assert "$120.00" in part
        assert "$50.50" in part
        assert "$170.50" in part
        assert "Jun 21, 2031 · 2:00\u202fPM UTC" in part
    assert "Reef &amp; Snorkel" in email.html
    assert "Reef & Snorkel" in email.text
    assert f"Complete Payment: {PAY_URL}" in email.text


@pytest.mark.parametrize("kind", ["payment_link", "receipt", "merchant_payment"])
def test_every_payment_email_says_what_remains_of_each_booking(kind: str) -> None:
    """A $50.50 part of a $200.00 booking with $40.00 paid before is a deposit: the customer
    reads the total, what was paid before, this payment and what remains."""
    context = {
        **_link_context(),
        "customer_email": "ana@example.test",
        "receipt_number": "MIO-000001",
        "paid_at": EXPIRES,
        "method": "Payment link",
        "description": "Balance before the tour",
    }
    email = _render(kind, context)
    for part in (email.text, email.html):
        assert "BK-100002" in part
        assert "$200.00" in part and "$40.00" in part and "$50.50" in part
        assert "$109.50" in part and "deposit" in part
        assert "paid in full" in part  # the other booking
        assert "Balance before the tour" in part
    assert "<style" not in email.html  # inline styles only: many clients drop <style>


def test_customer_text_is_escaped_in_html_and_verbatim_in_text() -> None:
    hostile = 'See you soon <script>alert("x")</script>'
    email = _render("payment_link", _link_context(message=hostile, customer_name="<b>Eve</b>"))

    assert "<script>" not in email.html
    assert "<b>Eve</b>" not in email.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in email.html
    assert "Hi &lt;b&gt;Eve&lt;/b&gt;," in email.html
    assert hostile in email.text
    assert "Hi <b>Eve</b>," in email.text


def test_personal_message_block_only_when_given() -> None:
    assert "Message from" not in _render("payment_link", _link_context()).text
    with_message = _render("payment_link", _link_context(message="Bring a hat"))
    assert "Message from Lagoon Adventures:\nBring a hat" in with_message.text
    assert "Bring a hat" in with_message.html


def test_subject_cannot_carry_a_header_break() -> None:
    email = _render(
        "merchant_payment",
        {
            "customer_name": "Ana\r\nBcc: victim@example.test",
            "customer_email": "ana@example.test",
            "bookings": _bookings(),
            "amount": 17_050,
            "currency": "usd",
            "receipt_number": "R-000001",
            "paid_at": EXPIRES,
            "method": "Payment link",
        },
    )
    assert "\n" not in email.subject and "\r" not in email.subject


def test_receipt_shows_amount_number_bookings_and_card() -> None:
    email = _render(
        "receipt",
        {
            "customer_name": "Ana Lima",
            "bookings": _bookings(),
            "amount": 17_050,
            "currency": "usd",
            "receipt_number": "R-000042",
            "paid_at": EXPIRES,
            "card_brand": "visa",
            "card_last4": "4242",
        },
    )
    assert "R-000042" in email.subject
    for part in (email.html, email.text):
        assert "$170.50" in part
        assert "R-000042" in part
        assert "Sunset Kayak Tour" in part
        assert "Visa ending in 4242" in part


def test_receipt_without_card_and_zero_decimal_currency() -> None:
    email = _render(
        "receipt",
        {
            "customer_name": "Ana Lima",
            "bookings": [{**_bookings()[0], "amount": 5_000}],
            "amount": 5_000,
            "currency": "jpy",
            "receipt_number": "R-7",
            "paid_at": EXPIRES,
        },
    )
    assert "¥5,000" in email.text
    assert "ending in" not in email.text


def test_merchant_email_says_who_paid_what_and_how() -> None:
    email = _render(
        "merchant_payment",
        {
            "customer_name": "Ana Lima",
            "customer_email": "ana@example.test",
            "bookings": _bookings(),
            "amount": 17_050,
            "currency": "usd",
            "receipt_number": "R-000042",
            "paid_at": EXPIRES,
            "method": "Payment link",
            "card_brand": "mastercard",
            "card_last4": "4444",
        },
    )
    assert email.subject == "Payment received: $170.50 from Ana Lima"
    for part in (email.html, email.text):
        assert "ana@example.test" in part
        assert "Payment link" in part
        assert "Mastercard ending in 4444" in part
        assert "Reef" in part


def test_missing_context_key_raises_instead_of_rendering_blank() -> None:
    context = _link_context()
    del context["pay_url"]
    with pytest.raises(UndefinedError):
        _render("payment_link", context)
    with pytest.raises(ValueError):
        _render("no_such_kind", context)


def test_a_secret_is_left_out_of_the_rendered_parts_and_goes_back_in_for_sending() -> None:
    sent = _render("payment_link", _link_context(pay_url=TOKEN_URL))
    stored = _render("payment_link", _link_context(pay_url=TOKEN_URL), secret=TOKEN)

    assert stored.subject == sent.subject
    for stored_part, sent_part in ((stored.text, sent.text), (stored.html, sent.html)):
        assert TOKEN not in stored_part
        assert "/pay/" + render.SECRET_SLOT in stored_part
        assert render.with_secret(stored_part, TOKEN) == sent_part
    assert f"Complete Payment: https://pay.example.test/pay/{render.MASK}" in render.masked(
        stored.text
    )
    buttons = re.findall(
        r'<a href="([^"]+)"[^>]*>\s*Complete Payment\s*</a>', render.masked(stored.html)
    )
    assert buttons == [f"https://pay.example.test/pay/{render.MASK}"], "still a button"


@pytest.mark.parametrize("secret", ["", "short", "has space in it and is long enough", "a&b" * 9])
def test_a_secret_that_escaping_could_disguise_is_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="URL-safe"):
        _render("payment_link", _link_context(), secret=secret)


def _queue(session: Session, key: str = "link:1:sent", **overrides) -> EmailMessage | None:
    return queue_email(
        session,
        dedupe_key=key,
        kind="payment_link",
        to_address="ana@example.test",
        context=_link_context(),
        **overrides,
    )


def _count(engine: sa.Engine) -> int:
    with Session(engine) as fresh:
        return fresh.exec(select(func.count()).select_from(EmailMessage)).one()


def test_queue_email_adds_a_queued_row_with_the_rendered_parts(
    session: Session, engine: sa.Engine
) -> None:
    customer = make_customer(session)
    message = _queue(session, customer_id=customer.id)
    assert message is not None
    assert _count(engine) == 0  # nothing committed behind the caller's back
    session.commit()

    with Session(engine) as fresh:
        stored = fresh.exec(select(EmailMessage)).one()
    assert stored.status == EmailStatus.QUEUED
    assert stored.customer_id == customer.id
    assert stored.attempts == 0
    assert stored.subject == "Payment request from Lagoon Adventures: $170.50"
    assert "Complete Payment" in stored.html_body
    assert PAY_URL in stored.text_body


def test_queue_email_is_idempotent_by_key(session: Session, engine: sa.Engine) -> None:
    assert _queue(session) is not None
    assert _queue(session) is None  # same transaction
    session.commit()
    assert _queue(session) is None  # later transaction
    assert _queue(session, key="link:1:resent") is not None
    session.commit()
    assert _count(engine) == 2


def test_rolled_back_change_takes_its_email_with_it(session: Session, engine: sa.Engine) -> None:
    customer = make_customer(session)
    make_booking(session, customer)
    _queue(session, customer_id=customer.id)
    session.rollback()
    assert _count(engine) == 0
    # The key is free again: the change that announces it never happened.
    assert _queue(session) is not None
    session.commit()
    assert _count(engine) == 1


def test_duplicate_from_a_racing_transaction_leaves_the_callers_transaction_usable(
    session: Session, engine: sa.Engine
) -> None:
    """A concurrent commit queued the key first: the insert does nothing, without an error
    that would abort the caller's transaction."""
    customer = make_customer(session)
    session.commit()
    customer.phone = "+1 555 0100"
    session.add(customer)

    with Session(engine) as other:
        _queue(other)
        other.commit()

    assert _queue(session) is None
    session.commit()  # the caller's own change still commits

    assert _count(engine) == 1
    with Session(engine) as fresh:
        assert fresh.get(type(customer), customer.id).phone == "+1 555 0100"


def test_two_sessions_queueing_the_same_key_at_once_store_one_row(
    session: Session, engine: sa.Engine
) -> None:
    barrier = threading.Barrier(2)
    results: list[bool] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with Session(engine) as own:
                barrier.wait(timeout=10)
                results.append(_queue(own, key="receipt:payment:7") is not None)
                own.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(results) == [False, True]
    assert _count(engine) == 1


def test_list_emails_pages_newest_first(session: Session) -> None:
    for n in range(7):
        _queue(session, key=f"link:{n}:sent")
    session.commit()

    first = outbox.list_emails(session, page_size=3)
    keys = [m.dedupe_key for m in first.messages]
    assert keys == ["link:6:sent", "link:5:sent", "link:4:sent"]
    assert (first.total, first.has_previous, first.has_next) == (7, False, True)

    second = outbox.list_emails(session, after=first.messages[-1].id, page_size=3)
    last = outbox.list_emails(session, after=second.messages[-1].id, page_size=3)
    assert [m.dedupe_key for m in last.messages] == ["link:0:sent"]
    assert (last.has_previous, last.has_next) == (True, False)

    back = outbox.list_emails(session, before=second.messages[0].id, page_size=3)
    assert [m.dedupe_key for m in back.messages] == keys
    assert (back.has_previous, back.has_next) == (False, True)


def test_outbox_preview_and_row_show_the_pay_url_masked(session: Session) -> None:
    message = queue_email(
        session,
        dedupe_key="link:masked:sent",
        kind="payment_link",
        to_address="ana@example.test",
        context=_link_context(pay_url=TOKEN_URL),
        secret=TOKEN,
    )
    session.commit()

    preview = _preview_data(message, PROFILE)
    row = _row_data(message, PROFILE)

    assert preview["subject"] == row["subject"] == "Payment request from Lagoon Adventures: $170.50"
    assert TOKEN not in str(preview)
    assert f"Complete Payment: https://pay.example.test/pay/{render.MASK}" in preview["text"]
    assert f'href="https://pay.example.test/pay/{render.MASK}"' in preview["html"]
    assert render.SECRET_SLOT not in preview["text"] + preview["html"]
    assert (row["status"], row["kind"], row["error"]) == ("queued", "Payment link", "")


def test_outbox_row_says_an_unconfirmed_email_may_have_been_delivered(session: Session) -> None:
    message = _queue(session)
    message.status = EmailStatus.UNCONFIRMED
    message.attempts = message.unconfirmed_attempts = 2
    message.last_error = "The server received this email but the connection was lost"
    session.commit()

    row = _row_data(message, PROFILE)

    assert row["status"] == "unconfirmed"
    assert row["note"] == "Stopped after 2 attempts: may have been delivered"
    assert row["error"].startswith("The server received this email")
