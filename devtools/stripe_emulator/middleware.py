# SPDX-License-Identifier: GPL-3.0-or-later
# Part of the Stripe emulator, an extension of localstripe (Copyright 2017 Adrien Vergé),
# distributed under the GNU GPL version 3 or later: see LICENSE in this folder.
"""The emulator's HTTP layer: Stripe-shaped errors, API keys, idempotency keys and CORS.

- Only the configured secret / publishable keys are accepted (any ``sk_`` key without one).
- A publishable key may do what Stripe.js does (create PaymentMethods, confirm or retrieve
  an intent with its client secret) and nothing else.
- ``Idempotency-Key`` on a POST replays the stored response (``Idempotent-Replayed: true``),
  refuses reuse with other parameters, and serialises concurrent requests with one key.
"""

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import os
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from localstripe.errors import UserError
from localstripe.resources import PaymentIntent, SetupIntent
from localstripe.server import get_post_data, unflatten_data

from . import PID_HEADER
from .errors import StripeError, authentication_error, idempotency_error, invalid_request
from .patches.common import check_client_secret

log = logging.getLogger(__name__)

OPEN_PATH_PREFIXES = ("/js.stripe.com/", "/_config/")

NO_KEY_MESSAGE = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
)
PUBLISHABLE_KEY_MESSAGE = (
    "This API call cannot be made with a publishable API key. Please use a secret API key. "
    "You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."
)

_INTENTS = {"payment_intent": PaymentIntent, "setup_intent": SetupIntent}

# (method, path, intent kind whose client_secret must accompany the call, or None)
PUBLISHABLE_ROUTES: tuple[tuple[str, re.Pattern[str], str | None], ...] = (
    ("POST", re.compile(r"/v1/payment_methods"), None),
    ("POST", re.compile(r"/v1/tokens"), None),
    ("POST", re.compile(r"/v1/sources"), None),
    ("GET", re.compile(r"/v1/payment_intents/(?P<id>[^/]+)"), "payment_intent"),
    (
        "POST",
        re.compile(r"/v1/payment_intents/(?P<id>[^/]+)/(confirm|_authenticate)"),
        "payment_intent",
    ),
    ("GET", re.compile(r"/v1/setup_intents/(?P<id>[^/]+)"), "setup_intent"),
    ("POST", re.compile(r"/v1/setup_intents/(?P<id>[^/]+)/(confirm|cancel)"), "setup_intent"),
)

CORS_ALLOW_HEADERS = (
    "Authorization, Content-Type, Accept, Idempotency-Key, Stripe-Version, Stripe-Account"
)
CORS_EXPOSE_HEADERS = "Idempotent-Replayed, Idempotency-Key, Request-Id"


@dataclass(frozen=True)
class Keys:
    """The only keys accepted; None accepts any key of that kind (localstripe's way)."""

    secret_key: str | None = None
    publishable_key: str | None = None


@dataclass
class _SavedResponse:
    fingerprint: str
    status: int
    body: bytes
    content_type: str
    charset: str | None

    def replay(self, key: str) -> web.Response:
        return web.Response(
            body=self.body,
            status=self.status,
            content_type=self.content_type,
            charset=self.charset,
            headers={"Idempotent-Replayed": "true", "Idempotency-Key": key},
        )


Scope = tuple[str, str]  # (API key, idempotency key)


@dataclass
class _KeyLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


@dataclass
class IdempotencyCache:
    """Responses stored per (API key, idempotency key), in memory until the data reset.

    The oldest are forgotten beyond ``max_saved`` (Stripe forgets keys after 24 hours).
    """

    max_saved: int = 10_000
    _saved: dict[Scope, _SavedResponse] = field(default_factory=dict)
    _locks: dict[Scope, _KeyLock] = field(default_factory=dict)

    @contextlib.asynccontextmanager
    async def serialised(self, scope: Scope) -> AsyncIterator[None]:
        """Hold the key's lock; it is dropped once no request uses it."""
        entry = self._locks.setdefault(scope, _KeyLock())
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0 and self._locks.get(scope) is entry:
                del self._locks[scope]

    def get(self, scope: Scope) -> _SavedResponse | None:
        return self._saved.get(scope)

    def save(self, scope: Scope, fingerprint: str, response: web.Response) -> None:
        self._saved[scope] = _SavedResponse(
            fingerprint, response.status, response.body, response.content_type, response.charset
        )
        if len(self._saved) > self.max_saved:
            del self._saved[next(iter(self._saved))]

    def clear(self) -> None:
        self._saved.clear()


KEYS = web.AppKey("keys", Keys)
IDEMPOTENCY = web.AppKey("idempotency", IdempotencyCache)
API_KEY = "stripe_emulator.api_key"


