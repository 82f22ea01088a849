"""The Outbox's state: one page of emails, the preview being read, and opening the pay page
of a payment-link email."""

from __future__ import annotations

import reflex as rx

from mioapp.billing.errors import ChargeError
from mioapp.business import BusinessProfile, current_profile
from mioapp.db import database
from mioapp.formatting import when
from mioapp.models import EmailMessage, EmailStatus
from mioapp.notifications import render
from mioapp.notifications.outbox import list_emails
from mioapp.payments import links
from mioapp.ui.merchant_state import MerchantState, signed_in
from mioapp.ui.paging import PagedListState, PageInfo

KIND_LABELS = {
    render.PAYMENT_LINK: "Payment link",
    render.RECEIPT: "Receipt",
    render.MERCHANT_PAYMENT: "Merchant notice",
}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _delivery_note(message: EmailMessage, profile: BusinessProfile) -> str:
    """What the attempts so far mean, next to the status badge."""
    failures = message.attempts
    if message.status == EmailStatus.FAILED:
        return f"Gave up after {_plural(failures, 'attempt')}"
    if message.status == EmailStatus.UNCONFIRMED:
        return f"Stopped after {_plural(failures, 'attempt')}: may have been delivered"
    if message.status == EmailStatus.SENT:
        return f"Sent after {_plural(failures, 'failed attempt')}" if failures else ""
    if failures:
        next_try = when(message.next_attempt_at, profile)
        return f"{_plural(failures, 'failed attempt')} · next try {next_try}"
    return ""


def _row_data(message: EmailMessage, profile: BusinessProfile) -> dict[str, str]:
    return {
        "id": str(message.id),
        "created": when(message.created_at, profile),
        "to": message.to_address,
        "subject": message.subject,
        "kind": KIND_LABELS.get(message.kind, message.kind),
        "status": message.status.value,
        "note": _delivery_note(message, profile),
        "error": "" if message.status == EmailStatus.SENT else (message.last_error or ""),
        "sent": when(message.sent_at, profile) if message.sent_at else "",
    }


def _preview_data(
    message: EmailMessage, profile: BusinessProfile, *, payable: bool = False
) -> dict[str, str]:
    """The row and both parts, a pay URL's token shown as dots (it is never stored).
    `payable`: a payment-link email whose link can still be paid ("yes" or "")."""
    return {
        **_row_data(message, profile),
        "html": render.masked(message.html_body),
        "text": render.masked(message.text_body),
        "payable": "yes" if payable else "",
    }


class OutboxState(PagedListState, MerchantState):
    noun = "emails"
    rows: list[dict[str, str]] = []
    preview_open: bool = False
    preview: dict[str, str] = {}
    # The email being previewed: the pay page is opened for it, never for an id the browser
    # sends.
    _preview_id: int | None = None

    async def _load_page(self, *, after: int | None, before: int | None) -> PageInfo:
        def read(session):
            result = list_emails(session, after=after, before=before)
            profile = current_profile(session)
            return result, [_row_data(message, profile) for message in result.messages]

        result, self.rows = await database().run(read)
        ids = [message.id for message in result.messages]
        return PageInfo(
            has_previous=result.has_previous,
            has_next=result.has_next,
            first_id=ids[0] if ids else None,
            last_id=ids[-1] if ids else None,
            total=result.total,
        )

    @rx.event
    @signed_in
    async def load(self):
        await self._show()

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
            payable = links.link_of_email(session, message) is not None
            return _preview_data(message, current_profile(session), payable=payable)

        preview = await database().run(read)
        if preview is None:
            return rx.toast.error("That email is no longer in the outbox.")
        self.preview, self.preview_open = preview, True
        self._preview_id = key
        return None

    @rx.event
    @signed_in
    async def open_pay_page(self):
        """The previewed email's pay page in a new tab, at a fresh URL: the email's own token
        was never stored, so it cannot be shown (see `links.copy_url`)."""
        message_id = self._preview_id

        def fresh_url(session) -> str:
            message = session.get(EmailMessage, message_id) if message_id else None
            link = links.link_of_email(session, message) if message else None
            if link is None:
                raise ChargeError("This payment link can no longer be paid.")
            return links.copy_url(session, link_id=link.id, customer_id=link.customer_id)

        try:
            url = await database().run(fresh_url)
        except ChargeError as exc:
            self.preview = {**self.preview, "payable": ""}
            return rx.toast.error(exc.message)
        return rx.redirect(url, is_external=True)

    @rx.event
    @signed_in
    async def set_preview_open(self, is_open: bool):
        self.preview_open = bool(is_open)
