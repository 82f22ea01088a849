"""ChargeState: one opened Charge Customer form and what its submit did.

Everything the browser sends is a request: bookings, amount and card are checked again by
the payments code, under a lock, when the charge is made. The form belongs to the customer
it was opened for: navigating away closes it, and a submit for another customer is refused.
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
from mioapp.formatting import when
from mioapp.models import PaymentStatus, utcnow
from mioapp.payments import charges, links
from mioapp.payments.connection import active_credentials
from mioapp.payments.gateway import GatewayError
from mioapp.ui.merchant_state import signed_in
from mioapp.ui.pages.charge import wording
from mioapp.ui.pages.charge.wording import Outcome
from mioapp.ui.pages.customer.state import CustomerState


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


class ChargeState(CustomerState):
    is_open: bool = False
    # The customer the form was opened for; the dialog shows only on that customer's page.
    opened_for: int = 0
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
    publishable_key: str = ""
    # Browser-visible by design: Stripe.js needs it to confirm the card; the server re-fetches
    # the intent before trusting any outcome.
    client_secret: str = ""
    card_complete: bool = False
    card_message: str = ""
    currency: str = "usd"
    expiry_days: str = str(links.DEFAULT_EXPIRY_DAYS)
    link_message: str = ""
    _request_key: str = ""
    # The business's locale as the form opened: amounts are typed and shown in it.
    _locale: str = DEFAULT_LOCALE
    _payment_id: int | None = None
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

    # Opening and editing the form -------------------------------------------------------

    @rx.event
    @signed_in
    async def close_on_navigation(self):
        """Every page load closes the form: it belongs to the customer it was opened for."""
        if not self.in_flight:
            self.is_open = False
            self._new_attempt()

    @rx.event
    @signed_in
    async def open_charge(self):
        customer_id = self._customer_id

        def read(session: Session):
            credentials = active_credentials(session)
            chargeable = chargeable_bookings(session, customer_id) if customer_id else []
            return credentials, chargeable, current_profile(session)

        credentials, chargeable, profile = await database().run(read)
        await self._reload()
        if credentials is None or customer_id is None:
            return rx.toast.error("Connect Stripe in Settings before charging.")
        if not chargeable:
            return rx.toast.info("This customer has nothing left to pay.")
        self.publishable_key = credentials.publishable_key
        self.currency = chargeable[0].booking.currency
        self._locale = profile.locale
        now = utcnow()
        self.options = [
            BookingOption(
                id=c.booking.id,
                reference=c.booking.reference,
                tour=c.booking.tour_name,
                date=when(c.booking.starts_at, profile),
                balance=format_money(c.available, c.booking.currency, profile.locale),
                currency=c.booking.currency,
                overdue=c.booking.starts_at < now,
            )
            for c in chargeable
        ]
        self._available = {c.booking.id: c.available for c in chargeable}
        self.selected = [o.id for o in self.options if o.currency == self.currency]
        self._fill_shares(sum(self._available[i] for i in self.selected))
        # A card a charge found dead (lost, expired...) is listed, but never picked for you.
        usable = [c for c in self.cards if not c.expired and not c.declined]
        default = next((c for c in usable if c.is_default), usable[0] if usable else None)
        self.card_id = str(default.id) if default else ""
        self.method = Method.CARD_ON_FILE if usable else Method.NEW_CARD
        self.description = ""
        self.expiry_days, self.link_message = str(links.DEFAULT_EXPIRY_DAYS), ""
        self.save_card = True
        self.confirm_duplicate = False
        self._new_attempt()
        self.opened_for = customer_id
        self.is_open = True
        await self._recompute()
        return None

    def _new_attempt(self) -> None:
        """A fresh request key: the next submit is a new charge, not a replay of the last."""
        self._request_key = charges.new_request_key()
        self._payment_id = None
        self.client_secret = ""
        self.error = self.error_field = ""
        self.outcome = Outcome.NONE
        self.in_flight = False

    @rx.event
    @signed_in
    async def set_open(self, value: bool):
        if not value and self.in_flight and self.method == Method.NEW_CARD:
            return rx.toast.warning("Wait for the card payment to finish.")
        self.is_open = value
        return None

    @rx.event
    @signed_in
    async def set_method(self, value: str):
        if value in Method.__members__.values() and not self.in_flight:
            self.method = Method(value)
            self.error = self.error_field = ""
            self.outcome = Outcome.NONE

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
        self.card_complete = bool(change.get("complete"))
        self.card_message = str(change.get("error") or "")

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

    # Charging --------------------------------------------------------------------------

    def _request(self, amount: int) -> charges.ChargeRequest:
        parts = self._share_amounts()
        return charges.ChargeRequest(
            customer_id=self._customer_id,
            booking_ids=list(parts),
            amount=amount,
            shares=parts,
            request_key=self._request_key,
            description=self.description,
            user_id=self._user_id,
            confirm_duplicate=self.confirm_duplicate,
        )

    def _checked_amount(self) -> int:
        if self._customer_id is None or self.opened_for != self._customer_id:
            raise ChargeError("This form was opened for another customer. Open it again.")
        try:
            self._share_amounts()
            return self._amount()
        except ShareError as exc:
            raise ChargeError(exc.message, field=f"share-{exc.booking_id}") from exc
        except ValueError as exc:
            raise ChargeError(str(exc), field="amount") from exc

    @rx.event
    @signed_in
    async def submit_charge(self):
        if self.in_flight:
            return
        self.in_flight, self.error, self.error_field = True, "", ""
        self.outcome = Outcome.NONE
        yield
        credentials = await database().run(active_credentials)
        try:
            if credentials is None:
                raise ChargeError("Connect Stripe in Settings before charging.")
            request = self._request(self._checked_amount())
            if self.method == Method.CARD_ON_FILE:
                payment = await charges.charge_card_on_file(
                    database(),
                    credentials,
                    request,
                    saved_card_id=int(self.card_id) if self.card_id.isdigit() else 0,
                )
            elif self.method == Method.NEW_CARD:
                started = await charges.start_card_charge(
                    database(), credentials, request, save_card=self.save_card
                )
                payment = started.payment
                if started.client_secret:
                    # The card element confirms it and reports back to `card_confirmed`.
                    self._payment_id = payment.id
                    self.client_secret = started.client_secret
                    return
            else:
                raise ChargeError("Use Send Payment Link for a payment link.")
        except ChargeError as exc:
            self.in_flight = False
            self.error, self.error_field = exc.message, exc.field
            if exc.field == "duplicate":
                await self._recompute()
            return
        except GatewayError as exc:
            self.in_flight = False
            self.error = exc.message
            return
        yield await self._show_result(payment)

    @rx.event
    @signed_in
    async def card_confirmed(self, result: dict):
        """Stripe.js finished; its word is only a hint, so ask Stripe what happened."""
        if self._payment_id is None:
            return
        credentials = await database().run(active_credentials)
        try:
            if credentials is None:
                raise ChargeError("Connect Stripe in Settings before charging.")
            payment = await charges.finish_card_charge(
                database(),
                credentials,
                payment_id=self._payment_id,
                customer_id=self._customer_id,
            )
        except (ChargeError, GatewayError) as exc:
            self.in_flight = False
            self.error = exc.message
            return
        if payment.status == PaymentStatus.CANCELED and result.get("error_message"):
            # Stripe.js's reason (e.g. a decline) says more than "canceled".
            self.error = str(result["error_message"])[:500]
        yield await self._show_result(payment)

    async def _show_result(self, payment):
        """Tell the merchant what happened and refresh the page behind the modal."""
        await self._reload()
        card_saved = (
            payment.method_kind.value == Method.NEW_CARD
            and self.save_card
            and any(c.last4 == payment.card_last4 for c in self.cards)
        )
        result = wording.charge_result(
            payment, self.customer.name, card_saved=card_saved, locale=self._locale
        )
        stripe_js_error = self.error
        self._new_attempt()
        self.outcome = result.outcome
        if result.outcome == Outcome.CHARGED:
            self.is_open = False
            return rx.toast.success(result.toast)
        if result.outcome == Outcome.PENDING:
            self.is_open = False
            return rx.toast.info(result.toast)
        if result.outcome == Outcome.DECLINED:
            self.error = stripe_js_error or result.error
            self.error_field = "card"
        return None

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

    @rx.event
    @signed_in
    async def send_link(self):
        """Create the link and queue its email; the email goes out after the commit."""
        if self.in_flight:
            return
        self.in_flight, self.error, self.error_field = True, "", ""
        yield
        try:
            amount = self._checked_amount()
            days = int(self.expiry_days) if self.expiry_days.strip().isdigit() else 0
            request = self._request(amount)
            message, description = self.link_message, self.description
            await database().run(
                lambda s: links.create_link(
                    s,
                    customer_id=request.customer_id,
                    booking_ids=request.booking_ids,
                    amount=amount,
                    expires_in_days=days,
                    message=message,
                    user_id=request.user_id,
                    shares=request.shares,
                    description=description,
                )
            )
        except ChargeError as exc:
            self.in_flight = False
            self.error, self.error_field = exc.message, exc.field
            return
        await self._reload()
        self.is_open = False
        self._new_attempt()
        yield rx.toast.success(f"Payment link sent to {self.customer.email}.")

    @rx.event
    @signed_in
    async def offer_payment_link(self):
        """The bank wants the customer: send them a link for the same charge, in one click."""
        self.method = Method.PAYMENT_LINK
        self.outcome = Outcome.NONE
        self.expiry_days = str(links.DEFAULT_EXPIRY_DAYS)
        return ChargeState.send_link
