"""One customer: contact details, bookings with derived status, saved cards and transactions."""

from __future__ import annotations

import reflex as rx

from mioapp.ui.components.badges import booking_badge, link_badge, payment_badge
from mioapp.ui.components.forms import notice
from mioapp.ui.components.shell import card, dashboard, empty_state, section
from mioapp.ui.components.tables import data_table, money_cell
from mioapp.ui.pages.charge.view import charge_dialog
from mioapp.ui.pages.customer.state import (
    BookingPaymentRow,
    BookingRow,
    CardRow,
    CustomerState,
    LinkRow,
    TransactionRow,
)
from mioapp.web import routes


def _header() -> rx.Component:
    c = CustomerState.customer
    return card(
        rx.flex(
            rx.hstack(
                rx.avatar(fallback=c.initials, size="6", radius="full", color_scheme="indigo"),
                rx.vstack(
                    rx.heading(c.name, size="7"),
                    rx.hstack(
                        rx.hstack(
                            rx.icon("mail", size=14),
                            rx.text(c.email, size="2"),
                            spacing="1",
                            align="center",
                        ),
                        rx.cond(
                            c.phone != "",
                            rx.hstack(
                                rx.icon("phone", size=14),
                                rx.text(c.phone, size="2"),
                                spacing="1",
                                align="center",
                            ),
                        ),
                        spacing="4",
                        color=rx.color("gray", 11),
                        wrap="wrap",
                    ),
                    rx.text("Customer since " + c.since, size="1", color=rx.color("gray", 10)),
                    spacing="1",
                ),
                spacing="4",
                align="center",
            ),
            rx.spacer(),
            rx.vstack(
                rx.text("Outstanding", size="1", color=rx.color("gray", 10), weight="medium"),
                rx.heading(CustomerState.outstanding, size="6"),
                charge_dialog(),
                rx.cond(
                    ~CustomerState.stripe_connected,
                    rx.text(
                        "Connect Stripe to charge customers. ",
                        rx.link("Open payment settings", href=routes.PAYMENT_SETTINGS),
                        size="1",
                        color=rx.color("gray", 11),
                        role="note",
                    ),
                    rx.cond(
                        ~CustomerState.owes,
                        rx.text(
                            "Nothing to charge: every booking is paid.",
                            size="1",
                            color=rx.color("gray", 11),
                            role="note",
                        ),
                    ),
                ),
                align=rx.breakpoints(initial="start", md="end"),
                spacing="2",
            ),
            direction=rx.breakpoints(initial="column", md="row"),
            gap="4",
            width="100%",
        )
    )


def _booking_payments(b: rx.Var[BookingRow]) -> rx.Component:
    """The booking's paid amount, opening the list of payments that make it up."""

    def line(p: rx.Var[BookingPaymentRow]) -> rx.Component:
        return rx.hstack(
            rx.vstack(
                rx.text(p.method, size="2", weight="medium"),
                rx.text(p.date, size="1", color=rx.color("gray", 10)),
                spacing="0",
            ),
            rx.spacer(),
            rx.text(p.amount, size="2", font_variant_numeric="tabular-nums"),
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
                aria_label="Payments for " + b.reference,
            )
        ),
        rx.popover.content(
            rx.vstack(
                rx.text("Payments for " + b.reference, size="2", weight="bold"),
                rx.foreach(b.payments, line),
                spacing="2",
                width="320px",
            ),
            align="end",
        ),
    )


