"""One customer: contact details and what they owe, then bookings with derived status,
saved cards, transactions and payment links."""

from __future__ import annotations

import reflex as rx

from mioapp.ui.components.badges import saved_card_line
from mioapp.ui.components.forms import notice
from mioapp.ui.components.shell import card, dashboard, empty_state, loading, page_title, section
from mioapp.ui.components.text import muted
from mioapp.ui.pages.charge.view import charge_dialog
from mioapp.ui.pages.customer.rows import CardRow
from mioapp.ui.pages.customer.state import CustomerState
from mioapp.ui.pages.customer.tables import bookings, payment_links, transactions
from mioapp.web import routes


def _contact(icon: str, text) -> rx.Component:
    return rx.hstack(
        rx.icon(icon, size=14, flex_shrink="0"),
        rx.text(text, size="2", overflow_wrap="anywhere"),
        spacing="1",
        align="center",
        min_width="0",
    )


def _charge_note() -> rx.Component:
    """Why Charge Customer is disabled, under it."""
    return rx.cond(
        ~CustomerState.stripe_connected,
        muted(
            "Connect Stripe to charge customers. ",
            rx.link("Open payment settings", href=routes.PAYMENT_SETTINGS),
            size="1",
            role="note",
        ),
        rx.cond(
            ~CustomerState.owes,
            muted("Nothing to charge: every booking is paid.", size="1", role="note"),
        ),
    )


def _header() -> rx.Component:
    c = CustomerState.customer
    return card(
        rx.flex(
            rx.hstack(
                rx.avatar(
                    fallback=c.initials,
                    size=rx.breakpoints(initial="4", sm="6"),
                    radius="full",
                    color_scheme="indigo",
                ),
                rx.vstack(
                    page_title(c.name, size=rx.breakpoints(initial="6", sm="7")),
                    rx.flex(
                        _contact("mail", c.email),
                        rx.cond(c.phone != "", _contact("phone", c.phone)),
                        gap="1 16px",
                        color=rx.color("gray", 11),
                        wrap="wrap",
                    ),
                    muted("Customer since " + c.since, size="1"),
                    spacing="1",
                    min_width="0",
                ),
                spacing="4",
                align="center",
            ),
            rx.spacer(),
            rx.vstack(
                muted("Outstanding", size="1", weight="medium"),
                rx.text(
                    CustomerState.outstanding,
                    size="6",
                    weight="bold",
                    font_variant_numeric="tabular-nums",
                ),
                charge_dialog(),
                _charge_note(),
                align=rx.breakpoints(initial="start", md="end"),
                spacing="2",
            ),
            direction=rx.breakpoints(initial="column", md="row"),
            gap="4",
            width="100%",
        )
    )


def _cards() -> rx.Component:
    def item(saved: rx.Var[CardRow]) -> rx.Component:
        return rx.hstack(
            rx.center(
                rx.icon("credit-card", size=18),
                width="40px",
                height="28px",
                border_radius="6px",
                background=rx.color("gray", 3),
                flex_shrink="0",
            ),
            saved_card_line(saved, size="3"),
            spacing="3",
            align="center",
            padding_y="6px",
        )

    return section(
        "Payment methods",
        rx.cond(
            CustomerState.default_card_warning != "",
            notice(CustomerState.default_card_warning, "triangle-alert", "red"),
        ),
        rx.cond(
            CustomerState.cards.length() > 0,
            rx.vstack(rx.foreach(CustomerState.cards, item), spacing="1", width="100%"),
            empty_state(
                "wallet-cards",
                "No saved cards",
                "A card is saved when the customer agrees to it while paying.",
            ),
        ),
    )


def _not_found() -> rx.Component:
    back = rx.link("Back to customers", href=routes.CUSTOMERS, underline="none")
    return card(
        empty_state(
            "user-x",
            "Customer not found",
            "This customer doesn't exist or the link is incomplete.",
            rx.button(back, variant="soft", as_child=True),
            heading=True,
        )
    )


def customer_page() -> rx.Component:
    return dashboard(
        "Customers",
        rx.link(
            rx.hstack(
                rx.icon("arrow-left", size=14),
                rx.text("Customers", size="2"),
                spacing="1",
                align="center",
            ),
            href=routes.CUSTOMERS,
            color=rx.color("gray", 11),
        ),
        rx.cond(
            CustomerState.loaded,
            rx.cond(
                CustomerState.found,
                rx.vstack(
                    _header(),
                    bookings(),
                    _cards(),
                    transactions(),
                    payment_links(),
                    spacing="5",
                    width="100%",
                ),
                _not_found(),
            ),
            loading(),
        ),
    )
