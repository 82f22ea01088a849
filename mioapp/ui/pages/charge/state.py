"""ChargeState: one opened Charge Customer form and what its submit did."""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from mioapp.billing.money import format_money, parse_money, to_decimal
from mioapp.formatting import when
from mioapp.models import Customer, Payment, PaymentStatus
from mioapp.payments import charges, links
from mioapp.payments.connection import active_credentials
from mioapp.payments.gateway import GatewayError
from mioapp.ui.pages.customer.state import CustomerState

CARD_ON_FILE, NEW_CARD, PAYMENT_LINK = "card_on_file", "new_card", "payment_link"
METHODS = (CARD_ON_FILE, NEW_CARD, PAYMENT_LINK)


def _amount_text(amount: int, currency: str) -> str:
    return f"{to_decimal(amount, currency):f}"


class ChargeState(CustomerState):
    """One opened charge form. Everything the browser sends is a request: bookings, amount
    and card are checked again on the server, under a lock, when the charge is made."""

    is_open: bool = False
    method: str = CARD_ON_FILE
    options: list[dict[str, str]] = []
    selected: list[str] = []
    amount_text: str = ""
    description: str = ""
    card_id: str = ""
    save_card: bool = True
    summary: str = ""
    charge_label: str = "Charge"
    error: str = ""
    error_field: str = ""
    outcome: str = ""  # "", "requires_action", "unknown", "processing"
    duplicate_warning: str = ""
    confirm_duplicate: bool = False
    in_flight: bool = False
    publishable_key: str = ""
    client_secret: str = ""
    card_complete: bool = False
    card_message: str = ""
    currency: str = "usd"
    expiry_days: str = str(links.DEFAULT_EXPIRY_DAYS)
    link_message: str = ""
    _request_key: str = ""
    _payment_id: int | None = None

    @rx.var
    def usable_cards(self) -> list[dict[str, str]]:
        return [c for c in self.cards if not c["expired"]]

    @rx.var
    def can_submit(self) -> bool:
        if self.in_flight or not self.selected or self.summary == "":
            return False
        if self.method == PAYMENT_LINK:
            return True
        if self.duplicate_warning and not self.confirm_duplicate:
            return False
        if self.method == CARD_ON_FILE:
            return self.card_id != ""
        return self.card_complete

    # Opening and editing the form -------------------------------------------------------

    @rx.event
    def open_charge(self):
        if self._merchant_id() is None:
            return self._to_sign_in()
        with rx.session() as session:
            credentials = active_credentials(session)
            if credentials is None or self._customer_id is None:
                return rx.toast.error("Connect Stripe in Settings before charging.")
            self.publishable_key = credentials.publishable_key
            chargeable = charges.chargeable_bookings(session, self._customer_id)
            self._reload(session)
        if not chargeable:
            return rx.toast.info("This customer has nothing left to pay.")
        self.currency = chargeable[0].booking.currency
        self.options = [
            {
                "id": str(c.booking.id),
                "reference": c.booking.reference,
                "tour": c.booking.tour_name,
                "date": when(c.booking.starts_at),
                "balance": format_money(c.available, c.booking.currency),
                "currency": c.booking.currency,
            }
            for c in chargeable
        ]
        self.selected = [o["id"] for o in self.options if o["currency"] == self.currency]
        self.amount_text = _amount_text(
            sum(c.available for c in chargeable if c.booking.currency == self.currency),
            self.currency,
        )
        cards = self.usable_cards
        default = next((c for c in cards if c["default"]), cards[0] if cards else None)
        self.card_id = default["id"] if default else ""
        self.method = CARD_ON_FILE if cards else NEW_CARD
        self.description = ""
        self.expiry_days, self.link_message = str(links.DEFAULT_EXPIRY_DAYS), ""
        self.save_card = True
        self.confirm_duplicate = False
        self._new_attempt()
        self.is_open = True
        return self._recompute()

    def _new_attempt(self) -> None:
        """A fresh request key: the next submit is a new charge, not a replay of the last."""
        self._request_key = charges.new_request_key()
        self._payment_id = None
        self.client_secret = ""
        self.error = self.error_field = self.outcome = ""
        self.in_flight = False

    @rx.event
    def set_open(self, value: bool):
        if not value and self.in_flight and self.method == NEW_CARD:
            return rx.toast.warning("Wait for the card payment to finish.")
        self.is_open = value
        return None

    @rx.event
    def set_method(self, value: str):
        if value in METHODS and not self.in_flight:
            self.method = value
            self.error = self.error_field = self.outcome = ""

    @rx.event
    def toggle_booking(self, booking_id: str, checked: bool):
        if self.in_flight:
            return None
        chosen = set(self.selected) - {booking_id}
        if checked:
            chosen.add(booking_id)
        self.selected = [o["id"] for o in self.options if o["id"] in chosen]
        currencies = {o["currency"] for o in self.options if o["id"] in chosen}
        if len(currencies) == 1:
            self.currency = currencies.pop()
        with rx.session() as session:
            available = {
                str(c.booking.id): c.available
                for c in charges.chargeable_bookings(session, self._customer_id)
            }
        total = sum(available.get(i, 0) for i in self.selected)
        self.amount_text = _amount_text(total, self.currency) if total else ""
        return self._recompute()

    @rx.event
    def set_amount(self, value: str):
        self.amount_text = value[:20]
        return self._recompute()

    @rx.event
    def set_description(self, value: str):
        self.description = value[:500]

    @rx.event
    def set_card(self, value: str):
        self.card_id = value
        if self.error_field == "card":
            self.error = self.error_field = ""

    @rx.event
    def set_save_card(self, value: bool):
        self.save_card = bool(value)

    @rx.event
    def set_confirm_duplicate(self, value: bool):
        self.confirm_duplicate = bool(value)

    @rx.event
    def card_changed(self, change: dict):
        self.card_complete = bool(change.get("complete"))
        self.card_message = str(change.get("error") or "")

    def _amount(self) -> int:
        return parse_money(self.amount_text, self.currency)

    def _recompute(self):
        """Summary line, button label and duplicate warning from the current form."""
        self.summary, self.charge_label, self.duplicate_warning = "", "Charge", ""
        if self.error_field in ("amount", "bookings"):
            self.error = self.error_field = ""
        if not self.selected:
            return None
        try:
            amount = self._amount()
        except ValueError as exc:
            self.error, self.error_field = str(exc), "amount"
            return None
        with rx.session() as session:
            try:
                charges.plan_charge(
                    session,
                    customer_id=self._customer_id,
                    booking_ids=self._booking_ids(),
                    amount=amount,
                )
            except charges.ChargeError as exc:
                self.error, self.error_field = exc.message, exc.field
                return None
            duplicate = charges.recent_duplicate(
                session, customer_id=self._customer_id, amount=amount, currency=self.currency
            )
        shown = format_money(amount, self.currency)
        count = len(self.selected)
        noun = "booking" if count == 1 else "bookings"
        name = self.customer.get("name", "")
        self.summary = f"You are charging {name} {shown} for {count} {noun}"
        self.charge_label = f"Charge {shown}"
        if duplicate is not None:
            self.duplicate_warning = (
                f"{self.customer.get('name', 'This customer')} was charged {shown} at "
                f"{when(duplicate.created_at)}. Charge the same amount again?"
            )
        return None

    # Charging --------------------------------------------------------------------------

    def _booking_ids(self) -> list[int]:
        return [int(i) for i in self.selected if i.isdigit()]

    def _checked_request(self, session: Session):
        """Common checks before any charge; returns (user_id, credentials, amount)."""
        user = self._signed_in(session)
        if user is None:
            return None
        credentials = active_credentials(session)
        if credentials is None:
            raise charges.ChargeError("Connect Stripe in Settings before charging.")
        try:
            amount = self._amount()
        except ValueError as exc:
            raise charges.ChargeError(str(exc), field="amount") from exc
        if not self.confirm_duplicate and charges.recent_duplicate(
            session, customer_id=self._customer_id, amount=amount, currency=self.currency
        ):
            raise charges.ChargeError(
                "A charge of this amount was made in the last 10 minutes. Confirm below to "
                "charge again.",
                field="duplicate",
            )
        return user.id, credentials, amount

    @rx.event
    def submit_charge(self):
        if self.in_flight:
            return
        self.in_flight, self.error, self.error_field, self.outcome = True, "", "", ""
        yield
        with rx.session() as session:
            try:
                checked = self._checked_request(session)
                if checked is None:
                    self.in_flight = False
                    yield self._to_sign_in()
                    return
                user_id, credentials, amount = checked
                if self.method == CARD_ON_FILE:
                    payment = charges.charge_card_on_file(
                        session,
                        credentials,
                        customer_id=self._customer_id,
                        booking_ids=self._booking_ids(),
                        amount=amount,
                        saved_card_id=int(self.card_id) if self.card_id.isdigit() else 0,
                        description=self.description,
                        user_id=user_id,
                        request_key=self._request_key,
                    )
                elif self.method == NEW_CARD:
                    started = charges.start_new_card_charge(
                        session,
                        credentials,
                        customer_id=self._customer_id,
                        booking_ids=self._booking_ids(),
                        amount=amount,
                        save_card=self.save_card,
                        description=self.description,
                        user_id=user_id,
                        request_key=self._request_key,
                    )
                    payment = started.payment
                    if started.client_secret:
                        # The card element confirms it and reports back to `card_confirmed`.
                        self._payment_id = payment.id
                        self.client_secret = started.client_secret
                        return
                else:
                    raise charges.ChargeError("Use Send Payment Link for a payment link.")
            except charges.ChargeError as exc:
                self.in_flight = False
                self.error, self.error_field = exc.message, exc.field
                if exc.field == "duplicate":
                    self._recompute()
                return
            except GatewayError as exc:
                self.in_flight = False
                self.error = exc.message
                return
            yield self._show_result(session, payment)

    @rx.event
    def card_confirmed(self, result: dict):
        """Stripe.js finished; its word is only a hint, so ask Stripe what happened."""
        if self._payment_id is None:
            return
        with rx.session() as session:
            if self._signed_in(session) is None:
                yield self._to_sign_in()
                return
            credentials = active_credentials(session)
            try:
                payment = charges.finish_new_card_charge(
                    session,
                    credentials,
                    customer_id=self._customer_id,
                    payment_id=self._payment_id,
                )
            except (charges.ChargeError, GatewayError) as exc:
                self.in_flight = False
                self.error = exc.message
                return
            if payment.status == PaymentStatus.CANCELED and result.get("error_message"):
                payment.failure_message = str(result["error_message"])[:500]
            yield self._show_result(session, payment)

    def _show_result(self, session: Session, payment: Payment):
        """Tell the merchant what happened and refresh the page behind the modal."""
        self._reload(session)
        status = payment.status
        if status == PaymentStatus.SUCCEEDED:
            shown = format_money(payment.amount, payment.currency)
            name = session.get(Customer, payment.customer_id).name
            self.is_open = False
            self._new_attempt()
            if payment.method_kind.value == NEW_CARD and self.save_card:
                saved = [c for c in self.cards if payment.card_last4 == c["last4"]]
                if saved:
                    return rx.toast.success(f"Charged {name} {shown}. The card is saved.")
            return rx.toast.success(f"Charged {name} {shown}.")
        message = payment.failure_message or ""
        self._new_attempt()
        if status == PaymentStatus.REQUIRES_ACTION:
            self.outcome = "requires_action"
        elif status in (PaymentStatus.UNKNOWN, PaymentStatus.PROCESSING, PaymentStatus.CREATED):
            self.outcome = "unknown" if status == PaymentStatus.UNKNOWN else "processing"
            self.is_open = False
            return rx.toast.info(
                "Stripe hasn't confirmed this payment yet. It is listed under Transactions "
                "and will update by itself."
            )
        else:
            self.error = message or "The payment failed."
            self.error_field = "card"
        return None

    @rx.event
    def set_expiry_days(self, value: str):
        self.expiry_days = value[:3]

    @rx.event
    def set_link_message(self, value: str):
        self.link_message = value[: links.MAX_MESSAGE]

    @rx.event
    def send_link(self):
        """Create the link and queue its email; the email goes out after the commit."""
        if self.in_flight:
            return
        self.in_flight, self.error, self.error_field = True, "", ""
        yield
        with rx.session() as session:
            user = self._signed_in(session)
            if user is None:
                self.in_flight = False
                yield self._to_sign_in()
                return
            try:
                try:
                    amount = self._amount()
                except ValueError as exc:
                    raise charges.ChargeError(str(exc), field="amount") from exc
                days = int(self.expiry_days) if self.expiry_days.strip().isdigit() else 0
                links.create_link(
                    session,
                    customer_id=self._customer_id,
                    booking_ids=self._booking_ids(),
                    amount=amount,
                    expires_in_days=days,
                    message=self.link_message,
                    user_id=user.id,
                )
            except charges.ChargeError as exc:
                self.in_flight = False
                self.error, self.error_field = exc.message, exc.field
                return
            self._reload(session)
        email = self.customer.get("email", "the customer")
        self.is_open = False
        self._new_attempt()
        yield rx.toast.success(f"Payment link sent to {email}.")

    @rx.event
    def offer_payment_link(self):
        """The bank wants the customer: send them a link for the same charge, in one click."""
        self.method = PAYMENT_LINK
        self.outcome = ""
        self.expiry_days = str(links.DEFAULT_EXPIRY_DAYS)
        return ChargeState.send_link
