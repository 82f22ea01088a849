"""Fixtures for the Stripe emulator's tests.

One emulator runs for the whole session (fixed keys, webhook to a local receiver); every
test starts from empty data. Helpers are fixtures because test folders are not packages.
"""

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from devtools.stripe_emulator.launcher import EmulatorProcess, free_port, start_emulator

SECRET_KEY = "sk_test_emulatorsuite0000000001"
PUBLISHABLE_KEY = "pk_test_emulatorsuite0000000001"
WEBHOOK_SECRET = "whsec_emulatorsuite0001"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Chromium through Playwright")


class WebhookReceiver:
    """A local HTTP endpoint recording webhook deliveries (raw body and signature)."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[bytes, str]] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._changed:
                    receiver.deliveries.append((body, self.headers["Stripe-Signature"]))
                    receiver._changed.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Keep test output quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhook"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def clear(self) -> None:
        with self._changed:
            self.deliveries.clear()

    def wait_for(self, event_type: str, object_id: str, timeout: float = 5.0) -> stripe.Event:
        """The first delivery of ``event_type`` about ``object_id``, signature verified."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for payload, signature in self.deliveries:
                    data = json.loads(payload)
                    if data["type"] == event_type and data["data"]["object"]["id"] == object_id:
                        return stripe.Webhook.construct_event(payload, signature, WEBHOOK_SECRET)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [json.loads(payload)["type"] for payload, _ in self.deliveries]
                    raise AssertionError(f"no {event_type} for {object_id}; received {seen}")
                self._changed.wait(remaining)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="session")
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="session")
def emulator(webhook_receiver: WebhookReceiver) -> Iterator[EmulatorProcess]:
    process = start_emulator(
        port=free_port(),
        secret_key=SECRET_KEY,
        publishable_key=PUBLISHABLE_KEY,
        webhook_url=webhook_receiver.url,
        webhook_secret=WEBHOOK_SECRET,
    )
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def _fresh_data(emulator: EmulatorProcess, webhook_receiver: WebhookReceiver) -> None:
    emulator.reset()
    webhook_receiver.clear()


@pytest.fixture(scope="session")
def secret_key() -> str:
    return SECRET_KEY


@pytest.fixture(scope="session")
def publishable_key() -> str:
    return PUBLISHABLE_KEY


@pytest.fixture(scope="session")
def webhook_secret() -> str:
    return WEBHOOK_SECRET


@pytest.fixture
def client(emulator: EmulatorProcess) -> stripe.StripeClient:
    """stripe-python with the secret key."""
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": emulator.base_url})


@pytest.fixture
def publishable_client(emulator: EmulatorProcess) -> stripe.StripeClient:
    """stripe-python with the publishable key (what a browser holds)."""
    return stripe.StripeClient(PUBLISHABLE_KEY, base_addresses={"api": emulator.base_url})


@pytest.fixture
def card(client: stripe.StripeClient) -> Callable[..., stripe.PaymentMethod]:
    """Create a card PaymentMethod from a test card number, optionally attached."""

    def create(number: str, customer: str | None = None) -> stripe.PaymentMethod:
        details = {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}
        payment_method = client.v1.payment_methods.create({"type": "card", "card": details})
        if customer is not None:
            payment_method = client.v1.payment_methods.attach(
                payment_method.id, {"customer": customer}
            )
        return payment_method

    return create


@pytest.fixture
def customer(client: stripe.StripeClient) -> stripe.Customer:
    return client.v1.customers.create({"email": "buyer@example.com"})
