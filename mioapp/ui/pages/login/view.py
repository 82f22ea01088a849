"""The sign-in page: a plain form that posts to the sign-in endpoint."""

from __future__ import annotations

import reflex as rx

from mioapp.live_tour import DEMO_EMAIL, DEMO_PASSWORD
from mioapp.settings import get_settings
from mioapp.ui.components.forms import NativeForm, notice, text_field
from mioapp.ui.components.public import centered_page, panel
from mioapp.ui.components.text import muted
from mioapp.ui.pages.login.state import LoginState
from mioapp.web import routes


def _live_tour_hint() -> rx.Component:
    """Shown only when Stripe is the local emulator, i.e. on a demo or development install."""
    words = rx.fragment(
        rx.text.strong("Live Tour. "),
        "Demo data and simulated Stripe. Sign in as ",
        rx.code(DEMO_EMAIL),
        " with password ",
        rx.code(DEMO_PASSWORD),
        ".",
    )
    return notice(words, "compass", "indigo", role="note", aria_label="Live Tour")


def login_page() -> rx.Component:
    return centered_page(
        "MioCommerce",
        panel(
            NativeForm.create(
                rx.vstack(
                    rx.vstack(
                        rx.heading("Sign in to your dashboard", as_="h1", size="5"),
                        muted(LoginState.business_name),
                        spacing="1",
                    ),
                    text_field(
                        "Email",
                        "email",
                        type="email",
                        placeholder="you@company.com",
                        required=True,
                        auto_complete="username",
                    ),
                    text_field(
                        "Password",
                        "password",
                        type="password",
                        required=True,
                        auto_complete="current-password",
                    ),
                    rx.cond(
                        LoginState.error != "",
                        notice(LoginState.error, "circle-alert", "red"),
                    ),
                    rx.el.input(type="hidden", name="next", value=LoginState.next_path),
                    rx.button("Sign in", type="submit", size="3", width="100%"),
                    spacing="4",
                    width="100%",
                ),
                method="post",
                action=routes.SIGN_IN_POST,
            ),
        ),
        _live_tour_hint() if get_settings().stripe_mode == "emulator" else rx.fragment(),
        max_width="420px",
    )
