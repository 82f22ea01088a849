"""The gateway against the Stripe emulator: key checks, customers, saved cards, demo payments."""

from __future__ import annotations

import dataclasses

import pytest
import stripe

from devtools.demo import stripe_data
from mioapp.payments import gateway
from mioapp.payments.gateway import GatewayError, StripeCredentials
from tests.conftest import run_coroutine as run


def _client(credentials: StripeCredentials) -> stripe.StripeClient:
    return gateway.build_client(credentials)


def test_verify_credentials_returns_the_account(credentials: StripeCredentials) -> None:
    account = run(gateway.verify_credentials(credentials))
    assert account.account_id.startswith("acct_")
    assert account == run(gateway.verify_credentials(credentials)), "stable for the same key"


@pytest.mark.parametrize(
    ("secret", "publishable", "message"),
    [
        ("sk_test_someone_elses_key", None, "Stripe rejected the secret key."),
        ("pk_test_paymentsuite000000000001", None, "The secret key starts with sk_test_"),
        (None, "sk_test_in_the_wrong_box", "The publishable key starts with pk_test_"),
        (None, "pk_live_paymentsuite", "different modes"),
    ],
)
def test_verify_credentials_refuses_bad_keys(
    credentials: StripeCredentials, secret: str | None, publishable: str | None, message: str
) -> None:
    bad = dataclasses.replace(
        credentials,
        secret_key=secret or credentials.secret_key,
        publishable_key=publishable or credentials.publishable_key,
    )
    with pytest.raises(GatewayError, match=message):
        run(gateway.verify_credentials(bad))


def test_verify_credentials_checks_the_webhook_secret_format(
    credentials: StripeCredentials,
) -> None:
    with pytest.raises(GatewayError, match="whsec_"):
        run(gateway.verify_credentials(dataclasses.replace(credentials, webhook_secret="secret")))


def test_unreachable_stripe_is_a_transient_error(credentials: StripeCredentials) -> None:
    nowhere = dataclasses.replace(credentials, api_base="http://127.0.0.1:9")
    with pytest.raises(GatewayError) as excinfo:
        run(gateway.verify_credentials(nowhere))
    assert excinfo.value.transient
    assert excinfo.value.message == "Could not reach Stripe. Try again."


def test_mode_follows_api_base_and_key_prefix(credentials: StripeCredentials) -> None:
    assert credentials.mode == "emulator"
    real = dataclasses.replace(credentials, api_base=None)
    assert real.mode == "test"
    assert dataclasses.replace(real, secret_key="sk_live_x").mode == "live"


def test_create_customer_is_idempotent_per_local_id(credentials: StripeCredentials) -> None:
    first = run(
        gateway.create_customer(
            credentials, name="Ana Lima", email="ana@example.com", phone="+1 555 0100", local_id=7
        )
    )
    again = run(
        gateway.create_customer(
            credentials, name="Ana Lima", email="ana@example.com", phone="+1 555 0100", local_id=7
        )
    )
    assert first == again
    customer = _client(credentials).v1.customers.retrieve(first)
    assert (customer.name, customer.email) == ("Ana Lima", "ana@example.com")
    assert customer.metadata["mio_customer_id"] == "7"
    assert len(_client(credentials).v1.customers.list().data) == 1


def test_attach_test_card_saves_it_on_the_customer(credentials: StripeCredentials) -> None:
    customer = run(
        gateway.create_customer(
            credentials, name="Ana Lima", email="ana@example.com", phone="", local_id=1
        )
    )
    card = stripe_data.attach_test_card(
        credentials,
        stripe_customer_id=customer,
        number="5555555555554444",
        exp_month=4,
        exp_year=2031,
    )
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == (
        "mastercard",
        "4444",
        4,
        2031,
    )
    assert stripe_data.list_customer_cards(credentials, customer) == [card]


def test_test_cards_and_demo_payments_refuse_live_keys(credentials: StripeCredentials) -> None:
    live = StripeCredentials(secret_key="sk_live_x", publishable_key="pk_live_x")
    with pytest.raises(GatewayError, match="live keys"):
        stripe_data.attach_test_card(
            live, stripe_customer_id="cus_x", number="4242424242424242", exp_month=1, exp_year=2030
        )
    with pytest.raises(GatewayError, match="live keys"):
        stripe_data.create_demo_payment(
            live,
            amount=100,
            currency="usd",
            stripe_customer_id="cus_x",
            idempotency_key="k",
            metadata={},
        )


def test_demo_payment_succeeds_once_per_idempotency_key(credentials: StripeCredentials) -> None:
    customer = run(
        gateway.create_customer(
            credentials, name="Ana Lima", email="ana@example.com", phone="", local_id=1
        )
    )
    kwargs = dict(
        amount=13_000,
        currency="usd",
        stripe_customer_id=customer,
        idempotency_key="demo-BK-1",
        metadata={"mio_payment_id": "1"},
    )
    payment = stripe_data.create_demo_payment(credentials, **kwargs)
    assert stripe_data.create_demo_payment(credentials, **kwargs) == payment
    intent = _client(credentials).v1.payment_intents.retrieve(payment.id)
    assert (intent.status, intent.amount, intent.customer) == ("succeeded", 13_000, customer)
    assert intent.metadata["mio_payment_id"] == "1"
    assert (payment.card.brand, payment.card.last4) == ("visa", "4242")
