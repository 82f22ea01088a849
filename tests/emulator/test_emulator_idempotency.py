"""Idempotency-Key on POST requests, as Stripe honours it."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import stripe

from devtools.stripe_emulator.launcher import EmulatorProcess

PARAMS = {"amount": 1800, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}


def _post(emulator: EmulatorProcess, secret_key: str, key: str, data: dict) -> requests.Response:
    return requests.post(
        f"{emulator.base_url}/v1/payment_intents",
        data=data,
        headers={"Authorization": f"Bearer {secret_key}", "Idempotency-Key": key},
        timeout=10,
    )


def test_same_key_and_parameters_replay_the_first_response(
    client: stripe.StripeClient, emulator: EmulatorProcess, secret_key: str
) -> None:
    first = _post(emulator, secret_key, "order-17", PARAMS)
    second = _post(emulator, secret_key, "order-17", PARAMS)

    assert first.status_code == second.status_code == 200
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert len(client.v1.payment_intents.list().data) == 1
    assert len(client.v1.charges.list().data) == 1


def test_stripe_python_idempotency_key_option(client: stripe.StripeClient) -> None:
    options = {"idempotency_key": "order-18"}
    first = client.v1.payment_intents.create(PARAMS, options)
    second = client.v1.payment_intents.create(PARAMS, options)

    assert second.id == first.id
    assert second.latest_charge == first.latest_charge


def test_same_key_with_other_parameters_is_an_idempotency_error(
    client: stripe.StripeClient,
) -> None:
    client.v1.payment_intents.create(PARAMS, {"idempotency_key": "order-19"})

    with pytest.raises(stripe.IdempotencyError) as raised:
        client.v1.payment_intents.create(
            {**PARAMS, "amount": 1900}, {"idempotency_key": "order-19"}
        )

    assert raised.value.http_status == 400
    assert raised.value.json_body["error"]["type"] == "idempotency_error"
    assert "order-19" in raised.value.user_message
    assert len(client.v1.payment_intents.list().data) == 1


def test_concurrent_requests_with_one_key_make_one_object(
    client: stripe.StripeClient, emulator: EmulatorProcess, secret_key: str
) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(
            pool.map(lambda _: _post(emulator, secret_key, "order-20", PARAMS), range(8))
        )

    assert {response.status_code for response in responses} == {200}
    assert len({response.json()["id"] for response in responses}) == 1
    assert sum("Idempotent-Replayed" in response.headers for response in responses) == 7
    assert len(client.v1.payment_intents.list().data) == 1


def test_card_errors_are_replayed_too(client: stripe.StripeClient) -> None:
    declined = {**PARAMS, "payment_method": "pm_card_visa_chargeDeclined"}
    errors = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as raised:
            client.v1.payment_intents.create(declined, {"idempotency_key": "order-21"})
        errors.append(raised.value)

    assert errors[0].json_body == errors[1].json_body
    assert errors[1].headers["Idempotent-Replayed"] == "true"
    assert len(client.v1.charges.list().data) == 1


def test_a_rejected_request_does_not_use_up_its_key(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.create({"amount": 100}, {"idempotency_key": "order-22"})

    created = client.v1.payment_intents.create(
        {"amount": 100, "currency": "usd"}, {"idempotency_key": "order-22"}
    )

    assert created.amount == 100
