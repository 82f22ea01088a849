"""The customers list with search and paging."""

from __future__ import annotations

import reflex as rx

from mioapp.ui.components.shell import card, dashboard, empty_state
from mioapp.ui.components.tables import data_table, pager
from mioapp.ui.pages.customers.state import CustomerListState


def _row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.link(row["name"], href="/customers/" + row["id"], weight="medium"),
        ),
        rx.table.cell(row["email"]),
        rx.table.cell(row["phone"], white_space="nowrap"),
        rx.table.cell(row["bookings"], text_align="right"),
        rx.table.cell(
            rx.text(
                row["outstanding"],
                weight=rx.cond(row["owes"] != "", "medium", "regular"),
                color=rx.cond(row["owes"] != "", rx.color("gray", 12), rx.color("gray", 9)),
            ),
            text_align="right",
            white_space="nowrap",
        ),
        align="center",
    )


def customers_page() -> rx.Component:
    return dashboard(
        "Customers",
        rx.hstack(
            rx.vstack(
                rx.heading("Customers", size="7"),
                rx.text(
                    "Find a customer to see their bookings and charge them.",
                    color=rx.color("gray", 10),
                ),
                spacing="1",
            ),
            width="100%",
        ),
        card(
            rx.vstack(
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
                rx.cond(
                    CustomerListState.rows.length() > 0,
                    data_table(
                        [
                            ("Name", False),
                            ("Email", False),
                            ("Phone", False),
                            ("Bookings", True),
                            ("Outstanding", True),
                        ],
                        CustomerListState.rows,
                        _row,
                    ),
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
                pager(CustomerListState, "customers"),
                spacing="4",
                width="100%",
            )
        ),
    )
