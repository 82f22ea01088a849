"""The 404 page: says the address leads nowhere and offers a way back."""

from __future__ import annotations

import reflex as rx

from mioapp.ui.components.shell import logo
from mioapp.web import routes


def not_found_page() -> rx.Component:
    return rx.center(
        rx.el.main(
            rx.vstack(
                rx.hstack(
                    logo(40),
                    rx.text("MioCommerce", weight="bold", size="5"),
                    align="center",
                    spacing="3",
                ),
                rx.card(
                    rx.vstack(
                        rx.text("404", size="2", weight="medium", color=rx.color("gray", 11)),
                        rx.heading("Page not found", as_="h1", size="7"),
                        rx.text(
                            "There is nothing at this address. It may be mistyped, or the page "
                            "has moved. A payment link opens only with its full address, as "
                            "it was sent.",
                            color=rx.color("gray", 11),
                        ),
                        # A link styled as a button (not a button inside a link).
                        rx.button(
                            rx.link(
                                rx.icon("arrow-left", size=16),
                                "Go to Customers",
                                href=routes.CUSTOMERS,
                                underline="none",
                            ),
                            as_child=True,
                            size="3",
                        ),
                        spacing="4",
                        align="start",
                    ),
                    size="4",
                    width="100%",
                ),
                spacing="5",
                align="center",
                width="100%",
                max_width="520px",
                padding="24px 16px",
            ),
            width="100%",
            display="flex",
            justify_content="center",
        ),
        min_height="100vh",
        background=rx.color("gray", 2),
    )
