"""The Outbox: every email the app queued, its delivery status and a rendered preview."""

from __future__ import annotations

import reflex as rx

from mioapp.components.badges import status_badge
from mioapp.components.shell import card, dashboard, dialog_header, empty_state
from mioapp.components.tables import data_table, pager
from mioapp.models import EmailMessage, EmailStatus
from mioapp.notifications import render
from mioapp.notifications.outbox import list_emails
from mioapp.pages.customer_state import when
from mioapp.state import MerchantState

KIND_LABELS = {
    render.PAYMENT_LINK: "Payment link",
    render.RECEIPT: "Receipt",
    render.MERCHANT_PAYMENT: "Merchant notice",
}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _delivery_note(message: EmailMessage) -> str:
    """What the attempts so far mean, next to the status badge."""
    failures = message.attempts
    if message.status == EmailStatus.FAILED:
        return f"Gave up after {_plural(failures, 'attempt')}"
    if message.status == EmailStatus.SENT:
        return f"Sent after {_plural(failures, 'failed attempt')}" if failures else ""
    if failures:
        return f"{_plural(failures, 'failed attempt')} · next try {when(message.next_attempt_at)}"
    return ""


def _row_data(message: EmailMessage) -> dict[str, str]:
    return {
        "id": str(message.id),
        "created": when(message.created_at),
        "to": message.to_address,
        "subject": message.subject,
        "kind": KIND_LABELS.get(message.kind, message.kind),
        "status": message.status.value,
        "note": _delivery_note(message),
        "error": "" if message.status == EmailStatus.SENT else (message.last_error or ""),
        "sent": when(message.sent_at) if message.sent_at else "",
    }


class OutboxState(MerchantState):
    page: int = 1
    page_count: int = 1
    total: int = 0
    rows: list[dict[str, str]] = []
    loaded: bool = False
    preview_open: bool = False
    preview: dict[str, str] = {}

    def _refresh(self) -> None:
        with rx.session() as session:
            result = list_emails(session, page=self.page)
            self.rows = [_row_data(message) for message in result.messages]
        self.page, self.page_count, self.total = result.page, result.page_count, result.total
        self.loaded = True

    @rx.event
    def load(self):
        if self._merchant_id() is None:
            return self._to_sign_in()
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

    @rx.event
    def open_preview(self, message_id: str):
        if self._merchant_id() is None:
            return self._to_sign_in()
        try:
            key = int(message_id)
        except (TypeError, ValueError):
            return None
        with rx.session() as session:
            message = session.get(EmailMessage, key)
            if message is None:
                return rx.toast.error("That email is no longer in the outbox.")
            self.preview = {
                **_row_data(message),
                "html": message.html_body,
                "text": message.text_body,
            }
        self.preview_open = True
        return None

    @rx.event
    def set_preview_open(self, is_open: bool):
        if self._merchant_id() is None:
            return self._to_sign_in()
        self.preview_open = bool(is_open)
        return None


def _status_cell(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.cell(
        rx.vstack(
            status_badge(row["status"]),
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
                        status_badge(preview["status"]),
                        spacing="2",
                        align="center",
                        wrap="wrap",
                    ),
                    size="2",
                    color=rx.color("gray", 10),
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
                on_click=OutboxState.load,
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
                rx.cond(OutboxState.total > 0, pager(OutboxState, "emails")),
                spacing="4",
                width="100%",
            )
        ),
        _preview_dialog(),
    )
