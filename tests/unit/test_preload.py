"""The pay page's preload hints: its modules in a Link header, read from a React Router
manifest shaped like the build's, and Stripe.js started from the shared code."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message

from mioapp.settings import get_settings
from mioapp.ui.components.stripe_card import StripeJsHint
from mioapp.web.preload import PAY_ROUTE, PayPagePreloadMiddleware, route_modules

SHARED = ["/assets/vendor-1.js", "/assets/state-1.js"]
MANIFEST = {
    "entry": {"module": "/assets/entry.client-1.js", "imports": ["/assets/vendor-1.js"]},
    "routes": {
        "root": {"id": "root", "path": "", "module": "/assets/root-1.js", "imports": SHARED},
        "routes/[pay].$[token]._index": {
            "path": "pay/:token",
            "module": "/assets/_pay_-1.js",
            "imports": [*SHARED, "/assets/stripe_card-1.js", "/assets/icons-1.js"],
        },
        "routes/[pay].$[token].[success]._index": {
            "path": "pay/:token/success",
            "module": "/assets/_success_-1.js",
            "imports": SHARED,
        },
    },
}
PAY_MODULES = ("/assets/_pay_-1.js", "/assets/stripe_card-1.js", "/assets/icons-1.js")


def build_dir(tmp_path: Path, manifest: str | None) -> Path:
    """A static build folder as React Router writes it; `None` for no manifest at all."""
    (tmp_path / "assets").mkdir()
    if manifest is not None:
        (tmp_path / "assets" / "manifest-5a07.js").write_text(manifest)
    route_modules.cache_clear()
    return tmp_path


def manifest_js(manifest: dict) -> str:
    return f"window.__reactRouterManifest={json.dumps(manifest)};"


def test_the_pay_route_needs_its_own_modules_beyond_the_shared_ones(tmp_path: Path) -> None:
    assert route_modules(build_dir(tmp_path, manifest_js(MANIFEST)), PAY_ROUTE) == PAY_MODULES


@pytest.mark.parametrize(
    "manifest",
    [None, "", "window.__reactRouterManifest={broken;", manifest_js({"routes": {}})],
    ids=["no build", "empty", "not json", "no pay route"],
)
def test_an_unreadable_build_gives_no_hints_and_a_warning(
    tmp_path: Path, manifest: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    assert route_modules(build_dir(tmp_path, manifest), PAY_ROUTE) == ()
    assert "loads unhinted" in caplog.text


async def page(request: Request) -> Response:
    return HTMLResponse("<html><head></head><body></body></html>")


async def data(request: Request) -> Response:
    return JSONResponse({"ok": True})


def headers_of(static_dir: Path, path: str) -> dict[str, str]:
    app = Starlette(
        routes=[
            Route("/pay/{token}", page),
            Route("/pay/{token}/success", page),
            Route("/api/x", data),
        ],
        middleware=[Middleware(PayPagePreloadMiddleware, static_dir=static_dir)],
    )
    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(anyio.run, app, scope, receive, send).result()
    return {k.decode(): v.decode() for k, v in messages[0]["headers"]}


def test_the_pay_page_names_its_modules_in_a_link_header(tmp_path: Path) -> None:
    # Not Stripe.js: the page starts it once the shared code has arrived (StripeJsHint).
    headers = headers_of(build_dir(tmp_path, manifest_js(MANIFEST)), "/pay/tok_abc")
    assert headers["link"].split(", ") == [f"<{url}>; rel=modulepreload" for url in PAY_MODULES]


def test_without_a_manifest_the_pay_page_gets_no_link_header(tmp_path: Path) -> None:
    assert "link" not in headers_of(build_dir(tmp_path, None), "/pay/tok_abc")


@pytest.mark.parametrize("path", ["/pay/tok_abc/success", "/api/x"])
def test_pages_without_a_card_field_get_no_hints(tmp_path: Path, path: str) -> None:
    assert "link" not in headers_of(build_dir(tmp_path, manifest_js(MANIFEST)), path)


@pytest.mark.parametrize(
    ("path", "hinted"),
    [
        ("/pay/tok_abc", True),
        ("/pay/tok_abc/", True),
        ("/pay/tok_abc/success", False),  # the receipt takes no card
        ("/pay/", False),
        ("/customers/7", False),
    ],
)
def test_the_shared_code_starts_stripe_js_on_the_pay_page_only(path: str, hinted: bool) -> None:
    [code] = StripeJsHint.create().add_custom_code()
    assert f"href = {json.dumps(get_settings().stripe_js_url)};" in code
    assert 'rel = "preload"' in code, "a hint: Stripe.js runs only where the card field is"
    # The JS literal /^...$/ in the module code, read as a Python pattern (the same syntax).
    pattern = re.search(r"/(\^.*\$)/\.test\(window\.location\.pathname\)", code)
    assert pattern is not None
    assert (re.match(pattern.group(1), path) is not None) is hinted
