"""Pages outside the dashboard (sign-in, the pay page and receipt, 404): one column centred on
the calm background, the brand on top, a card, then small print; one `main` landmark."""

from __future__ import annotations

import reflex as rx

from mioapp.ui.components.shell import brand
from mioapp.ui.components.text import muted


def secure_note() -> rx.Component:
    return rx.hstack(
        rx.icon("lock", size=12, aria_hidden="true"),
        muted("Payments are processed securely by Stripe.", size="1"),
        color=rx.color("gray", 11),
        spacing="1",
        align="center",
    )


def panel(*children: rx.Component, **props) -> rx.Component:
    """The page's one card."""
    return rx.card(
        rx.vstack(*children, spacing="4", width="100%", **props),
        size=rx.breakpoints(initial="3", sm="4"),
        width="100%",
    )


def centered_page(
    name, *children: rx.Component, max_width: str = "480px", name_is_title: bool = False
) -> rx.Component:
    """`name` with the logo on top (the page's h1 if `name_is_title`, as on the pay pages,
    where the business is what the customer looks for), then `children`, then the
    secure-payment note."""
    return rx.box(
        rx.el.main(
            rx.vstack(
                brand(name, 36, title_size="5", heading=name_is_title),
                *children,
                secure_note(),
                spacing="5",
                align="center",
                width="100%",
                max_width=max_width,
                margin="0 auto",
                padding=["24px 16px", "48px 16px"],
            ),
            width="100%",
        ),
        background=rx.color("gray", 2),
        min_height="100vh",
    )
