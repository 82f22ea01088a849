"""Preload hints for the pay page: its own code, named in the page's headers.

`/pay/<token>` is a dynamic route, so Reflex serves it the build's generic fallback page,
which preloads only the code every page shares. Left alone, a phone finds the pay page's
own modules (the card field among them) only once that shared code has run, then their
imports one level at a time. A `Link` header lets the browser fetch them alongside the
shared code instead.

Stripe.js is not named here: fetched alongside the shared code, it slowed that code down
on a phone's connection, and the card field needs it only after hydration. The page starts
it once the shared code has arrived (StripeJsHint in mioapp/ui/components/stripe_card.py).
"""

from __future__ import annotations

import functools
import json
import logging
import re
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

# The route as React Router's build manifest names it.
PAY_ROUTE = "pay/:token"
# The pay page itself; its receipt (/pay/<token>/success) takes no card.
_PAY_PAGE = re.compile(r"/pay/[^/]+/?")
_MANIFEST = re.compile(r"window\.__reactRouterManifest\s*=\s*(\{.*\})\s*;?\s*$", re.S)


@functools.cache
def route_modules(static_dir: Path, route_path: str) -> tuple[str, ...]:
    """URLs of the modules `route_path` needs beyond what the fallback page preloads.

    Read once from React Router's manifest in the build being served; an empty tuple (and a
    warning) when there is no build or its manifest cannot be read, which costs speed only.
    """
    try:
        [manifest_file] = (static_dir / "assets").glob("manifest-*.js")
        match = _MANIFEST.search(manifest_file.read_text(encoding="utf-8"))
        manifest = json.loads(match.group(1)) if match else {}
        routes = manifest["routes"]
        [route] = [r for r in routes.values() if r.get("path") == route_path]
        shared = {
            *manifest["entry"]["imports"],
            manifest["entry"]["module"],
            *routes["root"]["imports"],
            routes["root"]["module"],
        }
    except (OSError, ValueError, KeyError, TypeError):
        logger.warning("no React Router manifest in %s: the pay page loads unhinted", static_dir)
        return ()
    wanted = [route["module"], *route.get("imports", [])]
    return tuple(url for url in dict.fromkeys(wanted) if url not in shared)


class PayPagePreloadMiddleware:
    """Pure ASGI middleware: a `Link` header on the pay page's HTML, nothing else touched."""

    def __init__(self, app: ASGIApp, *, static_dir: Path) -> None:
        self.app = app
        self.static_dir = static_dir

    def link_header(self) -> str:
        """The hints; empty when the build has none to give (no manifest)."""
        hints = [f"<{url}>; rel=modulepreload" for url in route_modules(self.static_dir, PAY_ROUTE)]
        return ", ".join(hints)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _PAY_PAGE.fullmatch(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def send_with_hints(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": list(message.get("headers", []))}
                headers = MutableHeaders(scope=message)
                link = self.link_header()
                if link and headers.get("content-type", "").lower().startswith("text/html"):
                    headers["Link"] = link
            await send(message)

        await self.app(scope, receive, send_with_hints)