def masked(key: str) -> str:
    """A key as Stripe shows it in errors: ``sk_test_****abcd``."""
    prefix = re.match(r"^[a-z]+_(?:test_|live_)?", key)
    return f"{prefix.group(0) if prefix else ''}****{key[-4:]}"


async def request_params(request: web.Request) -> dict[str, Any]:
    """The request's parameters: body (form or JSON) for POST, query string otherwise."""
    if request.method == "POST":
        data = await get_post_data(request, remove_auth=False)
    else:
        data = unflatten_data(request.query)
    return data if isinstance(data, dict) else {}


async def _api_key(request: web.Request) -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme == "Bearer":
        return credentials.strip()
    if scheme == "Basic":
        try:
            return base64.b64decode(credentials).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return None
    # Stripe.js sends the publishable key as a `key` parameter.
    key = (await request_params(request)).get("key")
    return key if isinstance(key, str) else None


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Answer every error as Stripe-shaped JSON."""
    try:
        return await handler(request)
    except UserError as error:
        return error.to_response()
    except web.HTTPException as exc:
        if exc.status not in (404, 405):
            raise
        message = f"Unrecognized request URL ({request.method}: {request.path})."
        return invalid_request(message, status=404).to_response()
    except Exception:
        log.exception("Unhandled error on %s %s", request.method, request.path)
        error = StripeError(500, "api_error", "An unexpected error occurred in the emulator.")
        response = error.to_response()
        response.headers["Stripe-Should-Retry"] = "false"
        return response


@web.middleware
async def preflight_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Answer CORS preflight requests (the headers come from ``add_cors_headers``)."""
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        return web.Response(status=204)
    return await handler(request)


@web.middleware
async def auth_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Accept the configured keys only, and keep publishable keys to Stripe.js's calls."""
    if request.path.startswith(OPEN_PATH_PREFIXES):
        return await handler(request)
    keys = request.app[KEYS]
    api_key = await _api_key(request)
    if not api_key:
        raise authentication_error(NO_KEY_MESSAGE)
    if api_key.startswith("sk_") and len(api_key) > len("sk_"):
        expected = keys.secret_key
    elif api_key.startswith("pk_") and len(api_key) > len("pk_"):
        expected = keys.publishable_key
    else:
        raise authentication_error(f"Invalid API Key provided: {masked(api_key)}")
    if expected is not None and api_key != expected:
        raise authentication_error(f"Invalid API Key provided: {masked(api_key)}")
    if api_key.startswith("pk_"):
        await _check_publishable_scope(request)
    request[API_KEY] = api_key
    return await handler(request)


async def _check_publishable_scope(request: web.Request) -> None:
    for method, pattern, intent_kind in PUBLISHABLE_ROUTES:
        match = pattern.fullmatch(request.path)
        if request.method != method or match is None:
            continue
        if intent_kind is not None:
            intent = _INTENTS[intent_kind]._api_retrieve(match["id"])
            secret = (await request_params(request)).get("client_secret")
            check_client_secret(intent, secret, required=True)
        return
    raise authentication_error(PUBLISHABLE_KEY_MESSAGE)


@web.middleware
async def idempotency_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Honour ``Idempotency-Key`` on API POSTs like Stripe.

    Successes and card errors (402) are stored and replayed; validation errors are not, so a
    corrected retry may reuse the key. One lock per key serialises concurrent requests.
    """
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or not request.path.startswith("/v1/"):
        return await handler(request)
    cache = request.app[IDEMPOTENCY]
    scope = (request.get(API_KEY, ""), key)
    params = await get_post_data(request)
    fingerprint = json.dumps(
        [request.path, params if isinstance(params, dict) else {}], sort_keys=True, default=str
    )
    async with cache.serialised(scope):
        saved = cache.get(scope)
        if saved is not None:
            if saved.fingerprint != fingerprint:
                raise idempotency_error(key)
            return saved.replay(key)
        try:
            response = await handler(request)
        except UserError as error:
            response = error.to_response()
        if isinstance(response, web.Response) and (response.status < 300 or response.status == 402):
            cache.save(scope, fingerprint, response)
        response.headers["Idempotency-Key"] = key
        return response


async def add_common_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Stripe's ``Request-Id``, the emulator's pid (the launcher checks it answers, not some
    other server on the port) and CORS headers letting pages on any origin call the API, as
    Stripe.js does from the browser."""
    response.headers.setdefault("Request-Id", "req_" + secrets.token_hex(7))
    response.headers[PID_HEADER] = str(os.getpid())
    origin = request.headers.get("Origin")
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
        response.headers["Vary"] = "Origin"
