"""The fake Stripe.js in Chromium: createPaymentMethod, confirmCardPayment (with 3D Secure),
confirmCardSetup, on a page served from another origin than the emulator.

Calls are started without awaiting their promise: ``page.evaluate`` would block while the
fake 3D Secure dialog waits for a click. Results land in ``window.result``.
"""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe
from playwright.sync_api import Browser, Page, expect

from devtools.stripe_emulator.launcher import EmulatorProcess

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Checkout</title><script src="{js_url}"></script></head>
<body>
  <div id="card"></div>
  <script>
    const stripe = Stripe("{publishable_key}");
    const card = stripe.elements().create("card");
    card.mount("#card");
    card.on("change", event => {{ window.lastChange = event; }});
    window.result = null;
    window.run = promise => {{
      window.result = null;
      promise.then(value => {{ window.result = value; }},
                   error => {{ window.result = {{thrown: String(error)}}; }});
    }};
  </script>
</body>
</html>
"""

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page_url(emulator: EmulatorProcess, publishable_key: str) -> Iterator[str]:
    html = PAGE.format(js_url=emulator.js_url, publishable_key=publishable_key).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/checkout"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser: Browser, page_url: str) -> Iterator[Page]:
    page = browser.new_page()
    page.set_default_timeout(10_000)
    page.goto(page_url)
    yield page
    page.close()


def _fill_card(page: Page, number: str) -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiration month").fill("12")
    page.get_by_label("Expiration year").fill("34")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Postal code").fill("94107")


def _start(page: Page, call: str, arg: Any = None) -> None:
    """Run ``call`` (a JS expression using ``arg``) without awaiting its promise."""
    page.evaluate(f"arg => {{ window.run({call}); }}", arg)


def _result(page: Page) -> dict[str, Any]:
    page.wait_for_function("() => window.result !== null", timeout=10_000)
    return page.evaluate("() => window.result")


def _authenticate(page: Page, button: str) -> None:
    page.get_by_role("dialog", name="3D Secure authentication").get_by_role(
        "button", name=button
    ).click()


CREATE_WITH_BILLING = "stripe.createPaymentMethod({type: 'card', card, billing_details: arg})"
CONFIRM_WITH_CARD = (
    "stripe.confirmCardPayment(arg.secret, {payment_method: "
    "{card, billing_details: {name: 'Ada Lovelace'}}, setup_future_usage: arg.usage})"
)


def test_create_payment_method_from_the_card_element(
    page: Page, client: stripe.StripeClient
) -> None:
    _fill_card(page, "4242424242424242")

    billing_details = {"name": "Ada Lovelace", "email": "ada@example.com"}
    assert page.evaluate("() => window.lastChange.complete") is True
    _start(page, CREATE_WITH_BILLING, billing_details)
    result = _result(page)

    payment_method = client.v1.payment_methods.retrieve(result["paymentMethod"]["id"])
    assert payment_method.card.last4 == "4242"
    assert payment_method.card.exp_year == 2034
    assert payment_method.billing_details.name == "Ada Lovelace"
    assert payment_method.billing_details.address.postal_code == "94107"


def test_incomplete_card_is_a_validation_error(page: Page) -> None:
    page.get_by_label("Card number").fill("4242")

    _start(page, "stripe.createPaymentMethod({type: 'card', card})")

    assert _result(page)["error"]["code"] == "incomplete_number"


def test_confirm_card_payment_succeeds_and_saves_the_card(
    page: Page, client: stripe.StripeClient, customer: stripe.Customer
) -> None:
    intent = client.v1.payment_intents.create(
        {"amount": 2000, "currency": "usd", "customer": customer.id}
    )
    _fill_card(page, "4242424242424242")

    _start(page, CONFIRM_WITH_CARD, {"secret": intent.client_secret, "usage": "off_session"})
    result = _result(page)

    assert result["paymentIntent"]["status"] == "succeeded"
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"
    saved = client.v1.customers.payment_methods.list(customer.id).data
    assert [pm.card.last4 for pm in saved] == ["4242"]


def test_confirm_card_payment_with_a_payment_method_id(
    page: Page, client: stripe.StripeClient
) -> None:
    intent = client.v1.payment_intents.create({"amount": 2100, "currency": "usd"})
    _fill_card(page, "4242424242424242")
    _start(page, "stripe.createPaymentMethod({type: 'card', card})")
    payment_method_id = _result(page)["paymentMethod"]["id"]

    arg = {"secret": intent.client_secret, "pm": payment_method_id}
    _start(page, "stripe.confirmCardPayment(arg.secret, {payment_method: arg.pm})", arg)
    result = _result(page)

    assert result["paymentIntent"]["status"] == "succeeded"
    assert result["paymentIntent"]["payment_method"] == payment_method_id


def test_3ds_card_completed_in_the_dialog(page: Page, client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create({"amount": 3100, "currency": "usd"})
    _fill_card(page, "4000002760003184")
    # As inside a modal dialog that disables pointer events on <body> (Radix does).
    page.evaluate("() => { document.body.style.pointerEvents = 'none'; }")

    _start(page, CONFIRM_WITH_CARD, {"secret": intent.client_secret})
    _authenticate(page, "Complete authentication")
    result = _result(page)

    assert result["paymentIntent"]["status"] == "succeeded"
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_3ds_card_failed_in_the_dialog(page: Page, client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create({"amount": 3200, "currency": "usd"})
    _fill_card(page, "4000002760003184")

    _start(page, CONFIRM_WITH_CARD, {"secret": intent.client_secret})
    _authenticate(page, "Fail authentication")
    error = _result(page)["error"]

    assert error["code"] == "payment_intent_authentication_failure"
    assert error["payment_intent"]["status"] == "requires_payment_method"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"


def test_confirm_card_payment_authenticates_a_server_confirmed_intent(
    page: Page, client: stripe.StripeClient, card
) -> None:
    intent = client.v1.payment_intents.create(
        {
            "amount": 3400,
            "currency": "usd",
            "payment_method": card("4000002500003155").id,
            "confirm": True,
        }
    )
    assert intent.status == "requires_action"

    _start(page, "stripe.confirmCardPayment(arg)", intent.client_secret)
    _authenticate(page, "Complete authentication")

    assert _result(page)["paymentIntent"]["status"] == "succeeded"


def test_declined_card_resolves_a_stripe_shaped_error(
    page: Page, client: stripe.StripeClient
) -> None:
    intent = client.v1.payment_intents.create({"amount": 3300, "currency": "usd"})
    _fill_card(page, "4000000000000002")

    _start(page, CONFIRM_WITH_CARD, {"secret": intent.client_secret})
    error = _result(page)["error"]

    assert error["type"] == "card_error"
    assert error["code"] == "card_declined"
    assert error["decline_code"] == "generic_decline"
    assert error["message"] == "Your card was declined."
    assert error["payment_intent"]["id"] == intent.id
    assert error["payment_intent"]["status"] == "requires_payment_method"
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_confirm_card_setup_with_3ds(
    page: Page, client: stripe.StripeClient, customer: stripe.Customer
) -> None:
    setup = client.v1.setup_intents.create({"customer": customer.id})
    _fill_card(page, "4000002500003155")

    _start(page, "stripe.confirmCardSetup(arg, {payment_method: {card}})", setup.client_secret)
    _authenticate(page, "Complete authentication")
    result = _result(page)

    assert result["setupIntent"]["status"] == "succeeded"
    saved = client.v1.customers.payment_methods.list(customer.id).data
    assert [pm.card.last4 for pm in saved] == ["3155"]
