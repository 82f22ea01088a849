"""The Customers list: server-side search and pagination with outstanding balances."""

from __future__ import annotations

import reflex as rx

from mioapp import customers
from mioapp.components.shell import card, dashboard, empty_state
from mioapp.components.tables import data_table, pager
from mioapp.state import MerchantState


class CustomerListState(MerchantState):
    query: str = ""
    page: int = 1
    page_count: int = 1
    total: int = 0
    rows: list[dict[str, str]] = []
    loaded: bool = False

    def _refresh(self) -> None:
        with rx.session() as session:
            result = customers.search_customers(session, query=self.query, page=self.page)
        self.page, self.page_count, self.total = result.page, result.page_count, result.total
        self.rows = [
            {
                "id": str(row.id),
                "name": row.name,
                "email": row.email,
                "phone": row.phone,
                "bookings": str(row.booking_count),
                "outstanding": row.outstanding_display,
                "owes": "yes" if any(row.outstanding.values()) else "",
            }
            for row in result.rows
        ]
        self.loaded = True

    @rx.event
    def load(self):
        if self._merchant_id() is None:
            return self._to_sign_in()
        self._refresh()
        return None

    @rx.event
    def search(self, value: str):
        if self._merchant_id() is None:
            return self._to_sign_in()
        self.query, self.page = str(value)[:100], 1
        self._refresh()
        return None

    @rx.event
    def go_to_page(self, page: int):
        if self._merchant_id() is None:
            return self._to_sign_in()
        try:
            self.page = int(page)
        except (TypeError, ValueError):
            return None  # not a page number: keep the page shown
        self._refresh()
        return None


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
