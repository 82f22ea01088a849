"""The sign-in and sign-out form posts: HttpOnly cookie, redirects, origins, client addresses."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from limits.strategies import RateLimiter
from sqlmodel import Session, select
from starlette.applications import Starlette

from mioapp import auth
from mioapp.db import Database
from mioapp.models import LoginSession, MerchantUser
from mioapp.web import routes, sign_in
from tests.conftest import run_coroutine

APP = "http://localhost:3000"
EMAIL = "maya@lagoon.test"
PASSWORD = "correct horse battery"
CLIENT = "203.0.113.10"


@pytest.fixture
def password_hash(cheap_hash: Callable[[str], str]) -> str:
    return cheap_hash(PASSWORD)


@pytest.fixture
def user(session: Session, password_hash: str) -> MerchantUser:
    merchant = MerchantUser(email=EMAIL, name="Maya Okafor", password_hash=password_hash)
    session.add(merchant)
    session.commit()
    return merchant


@pytest.fixture
def limiter() -> RateLimiter:
    return auth.build_limiter(None)


def build_app(
    engine: sa.Engine, limiter: RateLimiter, *, base_url: str = APP, proxy_hops: int = 0
) -> Starlette:
    endpoints = sign_in.SignInEndpoints(
        db=Database(engine),
        limiter=limiter,
        app_base_url=base_url,
        session_days=7,
        trusted_proxy_hops=proxy_hops,
    )
    return Starlette(routes=endpoints.routes())


def post(
    app: Starlette,
    path: str,
    data: dict[str, str] | None = None,
    *,
    origin: str | None = APP,
    client: str = CLIENT,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> httpx.Response:
    sent = {**({"Origin": origin} if origin else {}), **(headers or {})}

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(client, 50123))
        async with httpx.AsyncClient(transport=transport, base_url=APP) as http:
            if content is not None:
                sent["Content-Type"] = "application/x-www-form-urlencoded"
                return await http.post(path, content=content, headers=sent)
            return await http.post(path, data=data, headers=sent)

    return run_coroutine(send())


def sign_in_form(
    password: str = PASSWORD, email: str = EMAIL, next_path: str = "/settings/payments"
) -> dict[str, str]:
    return {"email": email, "password": password, "next": next_path}


def cookie_attributes(response: httpx.Response) -> tuple[str, dict[str, str]]:
    """The session cookie's value and its attributes (lower-case names) from Set-Cookie."""
    (header,) = [
        h for h in response.headers.get_list("set-cookie") if h.startswith(f"{sign_in.COOKIE}=")
    ]
    first, *rest = [part.strip() for part in header.split(";")]
    attributes = {}
    for part in rest:
        name, _, value = part.partition("=")
        attributes[name.lower()] = value
    return first.partition("=")[2], attributes


def redirect_error(response: httpx.Response) -> tuple[str, dict[str, list[str]]]:
    location = urlsplit(response.headers["location"])
    return location.path, parse_qs(location.query)


def test_sign_in_sets_an_httponly_strict_cookie_and_returns_to_next(
    engine: sa.Engine, session: Session, user: MerchantUser, limiter: RateLimiter
) -> None:
    response = post(build_app(engine, limiter), routes.SIGN_IN_POST, sign_in_form())

    assert response.status_code == 303
    assert response.headers["location"] == "/settings/payments"
    assert response.headers["cache-control"] == "no-store"
    token, attributes = cookie_attributes(response)
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "strict"
    assert attributes["path"] == "/"
    assert attributes["max-age"] == str(7 * 86400)
    assert "secure" not in attributes, "plain http (a local install) cannot carry Secure cookies"
    assert auth.user_for_token(session, token).id == user.id


def test_the_cookie_is_secure_on_an_https_origin(
    engine: sa.Engine, session: Session, user: MerchantUser, limiter: RateLimiter
) -> None:
    app = build_app(engine, limiter, base_url="https://pay.lagoon.test")
    response = post(app, routes.SIGN_IN_POST, sign_in_form(), origin="https://pay.lagoon.test")
    assert response.status_code == 303
    _, attributes = cookie_attributes(response)
    assert "secure" in attributes
    assert "httponly" in attributes


@pytest.mark.parametrize(
    "next_path",
    [
        "//evil.example/phish",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "",
        "x",
    ],
)
def test_sign_in_follows_only_same_site_paths(
    engine: sa.Engine, user: MerchantUser, limiter: RateLimiter, next_path: str
) -> None:
    response = post(
        build_app(engine, limiter), routes.SIGN_IN_POST, sign_in_form(next_path=next_path)
    )
    assert response.status_code == 303
    assert response.headers["location"] == routes.CUSTOMERS


def test_a_wrong_password_goes_back_to_the_form_with_a_code_and_no_cookie(
    engine: sa.Engine, session: Session, user: MerchantUser, limiter: RateLimiter
) -> None:
    response = post(build_app(engine, limiter), routes.SIGN_IN_POST, sign_in_form("wrong-one!"))

    assert response.status_code == 303
    path, query = redirect_error(response)
    assert path == routes.SIGN_IN
    assert query == {"error": ["invalid"], "next": ["/settings/payments"]}
    assert not response.headers.get_list("set-cookie")
    assert session.exec(select(LoginSession)).all() == []


@pytest.mark.parametrize(
    "form",
    [
        {"email": EMAIL, "password": ""},
        {"email": "  ", "password": PASSWORD},
        {"password": PASSWORD},
        {},
    ],
)
def test_missing_fields_get_their_own_code(
    engine: sa.Engine, user: MerchantUser, limiter: RateLimiter, form: dict[str, str]
) -> None:
    response = post(build_app(engine, limiter), routes.SIGN_IN_POST, form)
    assert response.status_code == 303
    assert redirect_error(response) == (routes.SIGN_IN, {"error": ["missing"]})