def _bookings() -> rx.Component:
    def row(b: rx.Var[BookingRow]) -> rx.Component:
        return rx.table.row(
            rx.table.cell(b.date, white_space="nowrap"),
            rx.table.row_header_cell(
                rx.vstack(
                    rx.text(b.tour, weight="medium"),
                    rx.text(b.reference, size="1", color=rx.color("gray", 10)),
                    spacing="0",
                )
            ),
            rx.table.cell(b.participants, text_align="right"),
            money_cell(b.total),
            rx.table.cell(
                rx.cond(
                    b.payments.length() > 0,
                    _booking_payments(b),
                    rx.text(b.paid, font_variant_numeric="tabular-nums"),
                ),
                text_align="right",
                white_space="nowrap",
            ),
            money_cell(b.balance),
            rx.table.cell(
                rx.vstack(
                    booking_badge(b.status),
                    rx.cond(
                        b.overpaid != "",
                        rx.button(
                            rx.icon("undo-2", size=12),
                            "Refund " + b.overpaid,
                            size="1",
                            variant="soft",
                            color_scheme="orange",
                            on_click=CustomerState.refund_overpayment(b.id),
                        ),
                    ),
                    spacing="1",
                    align="start",
                )
            ),
            align="center",
        )

    return section(
        "Bookings",
        rx.cond(
            CustomerState.bookings.length() > 0,
            data_table(
                [
                    ("Date", False),
                    ("Tour", False),
                    ("Guests", True),
                    ("Total", True),
                    ("Paid", True),
                    ("Balance", True),
                    ("Status", False),
                ],
                CustomerState.bookings,
                row,
            ),
            empty_state(
                "calendar", "No bookings yet", "Bookings made for this customer appear here."
            ),
        ),
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
            ),
            rx.text(saved.brand + " •••• " + saved.last4, weight="medium"),
            rx.text("Expires " + saved.expiry, size="2", color=rx.color("gray", 10)),
            rx.cond(saved.is_default, rx.badge("Default", variant="soft", radius="full")),
            rx.cond(
                saved.expired,
                rx.badge("Expired", color_scheme="red", variant="soft", radius="full"),
            ),
            rx.cond(
                saved.declined != "",
                rx.badge(saved.declined, color_scheme="red", variant="soft", radius="full"),
            ),
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


def _transactions() -> rx.Component:
    def row(t: rx.Var[TransactionRow]) -> rx.Component:
        return rx.table.row(
            rx.table.cell(t.date, white_space="nowrap"),
            money_cell(t.amount),
            rx.table.cell(t.method, white_space="nowrap"),
            rx.table.cell(
                rx.vstack(
                    payment_badge(t.status),
                    rx.cond(
                        t.reason != "",
                        rx.text(
                            t.reason,
                            size="1",
                            color=rx.cond(
                                t.status == "failed", rx.color("red", 11), rx.color("gray", 11)
                            ),
                        ),
                    ),
                    rx.cond(
                        t.refunded != "",
                        rx.text("Refunded " + t.refunded, size="1", color=rx.color("blue", 11)),
                    ),
                    rx.cond(
                        t.checkable,
                        rx.button(
                            rx.icon("refresh-cw", size=12),
                            "Check status",
                            size="1",
                            variant="ghost",
                            on_click=CustomerState.check_payment(t.id),
                        ),
                    ),
                    rx.cond(
                        t.abandoned,
                        rx.button(
                            rx.icon("lock-open", size=12),
                            "Release",
                            size="1",
                            variant="soft",
                            color_scheme="orange",
                            on_click=CustomerState.release_payment(t.id),
                            aria_label="Release the hold of this abandoned attempt",
                        ),
                    ),
                    spacing="1",
                    align="start",
                )
            ),
            rx.table.cell(t.bookings, white_space="nowrap"),
            rx.table.cell(rx.code(t.intent, size="1", variant="ghost")),
            align="center",
            # The Payments page opens this page at one transaction: it is marked out.
            id="transaction-" + t.id.to_string(),
            aria_current=rx.cond(t.id == CustomerState.highlighted, "true", None),
            background=rx.cond(
                t.id == CustomerState.highlighted, rx.color("amber", 3), "transparent"
            ),
            scroll_margin_top="96px",
        )

    return section(
        "Transactions",
        rx.cond(
            CustomerState.transactions.length() > 0,
            data_table(
                [
                    ("Date", False),
                    ("Amount", True),
                    ("Method", False),
                    ("Status", False),
                    ("Bookings", False),
                    ("Stripe payment", False),
                ],
                CustomerState.transactions,
                row,
            ),
            empty_state(
                "receipt",
                "No transactions yet",
                "Charges made with Charge Customer are listed here.",
            ),
        ),
    )


