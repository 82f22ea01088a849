"""Webhook deliveries added by the patches, signed like Stripe's.

Deliveries come about a second after the event (as localstripe sends them), so one test
triggers everything and then waits.
"""

import pytest
import stripe

from devtools.stripe_emulator.launcher import free_port, start_emulator


def test_events_are_delivered_and_signed(client: stripe.StripeClient, webhook_receiver, card):
    paid = client.v1.payment_intents.create(
        {"amount": 1000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )
    refund = client.v1.refunds.create({"payment_intent": paid.id, "amount": 300})
    canceled = client.v1.payment_intents.cancel(
        client.v1.payment_intents.create({"amount": 500, "currency": "usd"}).id
    )
    needs_action = client.v1.payment_intents.create(
        {
            "amount": 800,
            "currency": "usd",
            "payment_method": card("4000002760003184").id,
            "confirm": True,
        }
    )
    declined_card = card("4000000000000002").id
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.create(
            {"amount": 600, "currency": "usd", "payment_method": declined_card, "confirm": True}
        )
    sepa = client.v1.payment_methods.create(
        {"type": "sepa_debit", "sepa_debit": {"iban": "DE89370400440532013000"}}
    )
    processing = client.v1.payment_intents.create(
        {
            "amount": 2000,
            "currency": "eur",
            "payment_method_types": ["sepa_debit"],
            "payment_method": sepa.id,
            "confirm": True,
        }
    )
    customer = client.v1.customers.create()
    setup = client.v1.setup_intents.confirm(
        client.v1.setup_intents.create({"customer": customer.id}).id,
        {"payment_method": card("4242424242424242").id},
    )

    assert processing.status == "processing"
    assert webhook_receiver.wait_for("payment_intent.processing", processing.id)
    assert webhook_receiver.wait_for("payment_intent.succeeded", processing.id)
    assert client.v1.payment_intents.retrieve(processing.id).status == "succeeded"
    assert webhook_receiver.wait_for("payment_intent.succeeded", paid.id)
    refunded = webhook_receiver.wait_for("charge.refunded", paid.latest_charge)
    assert refunded.data.object.object == "charge"
    assert refunded.data.object.amount_refunded == refund.amount
    assert refunded.data.object.payment_intent == paid.id
    canceled_event = webhook_receiver.wait_for("payment_intent.canceled", canceled.id)
    assert canceled_event.data.object.status == "canceled"
    assert webhook_receiver.wait_for("payment_intent.requires_action", needs_action.id)
    failed = webhook_receiver.wait_for(
        "payment_intent.payment_failed", declined.value.error.payment_intent.id
    )
    assert failed.data.object.last_payment_error.decline_code == "generic_decline"
    assert webhook_receiver.wait_for("setup_intent.succeeded", setup.id)


def test_signature_is_checked_against_the_payload(
    client: stripe.StripeClient, webhook_receiver, webhook_secret: str
):
    canceled = client.v1.payment_intents.cancel(
        client.v1.payment_intents.create({"amount": 500, "currency": "usd"}).id
    )
    webhook_receiver.wait_for("payment_intent.canceled", canceled.id)
    [(payload, signature)] = webhook_receiver.deliveries
    tampered = payload.replace(b'"canceled"', b'"succeeded"')

    assert stripe.Webhook.construct_event(payload, signature, webhook_secret).id
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered, signature, webhook_secret)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature, "whsec_another")


def test_webhook_flags_register_the_endpoint_at_startup(webhook_receiver, webhook_secret: str):
    # The session emulator's webhook is registered again by every reset; this one is not.
    with start_emulator(
        port=free_port(), webhook_url=webhook_receiver.url, webhook_secret=webhook_secret
    ) as emulator:
        client = stripe.StripeClient("sk_test_startup", base_addresses={"api": emulator.base_url})
        intent = client.v1.payment_intents.create({"amount": 100, "currency": "usd"})
        client.v1.payment_intents.cancel(intent.id)

        assert webhook_receiver.wait_for("payment_intent.canceled", intent.id)
