"""The receipt page `/pay/<token>/success`, in a module of its own.

Reflex bundles a page's components by the module that defines the page, so keeping the
receipt out of view.py keeps the card field, and the Stripe.js it loads, off this page.
"""

from __future__ import annotations

import reflex as rx

from mioapp.ui.components.public import panel
from mioapp.ui.components.text import muted
from mioapp.ui.pages.pay.state import PayPageState, PayState
from mioapp.ui.pages.pay.view import bookings_list, invalid_link, page_frame


def _receipt() -> rx.Component:
    r = PayState.receipt
    return panel(
        rx.center(rx.icon("circle-check", size=40, color=rx.color("green", 9)), width="100%"),
        rx.heading("Payment received", as_="h2", size="6", text_align="center", width="100%"),
        muted(
            "Thank you, "
            + PayState.customer_name
            + ". A receipt is on its way to "
            + PayState.customer_email
            + ".",
            size="3",
            text_align="center",
        ),
        rx.data_list.root(
            rx.data_list.item(rx.data_list.label("Amount paid"), rx.data_list.value(r.amount)),
            rx.data_list.item(rx.data_list.label("Receipt number"), rx.data_list.value(r.number)),
            rx.data_list.item(rx.data_list.label("Date"), rx.data_list.value(r.date)),
            rx.cond(
                r.card != "",
                rx.data_list.item(rx.data_list.label("Card"), rx.data_list.value(r.card)),
            ),
            rx.cond(
                PayState.description != "",
                rx.data_list.item(
                    rx.data_list.label("For"), rx.data_list.value(PayState.description)
                ),
            ),
        ),
        bookings_list(),
    )


def receipt_page() -> rx.Component:
    return page_frame((PayPageState.PAID, _receipt()), invalid_link())
