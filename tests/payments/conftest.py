"""Fixtures for the payments package: one Stripe emulator for the folder, emptied per test,
and plain helpers for the customer, card and charge set-up the tests share."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence

import pytest
import sqlalchemy as sa
import stripe
from sqlmodel import Session

from devtools.demo import stripe_data
from devtools.stripe_emulator.launcher import EmulatorProcess, free_port, start_emulator
from mioapp.db import Database
from mioapp.models import Booking, Customer, Payment, SavedCard
from mioapp.payments import cards, charges, gateway
from mioapp.payments.gateway import StripeCredentials
from tests.conftest import run_coroutine as run
from tests.unit.factories import make_customer

SECRET_KEY = "sk_test_paymentsuite000000000001"
PUBLISHABLE_KEY = "pk_test_paymentsuite000000000001"
VISA = "4242424242424242"


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    process = start_emulator(
        port=free_port(), secret_key=SECRET_KEY, publishable_key=PUBLISHABLE_KEY
    )
    yield process
    process.stop()


@pytest.fixture
def credentials(emulator: EmulatorProcess) -> StripeCredentials:
    emulator.reset()
    return StripeCredentials(
        secret_key=SECRET_KEY, publishable_key=PUBLISHABLE_KEY, api_base=emulator.base_url
    )


@pytest.fixture
def db(engine: sa.Engine) -> Database:
    """The app's way to the database (a transaction per unit of work, on a thread), on the
    suite's database; set-up through `session` must be committed before using it."""
    return Database(engine)


@pytest.fixture
def customer(session: Session, credentials: StripeCredentials) -> Customer:
    return make_stripe_customer(session, credentials)


@pytest.fixture
def card(session: Session, credentials: StripeCredentials, customer: Customer) -> SavedCard:
    return save_test_card(session, credentials, customer)


def make_stripe_customer(
    session: Session, credentials: StripeCredentials, *, name: str = "Rosa Diaz"
) -> Customer:
    """A local customer with its Stripe customer created, committed."""
    customer = make_customer(session, name=name)
    customer.stripe_customer_id = run(
        gateway.create_customer(
            credentials, name=customer.name, email=customer.email, phone="", local_id=customer.id
        )
    )
    session.commit()
    return customer


def save_test_card(
    session: Session, credentials: StripeCredentials, customer: Customer, number: str = VISA
) -> SavedCard:
    """One of Stripe's test card numbers attached to the customer and saved, committed."""
    details = stripe_data.attach_test_card(
        credentials,
        stripe_customer_id=customer.stripe_customer_id,
        number=number,
        exp_month=12,
        exp_year=2031,
    )
    card = cards.save_card(session, customer_id=customer.id, card=details)
    session.commit()
    return card


def request_for(
    customer: Customer,
    bookings: Sequence[Booking],
    amount: int | None = None,
    request_key: str | None = None,
    **extra,
) -> charges.ChargeRequest:
    """What both charge forms submit besides the card: the amount by default is the
    bookings' whole total, and no signed-in user."""
    return charges.ChargeRequest(
        customer_id=customer.id,
        booking_ids=[b.id for b in bookings],
        amount=sum(b.total_amount for b in bookings) if amount is None else amount,
        request_key=request_key or charges.new_request_key(),
        **extra,
    )


def start_card_charge(
    db: Database,
    credentials: StripeCredentials,
    customer: Customer,
    bookings: Sequence[Booking],
    *,
    amount: int | None = None,
    save_card: bool = False,
) -> charges.CardIntent:
    """The new-card form submitted for `bookings`: by default for their whole total."""
    return run(
        charges.start_card_charge(
            db, credentials, request_for(customer, bookings, amount), save_card=save_card
        )
    )


def charge_saved_card(
    db: Database,
    credentials: StripeCredentials,
    customer: Customer,
    card: SavedCard,
    bookings: Sequence[Booking],
    amount: int | None = None,
    *,
    request_key: str | None = None,
    **extra,
) -> Payment:
    """The card-on-file form submitted: `amount` (by default their whole total) off `card`
    for `bookings`."""
    request = request_for(customer, bookings, amount, request_key, description="Balance", **extra)
    return run(charges.charge_card_on_file(db, credentials, request, saved_card_id=card.id))


def confirm_in_browser(credentials: StripeCredentials, intent_id: str, number: str) -> None:
    """What Stripe.js does with a typed card: a PaymentMethod, then the confirmation (a
    decline is an outcome the page reports, so it does not raise here)."""
    client = gateway.build_client(credentials)
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        }
    )
    with contextlib.suppress(stripe.CardError):
        client.v1.payment_intents.confirm(intent_id, params={"payment_method": method.id})


def run_at_once(
    work: Callable[[], object], *, times: int = 3, timeout: float | None = None
) -> list:
    """`work` in `times` threads started together: what each returned, or the exception it
    raised, in the order they finished (threads still running after `timeout` add nothing)."""
    results: list = []

    def run() -> None:
        try:
            results.append(work())
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results
