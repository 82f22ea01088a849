"""SetupIntents saving cards, decline cards at attach time, payment method listing."""

import pytest
import stripe

CARD = {"exp_month": 12, "exp_year": 2034, "cvc": "123"}


def test_succeeded_setup_intent_attaches_the_card(
    client: stripe.StripeClient, customer: stripe.Customer, card
) -> None:
    payment_method = card("4242424242424242")
    setup = client.v1.setup_intents.create({"customer": customer.id, "usage": "off_session"})

    setup = client.v1.setup_intents.confirm(setup.id, {"payment_method": payment_method.id})

    assert setup.status == "succeeded"
    listed = client.v1.payment_methods.list({"customer": customer.id, "type": "card"}).data
    assert [pm.id for pm in listed] == [payment_method.id]
    assert [pm.id for pm in client.v1.customers.payment_methods.list(customer.id).data] == [
        payment_method.id
    ]


def test_setup_intent_card_check_declines_with_the_intent(
    client: stripe.StripeClient, customer: stripe.Customer
) -> None:
    setup = client.v1.setup_intents.create({"customer": customer.id})

    with pytest.raises(stripe.CardError) as raised:
        client.v1.setup_intents.confirm(
            setup.id,
            {
                "payment_method_data": {
                    "type": "card",
                    "card": {"number": "4000000000009995", **CARD},
                }
            },
        )

    error = raised.value.error
    assert error.decline_code == "insufficient_funds"
    assert error.setup_intent.status == "requires_payment_method"
    assert error.setup_intent.last_setup_error.code == "card_declined"
    assert client.v1.customers.payment_methods.list(customer.id).data == []


@pytest.mark.parametrize(
    ("number", "decline_code"),
    [("4000000000000002", "generic_decline"), ("4000000000009995", "insufficient_funds")],
)
def test_decline_cards_attach_then_decline_when_charged(
    client: stripe.StripeClient, customer: stripe.Customer, card, number: str, decline_code: str
) -> None:
    attached = card(number, customer=customer.id)
    assert attached.customer == customer.id

    for payment_method in (attached, card(number)):  # saved, and not saved
        intent = client.v1.payment_intents.create(
            {"amount": 1000, "currency": "usd", "customer": customer.id}
        )
        with pytest.raises(stripe.CardError) as raised:
            client.v1.payment_intents.confirm(intent.id, {"payment_method": payment_method.id})
        assert raised.value.error.decline_code == decline_code


def test_listing_defaults_to_cards_newest_first(
    client: stripe.StripeClient, customer: stripe.Customer, card
) -> None:
    older = card("4242424242424242", customer=customer.id)
    newer = card("5555555555554444", customer=customer.id)
    card("4000056655665556", customer=None)  # not the customer's

    listed = client.v1.payment_methods.list({"customer": customer.id}).data

    assert [pm.id for pm in listed] == [newer.id, older.id]
    assert listed[0].card.last4 == "4444"
    assert listed[0].billing_details.address.postal_code is None
