"""The customer page's tables: bookings, transactions and payment links (each one card a row
on a phone)."""

from __future__ import annotations

import reflex as rx

from mioapp.ui.components.badges import booking_badge, link_badge, payment_badge
from mioapp.ui.components.forms import confirm_action
from mioapp.ui.components.layout import column, icon_button, row
from mioapp.ui.components.shell import empty_state, list_or_empty, section
from mioapp.ui.components.tables import Col, stacked_table
from mioapp.ui.components.text import amount_text, muted, two_lines
from mioapp.ui.pages.customer.rows import BookingPaymentRow, BookingRow, LinkRow, TransactionRow
from mioapp.ui.pages.customer.state import CustomerState


def _small_button(label: str, icon: str, on_click=None, color: str = "indigo", **props):
    props.setdefault("variant", "soft")
    return icon_button(
        icon, label, icon_size=12, size="1", color_scheme=color, on_click=on_click, **props
    )


def _booking_payments(b: rx.Var[BookingRow]) -> rx.Component:
    """The booking's paid amount, opening the list of payments that make it up."""

    def line(p: rx.Var[BookingPaymentRow]) -> rx.Component:
        return rx.hstack(
            two_lines(p.method, p.date),
            rx.spacer(),
            amount_text(p.amount),
            payment_badge(p.status),
            spacing="3",
            align="center",
            width="100%",
        )

    return rx.popover.root(
        rx.popover.trigger(
            rx.button(
                b.paid,
                rx.icon("chevron-down", size=12),
                variant="ghost",
                size="2",
                font_variant_numeric="tabular-nums",
                # The name says the amount first, as the button shows it.
                aria_label="Paid " + b.paid + ", payments for " + b.reference,
            )
        ),
        rx.popover.content(
            rx.vstack(
                rx.text("Payments for " + b.reference, size="2", weight="bold"),
                rx.foreach(b.payments, line),
                spacing="2",
                width="min(320px, calc(100vw - 48px))",
            ),
            align="end",
        ),
    )


BOOKING_COLUMNS = [
    Col("Date", nowrap=True, field="date"),
    Col("Tour", header=True),
    Col("Guests", numeric=True, field="participants"),
    Col("Total", numeric=True, nowrap=True, field="total"),
    Col("Paid", numeric=True, nowrap=True),
    Col("Balance", numeric=True, nowrap=True, field="balance"),
    Col("Status"),
]


def _booking_cells(b: rx.Var[BookingRow]) -> dict:
    return {
        "Tour": two_lines(b.tour, b.reference),
        "Paid": rx.cond(b.payments.length() > 0, _booking_payments(b), amount_text(b.paid)),
        "Status": column(
            booking_badge(b.status),
            rx.cond(
                b.overpaid != "",
                _small_button(
                    "Refund " + b.overpaid,
                    "undo-2",
                    CustomerState.refund_overpayment(b.id),
                    color="orange",
                ),
            ),
        ),
    }


def bookings() -> rx.Component:
    return section(
        "Bookings",
        list_or_empty(
            CustomerState.bookings,
            stacked_table(BOOKING_COLUMNS, CustomerState.bookings, _booking_cells),
            empty_state(
                "calendar", "No bookings yet", "Bookings made for this customer appear here."
            ),
        ),
    )


TRANSACTION_COLUMNS = [
    Col("Date", nowrap=True, field="date"),
    Col("Amount", numeric=True, nowrap=True, field="amount"),
    Col("Method", field="method"),
    Col("Status", wide=True),
    Col("Bookings", field="bookings"),
    Col("Stripe payment"),
]


def _transaction_status(t: rx.Var[TransactionRow]) -> rx.Component:
    return column(
        payment_badge(t.status),
        rx.cond(
            t.reason != "",
            rx.text(
                t.reason,
                size="1",
                color=rx.cond(t.status == "failed", rx.color("red", 11), rx.color("gray", 11)),
            ),
        ),
        rx.cond(
            t.refunded != "",
            rx.text("Refunded " + t.refunded, size="1", color=rx.color("blue", 11)),
        ),
        rx.cond(
            t.checkable,
            _small_button(
                "Check status", "refresh-cw", CustomerState.check_payment(t.id), variant="ghost"
            ),
        ),
        rx.cond(
            t.abandoned,
            _small_button(
                "Release",
                "lock-open",
                CustomerState.release_payment(t.id),
                color="orange",
                aria_label="Release the hold of this abandoned attempt",
            ),
        ),
    )


