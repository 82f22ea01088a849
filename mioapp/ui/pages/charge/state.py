"""ChargeState: one opened Charge Customer form and what its submit did.

Everything the browser sends is a request: bookings, amount and card are checked again by
the payments code, under a lock, when the charge is made. The form belongs to the customer
it was opened for: navigating away closes it, and a submit for another customer is refused.
"""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from mioapp.billing.balances import chargeable_bookings
from mioapp.billing.errors import ChargeError
from mioapp.billing.money import format_money
from mioapp.business import current_profile
from mioapp.db import database
from mioapp.models import PaymentStatus, utcnow
from mioapp.payments import charges, links
from mioapp.payments.connection import active_credentials
from mioapp.payments.gateway import GatewayError
from mioapp.ui.merchant_state import signed_in
from mioapp.ui.pages.charge import wording
from mioapp.ui.pages.charge.form import BookingOption, ChargeFormMixin, Method, ShareError
from mioapp.ui.pages.charge.wording import Outcome
from mioapp.ui.pages.customer.rows import booking_fields
from mioapp.ui.pages.customer.state import CustomerState


class ChargeState(ChargeFormMixin, CustomerState):
    is_open: bool = False
    # The customer the form was opened for; the dialog shows only on that customer's page.
    opened_for: int = 0
    _request_key: str = ""
    _payment_id: int | None = None

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
                **booking_fields(c.booking, profile),
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
        if not self._begin_submit():
            return
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
    async def send_link(self):
        """Create the link and queue its email; the email goes out after the commit."""
        if not self._begin_submit():
            return
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
