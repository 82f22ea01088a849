"""The security-headers middleware on a tiny Starlette app, driven message by message."""

from __future__ import annotations

import base64
import gzip
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import Message

from mioapp.web.security_headers import (
    SecurityHeadersMiddleware,
    content_security_policy,
    inline_script_hashes,
)

EMULATOR_JS = "http://127.0.0.1:8420/js.stripe.com/v3/"
APP_URL = "http://localhost:3000"
THEME_SCRIPT = "\r\nwindow.theme = 'light';\r\n"
MODULE_SCRIPT = 'import "/assets/entry.js";\n'
PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'>"
    f"<script>{THEME_SCRIPT}</script>"
    f'<script src="{EMULATOR_JS}"></script>'
    "</head><body><p>Réservation façade</p>"
    f'<script type="module" async="">{MODULE_SCRIPT}</script>'
    "</body></html>"
).encode()


def sha256_source(script: str) -> str:
    normalised = script.replace("\r\n", "\n").encode()
    return f"'sha256-{base64.b64encode(hashlib.sha256(normalised).digest()).decode()}'"


PAGE_HASHES = {sha256_source(THEME_SCRIPT), sha256_source(MODULE_SCRIPT)}


async def page(request: Request) -> Response:
    return HTMLResponse(PAGE)


async def streamed_page(request: Request) -> Response:
    async def chunks():
        # Cut inside a script and inside the two-byte "é": only the whole body is hashable.
        cut_script = PAGE.index(b"theme") + 2
        cut_char = PAGE.index("é".encode()) + 1
        yield PAGE[:cut_script]
        yield PAGE[cut_script:cut_char]
        yield PAGE[cut_char:]

    return StreamingResponse(chunks(), media_type="text/html; charset=utf-8")


async def gzipped_page(request: Request) -> Response:
    return Response(
        gzip.compress(PAGE), media_type="text/html", headers={"Content-Encoding": "gzip"}
    )


async def brotli_page(request: Request) -> Response:
    return Response(b"\x0b\x01\x80", media_type="text/html", headers={"Content-Encoding": "br"})


async def data(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def request_headers(request: Request) -> Response:
    return JSONResponse(dict(request.headers))


async def streamed_data(request: Request) -> Response:
    async def chunks():
        for number in range(100):
            yield f"{number:04d}\n".encode()

    return StreamingResponse(chunks(), media_type="text/plain")


def build_app(file_path: Path | None = None) -> Starlette:
    routes = [
        Route("/pay/{token}", page),
        Route("/pay/{token}/streamed", streamed_page),
        Route("/pay/{token}/gzipped", gzipped_page),
        Route("/pay/{token}/brotli", brotli_page),
        Route("/pay/{token}/data", data),
        Route("/pay/{token}/headers", request_headers),
        Route("/customers", page),
        Route("/customers/streamed", streamed_data),
        Route("/customers/headers", request_headers),
    ]
    if file_path is not None:

        async def file_page(request: Request) -> Response:
            return FileResponse(file_path, media_type="text/html")

        routes.append(Route("/pay/{token}/file", file_page))
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeadersMiddleware, stripe_js_url=EMULATOR_JS, app_base_url=APP_URL)
        ],
    )


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    messages: list[Message]

    def directives(self) -> dict[str, list[str]]:
        policy = self.headers["content-security-policy"]
        parsed = {}
        for directive in policy.split(";"):
            name, *values = directive.split()
            parsed[name] = values
        return parsed


def call(
    app: Starlette,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    extensions: dict | None = None,
) -> Reply:
    """One request through the raw ASGI interface, keeping every message the app sent."""
    messages: list[Message] = []
    requested = False

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "extensions": extensions or {},
    }
    # Its own thread: the browser tests' Playwright may leave an event loop running here.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(anyio.run, app, scope, receive, send).result()
    start = messages[0]
    assert start["type"] == "http.response.start"
    names = [name.decode().lower() for name, _ in start["headers"]]
    assert len(names) == len(set(names)), f"a header was sent twice: {names}"
    return Reply(
        status=start["status"],
        headers={name.decode().lower(): value.decode() for name, value in start["headers"]},
        body=b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body"),
        messages=messages,
    )


