"""HTTP security headers: a strict CSP on the pay pages (gzipped once hashed), basics elsewhere."""

from __future__ import annotations

import base64
import codecs
import gzip
import hashlib
import logging
import re
import zlib
from collections.abc import Iterable
from html.parser import HTMLParser
from urllib.parse import urlsplit

import anyio
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

PAY_PREFIX = "/pay/"

# Every response outside /pay/. The dashboard keeps its referrer within the site (its URLs
# name customers) and is never framed (clickjacking of the charge buttons).
SITE_HEADERS = {
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

# The pay pages: the URL holds a bearer token, so no Referer may carry it to another site
# (Stripe included), and no cache may keep the page.
PAY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

# Request headers that would make the server answer with something other than the whole,
# unencoded page, whose inline scripts must be read: compressed sidecars (brotli or gzip from
# Reflex's static server), byte ranges and 304s (which would carry a CSP without hashes).
# The page is compressed here instead, once its scripts are hashed.
_PAY_REQUEST_HEADERS_DROPPED = frozenset(
    {b"accept-encoding", b"range", b"if-range", b"if-none-match", b"if-modified-since"}
)

# Stripe's published CSP requirements for Stripe.js and the card Element
# (https://docs.stripe.com/security/guide#content-security-policy).
_STRIPE_SCRIPTS = ("https://js.stripe.com", "https://*.js.stripe.com")
_STRIPE_CONNECT = ("https://api.stripe.com",)
_STRIPE_FRAMES = ("https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


class _InlineScripts(HTMLParser):
    """Collects the text of every <script> without a src, exactly as the browser hashes it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and not any(name == "src" for name, _ in attrs):
            self._current = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.scripts.append("".join(self._current))
            self._current = None


def inline_script_hashes(html: str) -> list[str]:
    """CSP source expressions ('sha256-...') for the inline scripts of an HTML document."""
    parser = _InlineScripts()
    parser.feed(html)
    parser.close()
    hashes = []
    for script in parser.scripts:
        # Browsers hash the text after HTML's newline normalisation, encoded as UTF-8.
        text = script.replace("\r\n", "\n").replace("\r", "\n")
        digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return _unique(hashes)


def content_security_policy(
    *, stripe_js_url: str, app_base_url: str, script_hashes: Iterable[str] = ()
) -> str:
    """The pay pages' policy: scripts from the app, Stripe.js and the listed hashes only."""
    stripe_origin = _origin(stripe_js_url)
    if urlsplit(stripe_js_url).hostname == "js.stripe.com":
        scripts, connect, frames = _STRIPE_SCRIPTS, _STRIPE_CONNECT, _STRIPE_FRAMES
    else:  # the local emulator serves its fake Stripe.js, API and 3DS page from one origin
        scripts = connect = frames = (stripe_origin,)
    app_origin = _origin(app_base_url)
    # Reflex's websocket goes to APP_BASE_URL, which may differ from the address in use.
    websocket = re.sub(r"^http", "ws", app_origin)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *scripts, *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],  # emotion injects <style> at runtime
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'", app_origin, websocket, *connect],
        "frame-src": list(frames),
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(_unique(values))}" for name, values in directives.items())


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (an explicit q=0 refuses it)."""
    qualities: dict[str, float] = {}
    for item in accept_encoding.split(","):
        name, _, params = item.partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if name.strip():
            qualities[name.strip().lower()] = quality
    return qualities.get("gzip", qualities.get("*", 0.0)) > 0


def _decoded(body: bytes, encoding: str) -> bytes | None:
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip", "deflate"):
        try:
            return zlib.decompress(body, wbits=47)  # 47: gzip or zlib header, detected
        except zlib.error:
            return None
    return None


class SecurityHeadersMiddleware:
    """Pure ASGI middleware; buffers only HTML responses under /pay/, to hash their scripts
    (and then gzip them for clients that accept it)."""

    def __init__(self, app: ASGIApp, *, stripe_js_url: str, app_base_url: str) -> None:
        self.app = app
        self.stripe_js_url = stripe_js_url
        self.app_base_url = app_base_url

    def policy(self, script_hashes: Iterable[str] = ()) -> str:
        return content_security_policy(
            stripe_js_url=self.stripe_js_url,
            app_base_url=self.app_base_url,
            script_hashes=script_hashes,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif scope["path"] == PAY_PREFIX.rstrip("/") or scope["path"].startswith(PAY_PREFIX):
            await self._pay(scope, receive, send)
        else:
            await self.app(scope, receive, self._adding(send, SITE_HEADERS))

    @staticmethod
    def _adding(send: Send, headers: dict[str, str]) -> Send:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = _with_headers(message, headers)
            await send(message)

        return send_with_headers

    async def _pay(self, scope: Scope, receive: Receive, send: Send) -> None:
        compress = accepts_gzip(Headers(scope=scope).get("accept-encoding", ""))
        scope = dict(scope)
        scope["headers"] = [
            (name, value)
            for name, value in scope["headers"]
            if name.lower() not in _PAY_REQUEST_HEADERS_DROPPED
        ]
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_pay(message: Message) -> None:
            nonlocal start
            kind = message["type"]
            if kind == "http.response.start":
                message = _with_headers(message, PAY_HEADERS)
                headers = MutableHeaders(scope=message)
                content_type = headers.get("content-type", "").lower()
                if content_type.startswith("text/html") and scope["method"] != "HEAD":
                    start = message  # held back until the whole body is known
                    return
                # Not a page (or no body): the policy without hashes, as strict as it gets.
                headers["Content-Security-Policy"] = self.policy()
                await send(message)
            elif start is None:
                await send(message)
            elif kind == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._send_page(send, start, b"".join(chunks), None, compress)
            elif kind == "http.response.pathsend":
                # Granian offers the pathsend extension, so Starlette's FileResponse hands it
                # the file's path instead of the bytes: read the same file to hash it.
                body = await anyio.Path(message["path"]).read_bytes()
                await self._send_page(send, start, body, message, compress)
            else:
                await send(message)

        await self.app(scope, receive, send_pay)

    async def _send_page(
        self, send: Send, start: Message, body: bytes, pathsend: Message | None, compress: bool
    ) -> None:
        headers = MutableHeaders(scope=start)
        encoding = headers.get("content-encoding", "").strip().lower()
        html = _decoded(body, encoding)
        if html is None:
            # Unreadable: no hashes, so the inline scripts are blocked rather than allowed.
            logger.warning("pay page body in an unknown encoding: its inline scripts are blocked")
            hashes: list[str] = []
        else:
            charset = _charset(headers.get("content-type", ""))
            hashes = inline_script_hashes(html.decode(charset, errors="replace"))
        headers["Content-Security-Policy"] = self.policy(hashes)
        headers.add_vary_header("Accept-Encoding")
        if compress and encoding in ("", "identity"):
            # Hashed above from exactly these bytes; compressing changes the transfer only.
            body, pathsend = gzip.compress(body, compresslevel=6, mtime=0), None
            headers["Content-Encoding"] = "gzip"
            headers["Content-Length"] = str(len(body))
            # The validator named the plain file; this is another representation.
            del headers["ETag"]
        await send(start)
        if pathsend is not None:
            await send(pathsend)
        else:
            await send({"type": "http.response.body", "body": body, "more_body": False})


def _with_headers(message: Message, headers: dict[str, str]) -> Message:
    """A copy of a response-start message with `headers` set, replacing any same-named ones."""
    message = {**message, "headers": list(message.get("headers", []))}
    mutable = MutableHeaders(scope=message)
    for name, value in headers.items():
        mutable[name] = value
    return message


def _charset(content_type: str) -> str:
    match = re.search(r"charset=\"?([\w.:-]+)", content_type, re.IGNORECASE)
    try:
        return codecs.lookup(match.group(1)).name if match else "utf-8"
    except LookupError:
        return "utf-8"
