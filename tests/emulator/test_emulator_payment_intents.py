"""PaymentIntent gaps: create parameters, confirm, 3D Secure off-session, declines, saving."""

import pytest
import requests
import stripe

from devtools.stripe_emulator.launcher import EmulatorProcess

VISA = "4242424242424242"
THREE_DS_UNLESS_SET_UP = "4000002500003155"
THREE_DS_ALWAYS = "4000002760003184"


def test_create_accepts_and_echoes_stripe_parameters(
    client: stripe.StripeClient, customer: stripe.Customer, card
) -> None:
    intent = client.v1.payment_intents.create(
        {
            "amount": 2500,
            "currency": "usd",
            "customer": customer.id,
            "setup_future_usage": "off_session",
            "description": "Boat tour, 2 adults",
            "receipt_email": "buyer@example.com",
            "statement_descriptor_suffix": "BOAT TOUR",
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "return_url": "https://shop.example/return",
            "error_on_requires_action": False,
        }
    )

    assert intent.status == "requires_payment_method"
    assert intent.description == "Boat tour, 2 adults"
    assert intent.receipt_email == "buyer@example.com"
    assert intent.setup_future_usage == "off_session"
    assert intent.statement_descriptor_suffix == "BOAT TOUR"
    assert intent.automatic_payment_methods.enabled is True

    intent = client.v1.payment_intents.confirm(intent.id, {"payment_method": card(VISA).id})
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.description == "Boat tour, 2 adults"
    assert charge.receipt_email == "buyer@example.com"