def test_locked_and_throttled_codes_reach_the_form(
    engine: sa.Engine, user: MerchantUser, limiter: RateLimiter
) -> None:
    app = build_app(engine, limiter)
    for _ in range(auth.EMAIL_FAILURES.amount):
        post(app, routes.SIGN_IN_POST, sign_in_form("wrong-one!"))
    locked = post(app, routes.SIGN_IN_POST, sign_in_form())
    assert redirect_error(locked)[1]["error"] == ["locked"]
    assert post(app, routes.SIGN_IN_POST, sign_in_form(), client="198.51.100.20").status_code == 303

    for n in range(auth.CLIENT_FAILURES.amount):
        post(app, routes.SIGN_IN_POST, sign_in_form(email=f"g{n}@x.test"), client="192.0.2.40")
    throttled = post(app, routes.SIGN_IN_POST, sign_in_form(), client="192.0.2.40")
    assert redirect_error(throttled)[1]["error"] == ["throttled"]


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://localhost:3001", None])
def test_sign_in_from_a_foreign_origin_is_refused(
    engine: sa.Engine, session: Session, user: MerchantUser, limiter: RateLimiter, origin
) -> None:
    response = post(build_app(engine, limiter), routes.SIGN_IN_POST, sign_in_form(), origin=origin)
    assert response.status_code == 403
    assert not response.headers.get_list("set-cookie")
    assert session.exec(select(LoginSession)).all() == []


def test_an_oversized_form_is_refused_unread(
    engine: sa.Engine, user: MerchantUser, limiter: RateLimiter
) -> None:
    body = b"email=" + b"a" * (sign_in.MAX_FORM_BYTES + 1)
    response = post(build_app(engine, limiter), routes.SIGN_IN_POST, content=body)
    assert response.status_code == 413


def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(
    engine: sa.Engine, user: MerchantUser, limiter: RateLimiter
) -> None:
    """A client cannot escape its throttle by inventing X-Forwarded-For addresses."""
    app = build_app(engine, limiter)
    for n in range(auth.CLIENT_FAILURES.amount):
        post(
            app,
            routes.SIGN_IN_POST,
            sign_in_form("wrong-one!", email=f"g{n}@x.test"),
            headers={"X-Forwarded-For": f"192.0.2.{n}"},
        )
    spoofed = post(
        app, routes.SIGN_IN_POST, sign_in_form(), headers={"X-Forwarded-For": "192.0.2.99"}
    )
    assert redirect_error(spoofed)[1]["error"] == ["throttled"]


def test_behind_a_trusted_proxy_the_client_is_the_address_it_forwarded(
    engine: sa.Engine, user: MerchantUser, limiter: RateLimiter
) -> None:
    app = build_app(engine, limiter, proxy_hops=1)
    for n in range(auth.CLIENT_FAILURES.amount):
        post(
            app,
            routes.SIGN_IN_POST,
            sign_in_form("wrong-one!", email=f"g{n}@x.test"),
            # What the client sent first is not trusted; the proxy appended the real address.
            headers={"X-Forwarded-For": f"10.9.9.{n}, 192.0.2.50"},
        )
    same_client = post(
        app, routes.SIGN_IN_POST, sign_in_form(), headers={"X-Forwarded-For": "192.0.2.50"}
    )
    assert redirect_error(same_client)[1]["error"] == ["throttled"]
    other_client = post(
        app, routes.SIGN_IN_POST, sign_in_form(), headers={"X-Forwarded-For": "192.0.2.51"}
    )
    assert other_client.status_code == 303
    assert other_client.headers["location"] == "/settings/payments"


def _sign_in(app: Starlette) -> str:
    token, _ = cookie_attributes(post(app, routes.SIGN_IN_POST, sign_in_form()))
    return token


def test_sign_out_ends_the_session_and_clears_the_cookie(
    engine: sa.Engine, session: Session, user: MerchantUser, limiter: RateLimiter
) -> None:
    app = build_app(engine, limiter)
    token, other = _sign_in(app), _sign_in(app)

    response = post(app, routes.SIGN_OUT_POST, headers={"Cookie": f"{sign_in.COOKIE}={token}"})

    assert response.status_code == 303
    assert response.headers["location"] == routes.SIGN_IN
    value, attributes = cookie_attributes(response)
    assert value in ("", '""')
    assert attributes["max-age"] == "0"
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "strict"
    session.expire_all()
    assert auth.user_for_token(session, token) is None
    assert auth.user_for_token(session, other).id == user.id, "only this browser signs out"


def test_sign_out_from_a_foreign_origin_is_refused(
    engine: sa.Engine, session: Session, user: MerchantUser, limiter: RateLimiter
) -> None:
    app = build_app(engine, limiter)
    token = _sign_in(app)
    response = post(
        app,
        routes.SIGN_OUT_POST,
        origin="https://evil.example",
        headers={"Cookie": f"{sign_in.COOKIE}={token}"},
    )
    assert response.status_code == 403
    assert auth.user_for_token(session, token).id == user.id


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (f"{sign_in.COOKIE}=abc", "abc"),
        (f"theme=dark; {sign_in.COOKIE}=abc-_9; other=1", "abc-_9"),
        ("theme=dark", None),
        ("", None),
        (f'broken="; {sign_in.COOKIE}=abc', "abc"),
    ],
)
def test_token_from_cookie_header(header: str, token: str | None) -> None:
    """How the websocket handlers read the session from the connection's Cookie header."""
    assert sign_in.token_from_cookie_header(header) == token
