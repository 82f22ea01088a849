"""Waiting on Stripe stalls nobody else: with the Stripe emulator frozen (SIGSTOP) while a
charge or a pay-page payment waits on it, another signed-in merchant's page events and
/api/health still answer at once, and the payment completes once Stripe answers again."""

from __future__ import annotations

import contextlib
import os
import signal
import time
import urllib.request
from collections.abc import Iterator

from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from devtools import reflex_client
from devtools.stack import LocalStack
from mioapp import auth
from mioapp.live_tour import DEMO_EMAIL, DEMO_PASSWORD
from mioapp.models import Payment, PaymentStatus
from mioapp.ui.pages.customers.state import CustomerListState
from mioapp.web import sign_in
from tests.e2e.helpers import booking_row, fill_card, new_customer, open_charge, pay_link

FAST = 0.25  # seconds: what "answers at once" means here


@contextlib.contextmanager
def frozen(stack: LocalStack) -> Iterator[None]:
    """Stripe stops answering (its process is stopped), then resumes."""
    pid = stack.emulator.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def _wait_for(check, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return found


def _health_seconds(stack: LocalStack) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(f"{stack.base_url}/api/health", timeout=10) as response:
        assert response.status == 200
    return time.perf_counter() - started


def _other_merchant(stack: LocalStack, session: Session):
    token = auth.sign_in(
        session,
        email=DEMO_EMAIL,
        password=DEMO_PASSWORD,
        session_days=1,
        limiter=auth.build_limiter(None),
        client="never-stall",
    ).token
    session.commit()
    return reflex_client.connect(stack.base_url, stack.base_url, f"{sign_in.COOKIE}={token}")


def _assert_nobody_waits(stack: LocalStack, other) -> None:
    health = [_health_seconds(stack) for _ in range(5)]
    events = [
        reflex_client.timed_call(other, CustomerListState, "search", {"value": q}, "/customers")
        for q in ("a", "e", "o")
    ]
    assert max(health) < FAST, f"/api/health took {max(health):.3f} s while Stripe was frozen"
    assert max(events) < FAST, f"a page event took {max(events):.3f} s while Stripe was frozen"


def _payment_waiting(session: Session, **where) -> Payment | None:
    session.expire_all()
    query = select(Payment).where(Payment.status == PaymentStatus.CREATED)
    for name, value in where.items():
        query = query.where(getattr(Payment, name) == value)
    return session.exec(query).first()


def test_a_charge_waiting_on_stripe_stalls_nobody_else(
    merchant_page: Page, stack: LocalStack, session: Session, credentials
) -> None:
    customer = new_customer(session, credentials, totals=[6_600], card="4242424242424242")
    dialog = open_charge(merchant_page, customer)
    other = _other_merchant(stack, session)
    try:
        with frozen(stack):
            dialog.get_by_role("button", name="Charge $66.00").click()
            _wait_for(lambda: _payment_waiting(session, customer_id=customer.id), "the charge")
            time.sleep(0.3)  # the call to Stripe is under way and gets no answer
            _assert_nobody_waits(stack, other)
    finally:
        other.disconnect()

    expect(merchant_page.get_by_text(f"Charged {customer.name} $66.00.")).to_be_visible()
    expect(booking_row(merchant_page, f"BK-T{customer.id}-0")).to_contain_text("Charged in Full")


def test_a_pay_page_payment_waiting_on_stripe_stalls_nobody_else(
    browser: Browser, stack: LocalStack, session: Session, credentials
) -> None:
    customer = new_customer(session, credentials, totals=[4_200])
    link, path = pay_link(session, customer, 4_200)
    phone = browser.new_context(base_url=stack.base_url, viewport={"width": 390, "height": 844})
    page = phone.new_page()
    page.set_default_timeout(20_000)
    page.goto(path)
    fill_card(page, "4242424242424242")
    other = _other_merchant(stack, session)
    try:
        with frozen(stack):
            page.get_by_role("button", name="Pay $42.00").click()
            _wait_for(lambda: _payment_waiting(session, payment_link_id=link.id), "the payment")
            time.sleep(0.3)
            _assert_nobody_waits(stack, other)
        expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    finally:
        other.disconnect()
        phone.close()
    session.expire_all()
    paid = session.exec(select(Payment).where(Payment.payment_link_id == link.id)).one()
    assert paid.status == PaymentStatus.SUCCEEDED
