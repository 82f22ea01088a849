"""Data tables: headers with right-aligned numeric columns, rows from a list var; stacked
tables that become one card a row on a phone; the pager of list pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import reflex as rx

from mioapp.ui.components.layout import row
from mioapp.ui.components.text import muted

# (title, right-aligned?)
Column = tuple[str, bool]


@dataclass(frozen=True)
class Col:
    """A column of a stacked table."""

    title: str
    numeric: bool = False
    # Never wrapped (dates, amounts).
    nowrap: bool = False
    # The row's header: the title line of its card on a phone.
    header: bool = False
    # Spans the whole card on a phone (statuses with notes, actions).
    wide: bool = False
    # The row's attribute shown as it is; other columns get their content from `cells`.
    field: str = ""


def _header(columns: list[Column]) -> rx.Component:
    return rx.table.header(
        rx.table.row(
            *[
                rx.table.column_header_cell(title, text_align="right" if numeric else "left")
                for title, numeric in columns
            ]
        )
    )


def _table(columns: list[Column], body: rx.Component, **props) -> rx.Component:
    return rx.box(
        rx.table.root(_header(columns), body, variant="ghost", width="100%", **props),
        overflow_x="auto",
        width="100%",
    )


def data_table(columns: list[Column], rows: rx.Var, render_row: Callable) -> rx.Component:
    return _table(columns, rx.table.body(rx.foreach(rows, render_row)))


def _cell(column: Col, content) -> rx.Component:
    props = {"text_align": "right" if column.numeric else "left"}
    if column.nowrap:
        props["white_space"] = "nowrap"
    if column.title and not column.header:
        # On a phone the cell shows its column's title beside it (see styles.css).
        props["custom_attrs"] = {"data-label": column.title}
    if column.wide:
        props["class_name"] = "cell-wide"
    if column.header:
        return rx.table.row_header_cell(content, **props)
    return rx.table.cell(content, **props)


def stacked_table(
    columns: list[Col],
    rows: rx.Var,
    cells: Callable[[rx.Var], dict] | None = None,
    row_props: Callable[[rx.Var], dict] | None = None,
) -> rx.Component:
    """A table on a desktop; on a phone each row is a card of label/value pairs, so no amount,
    balance or status is ever scrolled off the screen. A column shows its `field` of the row,
    or what `cells(row)` gives under its title; `row_props(row)` gives the row's own props
    (a click handler...)."""

    def row(item: rx.Var) -> rx.Component:
        custom = cells(item) if cells else {}
        return rx.table.row(
            *[
                _cell(
                    column,
                    custom[column.title] if column.title in custom else getattr(item, column.field),
                )
                for column in columns
            ],
            align="center",
            **(row_props(item) if row_props else {}),
        )

    return _table(
        [(c.title, c.numeric) for c in columns],
        rx.table.body(rx.foreach(rows, row)),
        class_name="stacked-table",
    )


def money_cell(value: rx.Var[str]) -> rx.Component:
    return rx.table.cell(value, text_align="right", white_space="nowrap")


def _page_button(label: str, icon: str, disabled, on_click, *, icon_first: bool):
    parts = [rx.icon(icon, size=16), label] if icon_first else [label, rx.icon(icon, size=16)]
    return rx.button(
        *parts, variant="soft", color_scheme="gray", disabled=disabled, on_click=on_click
    )


def pager(state, noun: str) -> rx.Component:
    """ "N <noun> · Page p of n · Previous/Next" for a state with `total`, `page`,
    `page_count` and a `go_to_page(page)` handler."""
    return rx.flex(
        muted(state.total.to_string() + f" {noun}"),
        rx.spacer(),
        row(
            muted("Page " + state.page.to_string() + " of " + state.page_count.to_string()),
            _page_button(
                "Previous",
                "chevron-left",
                state.page <= 1,
                state.go_to_page(state.page - 1),
                icon_first=True,
            ),
            _page_button(
                "Next",
                "chevron-right",
                state.page >= state.page_count,
                state.go_to_page(state.page + 1),
                icon_first=False,
            ),
        ),
        width="100%",
        align="center",
        wrap="wrap",
        gap="3",
    )
