"""Data tables: headers with right-aligned numeric columns, rows from a list var; stacked
tables that become one card a row on a phone; the pager of list pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import reflex as rx

from mioapp.ui.components.shell import list_or_empty

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
        wrap="wrap",
        gap="3",
    )


def paged_list(state, rows: rx.Component, empty: rx.Component) -> rx.Component:
    """A paged list (`ui.paging.PagedListState`): its rows and the pager, the empty state
    once loaded, a spinner before."""
    return rx.fragment(
        list_or_empty(state.rows, rows, empty, loaded=state.loaded),
        rx.cond(state.rows.length() > 0, pager(state)),
    )
