"""The request-body cap, driven message by message: refused while streaming, never buffered."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import anyio
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message

from mioapp.web import api
from mioapp.web.body_limit import MAX_BODY_BYTES, BodyLimitMiddleware

LIMIT = 1_000


@dataclass
class Trace:
    """What the app behind the middleware saw, and how much of the body was pulled."""

    bodies: list[bytes] = field(default_factory=list)
    chunks_pulled: int = 0


def build_app(trace: Trace, *, exempt: tuple[str, ...] = ()) -> Starlette:
    async def echo(request: Request) -> Response:
        body = await request.body()
        trace.bodies.append(body)
        return Response(body, media_type="application/octet-stream")

    # A mounted Starlette app with its own error middleware, the way Reflex sits under ours.
    inner = Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST"])])
    return Starlette(
        routes=[Route("/api/echo", echo, methods=["POST"]), Mount("", inner)],
        middleware=[Middleware(BodyLimitMiddleware, max_bytes=LIMIT, exempt=exempt)],
    )


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def call(
    app: ASGIApp,
    path: str,
    chunks: Iterable[bytes],
    *,
    trace: Trace,
    headers: dict[str, str] | None = None,
    scope_type: str = "http",
) -> Reply:
    """One POST through the raw ASGI interface, its body handed over chunk by chunk."""
    pending = list(chunks)
    messages: list[Message] = []

    async def receive() -> Message:
        if not pending:
            await anyio.sleep_forever()
        trace.chunks_pulled += 1
        body = pending.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def send(message: Message) -> None:
        messages.append(message)

    scope = {
        "type": scope_type,
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "extensions": {},
    }
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(anyio.run, app, scope, receive, send).result()
    start = messages[0]
    assert start["type"] == "http.response.start"
    return Reply(
        status=start["status"],
        headers={name.decode().lower(): value.decode() for name, value in start["headers"]},
        body=b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body"),
    )


def chunked(total: int, size: int = 100) -> list[bytes]:
    return [
        bytes([65 + n % 26]) * min(size, total - start)
        for n, start in enumerate(range(0, total, size))
    ]


@pytest.mark.parametrize("path", ["/api/echo", "/pay/tok_abc"])
def test_a_declared_body_over_the_limit_is_refused_before_any_of_it_is_read(path: str) -> None:
    trace = Trace()
    reply = call(
        build_app(trace),
        path,
        [b"x" * 600, b"x" * 600],
        trace=trace,
        headers={"Content-Length": str(LIMIT + 200)},
    )
    assert reply.status == 413
    assert trace.chunks_pulled == 0
    assert trace.bodies == []


@pytest.mark.parametrize("path", ["/api/echo", "/pay/tok_abc"])
def test_a_chunked_body_is_cut_off_as_soon_as_it_passes_the_limit(path: str) -> None:
    trace = Trace()
    chunks = chunked(50 * LIMIT)
    reply = call(build_app(trace), path, chunks, trace=trace)
    assert reply.status == 413
    assert b"too large" in reply.body
    # Ten chunks of 100 bytes make the limit; the eleventh passes it and nothing more is read.
    assert trace.chunks_pulled == LIMIT // 100 + 1
    assert trace.bodies == []


def test_a_body_that_lies_about_its_length_is_still_counted() -> None:
    trace = Trace()
    reply = call(
        build_app(trace),
        "/api/echo",
        chunked(3 * LIMIT),
        trace=trace,
        headers={"Content-Length": "10"},
    )
    assert reply.status == 413
    assert trace.bodies == []


@pytest.mark.parametrize("size", [0, 1, LIMIT - 1, LIMIT])
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_body_within_the_limit_reaches_the_app_exactly(size: int, declared: bool) -> None:
    trace = Trace()
    chunks = chunked(size, size=37) or [b""]
    headers = {"Content-Length": str(size)} if declared else {}
    reply = call(build_app(trace), "/api/echo", chunks, trace=trace, headers=headers)
    assert reply.status == 200
    assert trace.bodies == [b"".join(chunks)]
    assert reply.body == b"".join(chunks)


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "١٢"])
def test_a_malformed_content_length_is_a_bad_request(length: str) -> None:
    trace = Trace()
    reply = call(
        build_app(trace), "/api/echo", [b"x"], trace=trace, headers={"Content-Length": length}
    )
    assert reply.status == 400
    assert trace.chunks_pulled == 0


def test_exempt_paths_take_bodies_of_any_size() -> None:
    trace = Trace()
    chunks = chunked(5 * LIMIT)
    reply = call(build_app(trace, exempt=("/_upload",)), "/_upload", chunks, trace=trace)
    assert reply.status == 200
    assert trace.bodies == [b"".join(chunks)]
    refused = call(build_app(trace, exempt=("/_upload",)), "/_uploads", chunks, trace=trace)
    assert refused.status == 413, "only the exempt path itself and what lies under it"


def test_the_app_routes_cap_the_webhook_at_half_a_megabyte() -> None:
    trace = Trace()
    body = b"{" + b" " * MAX_BODY_BYTES + b"}"
    reply = call(api.build_routes(), "/api/stripe/webhook", [body], trace=trace)
    assert reply.status == 413
    assert reply.headers["x-content-type-options"] == "nosniff", "still gets the site headers"
    declared = call(
        api.build_routes(),
        "/api/stripe/webhook",
        [body],
        trace=trace,
        headers={"Content-Length": str(len(body))},
    )
    assert declared.status == 413