def _transaction_cells(t: rx.Var[TransactionRow]) -> dict:
    return {
        "Status": _transaction_status(t),
        "Stripe payment": rx.code(t.intent, size="1", variant="ghost", word_break="break-all"),
    }


def _transaction_row(t: rx.Var[TransactionRow]) -> dict:
    """The Payments page opens this page at one transaction: it is marked out."""
    return {
        "id": "transaction-" + t.id.to_string(),
        "aria_current": rx.cond(t.id == CustomerState.highlighted, "true", None),
        "background": rx.cond(
            t.id == CustomerState.highlighted, rx.color("amber", 3), "transparent"
        ),
        "scroll_margin_top": "96px",
    }


def transactions() -> rx.Component:
    return section(
        "Transactions",
        list_or_empty(
            CustomerState.transactions,
            stacked_table(
                TRANSACTION_COLUMNS,
                CustomerState.transactions,
                _transaction_cells,
                row_props=_transaction_row,
            ),
            empty_state(
                "receipt",
                "No transactions yet",
                "Charges made with Charge Customer are listed here.",
            ),
        ),
    )


LINK_COLUMNS = [
    Col("Sent", nowrap=True, field="created"),
    Col("Amount", numeric=True, nowrap=True, field="amount"),
    Col("Bookings", field="bookings"),
    Col("Status"),
    Col("Email"),
    Col("Expires", nowrap=True, field="expires"),
    Col("", wide=True),
]


def _link_email(link: rx.Var[LinkRow]) -> rx.Component:
    return rx.vstack(
        rx.match(
            link.email,
            ("sent", rx.text("Delivered", size="2")),
            ("queued", muted("Sending…")),
            ("failed", rx.text("Not sent", size="2", color=rx.color("red", 11))),
            (
                "unconfirmed",
                rx.text("May have been delivered", size="2", color=rx.color("orange", 11)),
            ),
            rx.fragment(),
        ),
        rx.cond(
            link.email_error != "",
            rx.text(link.email_error, size="1", color=rx.color("red", 11)),
        ),
        spacing="0",
    )


def _link_actions(link: rx.Var[LinkRow]) -> rx.Component:
    return rx.cond(
        link.active,
        row(
            _small_button("Copy link", "copy", CustomerState.copy_link(link.id)),
            _small_button("Resend", "send", CustomerState.resend_link(link.id)),
            confirm_action(
                _small_button("Revoke", "ban", color="red"),
                "Revoke this payment link?",
                "The customer can no longer pay " + link.amount + " with it; every address "
                "sent or copied for it stops working. Send a new link if they still owe.",
                "Revoke link",
                CustomerState.revoke_link(link.id),
            ),
            gap="2",
            wrap="wrap",
        ),
    )


def _link_cells(link: rx.Var[LinkRow]) -> dict:
    return {"Status": link_badge(link.status), "Email": _link_email(link), "": _link_actions(link)}


def _copied_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Payment link copied"),
            rx.dialog.description(
                "A new address for the same link; earlier ones keep working.",
                size="2",
                color=rx.color("gray", 11),
            ),
            rx.input(
                value=CustomerState.copied_url,
                read_only=True,
                aria_label="Payment link address",
                margin_y="12px",
            ),
            rx.flex(
                rx.dialog.close(rx.button("Done", on_click=CustomerState.close_copied)),
                justify="end",
            ),
            max_width="560px",
        ),
        open=CustomerState.copied_url != "",
    )


def payment_links() -> rx.Component:
    return section(
        "Payment links",
        list_or_empty(
            CustomerState.payment_links,
            stacked_table(LINK_COLUMNS, CustomerState.payment_links, _link_cells),
            empty_state(
                "link",
                "No payment links",
                "Send one with Charge Customer → Payment link; the customer pays by email.",
            ),
        ),
        _copied_dialog(),
    )
