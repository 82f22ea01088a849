"""The Stripe webhook endpoint against the emulator: signed, stored once, re-fetched, applied."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

import httpx
import pytest
import sqlalchemy as sa
import stripe
from granian.constants import Interfaces
from granian.server.embed import Server
from sqlmodel import Session, func, select
from starlette.applications import Starlette

from devtools.stripe_emulator.launcher import free_port, start_emulator
from mioapp.billing.ledger import BookingStatus
from mioapp.customers.detail import customer_detail
from mioapp.db import Database, lock_row
from mioapp.models import (
    AuditEntry,
    Customer,
    Payment,
    PaymentMethodKind,
    PaymentStatus,
    Refund,
    RefundAllocation,
    SavedCard,
    StripeEvent,
)
from mioapp.payments import charges, gateway, intents
from mioapp.payments.gateway import IntentSnapshot, StripeCredentials, build_client
from mioapp.web import api
from tests.conftest import run_coroutine
from tests.payments.conftest import (
    charge_saved_card,
    make_stripe_customer,
    request_for,
    run_at_once,
    save_test_card,
    start_card_charge,
)
from tests.unit.factories import make_booking

WEBHOOK_SECRET = "whsec_test_webhooks0000000001"
WEBHOOK_PATH = "/api/stripe/webhook"


@pytest.fixture
def keys(credentials: StripeCredentials) -> StripeCredentials:
    return replace(credentials, webhook_secret=WEBHOOK_SECRET)


class WebhookClient:
    """Posts to the app's routes in-process over ASGI, one event loop per request."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    def post(self, payload: bytes, signature: str | None) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["Stripe-Signature"] = signature

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://mio.test") as http:
                return await http.post(WEBHOOK_PATH, content=payload, headers=headers)

        return run_coroutine(send())


def _client(engine: sa.Engine, credentials_for: Callable) -> WebhookClient:
    """The app's routes, with the test database and keys in place of the configured ones."""
    routes = api.build_routes(db=Database(engine), credentials_for=credentials_for)
    return WebhookClient(routes)


@pytest.fixture
def stripe_app(engine: sa.Engine, keys: StripeCredentials) -> WebhookClient:
    return _client(engine, lambda _session: keys)


def _event(event_type: str, obj: dict, *, event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_{secrets.token_hex(12)}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": obj},
        }
    ).encode()


def _intent_event(
    intent_id: str, event_type: str = "payment_intent.succeeded", **fields: object
) -> bytes:
    status = event_type.removeprefix("payment_intent.")
    body = {"id": intent_id, "object": "payment_intent", "status": status, **fields}
    return _event(event_type, body)


def _sign(payload: bytes, *, secret: str = WEBHOOK_SECRET, at: float | None = None) -> str:
    """Stripe's scheme: HMAC-SHA256 over "<timestamp>.<raw body>"."""
    timestamp = int(time.time() if at is None else at)
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _deliver(client: WebhookClient, payload: bytes) -> httpx.Response:
    return client.post(payload, _sign(payload))


def _charged_at_stripe_only(
    session: Session, credentials: StripeCredentials, customer: Customer, card: SavedCard
) -> tuple[Payment, IntentSnapshot]:
    """A payment whose charge reached Stripe but whose answer never got here: the local row
    has no intent id yet, only the intent's metadata points at it."""
    booking = make_booking(session, customer, total=10_000)
    session.commit()
    payment, _ = charges.open_payment(
        session,
        request_for(customer, [booking], 10_000),
        method_kind=PaymentMethodKind.CARD_ON_FILE,
        card=card,
    )
    session.commit()
    intent = run_coroutine(
        gateway.charge_saved_card(
            credentials,
            amount=payment.amount,
            currency=payment.currency,
            stripe_customer_id=customer.stripe_customer_id,
            payment_method_id=card.stripe_payment_method_id,
            description="",
            metadata=intents.metadata(payment),
            idempotency_key=payment.idempotency_key,
        )
    )
    assert intent.status == "succeeded"
    assert payment.stripe_payment_intent_id is None
    return payment, intent


