"""The Outbox's state: one page of emails and the preview being read."""

from __future__ import annotations

import reflex as rx

from mioapp.formatting import when
from mioapp.models import EmailMessage, EmailStatus
from mioapp.notifications import render
from mioapp.notifications.outbox import list_emails
from mioapp.ui.merchant_state import MerchantState

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
