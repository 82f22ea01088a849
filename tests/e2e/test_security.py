"""What a client that skips the pages can do: call handlers by name, from another origin."""

from __future__ import annotations

import json
import urllib.request

import pytest
import socketio
from sqlmodel import Session, col, func, select

from devtools import reflex_client
from devtools.stack import LocalStack
from mioapp import auth
from mioapp.billing.balances import chargeable_bookings
from mioapp.live_tour import DEMO_EMAIL, DEMO_PASSWORD
from mioapp.models import (
    AuditEntry,
    Booking,
    Customer,
    EmailMessage,
    Payment,
    SavedCard,
    StripeConnection,
)
from mioapp.ui.pages.charge.state import ChargeState
from mioapp.ui.pages.customer.state import CustomerState
from mioapp.ui.pages.customers.state import CustomerListState
from mioapp.ui.pages.outbox.state import OutboxState
from mioapp.ui.pages.settings.state import PaymentSettingsState
from mioapp.web import sign_in


def _raw_client(stack: LocalStack, origin: str, cookie: str | None = None):
    return reflex_client.connect(stack.base_url, origin, cookie)


_call = reflex_client.call


def test_handlers_refuse_a_client_without_a_session(stack: LocalStack, session: Session) -> None:
    before = session.exec(select(StripeConnection)).all()
    assert before, "the demo starts connected"
    # Only what these handlers would write: the sweep job may audit other work meanwhile.
    connection_audits = (
        select(func.count())
        .select_from(AuditEntry)
        .where(col(AuditEntry.action).startswith("stripe."))
    )
    audits = session.exec(connection_audits).one()
    email = session.exec(select(EmailMessage).order_by(EmailMessage.id.desc())).first()
    client = _raw_client(stack, stack.base_url)
    try:
        replies = _call(client, PaymentSettingsState, "disconnect_stripe", {}, "/settings/payments")
        replies += _call(
            client,
            PaymentSettingsState,
            "connect_stripe",
            {"form": {"secret_key": "sk_test_attacker", "publishable_key": "pk_test_attacker"}},
            "/settings/payments",
        )
        replies += _call(client, CustomerListState, "search", {"value": "a"}, "/customers")
        replies += _call(client, OutboxState, "load", {}, "/outbox")
        replies += _call(
            client,
            OutboxState,
            "open_preview",
            {"message_id": str(email.id if email else 1)},
            "/outbox",
        )
    finally:
        client.disconnect()
    session.expire_all()
    after = session.exec(select(StripeConnection)).all()
    assert [c.id for c in after] == [c.id for c in before]
    assert session.exec(connection_audits).one() == audits
    text = json.dumps(replies)
    assert text.count("/login") >= 5, "each handler answered with a redirect to sign-in"
    first_customer = session.exec(select(Customer).order_by(Customer.search_text)).first()
    assert first_customer.email not in text, "no customer data was sent"
    if email is not None:
        assert email.subject not in text, "no email data was sent"
        assert email.to_address not in text


def test_websocket_from_another_origin_is_refused(stack: LocalStack) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        _raw_client(stack, "https://evil.example")


def test_health_reports_database_and_stripe(stack: LocalStack) -> None:
    with urllib.request.urlopen(f"{stack.base_url}/api/health", timeout=5) as response:
        body = json.loads(response.read())
    assert body == {"ok": True, "database": "ok", "stripe": "emulator"}


def test_api_cors_allows_only_the_app_origin(stack: LocalStack) -> None:
    def allowed_origin(origin: str) -> str | None:
        request = urllib.request.Request(f"{stack.base_url}/api/health", headers={"Origin": origin})
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.headers.get("Access-Control-Allow-Origin")

    assert allowed_origin(stack.base_url) == stack.base_url
    assert allowed_origin("https://evil.example") is None


def _session_token(session: Session) -> str:
    """A real merchant session token, as a thief who copied the cookie would hold it."""
    token = auth.sign_in(
        session,
        email=DEMO_EMAIL,
        password=DEMO_PASSWORD,
        session_days=1,
        limiter=auth.build_limiter(None),
        client="tests",
    ).token
    session.commit()
    return token


