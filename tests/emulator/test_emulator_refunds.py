"""Refunds: amount limits and reasons, as Stripe checks them."""

import pytest
import stripe


@pytest.fixture
def paid_intent(client: stripe.StripeClient) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        {"amount": 1000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )


def test_refund_above_the_charge_amount_is_refused(
    client: stripe.StripeClient, paid_intent: stripe.PaymentIntent
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create({"payment_intent": paid_intent.id, "amount": 1500})

    assert raised.value.http_status == 400
    assert (
        raised.value.user_message == "Refund amount ($15.00) is greater than charge amount ($10.00)"
    )
    assert client.v1.refunds.list().data == []


def test_partial_refunds_up_to_the_remainder(
    client: stripe.StripeClient, paid_intent: stripe.PaymentIntent
) -> None:
    client.v1.refunds.create({"payment_intent": paid_intent.id, "amount": 600})

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create({"payment_intent": paid_intent.id, "amount": 500})
    assert (
        "($5.00) is greater than unrefunded amount on charge ($4.00)" in raised.value.user_message
    )

    rest = client.v1.refunds.create({"payment_intent": paid_intent.id})
    assert rest.amount == 400
    charge = client.v1.charges.retrieve(paid_intent.latest_charge)
    assert charge.amount_refunded == 1000
    assert charge.refunded is True
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create({"charge": charge.id})
    assert raised.value.code == "charge_already_refunded"


@pytest.mark.parametrize("reason", ["duplicate", "fraudulent", "requested_by_customer"])
def test_refund_reason_is_accepted_and_stored(
    client: stripe.StripeClient, paid_intent: stripe.PaymentIntent, reason: str
) -> None:
    refund = client.v1.refunds.create({"payment_intent": paid_intent.id, "reason": reason})

    assert refund.reason == reason
    assert client.v1.refunds.retrieve(refund.id).reason == reason


def test_unknown_refund_reason_is_refused(
    client: stripe.StripeClient, paid_intent: stripe.PaymentIntent
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create({"payment_intent": paid_intent.id, "reason": "changed_mind"})

    assert raised.value.param == "reason"
