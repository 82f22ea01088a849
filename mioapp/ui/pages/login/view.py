"""The sign-in page: a plain form that posts to the sign-in endpoint."""

from __future__ import annotations

import reflex as rx

from mioapp.live_tour import DEMO_EMAIL, DEMO_PASSWORD
from mioapp.settings import get_settings
from mioapp.ui.components.forms import NativeForm, text_field
from mioapp.ui.components.shell import logo
from mioapp.ui.pages.login.state import LoginState
from mioapp.web import routes


def _live_tour_hint() -> rx.Component:
    """Shown only when Stripe is the local emulator, i.e. on a demo or development install."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("compass")),
        rx.callout.text(
            rx.text.strong("Live Tour. "),
            "Demo data and simulated Stripe. Sign in as ",
            rx.code(DEMO_EMAIL),
            " with password ",
            rx.code(DEMO_PASSWORD),
            ".",
        ),
        color_scheme="indigo",
        variant="surface",
        width="100%",
        aria_label="Live Tour",
    )


def login_page() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.hstack(
                logo(40),
                rx.heading("MioCommerce", size="6"),
                align="center",
                spacing="3",
            ),
            rx.card(
                NativeForm.create(
                    rx.vstack(
                        rx.heading("Sign in to your dashboard", size="5"),
                        rx.text(get_settings().business_name, size="2", color=rx.color("gray", 10)),
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
                            rx.callout(
                                LoginState.error,
                                icon="circle-alert",
                                color_scheme="red",
                                role="alert",
                                width="100%",
                            ),
                        ),
                        rx.el.input(type="hidden", name="next", value=LoginState.next_path),
                        rx.button("Sign in", type="submit", size="3", width="100%"),
                        spacing="4",
                        width="100%",
                    ),
                    method="post",
                    action=routes.SIGN_IN_POST,
                ),
                size="4",
                width="100%",
            ),
            _live_tour_hint() if get_settings().stripe_mode == "emulator" else rx.fragment(),
            rx.text(
                "Payments are processed securely by Stripe.", size="1", color=rx.color("gray", 10)
            ),
            spacing="5",
            align="center",
            width="100%",
            max_width="420px",
        ),
        min_height="100vh",
        padding="16px",
        background=rx.color("gray", 2),
    )
