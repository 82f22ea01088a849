"""Plain HTTP routes beside the Reflex app: thin handlers that parse, call and respond."""

from __future__ import annotations

import logging
from collections.abc import Callable

import reflex as rx
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mioapp.payments import webhooks
from mioapp.payments.connection import active_credentials, connection_info
from mioapp.settings import get_settings
from mioapp.web.security_headers import SecurityHeadersMiddleware

logger = logging.getLogger(__name__)


def _health_report(open_session: Callable[[], Session]) -> tuple[bool, dict]:
    try:
        with open_session() as session:
            session.exec(text("SELECT 1"))
            info = connection_info(session)
    except SQLAlchemyError:
        logger.exception("health check: database unreachable")
        return False, {"database": "unreachable", "stripe": "unknown"}
    stripe = info.mode if info.connected else "not_configured"
    return True, {"database": "ok", "stripe": stripe}


async def health(request: Request) -> JSONResponse:
    healthy, report = _health_report(request.app.state.open_session)
    return JSONResponse({"ok": healthy, **report}, status_code=200 if healthy else 503)


async def stripe_webhook(request: Request) -> JSONResponse:
    payload = await request.body()
    outcome = await run_in_threadpool(
        webhooks.handle,
        payload,
        request.headers.get("Stripe-Signature"),
        open_session=request.app.state.open_session,
        credentials_for=request.app.state.credentials_for,
    )
    return JSONResponse({"message": outcome.message}, status_code=outcome.status_code)


def build_routes(
    *,
    open_session: Callable[[], Session] = rx.session,
    credentials_for: webhooks.CredentialsFor = active_credentials,
) -> Starlette:
    """The HTTP routes; tests hand in their own database sessions and Stripe keys."""
    settings = get_settings()
    app = Starlette(
        routes=[
            Route("/api/health", health, methods=["GET"]),
            Route("/api/stripe/webhook", stripe_webhook, methods=["POST"]),
        ],
        # Reflex mounts itself under this app, so in production (one port) the middleware
        # also sees the static pages, /pay/<token> among them.
        middleware=[
            Middleware(
                SecurityHeadersMiddleware,
                stripe_js_url=settings.stripe_js_url,
                app_base_url=settings.app_base_url,
            )
        ],
    )
    app.state.open_session = open_session
    app.state.credentials_for = credentials_for
    return app


routes = build_routes()
