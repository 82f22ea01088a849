"""What the sign-in page holds: the form's error and the sign-in itself."""

from __future__ import annotations

import reflex as rx

from mioapp import auth
from mioapp.db import database
from mioapp.settings import get_settings
from mioapp.ui.merchant_state import MerchantState
from mioapp.web import routes


def _safe_next(value: str) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/customers"


class LoginState(MerchantState):
    error: str = ""
    submitting: bool = False

    @rx.event
    async def redirect_if_signed_in(self):
        if await self._check_sign_in():
            return rx.redirect(routes.CUSTOMERS)
        return None

    @rx.event
    async def submit(self, form: dict):
        self.error = ""
        email = str(form.get("email", ""))[:254]
        password = str(form.get("password", ""))[:1024]
        if not email or not password:
            self.error = "Enter your email and password."
            return
        days = get_settings().session_days
        result = await database().run(
            lambda s: auth.sign_in(s, email=email, password=password, session_days=days)
        )
        if result.error:
            self.error = result.error
            return
        self.session_token = result.token
        target = _safe_next(self.router.url.query_parameters.get("next", ""))
        return rx.redirect(target)
