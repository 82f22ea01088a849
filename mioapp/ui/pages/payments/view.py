"""The Payments page: every payment and refund, newest first, with filters, search, paging
and a CSV export; a table on wide screens, stacked rows on phones."""

from __future__ import annotations

import reflex as rx

from mioapp.ui.components import layout
from mioapp.ui.components.badges import payment_badge, refund_badge
from mioapp.ui.components.forms import search_box
from mioapp.ui.components.shell import card, dashboard, empty_state, page_header
from mioapp.ui.components.tables import data_table
from mioapp.ui.components.text import muted
from mioapp.ui.pages.payments.state import (
    ALL,
    METHOD_CHOICES,
    STATUS_CHOICES,
    TYPE_CHOICES,
    PaymentRow,
    PaymentsState,
)
from mioapp.web import routes

# Phones get stacked rows; from 768 px on (where the sidebar appears) the table.
WIDE = rx.breakpoints(initial="none", sm="block")
NARROW = rx.breakpoints(initial="block", sm="none")


def _badge(row: rx.Var[PaymentRow]) -> rx.Component:
    return rx.cond(row.kind == "refund", refund_badge(row.status), payment_badge(row.status))


def _select(label: str, value, choices: list[tuple[str, str]], everything: str, on_change):
    return rx.select.root(
        rx.select.trigger(aria_label=label, min_width="150px"),
        rx.select.content(
            rx.select.item(everything, value=ALL),
            *[rx.select.item(text, value=key) for key, text in choices],
        ),
        value=value,
        on_change=on_change,
    )


def _date(label: str, value, on_change) -> rx.Component:
    return rx.el.label(
        rx.text(label, size="1", color=rx.color("gray", 11)),
        rx.input(type="date", value=value, on_change=on_change, aria_label=label),
        display="flex",
        flex_direction="column",
        gap="2px",
    )


# The select boxes: (label, query parameter, state var, choices, the "no filter" choice).
_SELECTS = [
    ("Status", "status", "status", STATUS_CHOICES, "All statuses"),
    ("Method", "method", "method", METHOD_CHOICES, "All methods"),
    ("Type", "type", "kind", TYPE_CHOICES, "Payments and refunds"),
]


def _setter(param: str):
    return lambda value: PaymentsState.set_filter(param, value)


