"""The Outbox: every email the app queued, its delivery status and a rendered preview."""

from __future__ import annotations

import reflex as rx

from mioapp.ui import styles
from mioapp.ui.components.badges import email_badge
from mioapp.ui.components.forms import notice
from mioapp.ui.components.layout import column, icon_button, row, stack
from mioapp.ui.components.shell import (
    card,
    dashboard,
    dialog_header,
    empty_state,
    fit_dialog,
    page_header,
)
from mioapp.ui.components.tables import Col, paged_list, stacked_table
from mioapp.ui.components.text import error_text, muted, two_lines
from mioapp.ui.pages.outbox.state import OutboxState


def _status(email: rx.Var[dict[str, str]]) -> rx.Component:
    return column(
        email_badge(email["status"]),
        rx.cond(email["sent"] != "", muted(email["sent"], size="1", white_space="nowrap")),
        rx.cond(email["note"] != "", muted(email["note"], size="1")),
        rx.cond(email["error"] != "", error_text(email["error"], max_width="280px")),
    )


COLUMNS = [
    Col("Created", nowrap=True),
    Col("Email", header=True),
    Col("Type", nowrap=True),
    Col("Status"),
    Col("", numeric=True),
]


def _cells(email: rx.Var[dict[str, str]]) -> dict:
    return {
        "Created": muted(email["created"]),
        "Email": two_lines(email["subject"], "To " + email["to"], size="3"),
        "Type": email["kind"],
        "Status": _status(email),
        "": icon_button("eye", "Preview", size="1", aria_label="Preview " + email["subject"]),
    }


def _row_props(email: rx.Var[dict[str, str]]) -> dict:
    # The whole row opens the preview; the button is the same action for keyboards and
    # screen readers (its click bubbles to the row).
    return {
        "on_click": OutboxState.open_preview(email["id"]),
        "cursor": "pointer",
        "_hover": {"background": rx.color("gray", 2)},
    }


def _parts(preview: rx.Var[dict[str, str]]) -> rx.Component:
    """The email's HTML and plain-text parts, in tabs."""
    # Sandboxed with no permissions: the email's HTML can show but never run script, submit
    # forms or navigate the dashboard.
    html = rx.el.iframe(
        src_doc=preview["html"],
        sandbox="",
        title="HTML part of the email",
        height="60vh",
        background="white",
        **styles.FRAMED,
    )
    text = rx.el.pre(
        preview["text"], aria_label="Plain-text part of the email", **styles.PLAIN_TEXT
    )
    return rx.tabs.root(
        rx.tabs.list(
            rx.tabs.trigger("HTML", value="html"),
            rx.tabs.trigger("Plain text", value="text"),
            size="2",
        ),
        rx.box(
            rx.tabs.content(html, value="html"),
            rx.tabs.content(text, value="text"),
            padding_top="12px",
        ),
        default_value="html",
        width="100%",
    )


def _preview_dialog() -> rx.Component:
    preview = OutboxState.preview
    return rx.dialog.root(
        rx.dialog.content(
            stack(
                dialog_header(preview["subject"], size="5"),
                rx.dialog.description(
                    rx.flex(
                        rx.text("To " + preview["to"]),
                        rx.text("·"),
                        rx.text(preview["kind"]),
                        rx.text("·"),
                        rx.text("Created " + preview["created"]),
                        email_badge(preview["status"]),
                        gap="2",
                        align="center",
                        wrap="wrap",
                    ),
                    size="2",
                    color=rx.color("gray", 11),
                ),
                rx.cond(
                    preview["payable"] != "",
                    row(
                        muted(
                            "The link in this email is hidden: its address is never stored. "
                            "Open the same payment link at a new address:"
                        ),
                        icon_button(
                            "external-link",
                            "Open pay page",
                            color_scheme="indigo",
                            on_click=OutboxState.open_pay_page,
                        ),
                        justify="between",
                        wrap="wrap",
                        width="100%",
                    ),
                ),
                rx.cond(
                    preview["error"] != "",
                    notice(preview["error"], "triangle-alert", "red", role="note"),
                ),
                _parts(preview),
                spacing="3",
            ),
            **fit_dialog("780px"),
        ),
        open=OutboxState.preview_open,
        on_open_change=OutboxState.set_preview_open,
    )


def outbox_page() -> rx.Component:
    return dashboard(
        "Outbox",
        page_header(
            "Outbox",
            "Every email sent to customers and to you, newest first.",
            icon_button("refresh-cw", "Refresh", on_click=OutboxState.refresh),
        ),
        card(
            stack(
                paged_list(
                    OutboxState,
                    stacked_table(COLUMNS, OutboxState.rows, _cells, _row_props),
                    empty_state(
                        "mail",
                        "No emails yet.",
                        "Emails appear here when you send a payment link or a payment succeeds.",
                    ),
                ),
            )
        ),
        _preview_dialog(),
    )
