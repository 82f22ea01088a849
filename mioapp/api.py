"""Plain HTTP routes beside the Reflex app: thin handlers that parse, call and respond."""

from __future__ import annotations

import logging

import reflex as rx
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mioapp.payments.connection import connection_info

logger = logging.getLogger(__name__)


def _health_report() -> tuple[bool, dict]:
    try:
        with rx.session() as session:
            session.exec(text("SELECT 1"))
            info = connection_info(session)
    except SQLAlchemyError:
        logger.exception("health check: database unreachable")
        return False, {"database": "unreachable", "stripe": "unknown"}
    stripe = info.mode if info.connected else "not_configured"
    return True, {"database": "ok", "stripe": stripe}


async def health(request: Request) -> JSONResponse:
    healthy, report = _health_report()
    return JSONResponse({"ok": healthy, **report}, status_code=200 if healthy else 503)


routes = Starlette(routes=[Route("/api/health", health, methods=["GET"])])