@pytest.fixture
def pending(
    session: Session, credentials: StripeCredentials, customer: Customer, card: SavedCard
) -> tuple[Payment, IntentSnapshot]:
    return _charged_at_stripe_only(session, credentials, customer, card)


@pytest.fixture
def started(
    session: Session, db: Database, credentials: StripeCredentials, customer: Customer
) -> charges.CardIntent:
    """A new-card charge of one 10,000 booking: its intent made, not yet confirmed."""
    booking = make_booking(session, customer, total=10_000)
    session.commit()
    return start_card_charge(db, credentials, customer, [booking])


def _payment(session: Session, payment_id: int) -> Payment:
    session.expire_all()
    return session.get(Payment, payment_id)


def _events(session: Session) -> list[StripeEvent]:
    session.expire_all()
    return list(session.exec(select(StripeEvent)).all())


def _audits(session: Session, action: str) -> int:
    return session.exec(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    ).one()


def _booking_statuses(session: Session, customer: Customer) -> dict[int, BookingStatus]:
    session.expire_all()
    return {line.booking.id: line.status for line in customer_detail(session, customer.id).bookings}


def _assert_untouched(session: Session, payment: Payment) -> None:
    assert _events(session) == []
    unchanged = _payment(session, payment.id)
    assert unchanged.status == PaymentStatus.CREATED
    assert unchanged.stripe_payment_intent_id is None


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(lambda payload: _sign(payload, secret="whsec_other"), id="wrong-secret"),
        pytest.param(lambda payload: _sign(payload + b" "), id="other-body"),
        pytest.param(lambda payload: "t=1,v1=deadbeef", id="garbage"),
        pytest.param(lambda payload: "", id="empty"),
    ],
)
def test_bad_signature_is_refused_and_writes_nothing(
    session: Session, stripe_app: WebhookClient, pending, signature
) -> None:
    payment, intent = pending
    payload = _intent_event(intent.id)

    response = stripe_app.post(payload, signature(payload))

    assert response.status_code == 400
    _assert_untouched(session, payment)


def test_missing_signature_header_is_refused(
    session: Session, stripe_app: WebhookClient, pending
) -> None:
    payment, intent = pending

    response = stripe_app.post(_intent_event(intent.id), None)

    assert response.status_code == 400
    _assert_untouched(session, payment)


def test_replayed_old_delivery_is_refused(
    session: Session, stripe_app: WebhookClient, pending
) -> None:
    payment, intent = pending
    payload = _intent_event(intent.id)

    replayed = stripe_app.post(payload, _sign(payload, at=time.time() - 6 * 60))

    assert replayed.status_code == 400
    _assert_untouched(session, payment)
    # The same bytes freshly signed are fine: the refusal was about the timestamp alone.
    assert stripe_app.post(payload, _sign(payload, at=time.time() - 4 * 60)).status_code == 200
    assert _payment(session, payment.id).status == PaymentStatus.SUCCEEDED


@pytest.mark.parametrize("connected", [False, True], ids=["not-connected", "no-webhook-secret"])
def test_without_a_webhook_secret_everything_is_refused(
    session: Session, engine: sa.Engine, keys: StripeCredentials, pending, connected: bool
) -> None:
    payment, intent = pending
    credentials = replace(keys, webhook_secret=None) if connected else None
    client = _client(engine, lambda _session: credentials)
    payload = _intent_event(intent.id)

    assert client.post(payload, _sign(payload)).status_code == 400
    assert client.post(payload, _sign(payload, secret="")).status_code == 400
    _assert_untouched(session, payment)


def test_event_before_the_local_row_knows_its_intent_is_found_by_metadata(
    session: Session, stripe_app: WebhookClient, customer: Customer, pending
) -> None:
    payment, intent = pending

    response = _deliver(stripe_app, _intent_event(intent.id))

    assert response.status_code == 200
    applied = _payment(session, payment.id)
    assert applied.status == PaymentStatus.SUCCEEDED
    assert applied.stripe_payment_intent_id == intent.id
    assert (applied.card_brand, applied.card_last4) == ("visa", "4242")
    assert list(_booking_statuses(session, customer).values()) == [BookingStatus.CHARGED_IN_FULL]
    [event] = _events(session)
    assert (event.type, event.object_id) == ("payment_intent.succeeded", intent.id)
    assert event.processed_at is not None and event.error is None


