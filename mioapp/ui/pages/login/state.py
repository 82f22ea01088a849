"""What the sign-in page holds: the form's error and the sign-in itself."""

from __future__ import annotations

import reflex as rx

from mioapp import auth
from mioapp.settings import get_settings
from mioapp.ui.merchant_state import MerchantState


def _safe_next(value: str) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/customers"


class LoginState(MerchantState):
    error: str = ""
    submitting: bool = False

    @rx.event
    def redirect_if_signed_in(self):
        with rx.session() as session:
            if self._signed_in(session) is not None:
                return rx.redirect("/customers")

    @rx.event
    def submit(self, form: dict):
        self.error = ""
        email = str(form.get("email", ""))[:254]
        password = str(form.get("password", ""))[:1024]
        if not email or not password:
            self.error = "Enter your email and password."
            return
        with rx.session() as session:
            result = auth.sign_in(
                session, email=email, password=password, session_days=get_settings().session_days
            )
        if result.error:
            self.error = result.error
            return
        self.session_token = result.token
        target = _safe_next(self.router.url.query_parameters.get("next", ""))
        return rx.redirect(target)
