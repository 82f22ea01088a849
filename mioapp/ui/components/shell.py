"""The dashboard frame: sidebar navigation, the merchant's name and sign-out around each page."""

from __future__ import annotations

import reflex as rx

from mioapp.ui.components.forms import NativeForm
from mioapp.ui.merchant_state import MerchantState
from mioapp.web import routes

NAV = [
    ("Customers", routes.CUSTOMERS, "users"),
    ("Payments", routes.PAYMENTS, "credit-card"),
    ("Outbox", routes.OUTBOX, "mail"),
    ("Settings", routes.PAYMENT_SETTINGS, "settings"),
]


def logo(size: int) -> rx.Component:
    """The MioCommerce mark: a white wave on the accent colour."""
    return rx.center(
        rx.icon("waves", size=size * 9 // 16, color="white"),
        background=rx.color("accent", 9),
        border_radius=f"{size // 4}px",
        width=f"{size}px",
        height=f"{size}px",
    )


def _nav_item(label: str, href: str, icon: str, active: bool) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon(icon, size=18), rx.text(label, size="3", weight="medium"), spacing="3"),
        href=href,
        underline="none",
        color=rx.color("gray", 12) if active else rx.color("gray", 11),
        background=rx.color("accent", 3) if active else "transparent",
        padding_x="12px",
        padding_y="8px",
        border_radius="8px",
        width="100%",
        _hover={"background": rx.color("gray", 3)},
        aria_current="page" if active else None,
    )


def _sidebar(active: str) -> rx.Component:
    return rx.box(
        rx.vstack(
            rx.hstack(
                logo(32),
                rx.vstack(
                    rx.text("MioCommerce", weight="bold", size="3"),
                    rx.text(MerchantState.business_name, size="1", color=rx.color("gray", 10)),
                    spacing="0",
                ),
                spacing="3",
                padding_x="12px",
                padding_bottom="20px",
            ),
            *[_nav_item(label, href, icon, label == active) for label, href, icon in NAV],
            spacing="1",
            padding="20px 12px",
            position="sticky",
            top="0",
        ),
        width="240px",
        min_width="240px",
        align_self="stretch",
        border_right=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 1),
        display=["none", "none", "block"],
    )


def _topbar() -> rx.Component:
    return rx.hstack(
        rx.hstack(
            *[
                rx.link(
                    rx.icon(icon, size=18), href=href, aria_label=label, color=rx.color("gray", 11)
                )
                for label, href, icon in NAV
            ],
            spacing="4",
            display=["flex", "flex", "none"],
        ),
        rx.spacer(),
        rx.hstack(
            rx.avatar(fallback=MerchantState.merchant_name[:1], size="2", radius="full"),
            rx.vstack(
                rx.text(MerchantState.merchant_name, size="2", weight="medium"),
                rx.text(MerchantState.merchant_email, size="1", color=rx.color("gray", 10)),
                spacing="0",
                display=["none", "flex"],
            ),
            # A plain form post: the server ends the login session and clears the HttpOnly
            # cookie, which no page script can touch.
            NativeForm.create(
                rx.button(
                    rx.icon("log-out", size=16),
                    "Sign out",
                    type="submit",
                    variant="ghost",
                    color_scheme="gray",
                ),
                method="post",
                action=routes.SIGN_OUT_POST,
            ),
            spacing="3",
            align="center",
        ),
        width="100%",
        padding="12px 32px",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 1),
        align="center",
    )


def dashboard(active: str, *content: rx.Component) -> rx.Component:
    """Wrap a page's content in the app shell."""
    return rx.hstack(
        _sidebar(active),
        rx.vstack(
            _topbar(),
            rx.box(
                rx.vstack(*content, spacing="5", width="100%", max_width="1200px"),
                padding=["16px", "24px", "32px"],
                width="100%",
            ),
            spacing="0",
            width="100%",
            # Lets wide tables scroll inside their cards instead of widening the page.
            min_width="0",
            min_height="100vh",
        ),
        spacing="0",
        width="100%",
        background=rx.color("gray", 2),
        align="start",
    )


def card(*children: rx.Component, **props) -> rx.Component:
    return rx.card(*children, size="3", width="100%", **props)


def section(
    title: str, *children: rx.Component, action: rx.Component | None = None
) -> rx.Component:
    """A titled card; a landmark named after its title (get_by_role("region", name=title))."""
    return rx.el.section(
        card(
            rx.vstack(
                rx.hstack(
                    rx.heading(title, size="4", weight="bold"),
                    rx.spacer(),
                    action or rx.fragment(),
                    width="100%",
                    align="center",
                ),
                *children,
                spacing="4",
                width="100%",
            )
        ),
        aria_label=title,
        width="100%",
    )


def empty_state(icon: str, title: str, hint: str) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon(icon, size=28, color=rx.color("gray", 9)),
            rx.text(title, weight="medium"),
            rx.text(hint, size="2", color=rx.color("gray", 10), align="center"),
            align="center",
            spacing="2",
        ),
        padding="32px",
        width="100%",
    )


def dialog_header(title, **title_props) -> rx.Component:
    """A dialog's title with the close button on its right."""
    return rx.hstack(
        rx.dialog.title(title, margin="0", **title_props),
        rx.spacer(),
        rx.dialog.close(
            rx.icon_button(
                rx.icon("x", size=18), variant="ghost", color_scheme="gray", aria_label="Close"
            )
        ),
        width="100%",
        align="start",
    )
