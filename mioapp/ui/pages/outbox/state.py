"""The Outbox's state: one page of emails and the preview being read."""

from __future__ import annotations

import reflex as rx

from mioapp.db import database
from mioapp.formatting import when
from mioapp.models import EmailMessage, EmailStatus
from mioapp.notifications import render
from mioapp.notifications.outbox import list_emails
from mioapp.ui.merchant_state import MerchantState, signed_in

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
    if message.status == EmailStatus.UNCONFIRMED:
        return f"Stopped after {_plural(failures, 'attempt')}: may have been delivered"
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


def _preview_data(message: EmailMessage) -> dict[str, str]:
    """The row and both parts, a pay URL's token shown as dots (it is never stored)."""
    return {
        **_row_data(message),
        "html": render.masked(message.html_body),
        "text": render.masked(message.text_body),
    }


class OutboxState(MerchantState):
    page: int = 1
    page_count: int = 1
    total: int = 0
    rows: list[dict[str, str]] = []
    loaded: bool = False
    preview_open: bool = False
    preview: dict[str, str] = {}

    async def _refresh(self) -> None:
        page = self.page

        def read(session):
            result = list_emails(session, page=page)
            return result, [_row_data(message) for message in result.messages]

        result, self.rows = await database().run(read)
        self.page, self.page_count, self.total = result.page, result.page_count, result.total
        self.loaded = True

    @rx.event
    @signed_in
    async def load(self):
        await self._refresh()

    @rx.event
    @signed_in
    async def go_to_page(self, page: int):
        try:
            self.page = int(page)
        except (TypeError, ValueError):
            return  # not a page number: keep the page shown
        await self._refresh()

    @rx.event
    @signed_in
    async def open_preview(self, message_id: str):
        try:
            key = int(message_id)
        except (TypeError, ValueError):
            return None

        def read(session):
            message = session.get(EmailMessage, key)
            if message is None:
                return None
            return _preview_data(message)

        preview = await database().run(read)
        if preview is None:
            return rx.toast.error("That email is no longer in the outbox.")
        self.preview, self.preview_open = preview, True
        return None

    @rx.event
    @signed_in
    async def set_preview_open(self, is_open: bool):
        self.preview_open = bool(is_open)
