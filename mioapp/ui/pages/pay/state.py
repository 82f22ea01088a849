"""PayState: one customer's view of one payment link, and paying it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import reflex as rx
from sqlmodel import Session

from mioapp.billing.errors import ChargeError
from mioapp.billing.money import format_money
from mioapp.business import BusinessProfile, current_profile
from mioapp.db import database
from mioapp.formatting import card_label, when, when_in_zone
from mioapp.models import PaymentLink, PaymentStatus
from mioapp.notifications.receipts import receipt_number
from mioapp.payments import link_payments, links
from mioapp.payments.connection import active_credentials
from mioapp.payments.gateway import GatewayError
from mioapp.ui.components.stripe_card import CardFieldMixin
from mioapp.ui.live import watchers
from mioapp.web import routes


class PayPageState(StrEnum):
    """What the page shows (see `link_payments.PayView`)."""

    LOADING = "loading"
    INVALID = "invalid"
    PAYABLE = "payable"
    SETTLED = "settled"
    IN_PROGRESS = "in_progress"
    PAID = "paid"


@dataclass
class PayLineRow:
    """One booking's part of the payment: what it costs, what was paid before, this part,
    and what remains after it (a deposit when something does)."""

    reference: str
    tour: str
    date: str
    participants: int
    total: str
    paid_before: str
    amount: str
    remaining: str
    deposit: bool


@dataclass
class Receipt:
    number: str = ""
    amount: str = ""
    date: str = ""
    card: str = ""


class PayState(CardFieldMixin, rx.State):
    """One customer's view of one link. The token comes from the URL on every event; the
    amount and bookings always come from the server."""

    view: PayPageState = PayPageState.LOADING
    # How to reach the business, from its profile as each page loads.
    business_name: str = ""
    business_email: str = ""
    business_phone: str = ""
    customer_name: str = ""
    customer_email: str = ""
    lines: list[PayLineRow] = []
    amount: str = ""
    # The merchant's words: what the payment is for, and their personal message.
    description: str = ""
    message: str = ""
    # When another attempt's hold on these bookings runs out ("" if it waits on Stripe).
    released_at: str = ""
    save_card: bool = False
    error: str = ""
    in_flight: bool = False
    receipt: Receipt = Receipt()
    _payment_id: int | None = None

    @rx.var
    def business_tel(self) -> str:
        """The phone as a `tel:` link dials it: digits and a leading plus."""
        return "tel:" + "".join(ch for ch in self.business_phone if ch.isdigit() or ch == "+")

    @rx.var
    def pay_title(self) -> str:
        return f"Pay {self.business_name}" if self.business_name else "Pay"

    @rx.var
    def receipt_title(self) -> str:
        if not self.business_name:
            return "Payment received"
        return f"Payment received · {self.business_name}"

    def _token(self) -> str:
        return str(self.router.page.params.get("token", ""))

    def _client_address(self) -> str:
        return self.router.session.client_ip or "unknown"

    def _invalid(self) -> None:
        self.view, self.lines, self.receipt = PayPageState.INVALID, [], Receipt()

    def _show(self, view: link_payments.PayView, profile: BusinessProfile) -> None:
        self.view = PayPageState(view.state)
        self.customer_name, self.customer_email = view.customer.name, view.customer.email
        currency, locale = view.link.currency, profile.locale
        self.amount = format_money(view.amount, currency, locale)
        self.released_at = when(view.released_at, profile) if view.released_at else ""
        self.description, self.message = view.link.description, view.link.message
        self.lines = [
            PayLineRow(
                reference=line.booking.reference,
                tour=line.booking.tour_name,
                date=when(line.booking.starts_at, profile),
                participants=line.booking.participants,
                total=format_money(line.total, currency, locale),
                paid_before=(
                    format_money(line.paid_before, currency, locale) if line.paid_before else ""
                ),
                amount=format_money(line.amount, currency, locale),
                remaining=format_money(line.remaining, currency, locale),
                deposit=line.is_deposit,
            )
            for line in view.lines
        ]
        if view.payment is not None:
            p = view.payment
            self.receipt = Receipt(
                number=receipt_number(p),
                amount=format_money(p.amount, p.currency, locale),
                # A receipt is kept and read anywhere: the zone is named.
                date=when_in_zone(p.succeeded_at or p.updated_at, profile),
                card=card_label(p.card_brand, p.card_last4) if p.card_last4 else "",
            )

    async def _view(
        self, *, mark_opened: bool = False
    ) -> tuple[int | None, link_payments.PayView | None, BusinessProfile]:
        """The link behind the URL, what it shows, and the business (for every page, the
        invalid-link one too: it says how to reach the business)."""
        token = self._token()

        def read(session: Session):
            profile = current_profile(session)
            link = links.find_link(session, token)
            if link is None:
                return None, None, "", profile
            view = link_payments.pay_view(session, link)
            if mark_opened and view is not None and view.state != "paid":
                links.mark_opened(session, link)
            credentials = active_credentials(session)
            return link.id, view, credentials.publishable_key if credentials else "", profile

        link_id, view, self.publishable_key, profile = await database().run(read)
        self.business_name = profile.name
        self.business_email, self.business_phone = profile.email, profile.phone
        return link_id, view, profile

    @rx.event
    async def load_pay(self):
        """Show the link. Nothing is created here: mail scanners open every link."""
        self.error, self.client_secret, self.in_flight = "", "", False
        _, view, profile = await self._view(mark_opened=True)
        if view is None:
            return self._invalid()
        if view.state == "paid":
            return rx.redirect(routes.pay_success_path(self._token()), replace=True)
        self._show(view, profile)
        # Paid from another tab or device, released, revoked: this page follows (pushed).
        watchers.watch(view.customer.id, self.router.session.client_token, type(self))
        return None

    async def _follow_change(self, customer_id: int) -> bool:
        """A change notice for this link's customer; False once the page no longer follows."""
        if not self.router.page.path.startswith("/pay/") or self.view == PayPageState.PAID:
            return False
        _, view, profile = await self._view()
        if view is None:
            self._invalid()
            return False
        if view.state == "paid":
            # The page shows a notice whose mount opens the receipt (see view.py).
            self.view = PayPageState.PAID
            return False
        if not self.in_flight:
            self._show(view, profile)
        return True

    @rx.event
    async def show_receipt(self):
        return rx.redirect(routes.pay_success_path(self._token()), replace=True)

    @rx.event
    async def load_receipt(self):
        _, view, profile = await self._view()
        if view is None:
            return self._invalid()
        if view.state != "paid":
            return rx.redirect(routes.pay_path(self._token()), replace=True)
        self._show(view, profile)
        return None

    @rx.event
    async def set_save_card(self, value: bool):
        self.save_card = bool(value)

    @rx.event
    async def card_changed(self, change: dict):
        self._note_card(change)

    @rx.event
    async def pay(self):
        if self.in_flight or not self.card_complete:
            return
        self.in_flight, self.error = True, ""
        yield
        link_id, view, _ = await self._view()
        credentials = await database().run(active_credentials)
        if view is None or credentials is None:
            self.in_flight = False
            self._invalid()
            return
        for attempt in range(2):
            try:
                started = await link_payments.start_link_payment(
                    database(),
                    credentials,
                    link_id=link_id,
                    save_card=self.save_card,
                    client_address=self._client_address(),
                )
                break
            except (ChargeError, GatewayError) as exc:
                _, view, profile = await self._view()
                if view is not None and view.state == "paid":
                    # Paid meanwhile (another tab, another device): show the receipt.
                    self.in_flight = False
                    yield rx.redirect(routes.pay_success_path(self._token()))
                    return
                if attempt == 0 and view is not None and view.state == "payable":
                    # Another tab's attempt changed hands as this one started: once more.
                    continue
                self.in_flight, self.error = False, exc.message
                if view is not None:
                    self._show(view, profile)
                return
        if started.client_secret is None:
            self.in_flight = False
            yield PayState.load_pay
            return
        self._payment_id = started.payment.id
        self.client_secret = started.client_secret

    @rx.event
    async def card_confirmed(self, result: dict):
        """Stripe.js has finished; Stripe's own record decides what happened."""
        if self._payment_id is None:
            return
        token = self._token()
        link = await database().run(lambda s: links.find_link(s, token))
        credentials = await database().run(active_credentials)
        if not isinstance(link, PaymentLink) or credentials is None:
            self._invalid()
            return
        try:
            payment = await link_payments.finish_link_payment(
                database(),
                credentials,
                link_id=link.id,
                payment_id=self._payment_id,
                client_address=self._client_address(),
            )
        except (ChargeError, GatewayError) as exc:
            self.in_flight, self.error = False, exc.message
            return
        self._payment_id, self.client_secret, self.in_flight = None, "", False
        if payment.status == PaymentStatus.SUCCEEDED:
            yield rx.redirect(routes.pay_success_path(token))
            return
        if payment.status in (PaymentStatus.PROCESSING, PaymentStatus.CREATED):
            self.error = "Your bank is still confirming the payment. Refresh in a minute."
            return
        self.error = (
            str(result.get("error_message") or "")
            if payment.status == PaymentStatus.CANCELED
            else payment.failure_message or ""
        ) or "The payment did not go through. Try again or use another card."
        _, view, profile = await self._view()
        if view is not None:
            self._show(view, profile)
