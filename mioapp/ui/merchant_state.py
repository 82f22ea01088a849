"""The signed-in merchant: the base state every dashboard page state inherits from."""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from mioapp import auth
from mioapp.models import MerchantUser
from mioapp.web import routes
from mioapp.web.sign_in import token_from_cookie_header


class MerchantState(rx.State):
    """Who is asking: `_signed_in` is how every handler checks, on the server, every time."""

    merchant_name: str = ""
    merchant_email: str = ""

    def _session_token(self) -> str | None:
        """The session cookie the websocket's HTTP upgrade request carried. The cookie is
        HttpOnly, so only the browser itself sends it; Reflex keeps the Cookie header on the
        server (never in the state it sends to the page), and a page load after sign-in or
        sign-out opens a new websocket with the new cookie."""
        return token_from_cookie_header(self.router.headers.cookie)

    def _signed_in(self, session: Session) -> MerchantUser | None:
        """The merchant behind this browser's cookie, checked against the database every time."""
        user = auth.user_for_token(session, self._session_token())
        if user is not None:
            self.merchant_name, self.merchant_email = user.name, user.email
        return user

    def _merchant_id(self) -> int | None:
        """Id of the signed-in merchant or None; the first line of every dashboard handler."""
        with rx.session() as session:
            user = self._signed_in(session)
            return user.id if user else None

    def _to_sign_in(self) -> rx.event.EventSpec:
        path = self.router.url.path or routes.CUSTOMERS
        return rx.redirect(f"{routes.SIGN_IN}?next={path}")
