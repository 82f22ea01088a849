"""What the publishable key may do from a browser, and CORS.

Browser calls are made here the way the fake Stripe.js makes them: the key and the client
secret as parameters of a JSON text body (or of the query string for GET).
"""

import json

import pytest
import requests
import stripe

from devtools.stripe_emulator.launcher import EmulatorProcess

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}


def _browser_post(emulator: EmulatorProcess, path: str, params: dict) -> requests.Response:
    return requests.post(
        emulator.base_url + path,
        data=json.dumps(params),
        headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": "http://shop.test"},
        timeout=5,
    )


def test_publishable_key_creates_payment_methods(
    publishable_client: stripe.StripeClient, client: stripe.StripeClient
) -> None:
    created = publishable_client.v1.payment_methods.create(
        {"type": "card", "card": CARD, "billing_details": {"name": "Ada Lovelace"}}
    )

    stored = client.v1.payment_methods.retrieve(created.id)
    assert stored.card.last4 == "4242"
    assert stored.billing_details.name == "Ada Lovelace"


def test_publishable_key_confirms_a_payment_intent_with_its_client_secret(
    client: stripe.StripeClient, emulator: EmulatorProcess, publishable_key: str
) -> None:
    intent = client.v1.payment_intents.create({"amount": 4200, "currency": "usd"})
    params = {
        "key": publishable_key,
        "client_secret": intent.client_secret,
        "payment_method_data": {"type": "card", "card": CARD},
    }
    path = f"/v1/payment_intents/{intent.id}/confirm"

    for wrong in ({}, {"client_secret": intent.client_secret + "x"}):
        refused = _browser_post(emulator, path, {**params, "client_secret": None, **wrong})
        assert refused.status_code == 400
        assert refused.json()["error"]["param"] == "client_secret"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"

    confirmed = _browser_post(emulator, path, params)

    assert confirmed.status_code == 200
    assert confirmed.headers["Access-Control-Allow-Origin"] == "http://shop.test"
    assert confirmed.json()["status"] == "succeeded"
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_publishable_key_retrieves_an_intent_with_its_client_secret(
    client: stripe.StripeClient, emulator: EmulatorProcess, publishable_key: str
) -> None:
    intent = client.v1.payment_intents.create({"amount": 4200, "currency": "usd"})
    url = f"{emulator.base_url}/v1/payment_intents/{intent.id}"

    retrieved = requests.get(
        url, params={"key": publishable_key, "client_secret": intent.client_secret}, timeout=5
    )
    refused = requests.get(url, params={"key": publishable_key}, timeout=5)

    assert retrieved.status_code == 200
    assert retrieved.json()["id"] == intent.id
    assert refused.status_code == 400


def test_publishable_key_confirms_a_setup_intent_with_its_client_secret(
    client: stripe.StripeClient,
    customer: stripe.Customer,
    emulator: EmulatorProcess,
    publishable_key: str,
) -> None:
    setup = client.v1.setup_intents.create({"customer": customer.id})

    confirmed = _browser_post(
        emulator,
        f"/v1/setup_intents/{setup.id}/confirm",
        {
            "key": publishable_key,
            "client_secret": setup.client_secret,
            "payment_method_data": {"type": "card", "card": CARD},
        },
    )

    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "succeeded"
    assert len(client.v1.customers.payment_methods.list(customer.id).data) == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/customers"), ("POST", "/v1/payment_intents"), ("GET", "/v1/charges")],
)
def test_publishable_key_in_parameters_cannot_reach_secret_endpoints(
    emulator: EmulatorProcess, publishable_key: str, method: str, path: str
) -> None:
    params = {"key": publishable_key, "amount": "100", "currency": "usd"}
    if method == "GET":
        response = requests.get(emulator.base_url + path, params=params, timeout=5)
    else:
        response = _browser_post(emulator, path, params)

    assert response.status_code == 401


def test_cors_preflight_is_answered(emulator: EmulatorProcess) -> None:
    response = requests.options(
        f"{emulator.base_url}/v1/payment_methods",
        headers={
            "Origin": "http://shop.test",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
        timeout=5,
    )

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://shop.test"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
