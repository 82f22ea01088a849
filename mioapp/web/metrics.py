"""Process metrics for operators and the test suite, in Prometheus' text format.

`GET /api/metrics` with `Authorization: Bearer <METRICS_TOKEN>`; unset, the route answers 404.
Each process (web worker) counts its own; a scraper visits each instance.
"""

from __future__ import annotations

import hmac
import os
import threading

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from mioapp.settings import get_settings

_lock = threading.Lock()
_statements = 0


@sa.event.listens_for(sa.Engine, "before_cursor_execute")
def _count_statement(*_args) -> None:
    global _statements
    with _lock:  # statements run on several threads (Database.run)
        _statements += 1


def db_statements() -> int:
    """SQL statements this process has sent to the database since it started."""
    return _statements


async def metrics(request: Request) -> Response:
    token = get_settings().metrics_token
    given = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if token is None or not hmac.compare_digest(given, token.get_secret_value()):
        return Response(status_code=404)
    body = (
        "# HELP mio_db_statements_total SQL statements sent by this process.\n"
        "# TYPE mio_db_statements_total counter\n"
        f'mio_db_statements_total{{pid="{os.getpid()}"}} {db_statements()}\n'
    )
    return PlainTextResponse(body, media_type="text/plain; version=0.0.4")