def test_same_event_delivered_three_times_at_once_applies_once(
    session: Session, engine: sa.Engine, keys: StripeCredentials, pending
) -> None:
    payment, intent = pending
    together = threading.Barrier(3)

    def credentials_for(_session: Session) -> StripeCredentials:
        # All three pass the "already stored?" check before any of them stores the event.
        together.wait(timeout=10)
        return keys

    client = _client(engine, credentials_for)
    payload = _intent_event(intent.id)
    signature = _sign(payload)

    responses = run_at_once(lambda: client.post(payload, signature).status_code, timeout=30)

    assert sorted(responses) == [200, 200, 200], responses
    assert len(_events(session)) == 1
    assert _payment(session, payment.id).status == PaymentStatus.SUCCEEDED
    assert _audits(session, "payment.succeeded") == 1


def test_payment_failed_after_success_does_not_downgrade(
    session: Session,
    stripe_app: WebhookClient,
    credentials: StripeCredentials,
    customer: Customer,
    started: charges.CardIntent,
) -> None:
    intent_id = started.payment.stripe_payment_intent_id
    client = build_client(credentials)
    # The customer's first card is declined, the second one goes through.
    for number in ("4000000000000002", "4242424242424242"):
        method = client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": number, "exp_month": 4, "exp_year": 2032, "cvc": "123"},
            }
        )
        with contextlib.suppress(stripe.CardError):
            client.v1.payment_intents.confirm(intent_id, params={"payment_method": method.id})
    assert client.v1.payment_intents.retrieve(intent_id).status == "succeeded"

    assert _deliver(stripe_app, _intent_event(intent_id)).status_code == 200
    # The failure event of the first card arrives late, its body describing the decline.
    late = _intent_event(
        intent_id,
        "payment_intent.payment_failed",
        status="requires_payment_method",
        last_payment_error={"code": "card_declined", "decline_code": "generic_decline"},
    )
    assert _deliver(stripe_app, late).status_code == 200

    payment = _payment(session, started.payment.id)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.failure_code is None and payment.failure_message is None
    assert _audits(session, "payment.succeeded") == 1
    assert _audits(session, "payment.failed") == 0
    assert len(_events(session)) == 2
    assert list(_booking_statuses(session, customer).values()) == [BookingStatus.CHARGED_IN_FULL]


def test_event_body_is_not_trusted(
    session: Session, stripe_app: WebhookClient, customer: Customer, started: charges.CardIntent
) -> None:
    intent_id = started.payment.stripe_payment_intent_id

    # Signed, but claims a success Stripe does not know about: Stripe's answer wins.
    response = _deliver(stripe_app, _intent_event(intent_id, amount=10_000, currency="usd"))

    assert response.status_code == 200
    assert _payment(session, started.payment.id).status == PaymentStatus.CREATED
    assert list(_booking_statuses(session, customer).values()) == [BookingStatus.UNPAID]


def test_delivery_waits_for_a_held_payment_lock_then_applies(
    session: Session, engine: sa.Engine, stripe_app: WebhookClient, pending
) -> None:
    payment, intent = pending
    responses: list = []
    with Session(engine) as charge_path:
        # The synchronous charge path is applying the same intent right now.
        lock_row(charge_path, Payment, payment.id)
        delivery = threading.Thread(
            target=lambda: responses.append(_deliver(stripe_app, _intent_event(intent.id)))
        )
        delivery.start()
        delivery.join(timeout=1.0)
        assert delivery.is_alive(), "the webhook should queue behind the payment's lock"
        intents.apply_payment_intent(charge_path, intent)
        charge_path.commit()
    delivery.join(timeout=30)

    [response] = responses
    assert response.status_code == 200
    assert _payment(session, payment.id).status == PaymentStatus.SUCCEEDED
    assert _audits(session, "payment.succeeded") == 1
    assert len(_events(session)) == 1


