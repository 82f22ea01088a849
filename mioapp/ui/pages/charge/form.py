"""The Charge Customer form as typed: bookings and each one's part, the amount, the method
and its fields, and what the form says about them (summary, duplicate warning, why Charge is
disabled). A state mixin: ChargeState (state.py) adds opening the form and submitting it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import reflex as rx
from sqlmodel import Session

from mioapp.billing.balances import chargeable_bookings, plan_charge
from mioapp.billing.errors import ChargeError
from mioapp.billing.money import DEFAULT_LOCALE, amount_input_text, format_money, parse_money
from mioapp.business import current_profile
from mioapp.db import database
from mioapp.payments import charges, links
from mioapp.ui.components.stripe_card import CardFieldMixin
from mioapp.ui.merchant_state import signed_in
from mioapp.ui.pages.charge import wording
from mioapp.ui.pages.charge.wording import Outcome


class Method(StrEnum):
    CARD_ON_FILE = "card_on_file"
    NEW_CARD = "new_card"
    PAYMENT_LINK = "payment_link"


@dataclass
class BookingOption:
    id: int
    reference: str
    tour: str
    date: str
    balance: str
    currency: str
    # Its activity date has passed and it still owes money.
    overdue: bool = False


def _amount_text(amount: int, currency: str, locale: str) -> str:
    """What to put in an amount field: digits and the locale's decimal sign (`480,00`)."""
    return amount_input_text(amount, currency, locale)


class ShareError(ValueError):
    """A booking's part is not an amount."""

    def __init__(self, booking_id: int, message: str):
        super().__init__(message)
        self.booking_id = booking_id
        self.message = message