def test_create_rejects_an_invalid_setup_future_usage(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(
            {"amount": 100, "currency": "usd", "setup_future_usage": "sometimes"}
        )

    assert raised.value.http_status == 400
    assert raised.value.param == "setup_future_usage"


def test_confirm_with_a_payment_method(client: stripe.StripeClient, card) -> None:
    intent = client.v1.payment_intents.create({"amount": 1500, "currency": "eur"})

    confirmed = client.v1.payment_intents.confirm(intent.id, {"payment_method": card(VISA).id})

    assert confirmed.status == "succeeded"
    assert isinstance(confirmed.latest_charge, str)
    assert confirmed.latest_charge.startswith("ch_")
    expanded = client.v1.payment_intents.retrieve(intent.id, {"expand": ["latest_charge"]})
    assert expanded.latest_charge.id == confirmed.latest_charge
    assert expanded.latest_charge.amount == 1500
    assert expanded.latest_charge.payment_intent == intent.id


def test_confirm_off_session_with_a_saved_card(
    client: stripe.StripeClient, customer: stripe.Customer, card
) -> None:
    saved = card(VISA, customer=customer.id)
    intent = client.v1.payment_intents.create(
        {"amount": 900, "currency": "usd", "customer": customer.id}
    )

    confirmed = client.v1.payment_intents.confirm(
        intent.id, {"payment_method": saved.id, "off_session": True}
    )

    assert confirmed.status == "succeeded"


def test_confirm_again_with_another_card_after_a_decline(client: stripe.StripeClient, card) -> None:
    intent = client.v1.payment_intents.create({"amount": 700, "currency": "usd"})
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(
            intent.id, {"payment_method": card("4000000000000002").id}
        )

    confirmed = client.v1.payment_intents.confirm(intent.id, {"payment_method": card(VISA).id})

    assert confirmed.status == "succeeded"
    assert confirmed.last_payment_error is None


@pytest.mark.parametrize("number", [THREE_DS_UNLESS_SET_UP, THREE_DS_ALWAYS])
def test_off_session_charge_of_a_3ds_card_needs_authentication(
    client: stripe.StripeClient, customer: stripe.Customer, card, number: str
) -> None:
    saved = card(number, customer=customer.id)

    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.create(
            {
                "amount": 4000,
                "currency": "usd",
                "customer": customer.id,
                "payment_method": saved.id,
                "confirm": True,
                "off_session": True,
            }
        )

    error = raised.value.error
    assert raised.value.http_status == 402
    assert error.type == "card_error"
    assert error.code == "authentication_required"
    assert error.decline_code == "authentication_required"
    assert error.message == "Your card was declined. This transaction requires authentication."
    assert error.payment_method.id == saved.id
    assert error.payment_intent.status == "requires_payment_method"
    stored = client.v1.payment_intents.retrieve(error.payment_intent.id)
    assert stored.status == "requires_payment_method"
    assert stored.last_payment_error.code == "authentication_required"
    assert stored.last_payment_error.payment_method.id == saved.id


def _set_up_off_session(client: stripe.StripeClient, customer_id: str, number: str) -> str:
    """A SetupIntent through its 3D Secure step, as confirmCardSetup does."""
    details = {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    setup = client.v1.setup_intents.create({"customer": customer_id, "usage": "off_session"})
    setup = client.v1.setup_intents.confirm(
        setup.id, {"payment_method_data": {"type": "card", "card": details}}
    )
    assert setup.status == "requires_action"
    setup = client.v1.setup_intents.confirm(setup.id)
    assert setup.status == "succeeded"
    return setup.payment_method


def test_3155_pays_off_session_once_set_up_but_3184_never_does(
    client: stripe.StripeClient, customer: stripe.Customer
) -> None:
    params = {"amount": 1200, "currency": "usd", "customer": customer.id, "confirm": True}
    set_up = _set_up_off_session(client, customer.id, THREE_DS_UNLESS_SET_UP)

    paid = client.v1.payment_intents.create(
        {**params, "payment_method": set_up, "off_session": True}
    )

    assert paid.status == "succeeded"
    always = _set_up_off_session(client, customer.id, THREE_DS_ALWAYS)
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.create({**params, "payment_method": always, "off_session": True})
    assert raised.value.code == "authentication_required"


def test_on_session_3ds_card_requires_action_then_authenticates(
    client: stripe.StripeClient, emulator: EmulatorProcess, secret_key: str, card
) -> None:
    intent = client.v1.payment_intents.create(
        {
            "amount": 3000,
            "currency": "usd",
            "payment_method": card(THREE_DS_ALWAYS).id,
            "confirm": True,
        }
    )

    assert intent.status == "requires_action"
    assert intent.next_action.type == "use_stripe_sdk"
    # What the fake Stripe.js's "Complete authentication" button posts:
    response = requests.post(
        f"{emulator.base_url}/v1/payment_intents/{intent.id}/_authenticate?success=true",
        data={"client_secret": intent.client_secret},
        headers={"Authorization": f"Bearer {secret_key}"},
        timeout=5,
    )
    assert response.status_code == 200
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_error_on_requires_action_fails_instead_of_asking(
    client: stripe.StripeClient, card
) -> None:
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.create(
            {
                "amount": 3000,
                "currency": "usd",
                "payment_method": card(THREE_DS_ALWAYS).id,
                "confirm": True,
                "error_on_requires_action": True,
            }
        )

    assert raised.value.code == "authentication_required"


@pytest.mark.parametrize(
    ("number", "decline_code", "message"),
    [
        ("4000000000000002", "generic_decline", "Your card was declined."),
        ("4000000000009995", "insufficient_funds", "Your card has insufficient funds."),
        ("4000000000000341", "generic_decline", "Your card was declined."),
    ],
)
def test_card_error_carries_the_intent_and_decline_code(
    client: stripe.StripeClient,
    customer: stripe.Customer,
    card,
    number: str,
    decline_code: str,
    message: str,
) -> None:
    payment_method = card(number, customer=customer.id)

    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.create(
            {
                "amount": 5000,
                "currency": "usd",
                "customer": customer.id,
                "payment_method": payment_method.id,
                "confirm": True,
            }
        )

    error = raised.value.error
    assert raised.value.http_status == 402
    assert error.type == "card_error"
    assert error.code == "card_declined"
    assert error.decline_code == decline_code
    assert error.message == message
    assert error.payment_method.id == payment_method.id
    intent = error.payment_intent
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.decline_code == decline_code
    assert intent.last_payment_error.message == message
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.status == "failed"
    assert charge.failure_code == "card_declined"
    assert charge.failure_message == message


def test_direct_charge_decline_has_a_decline_code(client: stripe.StripeClient, card) -> None:
    with pytest.raises(stripe.CardError) as raised:
        client.v1.charges.create(
            {"amount": 900, "currency": "usd", "source": card("4000000000009995").id}
        )

    assert raised.value.http_status == 402
    assert raised.value.code == "card_declined"
    assert raised.value.error.decline_code == "insufficient_funds"
    assert raised.value.error.charge.startswith("ch_")


def test_setup_future_usage_saves_the_card_to_the_customer(
    client: stripe.StripeClient, customer: stripe.Customer, card
) -> None:
    payment_method = card(VISA)
    assert payment_method.customer is None

    client.v1.payment_intents.create(
        {
            "amount": 1000,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": payment_method.id,
            "setup_future_usage": "off_session",
            "confirm": True,
        }
    )

    saved = client.v1.customers.payment_methods.list(customer.id).data
    assert [pm.id for pm in saved] == [payment_method.id]
    assert client.v1.payment_methods.retrieve(payment_method.id).customer == customer.id


def test_cancel_with_a_reason(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create({"amount": 1000, "currency": "usd"})

    canceled = client.v1.payment_intents.cancel(
        intent.id, {"cancellation_reason": "requested_by_customer"}
    )

    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "requested_by_customer"
    assert canceled.canceled_at is not None
