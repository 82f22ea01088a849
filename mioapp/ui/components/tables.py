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


def pager(state) -> rx.Component:
    """ "N <rows> · Previous/Next" for a state mixing in `ui.paging.PagedListState`."""
    return rx.hstack(
        rx.text(state.total_label, size="2", color=rx.color("gray", 10)),
        rx.spacer(),
        rx.button(
            rx.icon("chevron-left", size=16),
            "Previous",
            variant="soft",
            color_scheme="gray",
            disabled=~state.has_previous,
            on_click=state.previous_page,
        ),
        rx.button(
            "Next",
            rx.icon("chevron-right", size=16),
            variant="soft",
            color_scheme="gray",
            disabled=~state.has_next,
            on_click=state.next_page,
        ),
        width="100%",
        align="center",
        spacing="3",
    )
