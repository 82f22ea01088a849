"""The Outbox: every email the app queued, its delivery status and a rendered preview."""

from __future__ import annotations

import reflex as rx

from mioapp.ui.components.badges import email_badge
from mioapp.ui.components.shell import card, dashboard, dialog_header, empty_state
from mioapp.ui.components.tables import data_table, pager
from mioapp.ui.pages.outbox.state import OutboxState


def _status_cell(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.cell(
        rx.vstack(
            email_badge(row["status"]),
            rx.cond(
                row["sent"] != "",
                rx.text(row["sent"], size="1", color=rx.color("gray", 10), white_space="nowrap"),
            ),
            rx.cond(
                row["note"] != "",
                rx.text(row["note"], size="1", color=rx.color("gray", 10)),
            ),
            rx.cond(
                row["error"] != "",
                rx.text(row["error"], size="1", color=rx.color("red", 11), max_width="280px"),
            ),
            spacing="1",
            align="start",
        ),
        min_width="180px",
    )


def _row(row: rx.Var[dict[str, str]]) -> rx.Component:
    # The whole row opens the preview; the button is the same action for keyboards and
    # screen readers (its click bubbles to the row).
    return rx.table.row(
        rx.table.cell(row["created"], white_space="nowrap", color=rx.color("gray", 11)),
        rx.table.row_header_cell(
            rx.vstack(
                rx.text(row["subject"], weight="medium"),
                rx.text("To " + row["to"], size="2", color=rx.color("gray", 10)),
                spacing="0",
            ),
            min_width="280px",
        ),
        rx.table.cell(row["kind"], white_space="nowrap"),
        _status_cell(row),
        rx.table.cell(
            rx.button(
                rx.icon("eye", size=16),
                "Preview",
                variant="soft",
                color_scheme="gray",
                size="1",
                aria_label="Preview " + row["subject"],
            ),
            text_align="right",
        ),
        on_click=OutboxState.open_preview(row["id"]),
        cursor="pointer",
        _hover={"background": rx.color("gray", 2)},
        align="center",
    )


def _preview_dialog() -> rx.Component:
    preview = OutboxState.preview
    return rx.dialog.root(
        rx.dialog.content(
            rx.vstack(
                dialog_header(preview["subject"], size="5"),
                rx.dialog.description(
                    rx.hstack(
                        rx.text("To " + preview["to"]),
                        rx.text("·"),
                        rx.text(preview["kind"]),
                        rx.text("·"),
                        rx.text("Created " + preview["created"]),
                        email_badge(preview["status"]),
                        spacing="2",
                        align="center",
                        wrap="wrap",
                    ),
                    size="2",
                    color=rx.color("gray", 10),
                ),
                rx.cond(
                    preview["payable"] != "",
                    rx.hstack(
                        rx.text(
                            "The link in this email is hidden: its address is never stored. "
                            "Open the same payment link at a new address:",
                            size="2",
                            color=rx.color("gray", 11),
                        ),
                        rx.button(
                            rx.icon("external-link", size=16),
                            "Open pay page",
                            variant="soft",
                            size="2",
                            on_click=OutboxState.open_pay_page,
                        ),
                        spacing="3",
                        align="center",
                        justify="between",
                        wrap="wrap",
                        width="100%",
                    ),
                ),
                rx.cond(
                    preview["error"] != "",
                    rx.callout(
                        preview["error"],
                        icon="triangle-alert",
                        color_scheme="red",
                        variant="surface",
                        size="1",
                        width="100%",
                    ),
                ),
                rx.tabs.root(
                    rx.tabs.list(
                        rx.tabs.trigger("HTML", value="html"),
                        rx.tabs.trigger("Plain text", value="text"),
                        size="2",
                    ),
                    rx.box(
                        rx.tabs.content(
                            # Sandboxed with no permissions: the email's HTML can show but
                            # never run script, submit forms or navigate the dashboard.
                            rx.el.iframe(
                                src_doc=preview["html"],
                                sandbox="",
                                title="HTML part of the email",
                                width="100%",
                                height="60vh",
                                border=f"1px solid {rx.color('gray', 5)}",
                                border_radius="8px",
                                background="white",
                            ),
                            value="html",
                        ),
                        rx.tabs.content(
                            rx.el.pre(
                                preview["text"],
                                aria_label="Plain-text part of the email",
                                white_space="pre-wrap",
                                font_family="var(--code-font-family)",
                                font_size="13px",
                                margin="0",
                                padding="16px",
                                max_height="60vh",
                                overflow_y="auto",
                                border=f"1px solid {rx.color('gray', 5)}",
                                border_radius="8px",
                                background=rx.color("gray", 2),
                            ),
                            value="text",
                        ),
                        padding_top="12px",
                    ),
                    default_value="html",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            max_width="780px",
        ),
        open=OutboxState.preview_open,
        on_open_change=OutboxState.set_preview_open,
    )


def outbox_page() -> rx.Component:
    return dashboard(
        "Outbox",
        rx.hstack(
            rx.vstack(
                rx.heading("Outbox", size="7"),
                rx.text(
                    "Every email sent to customers and to you, newest first.",
                    color=rx.color("gray", 10),
                ),
                spacing="1",
            ),
            rx.spacer(),
            rx.button(
                rx.icon("refresh-cw", size=16),
                "Refresh",
                variant="soft",
                color_scheme="gray",
                on_click=OutboxState.refresh,
            ),
            width="100%",
            align="end",
        ),
        card(
            rx.vstack(
                rx.cond(
                    OutboxState.rows.length() > 0,
                    data_table(
                        [
                            ("Created", False),
                            ("Email", False),
                            ("Type", False),
                            ("Status", False),
                            ("", True),
                        ],
                        OutboxState.rows,
                        _row,
                    ),
                    rx.cond(
                        OutboxState.loaded,
                        empty_state(
                            "mail",
                            "No emails yet.",
                            "Emails appear here when you send a payment link or a payment "
                            "succeeds.",
                        ),
                        rx.center(rx.spinner(size="3"), padding="48px", width="100%"),
                    ),
                ),
                rx.cond(OutboxState.rows.length() > 0, pager(OutboxState)),
                spacing="4",
                width="100%",
            )
        ),
        _preview_dialog(),
    )
