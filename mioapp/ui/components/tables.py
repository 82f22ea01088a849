"""Data tables: headers with right-aligned numeric columns, rows from a list var."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

# (title, right-aligned?)
Column = tuple[str, bool]


def data_table(columns: list[Column], rows: rx.Var, render_row: Callable) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(
                            title, text_align="right" if numeric else "left"
                        )
                        for title, numeric in columns
                    ]
                )
            ),
            rx.table.body(rx.foreach(rows, render_row)),
            variant="ghost",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def money_cell(value: rx.Var[str]) -> rx.Component:
    return rx.table.cell(value, text_align="right", white_space="nowrap")


def pager(state, noun: str) -> rx.Component:
    """ "N <noun> · Page p of n · Previous/Next" for a state with `total`, `page`,
    `page_count` and a `go_to_page(page)` handler."""
    return rx.hstack(
        rx.text(state.total.to_string() + f" {noun}", size="2", color=rx.color("gray", 10)),
        rx.spacer(),
        rx.text(
            "Page " + state.page.to_string() + " of " + state.page_count.to_string(),
            size="2",
            color=rx.color("gray", 10),
        ),
        rx.button(
            rx.icon("chevron-left", size=16),
            "Previous",
            variant="soft",
            color_scheme="gray",
            disabled=state.page <= 1,
            on_click=state.go_to_page(state.page - 1),
        ),
        rx.button(
            "Next",
            rx.icon("chevron-right", size=16),
            variant="soft",
            color_scheme="gray",
            disabled=state.page >= state.page_count,
            on_click=state.go_to_page(state.page + 1),
        ),
        width="100%",
        align="center",
        spacing="3",
    )
