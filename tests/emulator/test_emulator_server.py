"""The emulator process: CLI, launcher, keys, account endpoint, in-memory data."""

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests
import stripe

from devtools.stripe_emulator.launcher import (
    EmulatorProcess,
    EmulatorStartError,
    free_port,
    start_emulator,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_account_retrieve_current_verifies_the_secret_key(
    client: stripe.StripeClient, secret_key: str
) -> None:
    account = client.v1.accounts.retrieve_current()

    expected_id = "acct_" + hashlib.sha256(secret_key.encode()).hexdigest()[:16]
    assert account.id == expected_id
    assert client.v1.accounts.retrieve_current().id == expected_id
    assert account.object == "account"
    assert account.charges_enabled is True
    assert account.country == "US"
    assert account.default_currency == "usd"
    assert account.settings.dashboard.display_name == "Emulator"


def test_other_secret_key_is_refused_like_stripe(emulator: EmulatorProcess) -> None:
    other = stripe.StripeClient(
        "sk_test_notconfigured9999", base_addresses={"api": emulator.base_url}
    )

    with pytest.raises(stripe.AuthenticationError) as raised:
        other.v1.customers.list()

    assert raised.value.http_status == 401
    assert raised.value.json_body == {
        "error": {
            "type": "invalid_request_error",
            "message": "Invalid API Key provided: sk_test_****9999",
        }
    }


def test_request_without_key_is_refused(emulator: EmulatorProcess) -> None:
    response = requests.get(f"{emulator.base_url}/v1/customers", timeout=5)

    assert response.status_code == 401
    assert response.json()["error"]["message"].startswith("You did not provide an API key.")


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.v1.accounts.retrieve_current(),
        lambda c: c.v1.customers.list(),
        lambda c: c.v1.payment_intents.create({"amount": 500, "currency": "usd"}),
    ],
    ids=["account", "list-customers", "create-payment-intent"],
)
def test_publishable_key_cannot_make_secret_key_calls(
    publishable_client: stripe.StripeClient, call
) -> None:
    with pytest.raises(stripe.AuthenticationError) as raised:
        call(publishable_client)

    assert raised.value.http_status == 401
    assert "cannot be made with a publishable API key" in raised.value.user_message


def test_other_publishable_key_is_refused(emulator: EmulatorProcess, publishable_key: str) -> None:
    other = stripe.StripeClient(
        "pk_test_notconfigured1234", base_addresses={"api": emulator.base_url}
    )
    card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}

    with pytest.raises(stripe.AuthenticationError) as raised:
        other.v1.payment_methods.create({"type": "card", "card": card})

    assert raised.value.user_message == "Invalid API Key provided: pk_test_****1234"
    assert publishable_key != "pk_test_notconfigured1234"


def test_unknown_id_is_a_stripe_resource_missing_error(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.retrieve("pi_doesnotexist")

    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
    assert raised.value.user_message == "No such payment_intent: 'pi_doesnotexist'"


def test_data_stays_in_memory(client: stripe.StripeClient) -> None:
    pickle_file = Path(tempfile.gettempdir()) / "localstripe.pickle"
    before = pickle_file.stat().st_mtime_ns if pickle_file.exists() else None

    client.v1.customers.create({"email": "memory@example.com"})

    after = pickle_file.stat().st_mtime_ns if pickle_file.exists() else None
    assert after == before


def test_reset_forgets_objects_and_idempotency_keys(
    client: stripe.StripeClient, emulator: EmulatorProcess
) -> None:
    first = client.v1.customers.create(options={"idempotency_key": "reset-key"})

    emulator.reset()

    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.retrieve(first.id)
    second = client.v1.customers.create(options={"idempotency_key": "reset-key"})
    assert second.id != first.id


def test_cli_rejects_inconsistent_flags() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devtools.stripe_emulator", "--webhook-url", "http://x/"],
        cwd=REPO_ROOT,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode == 2
    assert "--webhook-url and --webhook-secret go together" in result.stderr


def test_launcher_reports_a_process_that_dies(emulator: EmulatorProcess) -> None:
    # The port is taken by the session's emulator: the new process cannot bind it, and the
    # launcher must not mistake the running emulator's answers for its own.
    with pytest.raises(EmulatorStartError) as raised:
        start_emulator(port=emulator.port)

    assert "exited with code" in str(raised.value)
    assert "address already in use" in str(raised.value).lower()


def test_store_path_keeps_the_data_across_restarts(tmp_path: Path) -> None:
    store_path = str(tmp_path / "emulator.pickle")
    key = "sk_test_storedsuite"

    with start_emulator(port=free_port(), store_path=store_path) as first:
        client = stripe.StripeClient(key, base_addresses={"api": first.base_url})
        customer = client.v1.customers.create({"email": "kept@example.com"})
        intent = client.v1.payment_intents.create(
            {"amount": 700, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
        )

    with start_emulator(port=free_port(), store_path=store_path) as second:
        client = stripe.StripeClient(key, base_addresses={"api": second.base_url})
        assert client.v1.customers.retrieve(customer.id).email == "kept@example.com"
        assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"
