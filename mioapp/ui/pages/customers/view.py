"""The customers list: search, sort, keyset pages; a table on wide screens, stacked cards on
phones (name, outstanding amount and status, no sideways scrolling)."""

from __future__ import annotations

import reflex as rx

from mioapp.ui import styles
from mioapp.ui.components.badges import customer_badge
from mioapp.ui.components.forms import search_box
from mioapp.ui.components.layout import column, row, stack
from mioapp.ui.components.shell import card, dashboard, empty_state, page_header
from mioapp.ui.components.tables import data_table, paged_list
from mioapp.ui.components.text import muted
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


def _row(row_: rx.Var[CustomerListRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            column(
                rx.link(row_.name, href=_customer_href(row_), weight="medium"),
                muted(row_.email, size="1"),
                gap="0",
            ),
        ),
        rx.table.cell(row_.phone, white_space="nowrap"),
        rx.table.cell(row_.bookings, text_align="right"),
        rx.table.cell(row_.last_activity, white_space="nowrap"),
        rx.table.cell(_outstanding(row_), text_align="right"),
        rx.table.cell(customer_badge(row_.balance)),
        align="center",
    )


def _card(item: rx.Var[CustomerListRow]) -> rx.Component:
    """One customer on a phone: the whole card opens the customer."""
    return rx.el.li(
        rx.link(
            row(
                column(
                    rx.text(item.name, weight="medium", color=rx.color("gray", 12), trim="both"),
                    muted(
                        item.email,
                        size="1",
                        max_width="100%",
                        **styles.ONE_LINE,
                    ),
                    **styles.FILL,
                ),
                column(
                    _outstanding(item, size="3"),
                    customer_badge(item.balance),
                    align="end",
                    flex_shrink="0",
                ),
                width="100%",
            ),
            href=_customer_href(item),
            underline="none",
            display="block",
            padding="12px 4px",
        ),
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        list_style="none",
    )


def _sort_picker() -> rx.Component:
    return row(
        muted("Sort by", white_space="nowrap"),
        rx.select.root(
            rx.select.trigger(aria_label="Sort customers", min_width="150px"),
            rx.select.content(
                *[rx.select.item(label, value=value) for value, label in SORTS],
            ),
            value=CustomerListState.sort,
            on_change=CustomerListState.set_sort,
            size="3",
        ),
        gap="2",
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
        page_header("Customers", "Find a customer to see their bookings and charge them."),
        card(
            stack(
                rx.flex(
                    rx.box(
                        search_box(
                            CustomerListState.query,
                            CustomerListState.search,
                            label="Search customers",
                            placeholder="Search by name, email or phone",
                            wait_ms=300,
                        ),
                        width="100%",
                        **styles.FILL,
                    ),
                    _sort_picker(),
                    direction=rx.breakpoints(initial="column", sm="row"),
                    gap="3",
                    width="100%",
                ),
                paged_list(
                    CustomerListState,
                    _list(),
                    empty_state(
                        "search-x",
                        "No customers match your search",
                        "Try part of a name, an email address or a phone number.",
                    ),
                ),
            )
        ),
    )
