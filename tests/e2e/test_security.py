"""What a client that skips the pages can do: call handlers by name, from another origin."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid

import pytest
import socketio
from sqlmodel import Session, func, select

from devtools.stack import LocalStack
from mioapp.models import AuditEntry, Customer, StripeConnection
from mioapp.pages.customers import CustomerListState
from mioapp.pages.settings import PaymentSettingsState

NAMESPACE = "/_event"  # Reflex's Socket.IO namespace (and path) for state events


def _raw_client(stack: LocalStack, origin: str) -> socketio.Client:
    client = socketio.Client(reconnection=False, websocket_extra_options={"origin": origin})
    client.connect(
        f"{stack.base_url}?token={uuid.uuid4()}",
        socketio_path="/_event",
        transports=["websocket"],
        namespaces=[NAMESPACE],
        wait_timeout=10,
    )
    return client


def _call(client: socketio.Client, state: type, handler: str, payload: dict, path: str) -> list:
    replies: list = []
    client.on("event", replies.append, namespace=NAMESPACE)
    client.emit(
        "event",
        {
            "name": f"{state.get_full_name()}.{handler}",
            "payload": payload,
            "router_data": {"pathname": path, "query": {}, "asPath": path},
        },
        namespace=NAMESPACE,
    )
    time.sleep(2)
    return replies


def test_handlers_refuse_a_client_without_a_session(stack: LocalStack, session: Session) -> None:
    before = session.exec(select(StripeConnection)).all()
    assert before, "the demo starts connected"
    audits = session.exec(select(func.count()).select_from(AuditEntry)).one()
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
    finally:
        client.disconnect()
    session.expire_all()
    after = session.exec(select(StripeConnection)).all()
    assert [c.id for c in after] == [c.id for c in before]
    assert session.exec(select(func.count()).select_from(AuditEntry)).one() == audits
    text = json.dumps(replies)
    assert text.count("/login") >= 3, "each handler answered with a redirect to sign-in"
    first_customer = session.exec(select(Customer).order_by(Customer.search_text)).first()
    assert first_customer.email not in text, "no customer data was sent"


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
