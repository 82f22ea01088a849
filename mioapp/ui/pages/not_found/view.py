"""The 404 page: says the address leads nowhere and offers a way back."""

from __future__ import annotations

import reflex as rx

from mioapp.ui.components.public import centered_page, panel
from mioapp.ui.components.text import muted
from mioapp.web import routes


def not_found_page() -> rx.Component:
    return centered_page(
        "MioCommerce",
        panel(
            muted("404", weight="medium"),
            rx.heading("Page not found", as_="h1", size="7"),
            muted(
                "There is nothing at this address. It may be mistyped, or the page has moved. "
                "A payment link opens only with its full address, as it was sent.",
                size="3",
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
            align="start",
        ),
        max_width="520px",
    )