def _filters() -> rx.Component:
    return rx.vstack(
        search_box(
            PaymentsState.query,
            PaymentsState.search,
            label="Search payments",
            placeholder="Search by customer, receipt number, booking reference or pi_ id",
        ),
        rx.flex(
            *[
                _select(label, getattr(PaymentsState, var), choices, everything, _setter(param))
                for label, param, var, choices, everything in _SELECTS
            ],
            _date("From", PaymentsState.date_from, _setter("from")),
            _date("To", PaymentsState.date_to, _setter("to")),
            rx.cond(
                PaymentsState.filtered,
                layout.icon_button(
                    "x",
                    "Clear filters",
                    icon_size=14,
                    variant="ghost",
                    on_click=PaymentsState.clear_filters,
                ),
            ),
            spacing="3",
            wrap="wrap",
            align="end",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def _table_row(row: rx.Var[PaymentRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.date, white_space="nowrap", color=rx.color("gray", 11)),
        rx.table.row_header_cell(
            rx.vstack(
                rx.link(row.customer, href=row.href, weight="medium"),
                muted(row.email, size="1"),
                spacing="0",
            ),
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(
                    rx.cond(row.kind == "refund", "Refund · ", "") + row.receipt,
                    size="2",
                    white_space="nowrap",
                ),
                muted(row.bookings, size="1"),
                spacing="0",
            )
        ),
        rx.table.cell(row.method, white_space="nowrap"),
        rx.table.cell(
            layout.column(
                _badge(row),
                rx.cond(
                    row.refunded != "",
                    rx.text("Refunded " + row.refunded, size="1", color=rx.color("blue", 11)),
                ),
            )
        ),
        rx.table.cell(
            rx.text(
                row.amount,
                weight="medium",
                color=rx.cond(row.kind == "refund", rx.color("gray", 11), rx.color("gray", 12)),
            ),
            text_align="right",
            white_space="nowrap",
        ),
        on_click=rx.redirect(row.href),
        cursor="pointer",
        _hover={"background": rx.color("gray", 2)},
        align="center",
        data_key=row.key,
    )


def _stacked_row(row: rx.Var[PaymentRow]) -> rx.Component:
    """One transaction on a phone: who and how much, then status and when."""
    return rx.link(
        layout.stack(
            layout.row(
                rx.text(row.customer, weight="medium", trim="both"),
                rx.spacer(),
                rx.text(row.amount, weight="bold", white_space="nowrap"),
                width="100%",
            ),
            layout.row(
                _badge(row),
                muted(row.date, size="1", white_space="nowrap"),
                rx.spacer(),
                muted(row.receipt, size="1"),
                width="100%",
                wrap="wrap",
            ),
            spacing="2",
            padding_y="12px",
        ),
        href=row.href,
        underline="none",
        color="inherit",
        display="block",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        data_key=row.key,
    )


def _rows() -> rx.Component:
    return rx.fragment(
        rx.box(
            data_table(
                [
                    ("Date", False),
                    ("Customer", False),
                    ("Receipt · bookings", False),
                    ("Method", False),
                    ("Status", False),
                    ("Amount", True),
                ],
                PaymentsState.rows,
                _table_row,
            ),
            display=WIDE,
            width="100%",
        ),
        rx.box(
            rx.el.ul(
                rx.foreach(PaymentsState.rows, lambda row: rx.el.li(_stacked_row(row))),
                aria_label="Transactions",
                list_style="none",
                margin="0",
                padding="0",
            ),
            display=NARROW,
            width="100%",
        ),
    )


def _pager() -> rx.Component:
    def step(label: str, icon: str, query, first: bool) -> rx.Component:
        content = [rx.icon(icon, size=16), label] if first else [label, rx.icon(icon, size=16)]
        return rx.cond(
            query != "",
            rx.button(
                rx.link(*content, href=routes.PAYMENTS + "?" + query, underline="none"),
                as_child=True,
                variant="soft",
                color_scheme="gray",
            ),
            rx.button(*content, variant="soft", color_scheme="gray", disabled=True),
        )

    return layout.row(
        muted(PaymentsState.rows.length().to_string() + " on this page"),
        rx.spacer(),
        step("Newer", "chevron-left", PaymentsState.newer_query, True),
        step("Older", "chevron-right", PaymentsState.older_query, False),
        width="100%",
    )


def payments_page() -> rx.Component:
    return dashboard(
        "Payments",
        page_header(
            "Payments",
            "Every payment and refund, newest first.",
            # Left to the browser, not the app's router (rx.el.a is React Router's Link):
            # it downloads the file, sending the session cookie, and the server streams it.
            rx.button(
                rx.el.a(
                    rx.icon("download", size=16),
                    "Export CSV",
                    href=PaymentsState.export_url,
                    download="payments.csv",
                    reload_document=True,
                ),
                as_child=True,
                variant="soft",
            ),
        ),
        card(
            rx.vstack(
                _filters(),
                rx.cond(
                    PaymentsState.rows.length() > 0,
                    _rows(),
                    rx.cond(
                        PaymentsState.loaded,
                        empty_state(
                            "search-x",
                            "No payments match",
                            "Clear the filters, or search by customer name, email, receipt "
                            "number (MIO-000123), booking reference or Stripe payment id (pi_).",
                        ),
                        rx.center(rx.spinner(size="3"), padding="48px", width="100%"),
                    ),
                ),
                _pager(),
                spacing="4",
                width="100%",
            )
        ),
    )
