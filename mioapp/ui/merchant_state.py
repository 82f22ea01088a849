"""The signed-in merchant: the base state every dashboard page state inherits from, and the
`@signed_in` guard every dashboard event handler wears."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

import reflex as rx
from sqlmodel import Session

from mioapp import auth
from mioapp.db import database
from mioapp.models import MerchantUser
from mioapp.web import routes
from mioapp.web.sign_in import token_from_cookie_header


class MerchantState(rx.State):
    """Who is asking: `@signed_in` checks the session cookie against the database on every
    event, on the server."""

    merchant_name: str = ""
    merchant_email: str = ""
    # The signed-in merchant's id, set by `@signed_in` for the handler it guards.
    _user_id: int | None = None

    def _session_token(self) -> str | None:
        """The session cookie the websocket's HTTP upgrade request carried. The cookie is
        HttpOnly, so only the browser itself sends it; Reflex keeps the Cookie header on the
        server (never in the state it sends to the page), and a page load after sign-in or
        sign-out opens a new websocket with the new cookie."""
        return token_from_cookie_header(self.router.headers.cookie)

    def _signed_in(self, session: Session) -> MerchantUser | None:
        """The merchant behind this browser's cookie, checked against the database every time."""
        return auth.user_for_token(session, self._session_token())

    async def _check_sign_in(self) -> bool:
        user = await database().run(self._signed_in)
        self._user_id = user.id if user else None
        if user is not None:
            self.merchant_name, self.merchant_email = user.name, user.email
        return user is not None

    def _to_sign_in(self) -> rx.event.EventSpec:
        path = self.router.url.path or routes.CUSTOMERS
        return rx.redirect(f"{routes.SIGN_IN}?next={path}")


def signed_in(handler: Callable) -> Callable:
    """Run a dashboard event handler only for a signed-in merchant, checked on the server
    (off the event loop) before every call: any websocket client can call any handler by
    name. Anyone else is sent to the sign-in page and the handler does not run.

    The handler may be async, an async generator or plain; the guarded one is async.
    """
    if inspect.isasyncgenfunction(handler):

        @functools.wraps(handler)
        async def guarded_stream(self, *args, **kwargs):
            if not await self._check_sign_in():
                yield self._to_sign_in()
                return
            async for update in handler(self, *args, **kwargs):
                yield update

        guarded_stream.requires_sign_in = True
        return guarded_stream

    @functools.wraps(handler)
    async def guarded(self, *args, **kwargs):
        if not await self._check_sign_in():
            return self._to_sign_in()
        result = handler(self, *args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    guarded.requires_sign_in = True
    return guarded