def test_lock_held_too_long_answers_503_then_redelivery_applies(
    session: Session, engine: sa.Engine, stripe_app: WebhookClient, pending
) -> None:
    payment, intent = pending
    payload = _intent_event(intent.id)
    responses: list = []
    with Session(engine) as blocker:
        lock_row(blocker, Payment, payment.id)
        delivery = threading.Thread(
            target=lambda: responses.append(stripe_app.post(payload, _sign(payload)))
        )
        delivery.start()
        delivery.join(timeout=20)
        waited_forever = delivery.is_alive()
        blocker.rollback()
    delivery.join(timeout=30)

    assert not waited_forever, "the webhook should give up on the lock and ask for a retry"
    [busy] = responses
    assert busy.status_code == 503
    _assert_untouched(session, payment)
    # Stripe retries the same event; it is not taken for a duplicate.
    assert stripe_app.post(payload, _sign(payload)).status_code == 200
    assert _payment(session, payment.id).status == PaymentStatus.SUCCEEDED
    assert _audits(session, "payment.succeeded") == 1
    assert len(_events(session)) == 1


def test_stripe_unreachable_answers_503_then_redelivery_applies(
    session: Session, engine: sa.Engine, stripe_app: WebhookClient, keys: StripeCredentials, pending
) -> None:
    payment, intent = pending
    dead = replace(keys, api_base="http://127.0.0.1:9")
    payload = _intent_event(intent.id)

    response = _client(engine, lambda _session: dead).post(payload, _sign(payload))

    assert response.status_code == 503
    _assert_untouched(session, payment)
    assert stripe_app.post(payload, _sign(payload)).status_code == 200
    assert _payment(session, payment.id).status == PaymentStatus.SUCCEEDED
    assert len(_events(session)) == 1


def test_intent_that_is_not_ours_is_acknowledged_and_stored(
    session: Session, stripe_app: WebhookClient, credentials: StripeCredentials, customer: Customer
) -> None:
    booking = make_booking(session, customer, total=5_000)
    session.commit()
    # Another app on the same Stripe account charged this, with no metadata of ours.
    foreign = build_client(credentials).v1.payment_intents.create(
        params={
            "amount": 5_000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    payload = _intent_event(foreign.id)

    assert _deliver(stripe_app, payload).status_code == 200
    assert _deliver(stripe_app, payload).status_code == 200

    [event] = _events(session)
    assert (event.object_id, event.error) == (foreign.id, None)
    assert event.processed_at is not None
    assert session.exec(select(Payment)).all() == []
    assert _booking_statuses(session, customer) == {booking.id: BookingStatus.UNPAID}


def test_object_stripe_does_not_know_is_stored_with_the_reason(
    session: Session, stripe_app: WebhookClient
) -> None:
    response = _deliver(stripe_app, _intent_event("pi_nosuchintent000000000001"))

    assert response.status_code == 200
    [event] = _events(session)
    assert "pi_nosuchintent000000000001" in event.error


@pytest.mark.parametrize(
    ("event_type", "obj"),
    [
        ("customer.created", {"id": "cus_elsewhere", "object": "customer"}),
        ("charge.refunded", {"id": "ch_elsewhere", "object": "charge", "payment_intent": "pi_x"}),
    ],
)
def test_events_with_nothing_of_ours_are_acknowledged_without_asking_stripe(
    session: Session, engine: sa.Engine, keys: StripeCredentials, event_type: str, obj: dict
) -> None:
    # Keys pointing nowhere: any call to Stripe would answer 503.
    client = _client(engine, lambda _session: replace(keys, api_base="http://127.0.0.1:9"))

    assert _deliver(client, _event(event_type, obj)).status_code == 200

    [event] = _events(session)
    assert (event.type, event.object_id) == (event_type, obj["id"])


def test_refund_made_in_stripe_is_recorded_once(
    session: Session,
    db: Database,
    stripe_app: WebhookClient,
    credentials: StripeCredentials,
    customer: Customer,
    card: SavedCard,
) -> None:
    earlier = make_booking(session, customer, total=6_000)
    later = make_booking(session, customer, total=4_000)
    session.commit()
    payment = charge_saved_card(db, credentials, customer, card, [earlier, later], 10_000)
    assert payment.status == PaymentStatus.SUCCEEDED
    client = build_client(credentials)
    intent_id = payment.stripe_payment_intent_id
    charge_id = client.v1.payment_intents.retrieve(intent_id).latest_charge

    def refunded_event() -> bytes:
        charge = {"id": charge_id, "object": "charge", "payment_intent": intent_id}
        return _event("charge.refunded", charge)

    client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 5_000})
    first = refunded_event()
    assert _deliver(stripe_app, first).status_code == 200
    assert _deliver(stripe_app, first).status_code == 200
    # Another event about the same charge finds nothing new either.
    assert _deliver(stripe_app, refunded_event()).status_code == 200

    [refund] = session.exec(select(Refund)).all()
    assert (refund.amount, refund.payment_id) == (5_000, payment.id)
    shares = session.exec(select(RefundAllocation.booking_id, RefundAllocation.amount)).all()
    # Refunds come off the latest tour first.
    assert sorted(shares) == sorted([(later.id, 4_000), (earlier.id, 1_000)])
    assert _booking_statuses(session, customer) == {
        earlier.id: BookingStatus.PARTIALLY_REFUNDED,
        later.id: BookingStatus.REFUNDED,
    }

    client.v1.refunds.create(params={"payment_intent": intent_id})
    assert _deliver(stripe_app, refunded_event()).status_code == 200

    assert sorted(r.amount for r in session.exec(select(Refund)).all()) == [5_000, 5_000]
    assert set(_booking_statuses(session, customer).values()) == {BookingStatus.REFUNDED}
    # The repeated delivery of the first event was recognised before anything was stored.
    assert len(_events(session)) == 3


