"""Plain HTTP routes beside the Reflex app: thin handlers that parse, call and respond."""

from __future__ import annotations

import json
import logging

from reflex import constants
from reflex.config import get_config
from reflex.utils.prerequisites import get_web_dir
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mioapp import auth, changes
from mioapp.db import Database, database
from mioapp.payments import webhooks
from mioapp.payments.connection import active_credentials, connection_info
from mioapp.settings import get_settings
from mioapp.ui.live import watchers
from mioapp.web import metrics
from mioapp.web import routes as paths
from mioapp.web.body_limit import BodyLimitMiddleware
from mioapp.web.exports import payments_export_endpoint
from mioapp.web.preload import PayPagePreloadMiddleware
from mioapp.web.security_headers import SecurityHeadersMiddleware
from mioapp.web.sign_in import SignInEndpoints

logger = logging.getLogger(__name__)

# Reflex's own endpoints that take bodies and bound them themselves: file uploads (which may
# well exceed our cap) and the socket.io endpoint (REFLEX_SOCKET_MAX_HTTP_BUFFER_SIZE).
REFLEX_BODY_PATHS = ("/_upload", "/_event")


def _connection(session: Session):
    session.exec(text("SELECT 1"))
    return connection_info(session)


async def health(request: Request) -> JSONResponse:
    try:
        info = await request.app.state.db.run(_connection)
    except SQLAlchemyError:
        logger.exception("health check: database unreachable")
        report = {"ok": False, "database": "unreachable", "stripe": "unknown"}
        return JSONResponse(report, status_code=503)
    stripe = info.mode if info.connected else "not_configured"
    return JSONResponse({"ok": True, "database": "ok", "stripe": stripe})


async def stripe_webhook(request: Request) -> JSONResponse:
    payload = await request.body()
    outcome = await request.app.state.webhooks.handle(
        payload, request.headers.get("Stripe-Signature")
    )
    return JSONResponse({"message": outcome.message}, status_code=outcome.status_code)


async def customer_changes(request: Request) -> Response:
    """Change notices from a process without Redis (the job consumer), signed with
    SECRET_KEY: open pages of these customers refresh."""
    body = await request.body()
    secret = get_settings().secret_key_value()
    if not changes.verify(body, request.headers.get(changes.SIGNATURE_HEADER), secret):
        return Response(status_code=403)
    try:
        ids = {int(i) for i in json.loads(body)}
    except (ValueError, TypeError):
        return Response(status_code=400)
    watchers.notify(ids)
    return Response(status_code=204)


def build_routes(
    *,
    db: Database | None = None,
    credentials_for: webhooks.CredentialsFor = active_credentials,
) -> Starlette:
    """The HTTP routes; tests hand in their own database and Stripe keys."""
    settings = get_settings()
    db = db or database()
    sign_in_endpoints = SignInEndpoints(
        db=db,
        limiter=auth.build_limiter(settings.redis_url),
        app_base_url=settings.app_base_url,
        session_days=settings.session_days,
        trusted_proxy_hops=get_config().trusted_proxy_hops,
    )
    app = Starlette(
        routes=[
            Route("/api/health", health, methods=["GET"]),
            Route("/api/stripe/webhook", stripe_webhook, methods=["POST"]),
            Route(changes.INTERNAL_PATH, customer_changes, methods=["POST"]),
            Route("/api/metrics", metrics.metrics, methods=["GET"]),
            Route(paths.PAYMENTS_EXPORT, payments_export_endpoint(db), methods=["GET"]),
            *sign_in_endpoints.routes(),
        ],
        # Reflex mounts itself under this app, so in production (one port) the middleware
        # also sees the static pages, /pay/<token> among them. The body cap runs inside the
        # headers, so its 413 carries them too.
        middleware=[
            Middleware(
                SecurityHeadersMiddleware,
                stripe_js_url=settings.stripe_js_url,
                app_base_url=settings.app_base_url,
            ),
            Middleware(BodyLimitMiddleware, exempt=REFLEX_BODY_PATHS),
            Middleware(
                PayPagePreloadMiddleware,
                static_dir=get_web_dir() / constants.Dirs.STATIC,
            ),
        ],
    )
    app.state.db = db
    app.state.webhooks = webhooks.WebhookReceiver(app.state.db, credentials_for)
    return app


routes = build_routes()