def assert_pay_headers(reply: Reply) -> None:
    assert reply.headers["referrer-policy"] == "no-referrer"
    assert reply.headers["cache-control"] == "no-store"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["x-frame-options"] == "DENY"
    directives = reply.directives()
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]


def script_hashes(reply: Reply) -> set[str]:
    return {s for s in reply.directives()["script-src"] if s.startswith("'sha256-")}


def test_a_pay_page_gets_the_hashes_of_its_inline_scripts() -> None:
    reply = call(build_app(), "/pay/tok_abc")
    assert reply.status == 200
    assert reply.body == PAGE
    assert_pay_headers(reply)
    assert script_hashes(reply) == PAGE_HASHES
    assert int(reply.headers["content-length"]) == len(PAGE)
    directives = reply.directives()
    assert directives["script-src"][:2] == ["'self'", "http://127.0.0.1:8420"]
    assert directives["connect-src"] == [
        "'self'",
        "http://localhost:3000",
        "ws://localhost:3000",
        "http://127.0.0.1:8420",
    ]
    assert directives["frame-src"] == ["http://127.0.0.1:8420"]
    assert directives["style-src"] == ["'self'", "'unsafe-inline'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["object-src"] == directives["base-uri"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]


def test_a_streamed_pay_page_arrives_whole_with_its_hashes() -> None:
    reply = call(build_app(), "/pay/tok_abc/streamed")
    assert reply.body == PAGE
    assert script_hashes(reply) == PAGE_HASHES
    assert_pay_headers(reply)


def test_a_compressed_page_is_hashed_and_passed_on_unchanged() -> None:
    reply = call(build_app(), "/pay/tok_abc/gzipped")
    assert gzip.decompress(reply.body) == PAGE
    assert script_hashes(reply) == PAGE_HASHES


def test_a_page_it_cannot_read_gets_no_hashes_so_its_scripts_stay_blocked() -> None:
    reply = call(build_app(), "/pay/tok_abc/brotli")
    assert_pay_headers(reply)
    assert script_hashes(reply) == set()


def test_a_file_the_server_sends_itself_is_hashed_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(PAGE)
    reply = call(build_app(path), "/pay/tok_abc/file", extensions={"http.response.pathsend": {}})
    assert [m["type"] for m in reply.messages] == [
        "http.response.start",
        "http.response.pathsend",
    ]
    assert reply.messages[1]["path"] == str(path)
    assert script_hashes(reply) == PAGE_HASHES


def test_pay_requests_ask_for_the_plain_whole_page() -> None:
    """No gzip sidecar, range or 304 that would hide the scripts from the middleware."""
    asked = {
        "Accept-Encoding": "gzip, br",
        "Range": "bytes=0-10",
        "If-None-Match": '"abc"',
        "If-Modified-Since": "Thu, 01 Jan 2026 00:00:00 GMT",
        "User-Agent": "test",
    }
    received = call(build_app(), "/pay/tok_abc/headers", headers=asked).body.decode()
    assert "gzip" not in received
    assert "bytes=" not in received
    assert "abc" not in received
    assert "2026" not in received
    assert '"user-agent":"test"' in received
    elsewhere = call(build_app(), "/customers/headers", headers=asked).body.decode()
    assert '"accept-encoding":"gzip, br"' in elsewhere


def test_other_responses_under_pay_get_the_policy_without_hashes() -> None:
    reply = call(build_app(), "/pay/tok_abc/data")
    assert reply.body == b'{"ok":true}'
    assert_pay_headers(reply)
    assert script_hashes(reply) == set()


def test_head_of_a_pay_page_gets_the_headers() -> None:
    reply = call(build_app(), "/pay/tok_abc", method="HEAD")
    assert_pay_headers(reply)  # the server drops the body of a HEAD; nothing to hash


def test_other_pages_get_the_basic_headers_and_no_policy() -> None:
    reply = call(build_app(), "/customers")
    assert reply.body == PAGE
    assert "content-security-policy" not in reply.headers
    assert "cache-control" not in reply.headers
    assert reply.headers["referrer-policy"] == "same-origin"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["x-frame-options"] == "DENY"


def test_other_streamed_responses_pass_through_chunk_by_chunk() -> None:
    reply = call(build_app(), "/customers/streamed")
    bodies = [m for m in reply.messages if m["type"] == "http.response.body"]
    assert len(bodies) > 100, "streamed as it came, not buffered"
    assert reply.body == b"".join(f"{n:04d}\n".encode() for n in range(100))
    assert "content-security-policy" not in reply.headers


def test_real_stripe_gets_stripes_published_sources() -> None:
    policy = content_security_policy(
        stripe_js_url="https://js.stripe.com/v3/",
        app_base_url="https://pay.lagoon.example",
        script_hashes=["'sha256-abc'"],
    )
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
    assert directives["script-src"] == [
        "'self'",
        "https://js.stripe.com",
        "https://*.js.stripe.com",
        "'sha256-abc'",
    ]
    assert directives["connect-src"] == [
        "'self'",
        "https://pay.lagoon.example",
        "wss://pay.lagoon.example",
        "https://api.stripe.com",
    ]
    assert directives["frame-src"] == [
        "https://js.stripe.com",
        "https://*.js.stripe.com",
        "https://hooks.stripe.com",
    ]


@pytest.mark.parametrize(
    ("html", "scripts"),
    [
        ("<script>a()</script><script src='/x.js'></script>", ["a()"]),
        ("<SCRIPT type='module'>b()</SCRIPT>", ["b()"]),
        ("<script>if (x < 1) { s = '<p>'; }</script>", ["if (x < 1) { s = '<p>'; }"]),
        ("<script>&amp;</script>", ["&amp;"]),  # script text is raw: no entity decoding
        ("<script></script>", [""]),
        ("<!-- <script>c()</script> --><p>d()</p>", []),
    ],
)
def test_inline_script_hashes_cover_the_raw_text(html: str, scripts: list[str]) -> None:
    assert inline_script_hashes(html) == [sha256_source(s) for s in scripts]


@pytest.mark.parametrize("accept", ["gzip, deflate, br, zstd", "br;q=1.0, gzip;q=0.5", "*"])
def test_a_pay_page_is_gzipped_after_its_scripts_are_hashed(accept: str) -> None:
    reply = call(build_app(), "/pay/tok_abc", headers={"Accept-Encoding": accept})
    assert reply.headers["content-encoding"] == "gzip"
    assert gzip.decompress(reply.body) == PAGE
    assert int(reply.headers["content-length"]) == len(reply.body) < len(PAGE)
    assert "accept-encoding" in reply.headers["vary"].lower()
    assert script_hashes(reply) == PAGE_HASHES
    assert_pay_headers(reply)


def test_a_streamed_pay_page_is_gzipped_whole() -> None:
    reply = call(build_app(), "/pay/tok_abc/streamed", headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(reply.body) == PAGE
    assert script_hashes(reply) == PAGE_HASHES


def test_a_pay_page_file_is_read_hashed_and_gzipped(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(PAGE)
    reply = call(
        build_app(path),
        "/pay/tok_abc/file",
        headers={"Accept-Encoding": "gzip"},
        extensions={"http.response.pathsend": {}},
    )
    assert [m["type"] for m in reply.messages] == ["http.response.start", "http.response.body"]
    assert gzip.decompress(reply.body) == PAGE
    assert script_hashes(reply) == PAGE_HASHES


@pytest.mark.parametrize("accept", [None, "identity", "gzip;q=0", "br", "gzip;q=0, *;q=0.5"])
def test_a_pay_page_stays_plain_for_clients_that_refuse_gzip(accept: str | None) -> None:
    headers = {"Accept-Encoding": accept} if accept is not None else {}
    reply = call(build_app(), "/pay/tok_abc", headers=headers)
    assert "content-encoding" not in reply.headers
    assert reply.body == PAGE
    assert script_hashes(reply) == PAGE_HASHES