@contextmanager
def _serving(app) -> Iterator[str]:
    """`app` behind Granian (the server Reflex runs on) in a thread; yields its base URL."""
    port = free_port()
    server = Server(
        app, address="127.0.0.1", port=port, interface=Interfaces.ASGINL, log_enabled=False
    )
    loop = asyncio.new_event_loop()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.serve())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(server.signal_handler_interrupt)
        thread.join(timeout=10)


def test_emulator_delivery_applies_the_payment_end_to_end(
    session: Session, engine: sa.Engine
) -> None:
    secret_key, publishable_key = "sk_test_webhookdelivery00001", "pk_test_webhookdelivery00001"
    keys: dict[str, StripeCredentials] = {}
    routes = api.build_routes(db=Database(engine), credentials_for=lambda _session: keys["stripe"])
    with _serving(routes) as base_url:
        emulator = start_emulator(
            port=free_port(),
            secret_key=secret_key,
            publishable_key=publishable_key,
            webhook_url=base_url + WEBHOOK_PATH,
            webhook_secret=WEBHOOK_SECRET,
        )
        try:
            keys["stripe"] = StripeCredentials(
                secret_key=secret_key,
                publishable_key=publishable_key,
                webhook_secret=WEBHOOK_SECRET,
                api_base=emulator.base_url,
            )
            customer = make_stripe_customer(session, keys["stripe"])
            card = save_test_card(session, keys["stripe"], customer)
            payment, intent = _charged_at_stripe_only(session, keys["stripe"], customer, card)

            deadline = time.monotonic() + 15
            while _payment(session, payment.id).status != PaymentStatus.SUCCEEDED:
                assert time.monotonic() < deadline, "the emulator's webhook never applied it"
                time.sleep(0.1)
        finally:
            emulator.stop()

    assert _payment(session, payment.id).stripe_payment_intent_id == intent.id
    session.expire_all()
    [event] = session.exec(
        select(StripeEvent).where(StripeEvent.type == "payment_intent.succeeded")
    ).all()
    assert event.object_id == intent.id
    assert list(_booking_statuses(session, customer).values()) == [BookingStatus.CHARGED_IN_FULL]
