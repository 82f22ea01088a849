"""The customers list: search, sort, keyset pages; a table on wide screens, stacked cards on
phones (name, outstanding amount and status, no sideways scrolling)."""

from __future__ import annotations

import reflex as rx

from mioapp.ui.components.badges import customer_badge
from mioapp.ui.components.shell import card, dashboard, empty_state
from mioapp.ui.components.tables import data_table, pager
from mioapp.ui.pages.customers.state import SORTS, CustomerListRow, CustomerListState

# Below this width the list is a column of cards; from it on, a table.
WIDE = "md"


def _customer_href(row: rx.Var[CustomerListRow]) -> rx.Var[str]:
    return "/customers/" + row.id.to_string()


def _outstanding(row: rx.Var[CustomerListRow], **props) -> rx.Component:
    owes = row.balance != "paid_up"
    return rx.text(
        row.outstanding,
        weight=rx.cond(owes, "medium", "regular"),
        color=rx.cond(owes, rx.color("gray", 12), rx.color("gray", 10)),
        white_space="nowrap",
        **props,
    )


def _row(row: rx.Var[CustomerListRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(
                rx.link(row.name, href=_customer_href(row), weight="medium"),
                rx.text(row.email, size="1", color=rx.color("gray", 11)),
                spacing="0",
            ),
        ),
        rx.table.cell(row.phone, white_space="nowrap"),
        rx.table.cell(row.bookings, text_align="right"),
        rx.table.cell(row.last_activity, white_space="nowrap"),
        rx.table.cell(_outstanding(row), text_align="right"),
        rx.table.cell(customer_badge(row.balance)),
        align="center",
    )


def _card(row: rx.Var[CustomerListRow]) -> rx.Component:
    """One customer on a phone: the whole card opens the customer."""
    return rx.el.li(
        rx.link(
            rx.hstack(
                rx.vstack(
                    rx.text(row.name, weight="medium", color=rx.color("gray", 12), trim="both"),
                    rx.text(
                        row.email,
                        size="1",
                        color=rx.color("gray", 11),
                        overflow="hidden",
                        text_overflow="ellipsis",
                        white_space="nowrap",
                        max_width="100%",
                    ),
                    spacing="1",
                    min_width="0",
                    flex="1",
                ),
                rx.vstack(
                    _outstanding(row, size="3"),
                    customer_badge(row.balance),
                    spacing="1",
                    align="end",
                    flex_shrink="0",
                ),
                align="center",
                spacing="3",
                width="100%",
            ),
            href=_customer_href(row),
            underline="none",
            display="block",
            padding="12px 4px",
        ),
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        list_style="none",
    )


def _sort_picker() -> rx.Component:
    return rx.hstack(
        rx.text("Sort by", size="2", color=rx.color("gray", 11), white_space="nowrap"),
        rx.select.root(
            rx.select.trigger(aria_label="Sort customers", min_width="150px"),
            rx.select.content(
                *[rx.select.item(label, value=value) for value, label in SORTS],
            ),
            value=CustomerListState.sort,
            on_change=CustomerListState.set_sort,
            size="3",
        ),
        align="center",
        spacing="2",
    )


def _list() -> rx.Component:
    return rx.fragment(
        rx.box(
            data_table(
                [
                    ("Customer", False),
                    ("Phone", False),
                    ("Bookings", True),
                    ("Last activity", False),
                    ("Outstanding", True),
                    ("Status", False),
                ],
                CustomerListState.rows,
                _row,
            ),
            display=rx.breakpoints(initial="none", **{WIDE: "block"}),
            width="100%",
        ),
        rx.el.ul(
            rx.foreach(CustomerListState.rows, _card),
            aria_label="Customers",
            display=rx.breakpoints(initial="block", **{WIDE: "none"}),
            width="100%",
            margin="0",
            padding="0",
        ),
    )


def customers_page() -> rx.Component:
    return dashboard(
        "Customers",
        rx.vstack(
            rx.heading("Customers", size="7"),
            rx.text(
                "Find a customer to see their bookings and charge them.",
                color=rx.color("gray", 10),
            ),
            spacing="1",
        ),
        card(
            rx.vstack(
                rx.flex(
                    rx.box(
                        rx.debounce_input(
                            rx.input(
                                rx.input.slot(rx.icon("search", size=16)),
                                placeholder="Search by name, email or phone",
                                value=CustomerListState.query,
                                on_change=CustomerListState.search,
                                size="3",
                                width="100%",
                                aria_label="Search customers",
                                type="search",
                            ),
                            debounce_timeout=300,
                        ),
                        flex="1",
                        min_width="0",
                        width="100%",
                    ),
                    _sort_picker(),
                    direction=rx.breakpoints(initial="column", sm="row"),
                    gap="3",
                    width="100%",
                ),
                rx.cond(
                    CustomerListState.rows.length() > 0,
                    _list(),
                    rx.cond(
                        CustomerListState.loaded,
                        empty_state(
                            "search-x",
                            "No customers match your search",
                            "Try part of a name, an email address or a phone number.",
                        ),
                        rx.center(rx.spinner(size="3"), padding="48px", width="100%"),
                    ),
                ),
                rx.cond(CustomerListState.rows.length() > 0, pager(CustomerListState)),
                spacing="4",
                width="100%",
            )
        ),
    )
