"""The running app's sign-in post over raw HTTP, from several client addresses: throttles per
client and per email, the cookie's attributes, foreign origins."""

from __future__ import annotations

import random
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import Session, select

from devtools.stack import LocalStack
from mioapp import auth
from mioapp.live_tour import DEMO_EMAIL, DEMO_PASSWORD
from mioapp.models import LoginSession, MerchantUser
from mioapp.web import routes, sign_in

PASSWORD = "Reef-Runner-2026"


@pytest.fixture
def client_address() -> Iterator[callable]:
    """Each call gives a new loopback source address (Linux routes all of 127/8 to `lo`), so
    the app sees distinct clients without trusting any header; never 127.0.0.1, the browser's."""
    clients: list[httpx.Client] = []

    def new_client(stack: LocalStack) -> httpx.Client:
        address = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
        client = httpx.Client(
            transport=httpx.HTTPTransport(local_address=address),
            base_url=f"http://127.0.0.1:{stack.port}",
            headers={"Origin": stack.base_url},
            timeout=30,
        )
        clients.append(client)
        return client

    yield new_client
    for client in clients:
        client.close()


@pytest.fixture
def merchant(session: Session) -> MerchantUser:
    """A merchant of this test's own: locking the demo address would lock out the browser tests
    that sign in as the demo merchant after it."""
    email = f"staff-{random.randint(0, 10**9)}@lagoon.test"
    user = auth.create_user(session, email=email, name="Staff Member", password=PASSWORD)
    session.commit()
    return user


def post_sign_in(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post(
        routes.SIGN_IN_POST, data={"email": email, "password": password, "next": "/outbox"}
    )


def error_code(response: httpx.Response) -> str | None:
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    if location.path != routes.SIGN_IN:
        return None
    return parse_qs(location.query)["error"][0]


def test_set_cookie_is_httponly_and_same_site_strict(stack: LocalStack, client_address) -> None:
    response = post_sign_in(client_address(stack), DEMO_EMAIL, DEMO_PASSWORD)

    assert response.status_code == 303
    assert response.headers["location"] == "/outbox"
    (header,) = response.headers.get_list("set-cookie")
    parts = [part.strip().lower() for part in header.split(";")]
    assert parts[0].startswith(f"{sign_in.COOKIE}=")
    assert "httponly" in parts
    assert "samesite=strict" in parts
    assert "path=/" in parts


def test_the_right_password_from_another_client_opens_a_locked_email(
    stack: LocalStack, session: Session, merchant: MerchantUser, client_address
) -> None:
    attacker, merchant_office = client_address(stack), client_address(stack)
    failures = [
        error_code(post_sign_in(attacker, merchant.email, "not-the-password"))
        for _ in range(auth.EMAIL_FAILURES.amount + 1)
    ]
    assert failures[-2:] == ["locked", "locked"]

    assert error_code(post_sign_in(attacker, merchant.email, PASSWORD)) == "locked"
    opened = post_sign_in(merchant_office, merchant.email, PASSWORD)
    assert error_code(opened) is None
    assert opened.headers["location"] == "/outbox"
    logins = session.exec(select(LoginSession).where(LoginSession.user_id == merchant.id)).all()
    assert len(logins) == 1, "only the merchant's own client got a session"


def test_one_client_trying_many_emails_is_throttled_alike_for_known_and_unknown(
    stack: LocalStack, merchant: MerchantUser, client_address
) -> None:
    guesser = client_address(stack)
    codes = [
        error_code(post_sign_in(guesser, f"guess-{n}@lagoon.test", "Password-1234"))
        for n in range(30)
    ]
    assert codes[: auth.CLIENT_FAILURES.amount - 1] == ["invalid"] * (
        auth.CLIENT_FAILURES.amount - 1
    )
    assert set(codes[auth.CLIENT_FAILURES.amount :]) == {"throttled"}
    # Refused before any password check, so known and unknown addresses answer alike.
    known = post_sign_in(guesser, DEMO_EMAIL, DEMO_PASSWORD)
    unknown = post_sign_in(guesser, "nobody@lagoon.test", DEMO_PASSWORD)
    assert error_code(known) == error_code(unknown) == "throttled"
    assert known.headers["location"] == unknown.headers["location"]
    assert not known.headers.get_list("set-cookie")

    assert error_code(post_sign_in(client_address(stack), merchant.email, PASSWORD)) is None


def test_sign_in_from_a_foreign_origin_is_refused(
    stack: LocalStack, session: Session, client_address
) -> None:
    client = client_address(stack)
    before = len(session.exec(select(LoginSession)).all())
    response = client.post(
        routes.SIGN_IN_POST,
        data={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert not response.headers.get_list("set-cookie")
    session.expire_all()
    assert len(session.exec(select(LoginSession)).all()) == before
