"""Credentials, errors and the async client cache: one client per key and event loop."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass

import httpx
import stripe

from mioapp.settings import get_settings


@dataclass(frozen=True)
class StripeCredentials:
    secret_key: str
    publishable_key: str
    webhook_secret: str | None = None
    api_base: str | None = None  # None = api.stripe.com

    @property
    def mode(self) -> str:
        if self.api_base:
            return "emulator"
        return "live" if self.secret_key.startswith(("sk_live_", "rk_live_")) else "test"


class GatewayError(Exception):
    """A Stripe call failed; `message` is fit to show a merchant.

    `transient`: Stripe could not be reached or did not answer in time, so the outcome of
    a charge is unknown. `internal`: our request was wrong (e.g. an idempotency key reused
    with other parameters): a fault on our side, never the customer's card.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        transient: bool = False,
        internal: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.transient = transient
        self.internal = internal


def _base(credentials: StripeCredentials) -> dict[str, str] | None:
    return {"api": credentials.api_base.rstrip("/")} if credentials.api_base else None


def build_client(credentials: StripeCredentials) -> stripe.StripeClient:
    """A synchronous client, for scripts and tests; the app itself uses `_client`."""
    settings = get_settings()
    return stripe.StripeClient(
        credentials.secret_key,
        base_addresses=_base(credentials),
        max_network_retries=settings.stripe_max_network_retries,
    )


# A client's HTTPX connection pool belongs to the event loop that opened it (the web
# server's loop, or a job's own), so clients are kept per loop and per key.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict] = weakref.WeakKeyDictionary()


def _client(credentials: StripeCredentials) -> stripe.StripeClient:
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    key = (credentials.secret_key, credentials.api_base)
    if key not in per_loop:
        settings = get_settings()
        timeout = httpx.Timeout(
            settings.stripe_read_timeout, connect=settings.stripe_connect_timeout
        )
        http = stripe.HTTPXClient(timeout=timeout)
        client = stripe.StripeClient(
            credentials.secret_key,
            base_addresses=_base(credentials),
            http_client=http,
            # Retries reuse the request's idempotency key, so a retried charge is one charge.
            max_network_retries=settings.stripe_max_network_retries,
        )
        per_loop[key] = (client, http)
    return per_loop[key][0]


async def close_clients() -> None:
    """Close this event loop's connections: a job's loop ends after its task, the web
    server's never does."""
    for _, http in _clients.pop(asyncio.get_running_loop(), {}).values():
        await http.close_async()


def translate_error(exc: stripe.StripeError) -> GatewayError:
    if isinstance(exc, stripe.AuthenticationError):
        return GatewayError("Stripe rejected the secret key.", code="invalid_api_key")
    if isinstance(exc, stripe.PermissionError):
        return GatewayError("This key lacks the permissions the app needs.", code="permission")
    if isinstance(exc, stripe.APIConnectionError):
        return GatewayError("Could not reach Stripe. Try again.", transient=True)
    if isinstance(exc, stripe.RateLimitError | stripe.APIError):
        return GatewayError("Stripe is not answering right now. Try again.", transient=True)
    if isinstance(exc, stripe.IdempotencyError):
        return GatewayError(
            "Stripe refused the request: its idempotency key was already used for another request.",
            code=exc.code or "idempotency_error",
            internal=True,
        )
    return GatewayError(exc.user_message or str(exc.error or exc), code=exc.code)
