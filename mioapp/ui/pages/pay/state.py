"""PayState: one customer's view of one payment link, and paying it."""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from mioapp.billing.money import format_money
from mioapp.formatting import card_label, when
from mioapp.models import PaymentStatus
from mioapp.notifications.receipts import receipt_number
from mioapp.payments import links
from mioapp.payments.charges import ChargeError
from mioapp.payments.connection import active_credentials
from mioapp.payments.gateway import GatewayError
from mioapp.settings import get_settings
from mioapp.web import routes


class PayState(rx.State):
    """One customer's view of one link. The token comes from the URL on every event; the
    amount and bookings always come from the server."""

    loaded: bool = False
    valid: bool = False
    settled: bool = False
    business_name: str = get_settings().business_name
    customer_name: str = ""
    customer_email: str = ""
    lines: list[dict[str, str]] = []
    amount: str = ""
    publishable_key: str = ""
    save_card: bool = False
    card_complete: bool = False
    card_message: str = ""
    error: str = ""
    in_flight: bool = False
    client_secret: str = ""
    receipt: dict[str, str] = {}
    _payment_id: int | None = None

    def _token(self) -> str:
        return str(self.router.page.params.get("token", ""))

    def _client_address(self) -> str:
        return self.router.session.client_ip or "unknown"

    def _invalid(self) -> None:
        self.loaded, self.valid, self.lines, self.receipt = True, False, [], {}

    def _show(self, view: links.PayView) -> None:
        self.loaded, self.valid = True, True
        self.settled = view.state == "settled"
        self.customer_name, self.customer_email = view.customer.name, view.customer.email
        currency = view.link.currency
        self.amount = format_money(view.amount, currency)
        self.lines = [
            {
                "tour": line.booking.tour_name,
                "date": when(line.booking.starts_at),
                "participants": str(line.booking.participants),
                "amount": format_money(line.amount, currency),
            }
            for line in view.lines
        ]
        if view.payment is not None:
            p = view.payment
            self.receipt = {
                "number": receipt_number(p),
                "amount": format_money(p.amount, p.currency),
                "date": when(p.succeeded_at or p.updated_at),
                "card": card_label(p.card_brand, p.card_last4) if p.card_last4 else "",
            }

    def _view(self, session: Session) -> tuple[links.PaymentLink | None, links.PayView | None]:
        link = links.find_link(session, self._token())
        return link, (links.pay_view(session, link) if link else None)

    @rx.event
    def load_pay(self):
        """Show the link. Nothing is created here: mail scanners open every link."""
        self.error, self.client_secret, self.in_flight = "", "", False
        with rx.session() as session:
            link, view = self._view(session)
            if view is None:
                return self._invalid()
            if view.state == "paid":
                return rx.redirect(routes.pay_success_path(self._token()), replace=True)
            links.mark_opened(session, link)
            credentials = active_credentials(session)
            self.publishable_key = credentials.publishable_key if credentials else ""
            self._show(view)
        return None

    @rx.event
    def load_receipt(self):
        with rx.session() as session:
            _, view = self._view(session)
            if view is None:
                return self._invalid()
            if view.state != "paid":
                return rx.redirect(routes.pay_path(self._token()), replace=True)
            self._show(view)
        return None

    @rx.event
    def set_save_card(self, value: bool):
        self.save_card = bool(value)

    @rx.event
    def card_changed(self, change: dict):
        self.card_complete = bool(change.get("complete"))
        self.card_message = str(change.get("error") or "")

    @rx.event
    def pay(self):
        if self.in_flight or not self.card_complete:
            return
        self.in_flight, self.error = True, ""
        yield
        with rx.session() as session:
            link, view = self._view(session)
            credentials = active_credentials(session)
            if view is None or credentials is None:
                self.in_flight = False
                self._invalid()
                return
            try:
                started = links.start_link_payment(
                    session,
                    credentials,
                    link=link,
                    save_card=self.save_card,
                    client_address=self._client_address(),
                )
            except (ChargeError, GatewayError) as exc:
                self.in_flight = False
                _, view = self._view(session)
                if view is not None and view.state == "paid":
                    # Paid meanwhile (another tab, another device): show the receipt.
                    yield rx.redirect(routes.pay_success_path(self._token()))
                    return
                self.error = exc.message
                if view is not None:
                    self._show(view)
                return
            if started.client_secret is None:
                self.in_flight = False
                yield PayState.load_pay
                return
            self._payment_id = started.payment.id
            self.client_secret = started.client_secret

    @rx.event
    def card_confirmed(self, result: dict):
        """Stripe.js has finished; Stripe's own record decides what happened."""
        if self._payment_id is None:
            return
        with rx.session() as session:
            link = links.find_link(session, self._token())
            credentials = active_credentials(session)
            if link is None or credentials is None:
                self._invalid()
                return
            try:
                payment = links.finish_link_payment(
                    session,
                    credentials,
                    link=link,
                    payment_id=self._payment_id,
                    client_address=self._client_address(),
                )
            except (ChargeError, GatewayError) as exc:
                self.in_flight, self.error = False, exc.message
                return
            self._payment_id, self.client_secret, self.in_flight = None, "", False
            if payment.status == PaymentStatus.SUCCEEDED:
                yield rx.redirect(routes.pay_success_path(self._token()))
                return
            if payment.status in (PaymentStatus.PROCESSING, PaymentStatus.CREATED):
                self.error = "Your bank is still confirming the payment. Refresh in a minute."
                return
            self.error = (
                str(result.get("error_message") or "")
                if payment.status == PaymentStatus.CANCELED
                else payment.failure_message or ""
            ) or "The payment did not go through. Try again or use another card."
            _, view = self._view(session)
            if view is not None:
                self._show(view)