class ChargeFormMixin(CardFieldMixin, mixin=True):
    """The form's fields and their checks; the customer comes from CustomerState."""

    method: Method = Method.CARD_ON_FILE
    options: list[BookingOption] = []
    selected: list[int] = []
    # Each chosen booking's part of the amount, as typed (booking id -> text); the merchant
    # may move a deposit onto the booking they mean.
    shares: dict[str, str] = {}
    amount_text: str = ""
    description: str = ""
    card_id: str = ""
    save_card: bool = True
    summary: str = ""
    charge_label: str = "Charge"
    error: str = ""
    error_field: str = ""
    outcome: Outcome = Outcome.NONE
    duplicate_warning: str = ""
    confirm_duplicate: bool = False
    in_flight: bool = False
    currency: str = "usd"
    expiry_days: str = str(links.DEFAULT_EXPIRY_DAYS)
    link_message: str = ""
    # The business's locale as the form opened: amounts are typed and shown in it.
    _locale: str = DEFAULT_LOCALE
    # What each chargeable booking can still take, as read when the form opened or changed.
    _available: dict[int, int] = {}

    @rx.var
    def blocked_reason(self) -> str:
        """Why the submit button is disabled, in words ("" when it is not)."""
        if self.in_flight:
            return ""
        if not self.selected:
            return "Choose at least one booking to charge."
        if self.summary == "":
            return "Fix the amount above to continue."
        if self.method == Method.PAYMENT_LINK:
            return "Choose an expiry between 1 and 60 days." if self.error_field == "expiry" else ""
        if self.duplicate_warning and not self.confirm_duplicate:
            return "Confirm above that you mean to charge this amount again."
        if self.method == Method.CARD_ON_FILE and self.card_id == "":
            return "Choose a saved card, or use a new card or a payment link."
        if self.method == Method.NEW_CARD and not self.card_complete:
            return "Enter the card details to continue."
        return ""

    @rx.var
    def can_submit(self) -> bool:
        return not self.in_flight and self.blocked_reason == ""

    def _begin_submit(self) -> bool:
        """Claim the form for one submission, clearing the last error; False while one is
        already under way (a double click)."""
        if self.in_flight:
            return False
        self.in_flight, self.error, self.error_field = True, "", ""
        return True

    @rx.event
    @signed_in
    async def toggle_booking(self, booking_id: int, checked: bool):
        if self.in_flight:
            return
        chosen = set(self.selected) - {booking_id}
        if checked:
            chosen.add(booking_id)
        self.selected = [o.id for o in self.options if o.id in chosen]
        currencies = {o.currency for o in self.options if o.id in chosen}
        if len(currencies) == 1:
            self.currency = currencies.pop()
        customer_id = self._customer_id
        self._available = {
            c.booking.id: c.available
            for c in await database().run(lambda s: chargeable_bookings(s, customer_id))
        }
        self._fill_shares(sum(self._available.get(i, 0) for i in self.selected))
        await self._recompute()

    @rx.event
    @signed_in
    async def set_amount(self, value: str):
        """A new total: the chosen bookings are filled again, earliest tour first."""
        self.amount_text = value[:20]
        try:
            amount = self._amount()
        except ValueError:
            amount = None
        if amount is not None:
            self._fill_shares(amount, keep_total_text=True)
        await self._recompute()

    @rx.event
    @signed_in
    async def set_share(self, booking_id: int, value: str):
        """One booking's part: the total follows the parts."""
        if self.in_flight or booking_id not in self.selected:
            return
        self.shares = {**self.shares, str(booking_id): value[:20]}
        try:
            total = sum(self._share_amounts().values())
        except ValueError:
            total = None
        if total is not None:
            self.amount_text = _amount_text(total, self.currency, self._locale) if total else ""
        await self._recompute()

    def _fill_shares(self, amount: int, *, keep_total_text: bool = False) -> None:
        """The chosen bookings filled with `amount`, earliest tour first (the default split)."""
        room = sum(self._available.get(i, 0) for i in self.selected)
        parts: dict[int, int] = {}
        remaining = min(amount, room)
        for booking_id in self.selected:
            part = min(self._available.get(booking_id, 0), remaining)
            parts[booking_id] = part
            remaining -= part
        locale = self._locale
        self.shares = {
            str(i): _amount_text(part, self.currency, locale) if part else ""
            for i, part in parts.items()
        }
        if not keep_total_text:
            self.amount_text = _amount_text(amount, self.currency, locale) if amount else ""

    def _share_amounts(self) -> dict[int, int]:
        """The chosen bookings' parts in minor units (empty parts are nothing); raises
        ValueError naming the booking whose part is not an amount."""
        parts = {}
        for booking_id in self.selected:
            text = self.shares.get(str(booking_id), "").strip()
            if not text:
                continue
            try:
                parts[booking_id] = parse_money(text, self.currency, self._locale)
            except ValueError as exc:
                raise ShareError(booking_id, str(exc)) from exc
        return parts

    @rx.event
    @signed_in
    async def set_description(self, value: str):
        self.description = value[:500]

    @rx.event
    @signed_in
    async def set_card(self, value: str):
        self.card_id = value
        if self.error_field == "card":
            self.error = self.error_field = ""

    @rx.event
    @signed_in
    async def set_save_card(self, value: bool):
        self.save_card = bool(value)

    @rx.event
    @signed_in
    async def set_confirm_duplicate(self, value: bool):
        self.confirm_duplicate = bool(value)

    @rx.event
    @signed_in
    async def card_changed(self, change: dict):
        self._note_card(change)

    def _amount(self) -> int:
        return parse_money(self.amount_text, self.currency, self._locale)

    async def _recompute(self) -> None:
        """Summary line, button label and duplicate warning from the current form."""
        self.summary, self.charge_label, self.duplicate_warning = "", "Charge", ""
        if self.error_field in ("amount", "bookings", "shares") or self.error_field.startswith(
            "share-"
        ):
            self.error = self.error_field = ""
        if not self.selected:
            return
        try:
            amount = self._amount()
            parts = self._share_amounts()
        except ShareError as exc:
            self.error, self.error_field = exc.message, f"share-{exc.booking_id}"
            return
        except ValueError as exc:
            self.error, self.error_field = str(exc), "amount"
            return
        customer_id, currency = self._customer_id, self.currency

        def check(session: Session):
            plan_charge(
                session,
                customer_id=customer_id,
                booking_ids=list(parts) or list(self.selected),
                amount=amount,
                shares=parts,
            )
            duplicate = charges.recent_duplicate(
                session, customer_id=customer_id, amount=amount, currency=currency
            )
            return duplicate, current_profile(session)

        try:
            duplicate, profile = await database().run(check)
        except ChargeError as exc:
            self.error, self.error_field = exc.message, exc.field
            return
        name = self.customer.name
        self.summary = wording.summary(name, amount, currency, len(parts), profile)
        self.charge_label = f"Charge {format_money(amount, currency, profile.locale)}"
        if duplicate is not None:
            self.duplicate_warning = wording.duplicate_question(
                name, amount, currency, duplicate.created_at, profile
            )

    @rx.event
    @signed_in
    async def set_expiry_days(self, value: str):
        """Flagged as typed: a link lasts 1 to 60 days."""
        self.expiry_days = value[:3]
        days = int(value) if value.strip().isdigit() else 0
        if not 1 <= days <= links.MAX_EXPIRY_DAYS:
            self.error = f"Choose an expiry between 1 and {links.MAX_EXPIRY_DAYS} days."
            self.error_field = "expiry"
        elif self.error_field == "expiry":
            self.error = self.error_field = ""

    @rx.event
    @signed_in
    async def set_link_message(self, value: str):
        self.link_message = value[: links.MAX_MESSAGE]
