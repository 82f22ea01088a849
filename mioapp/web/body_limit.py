"""A cap on request bodies, enforced while they stream in, before any route reads them."""

from __future__ import annotations

import logging

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

# Stripe's events are a few KB; nothing this app accepts comes near half a megabyte.
MAX_BODY_BYTES = 512 * 1024


class BodyTooLarge(HTTPException):
    """Raised from `receive` once the body passes the cap.

    An HTTPException, so any Starlette app on the way (Reflex's own included) answers it
    with a 413 rather than a 500, and never gets the rest of the body.
    """

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="Request body too large")


class BodyLimitMiddleware:
    """Pure ASGI middleware: 413 for a declared Content-Length over the cap (the app is never
    called) and for a chunked body as soon as the bytes received pass it."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int = MAX_BODY_BYTES, exempt: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt

    def _is_exempt(self, path: str) -> bool:
        return any(path == prefix or path.startswith(f"{prefix}/") for prefix in self.exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._is_exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not (declared.isascii() and declared.isdigit()):
                await PlainTextResponse("Invalid Content-Length", status_code=400)(
                    scope, receive, send
                )
                return
            if int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return

        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if response_started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        # No path in the log: /pay/ paths carry bearer tokens.
        logger.warning("refused a %s request body over %d bytes", scope["method"], self.max_bytes)
        # The client may still be sending: ask the server to close rather than drain it.
        response = PlainTextResponse(
            "Request body too large", status_code=413, headers={"Connection": "close"}
        )
        await response(scope, receive, send)