def _payment_links() -> rx.Component:
    def row(link: rx.Var[LinkRow]) -> rx.Component:
        return rx.table.row(
            rx.table.cell(link.created, white_space="nowrap"),
            money_cell(link.amount),
            rx.table.cell(link.bookings, white_space="nowrap"),
            rx.table.cell(link_badge(link.status)),
            rx.table.cell(
                rx.vstack(
                    rx.match(
                        link.email,
                        ("sent", rx.text("Delivered", size="2")),
                        ("queued", rx.text("Sending…", size="2", color=rx.color("gray", 10))),
                        ("failed", rx.text("Not sent", size="2", color=rx.color("red", 11))),
                        (
                            "unconfirmed",
                            rx.text(
                                "May have been delivered", size="2", color=rx.color("orange", 11)
                            ),
                        ),
                        rx.fragment(),
                    ),
                    rx.cond(
                        link.email_error != "",
                        rx.text(link.email_error, size="1", color=rx.color("red", 11)),
                    ),
                    spacing="0",
                )
            ),
            rx.table.cell(link.expires, white_space="nowrap"),
            rx.table.cell(
                rx.cond(
                    link.active,
                    rx.hstack(
                        rx.button(
                            rx.icon("copy", size=12),
                            "Copy link",
                            size="1",
                            variant="soft",
                            on_click=CustomerState.copy_link(link.id),
                        ),
                        rx.button(
                            rx.icon("send", size=12),
                            "Resend",
                            size="1",
                            variant="soft",
                            on_click=CustomerState.resend_link(link.id),
                        ),
                        rx.button(
                            rx.icon("ban", size=12),
                            "Revoke",
                            size="1",
                            variant="soft",
                            color_scheme="red",
                            on_click=CustomerState.revoke_link(link.id),
                        ),
                        spacing="2",
                    ),
                )
            ),
            align="center",
        )

    return section(
        "Payment links",
        rx.cond(
            CustomerState.payment_links.length() > 0,
            data_table(
                [
                    ("Sent", False),
                    ("Amount", True),
                    ("Bookings", False),
                    ("Status", False),
                    ("Email", False),
                    ("Expires", False),
                    ("", False),
                ],
                CustomerState.payment_links,
                row,
            ),
            empty_state(
                "link",
                "No payment links",
                "Send one with Charge Customer → Payment link; the customer pays by email.",
            ),
        ),
        rx.dialog.root(
            rx.dialog.content(
                rx.dialog.title("Payment link copied"),
                rx.dialog.description(
                    "A new address for the same link; earlier ones keep working.",
                    size="2",
                    color=rx.color("gray", 10),
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
        ),
    )


def _not_found() -> rx.Component:
    return card(
        rx.vstack(
            rx.icon("user-x", size=36, color=rx.color("gray", 9)),
            rx.heading("Customer not found", size="5"),
            rx.text(
                "This customer doesn't exist or the link is incomplete.",
                color=rx.color("gray", 10),
            ),
            rx.link(rx.button("Back to customers", variant="soft"), href="/customers"),
            align="center",
            spacing="3",
            padding="48px",
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
            href="/customers",
            color=rx.color("gray", 11),
        ),
        rx.cond(
            CustomerState.loaded,
            rx.cond(
                CustomerState.found,
                rx.vstack(
                    _header(),
                    _bookings(),
                    _cards(),
                    _transactions(),
                    _payment_links(),
                    spacing="5",
                    width="100%",
                ),
                _not_found(),
            ),
            rx.center(rx.spinner(size="3"), padding="64px", width="100%"),
        ),
    )