def _signed_in_client(stack: LocalStack, session: Session) -> socketio.Client:
    """A raw Socket.IO client whose connection carries the session cookie, as a browser's does."""
    cookie = f"{sign_in.COOKIE}={_session_token(session)}"
    return _raw_client(stack, stack.base_url, cookie=cookie)


def test_a_stolen_cookie_in_the_connect_headers_is_accepted(
    stack: LocalStack, session: Session
) -> None:
    """The cookie is the credential: it is read from the connection, so a client that holds
    it is the merchant (HttpOnly keeps page scripts from copying it)."""
    first = session.exec(select(Customer).order_by(Customer.search_text)).first()
    without = _raw_client(stack, stack.base_url)
    try:
        refused = _call(without, CustomerListState, "load", {}, "/customers")
    finally:
        without.disconnect()
    client = _signed_in_client(stack, session)
    try:
        accepted = _call(client, CustomerListState, "load", {}, "/customers")
    finally:
        client.disconnect()
    assert "/login" in json.dumps(refused)
    assert first.name not in json.dumps(refused)
    assert first.name in json.dumps(accepted)
    assert "/login" not in json.dumps(accepted)


def test_a_cookie_forged_into_the_event_router_data_is_ignored(
    stack: LocalStack, session: Session
) -> None:
    """Only the connection's own headers count, never headers an event says it has."""
    forged = {"cookie": f"{sign_in.COOKIE}={_session_token(session)}"}
    client = _raw_client(stack, stack.base_url)
    try:
        replies = _call(client, CustomerListState, "load", {}, "/customers", headers=forged)
    finally:
        client.disconnect()
    first = session.exec(select(Customer).order_by(Customer.search_text)).first()
    assert "/login" in json.dumps(replies)
    assert first.name not in json.dumps(replies)


def test_tampered_charge_events_are_refused(stack: LocalStack, session: Session) -> None:
    """Handlers only take requests: a foreign booking, a foreign card or an amount above the
    balance sent straight over the websocket charges nothing."""
    # Customers with a saved card and something left to pay (other tests charge some).
    with_cards = session.exec(
        select(Customer).join(SavedCard, SavedCard.customer_id == Customer.id).order_by(Customer.id)
    ).unique()
    target, other = [c for c in with_cards if chargeable_bookings(session, c.id)][:2]
    other_booking = session.exec(select(Booking).where(Booking.customer_id == other.id)).first()
    other_card = session.exec(select(SavedCard).where(SavedCard.customer_id == other.id)).first()
    path = f"/customers/{target.id}"
    payments_before = session.exec(select(func.count()).select_from(Payment)).one()
    client = _signed_in_client(stack, session)
    try:
        replies = _call(
            client, CustomerState, "load_customer", {}, path, {"customer_id": str(target.id)}
        )
        replies += _call(client, ChargeState, "open_charge", {}, path)
        replies += _call(client, ChargeState, "set_amount", {"value": "999999"}, path)
        replies += _call(client, ChargeState, "submit_charge", {}, path)
        replies += _call(
            client,
            ChargeState,
            "toggle_booking",
            {"booking_id": str(other_booking.id), "checked": True},
            path,
        )
        replies += _call(client, ChargeState, "set_amount", {"value": "1.00"}, path)
        replies += _call(client, ChargeState, "set_card", {"value": str(other_card.id)}, path)
        replies += _call(client, ChargeState, "submit_charge", {}, path)
    finally:
        client.disconnect()
    text = json.dumps(replies)
    assert target.name in text, "the session was accepted and the customer loaded"
    assert "The most you can charge" in text
    assert "saved cards" in text
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Payment)).one() == payments_before
    selections = [
        value
        for reply in replies
        for delta in reply.get("delta", {}).values()
        for name, value in delta.items()
        if name.startswith("selected")
    ]
    assert selections, "the charge form was opened with the target's bookings"
    assert all(str(other_booking.id) not in chosen for chosen in selections)
