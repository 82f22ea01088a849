"""What the sign-in page holds: the refusal the sign-in post came back with, and where to go."""

from __future__ import annotations

import reflex as rx

from mioapp.auth import Refusal
from mioapp.ui.merchant_state import MerchantState
from mioapp.web import routes
from mioapp.web.sign_in import MISSING_FIELDS, safe_next

# The error codes the sign-in post (mioapp/web/sign_in.py) sends back in the query.
MESSAGES = {
    Refusal.INVALID: "That email and password don't match an account.",
    Refusal.LOCKED: "Too many failed attempts. Try again in 15 minutes.",
    Refusal.THROTTLED: "Too many sign-in attempts from your network. Try again in 15 minutes.",
    MISSING_FIELDS: "Enter your email and password.",
}


class LoginState(MerchantState):
    error: str = ""
    next_path: str = routes.CUSTOMERS

    @rx.event
    async def load(self):
        """Show why the last post was refused; a browser already signed in goes on."""
        query = self.router.url.query_parameters
        self.next_path = safe_next(query.get("next", ""))
        self.error = MESSAGES.get(query.get("error", ""), "")
        if await self._check_sign_in():
            return rx.redirect(self.next_path)
        return None
