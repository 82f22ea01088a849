# SPDX-License-Identifier: GPL-3.0-or-later
# Part of the Stripe emulator, an extension of localstripe (Copyright 2017 Adrien Vergé),
# distributed under the GNU GPL version 3 or later: see LICENSE in this folder.
"""Assembles the emulator's aiohttp application from localstripe's handlers, and runs it.

localstripe's own module-level app is left unused: this one has our middlewares, routes
bound to the patched resource methods, ``GET /v1/account``, the customer payment-methods
list and the fake Stripe.js from ``static/``.
"""

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from localstripe import resources
from localstripe import server as localstripe_server
from localstripe.server import api_extra, json_response
from localstripe.webhooks import register_webhook

from . import WEBHOOK_ID, patches
from .middleware import (
    API_KEY,
    IDEMPOTENCY,
    KEYS,
    IdempotencyCache,
    Keys,
    add_common_headers,
    auth_middleware,
    error_middleware,
    idempotency_middleware,
    preflight_middleware,
)
from .patches import store as saved_store
from .patches.payment_methods import list_customer_payment_methods

log = logging.getLogger(__name__)

STORE_PATH = web.AppKey("store_path", Path)
STRIPE_JS = Path(__file__).with_name("static") / "stripe-v3.js"

# The resources localstripe serves with plain CRUD routes (same list as its server module).
RESOURCE_CLASSES = (
    resources.BalanceTransaction,
    resources.Charge,
    resources.Coupon,
    resources.Customer,
    resources.Event,
    resources.Invoice,
    resources.InvoiceItem,
    resources.PaymentIntent,
    resources.PaymentMethod,
    resources.Payout,
    resources.Plan,
    resources.Product,
    resources.Refund,
    resources.SetupIntent,
    resources.Source,
    resources.Subscription,
    resources.SubscriptionItem,
    resources.TaxRate,
    resources.Token,
)


@dataclass(frozen=True)
class EmulatorConfig:
    """Command-line settings of one emulator process."""

    port: int = 8420
    host: str = "127.0.0.1"
    secret_key: str | None = None
    publishable_key: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    store_path: str | None = None


def account_id(secret_key: str) -> str:
    """A stable account id derived from the secret key."""
    return "acct_" + hashlib.sha256(secret_key.encode()).hexdigest()[:16]


async def account(request: web.Request) -> web.Response:
    """``GET /v1/account``: the account the secret key belongs to."""
    return json_response(
        {
            "id": account_id(request[API_KEY]),
            "object": "account",
            "business_profile": {"name": "Emulator", "support_email": None, "url": None},
            "business_type": "company",
            "capabilities": {"card_payments": "active", "transfers": "active"},
            "charges_enabled": True,
            "country": "US",
            "created": 1700000000,
            "default_currency": "usd",
            "details_submitted": True,
            "email": None,
            "metadata": {},
            "payouts_enabled": True,
            "settings": {
                "dashboard": {"display_name": "Emulator", "timezone": "Etc/UTC"},
                "payments": {"statement_descriptor": "EMULATOR"},
            },
            "type": "standard",
        }
    )


async def stripe_js(request: web.Request) -> web.Response:
    """The fake Stripe.js (read on each request, so edits show up without a restart)."""
    return web.Response(
        text=STRIPE_JS.read_text(encoding="utf-8"),
        content_type="application/javascript",
        headers={"Cache-Control": "no-store"},
    )


async def flush_data(request: web.Request) -> web.Response:
    """``DELETE /_config/data``: forget every object and idempotency key (not the webhooks)."""
    resources.store.clear()
    request.app[IDEMPOTENCY].clear()
    return web.Response()


@web.middleware
async def persist_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """With a store file, save the data after every write request."""
    try:
        return await handler(request)
    finally:
        if request.method in ("POST", "DELETE"):
            saved_store.save(request.app[STORE_PATH])


async def _save_on_cleanup(app: web.Application) -> None:
    saved_store.save(app[STORE_PATH])


def _current(func: Any) -> Any:
    """The method as patched now: localstripe's route table captured the originals."""
    owner = getattr(func, "__self__", None)
    return func if owner is None else getattr(owner, func.__name__)


def _add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/js.stripe.com/v3/", stripe_js)
    router.add_get("/v1/account", account)
    router.add_post("/_config/webhooks/{id}", localstripe_server.config_webhook)
    router.add_delete("/_config/data", flush_data)
    url = "/v1/customers/{id}/payment_methods"
    router.add_get(url, api_extra(list_customer_payment_methods, url))
    # Extra routes first, or `/v1/invoices/upcoming` would match `/v1/invoices/{id}`.
    for method, url, func in resources.extra_apis:
        router.add_route(method, url, api_extra(_current(func), url))
    for cls in RESOURCE_CLASSES:
        base = f"/v1/{cls.object}s"
        router.add_post(base, localstripe_server.api_create(cls, base))
        router.add_get(base + "/{id}", localstripe_server.api_retrieve(cls, base))
        router.add_post(base + "/{id}", localstripe_server.api_update(cls, base))
        router.add_delete(base + "/{id}", localstripe_server.api_delete(cls, base))
        router.add_get(base, localstripe_server.api_list_all(cls, base))


def create_app(config: EmulatorConfig) -> web.Application:
    """A fresh emulator application with the patches applied; data in memory, or loaded
    from and saved to ``config.store_path`` when given."""
    patches.apply()
    middlewares = [error_middleware, preflight_middleware, auth_middleware, idempotency_middleware]
    if config.store_path:
        middlewares.append(persist_middleware)
    app = web.Application(middlewares=middlewares)
    app[KEYS] = Keys(config.secret_key, config.publishable_key)
    app[IDEMPOTENCY] = IdempotencyCache()
    app.on_response_prepare.append(add_common_headers)
    if config.store_path:
        app[STORE_PATH] = Path(config.store_path)
        saved_store.load(app[STORE_PATH])
        app.on_cleanup.append(_save_on_cleanup)
        log.info("Data kept in %s", config.store_path)
    if config.webhook_url and config.webhook_secret:
        register_webhook(WEBHOOK_ID, config.webhook_url, config.webhook_secret, None)
        log.info("Webhook %r registered for all events: %s", WEBHOOK_ID, config.webhook_url)
    _add_routes(app.router)
    return app


def run(config: EmulatorConfig) -> None:
    """Serve until SIGINT / SIGTERM."""
    app = create_app(config)
    log.info("Stripe emulator listening on http://%s:%d", config.host, config.port)
    web.run_app(
        app,
        host=config.host,
        port=config.port,
        access_log=logging.getLogger("aiohttp.access"),
        print=None,
    )
