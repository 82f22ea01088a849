"""The signed-in merchant: the base state every dashboard page state inherits from."""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from mioapp import auth
from mioapp.models import MerchantUser
from mioapp.settings import get_settings
from mioapp.web import routes

SESSION_COOKIE = "mio_session"


class MerchantState(rx.State):
    """Holds the sign-in cookie; `_signed_in` is how every handler checks who is asking."""

    session_token: str = rx.Cookie(
        "",
        name=SESSION_COOKIE,
        same_site="strict",
        max_age=get_settings().session_days * 86400,
        secure=get_settings().app_base_url.startswith("https://"),
    )
    merchant_name: str = ""
    merchant_email: str = ""

    def _signed_in(self, session: Session) -> MerchantUser | None:
        """The merchant behind this browser's cookie, checked against the database every time."""
        user = auth.user_for_token(session, self.session_token)
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

    @rx.event
    def sign_out(self):
        with rx.session() as session:
            auth.sign_out(session, self.session_token)
        self.session_token = ""
        self.merchant_name = self.merchant_email = ""
        return rx.redirect(routes.SIGN_IN)
