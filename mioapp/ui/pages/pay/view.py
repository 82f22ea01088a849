"""The public pay page `/pay/<token>` and its receipt page: no sign-in, built for phones."""

from __future__ import annotations

import reflex as rx

from mioapp.ui import styles
from mioapp.ui.components.forms import checkbox_field, error_notice, notice
from mioapp.ui.components.layout import stack
from mioapp.ui.components.public import centered_page, panel
from mioapp.ui.components.stripe_card import card_entry
from mioapp.ui.components.text import amount_text, muted, two_lines
from mioapp.ui.pages.pay.state import PayLineRow, PayPageState, PayState


def contact() -> rx.Component:
    """How to reach the business: its email, and its phone when it has one."""
    link_style = {"color": rx.color("indigo", 11), "underline": "always"}
    return rx.cond(
        PayState.business_email != "",
        rx.text(
            "Questions? Contact " + PayState.business_name + " at ",
            rx.link(
                PayState.business_email, href="mailto:" + PayState.business_email, **link_style
            ),
            rx.cond(
                PayState.business_phone != "",
                rx.fragment(
                    " or ",
                    rx.link(PayState.business_phone, href=PayState.business_tel, **link_style),
                ),
            ),
            ".",
            size="2",
            color=rx.color("gray", 11),
            text_align="center",
        ),
    )


def page_frame(*cases) -> rx.Component:
    """A single column on a calm background: the merchant on top, then what the page's state
    shows (`cases` of an rx.match on it; a spinner while loading), then how to reach the
    merchant."""
    loading = (PayPageState.LOADING, rx.spinner(size="3"))
    return centered_page(
        PayState.business_name,
        rx.match(PayState.view, loading, *cases),
        contact(),
        name_is_title=True,
    )


def bookings_list() -> rx.Component:
    def line(b: rx.Var[PayLineRow]) -> rx.Component:
        return rx.vstack(
            rx.hstack(
                two_lines(
                    b.tour,
                    b.date + " · " + b.participants.to_string() + " guests · " + b.reference,
                ),
                rx.spacer(),
                amount_text(b.amount, weight="medium"),
                width="100%",
                align="start",
            ),
            muted(
                "Total " + b.total,
                rx.cond(b.paid_before != "", " · paid before " + b.paid_before, ""),
                " · ",
                rx.cond(
                    b.deposit,
                    rx.text.strong("deposit: " + b.remaining + " still to pay later"),
                    "paid in full with this payment",
                ),
                size="1",
            ),
            spacing="1",
            padding_y="8px",
            role="listitem",
            **styles.LIST_LINE,
        )

    return stack(rx.foreach(PayState.lines, line), spacing="0", role="list", aria_label="Bookings")


def _merchant_words() -> rx.Component:
    """What the payment is for and the merchant's personal message, when they gave them."""
    return rx.fragment(
        rx.cond(
            PayState.description != "",
            rx.text("For: " + PayState.description, size="2", color=rx.color("gray", 12)),
        ),
        rx.cond(
            PayState.message != "",
            rx.box(
                rx.text(
                    PayState.message, size="2", white_space="pre-line", color=rx.color("gray", 12)
                ),
                border_left=f"3px solid {rx.color('indigo', 9)}",
                background=rx.color("indigo", 2),
                padding="10px 12px",
                width="100%",
                aria_label="Message from " + PayState.business_name,
            ),
        ),
    )


def invalid_link() -> rx.Component:
    return panel(
        rx.center(rx.icon("link-2-off", size=32, color=rx.color("gray", 9)), width="100%"),
        rx.heading("This payment link is no longer valid", as_="h2", size="5", text_align="center"),
        muted(
            "Please contact " + PayState.business_name + " for a new link.",
            size="3",
            text_align="center",
        ),
    )


def _pay_form() -> rx.Component:
    return panel(
        rx.vstack(
            muted("Payment for " + PayState.customer_name),
            rx.heading(PayState.amount, as_="h2", size="8", aria_label="Amount due"),
            spacing="1",
            width="100%",
        ),
        _merchant_words(),
        bookings_list(),
        rx.match(
            PayState.view,
            (
                PayPageState.SETTLED,
                notice(
                    "These bookings are already paid. Nothing more is due.",
                    "circle-check",
                    "green",
                    role="status",
                ),
            ),
            (
                PayPageState.IN_PROGRESS,
                notice(
                    rx.cond(
                        PayState.released_at != "",
                        "A payment for these bookings is in progress. If it is not finished, "
                        "you can pay here after " + PayState.released_at + ".",
                        "A payment for these bookings is in progress. Check back in a few minutes.",
                    ),
                    "hourglass",
                    "amber",
                    role="status",
                ),
            ),
            rx.vstack(
                card_entry(PayState, "Card"),
                checkbox_field(
                    "Save this card for future charges",
                    PayState.save_card,
                    PayState.set_save_card,
                    hint="I allow "
                    + PayState.business_name
                    + " to keep this card with Stripe and charge it for my future bookings.",
                    disabled=PayState.in_flight,
                ),
                error_notice(PayState.error),
                rx.button(
                    "Pay " + PayState.amount,
                    size="4",
                    width="100%",
                    loading=PayState.in_flight,
                    disabled=~PayState.card_complete | PayState.in_flight,
                    on_click=PayState.pay,
                ),
                spacing="3",
                width="100%",
            ),
        ),
    )


def _paid_elsewhere() -> rx.Component:
    """Shown when the link is paid while this page is open (another tab or device): its
    mount opens the receipt."""
    return panel(
        notice("Payment received. Opening your receipt…", "circle-check", "green", role="status"),
        on_mount=PayState.show_receipt,
    )


def pay_page() -> rx.Component:
    return page_frame(
        (PayPageState.INVALID, invalid_link()),
        (PayPageState.PAID, _paid_elsewhere()),
        _pay_form(),
    )
