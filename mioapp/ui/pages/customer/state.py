"""What the customer page shows: contact details, bookings, cards, transactions, links; and
its actions (Check status, Release, Refund overpayment, the link buttons)."""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from mioapp.billing.balances import format_totals, is_abandoned
from mioapp.billing.errors import ChargeError
from mioapp.billing.ledger import BookingStatus
from mioapp.billing.money import format_money
from mioapp.business import BusinessProfile, current_profile, current_profile_async
from mioapp.customers import detail as customers
from mioapp.db import database
from mioapp.formatting import brand_name, month, when
from mioapp.models import Payment, PaymentStatus, utcnow
from mioapp.payments import charges, links, reconcile, refunds
from mioapp.payments.cards import is_expired
from mioapp.payments.connection import active_credentials, connection_info
from mioapp.ui.live import watchers
from mioapp.ui.merchant_state import MerchantState, signed_in
from mioapp.ui.pages.customer.rows import (
    BookingPaymentRow,
    BookingRow,
    CardRow,
    CustomerHeader,
    LinkRow,
    TransactionRow,
    booking_fields,
    link_row,
)
from mioapp.ui.status import (
    card_decline_words,
    merchant_reason,
    payment_display_status,
    payment_method_label,
)
from mioapp.web import routes

# Payments whose outcome Stripe may still change, so the merchant can ask it again.
CHECKABLE = (PaymentStatus.UNKNOWN, PaymentStatus.PROCESSING, PaymentStatus.CREATED)


def transaction_anchor(payment_id: int | str) -> str:
    """The element id of a payment's row in Transactions."""
    return f"transaction-{payment_id}"


class CustomerState(MerchantState):
    """Filled by `load_customer` from the route's id; the id is then kept server-side."""

    found: bool = False
    loaded: bool = False
    customer: CustomerHeader = CustomerHeader()
    outstanding: str = ""
    owes: bool = False
    bookings: list[BookingRow] = []
    cards: list[CardRow] = []
    transactions: list[TransactionRow] = []
    payment_links: list[LinkRow] = []
    copied_url: str = ""
    # Said when the default card was just found dead: nobody should charge it unwarned.
    default_card_warning: str = ""
    stripe_connected: bool = False
    # The payment the Payments page opened this page for (?highlight=<id>), 0 for none.
    highlighted: int = 0
    _customer_id: int | None = None

    @rx.var
    def page_title(self) -> str:
        """The browser tab names the customer: `Ana Lima · Customers · MioCommerce`."""
        if not self.customer.name:
            return "Customer · MioCommerce"
        return f"{self.customer.name} · Customers · MioCommerce"

    def _route_customer_id(self) -> int | None:
        raw = str(self.router.page.params.get("customer_id", ""))
        return int(raw) if raw.isdigit() and len(raw) < 10 else None

    @rx.event
    @signed_in
    async def load_customer(self):
        self._customer_id = self._route_customer_id()
        await self._reload()
        if self.found:
            # Changes made anywhere (the pay page, a webhook, a job) are pushed to this tab.
            watchers.watch(self._customer_id, self.router.session.client_token, type(self))
        raw = str(self.router.page.params.get(routes.HIGHLIGHT, ""))
        wanted = int(raw) if raw.isdigit() and len(raw) < 10 else 0
        self.highlighted = wanted if any(t.id == wanted for t in self.transactions) else 0
        if self.highlighted:
            return rx.scroll_to(transaction_anchor(self.highlighted))
        return None

    async def _follow_change(self, customer_id: int) -> bool:
        """A change notice for `customer_id` reached this tab; False if it no longer shows it."""
        here = self.router.page.path.startswith(routes.CUSTOMERS + "/")
        if not here or self._customer_id != customer_id:
            return False
        await self._reload()
        return True

    async def _reload(self) -> None:
        """Read everything the page shows again (after a change, a check, a page load)."""
        customer_id = self._customer_id

        def read(session: Session):
            detail = customers.customer_detail(session, customer_id) if customer_id else None
            link_rows = links.customer_links(session, customer_id) if detail else []
            profile = current_profile(session)
            return detail, link_rows, connection_info(session).connected, profile

        detail, link_rows, self.stripe_connected, profile = await database().run(read)
        self.loaded = True
        self.found = detail is not None
        if detail is None:
            self.customer, self.bookings, self.cards = CustomerHeader(), [], []
            self.transactions, self.payment_links, self.owes = [], [], False
            return
        self._show(detail, profile)
        self.payment_links = [link_row(row, profile) for row in link_rows]

    def _show(self, detail: customers.CustomerDetail, profile: BusinessProfile) -> None:
        c = detail.customer
        now = utcnow()
        self.customer = CustomerHeader(
            id=c.id,
            name=c.name,
            email=c.email,
            phone=c.phone,
            initials="".join(part[:1] for part in c.name.split()[:2]).upper(),
            since=month(c.created_at, profile),
        )
        self.outstanding = format_totals(detail.outstanding, profile.locale)
        self.owes = any(detail.outstanding.values())
        payments = {p.id: p for p in detail.payments}
        per_booking: dict[int, list[BookingPaymentRow]] = {}
        for allocation in detail.allocations:
            p = payments[allocation.payment_id]
            per_booking.setdefault(allocation.booking_id, []).append(
                BookingPaymentRow(
                    date=when(p.created_at, profile),
                    amount=format_money(allocation.amount, p.currency, profile.locale),
                    method=payment_method_label(p),
                    status=payment_display_status(p, detail.refunded.get(p.id, 0), now),
                )
            )
        self.bookings = [
            BookingRow(
                **booking_fields(line.booking, profile),
                participants=line.booking.participants,
                total=format_money(
                    line.booking.total_amount, line.booking.currency, profile.locale
                ),
                paid=format_money(line.money.net_paid, line.booking.currency, profile.locale),
                balance=format_money(line.money.balance, line.booking.currency, profile.locale),
                status=line.status,
                payments=per_booking.get(line.booking.id, []),
                overpaid=(
                    format_money(
                        line.money.net_paid - line.booking.total_amount,
                        line.booking.currency,
                        profile.locale,
                    )
                    if line.status == BookingStatus.OVERPAID
                    else ""
                ),
            )
            for line in detail.bookings
        ]
        self.cards = [
            CardRow(
                id=saved.id,
                brand=brand_name(saved.brand),
                last4=saved.last4,
                expiry=f"{saved.exp_month:02d}/{saved.exp_year % 100:02d}",
                is_default=saved.is_default,
                expired=is_expired(saved, now),
                declined=card_decline_words(saved, profile),
            )
            for saved in detail.cards
        ]
        dead_default = next((c for c in self.cards if c.is_default and c.declined), None)
        self.default_card_warning = (
            f"The default card ({dead_default.brand} •••• {dead_default.last4}) was "
            f"{dead_default.declined[0].lower()}{dead_default.declined[1:]}. Charge another "
            "card or send a payment link."
            if dead_default
            else ""
        )
        self.transactions = [
            TransactionRow(
                id=p.id,
                date=when(p.created_at, profile),
                amount=format_money(p.amount, p.currency, profile.locale),
                refunded=(
                    format_money(detail.refunded[p.id], p.currency, profile.locale)
                    if detail.refunded.get(p.id)
                    else ""
                ),
                method=payment_method_label(p),
                status=payment_display_status(p, detail.refunded.get(p.id, 0), now),
                reason=merchant_reason(p),
                bookings=", ".join(detail.payment_bookings.get(p.id, [])),
                intent=p.stripe_payment_intent_id or "",
                checkable=p.status in CHECKABLE and not is_abandoned(p, now),
                abandoned=is_abandoned(p, now),
            )
            for p in detail.payments
        ]

    async def _credentials(self):
        return await database().run(active_credentials)

    @rx.event
    @signed_in
    async def check_payment(self, payment_id: int):
        """Ask Stripe again about a payment whose outcome is not known yet."""
        credentials = await self._credentials()
        if not await self._owns_payment(payment_id) or credentials is None:
            return rx.toast.error("That payment can't be checked from here.")
        try:
            payment = await reconcile.settle_payment(database(), credentials, payment_id)
        except ChargeError as exc:
            return rx.toast.error(exc.message)
        await self._reload()
        if payment.status == PaymentStatus.UNKNOWN:
            return rx.toast.info("Stripe has no answer for this payment yet. Check again later.")
        return rx.toast.success(f"Payment is {payment.status.value.replace('_', ' ')}.")

    async def _owns_payment(self, payment_id: int) -> bool:
        customer_id = self._customer_id

        def owned(session: Session) -> bool:
            payment = session.get(Payment, payment_id)
            return payment is not None and payment.customer_id == customer_id

        return customer_id is not None and await database().run(owned)

    async def _customer_at_stripe(self, action, **ids):
        """`action(database, credentials, customer_id=, user_id=, **ids)` for this customer,
        then a refresh; a refusal (no Stripe connection included) raises ChargeError."""
        credentials = await self._credentials()
        if credentials is None or self._customer_id is None:
            raise ChargeError("Connect Stripe in Settings first.")
        result = await action(
            database(), credentials, customer_id=self._customer_id, user_id=self._user_id, **ids
        )
        await self._reload()
        return result

    @rx.event
    @signed_in
    async def release_payment(self, payment_id: int):
        """Release an abandoned attempt now: cancel it at Stripe and free its hold."""
        try:
            payment = await self._customer_at_stripe(charges.release_payment, payment_id=payment_id)
        except ChargeError as exc:
            return rx.toast.error(exc.message)
        if payment.status == PaymentStatus.SUCCEEDED:
            return rx.toast.success("The customer finished paying after all: it is recorded.")
        if payment.status == PaymentStatus.CANCELED:
            return rx.toast.success("Released. The amount can be charged again.")
        return rx.toast.info("Stripe has not answered yet; the hold is released meanwhile.")

    @rx.event
    @signed_in
    async def refund_overpayment(self, booking_id: int):
        try:
            refund = await self._customer_at_stripe(
                refunds.refund_overpayment, booking_id=booking_id
            )
        except ChargeError as exc:
            return rx.toast.error(exc.message)
        shown = format_money(refund.amount, refund.currency, (await current_profile_async()).locale)
        if refund.status.value == "succeeded":
            return rx.toast.success(f"Refunded {shown} to the customer's card.")
        if refund.status.value == "failed":
            return rx.toast.error(refund.failure_message or "Stripe could not make the refund.")
        return rx.toast.info(f"Refund of {shown} sent to Stripe; waiting for its answer.")

    async def _link_action(self, link_id: int, action):
        """Run `action(session, user_id, link_id)` in one transaction, then refresh."""
        if self._customer_id is None:
            return rx.toast.error("That payment link can't be changed from here.")
        user_id = self._user_id
        try:
            result = await database().run(lambda s: action(s, user_id, link_id))
        except ChargeError as exc:
            return rx.toast.error(exc.message)
        await self._reload()
        return result

    @rx.event
    @signed_in
    async def resend_link(self, link_id: int):
        customer_id, email = self._customer_id, self.customer.email

        def resend(session, user_id, link_id):
            links.resend_link(session, link_id=link_id, customer_id=customer_id, user_id=user_id)
            return rx.toast.success(f"Payment link sent again to {email}.")

        return await self._link_action(link_id, resend)

    @rx.event
    @signed_in
    async def revoke_link(self, link_id: int):
        if self._customer_id is None:
            return rx.toast.error("That payment link can't be changed from here.")
        try:
            await links.revoke(
                database(),
                await self._credentials(),
                link_id=link_id,
                customer_id=self._customer_id,
                user_id=self._user_id,
            )
        except ChargeError as exc:
            return rx.toast.error(exc.message)
        await self._reload()
        return rx.toast.success("Payment link revoked. It can no longer be paid.")

    @rx.event
    @signed_in
    async def copy_link(self, link_id: int):
        """A fresh URL for the link (only hashes are stored), shown and copied."""
        customer_id = self._customer_id

        def copy(session, user_id, link_id):
            return links.copy_url(session, link_id=link_id, customer_id=customer_id)

        url = await self._link_action(link_id, copy)
        if not isinstance(url, str):
            return url  # the refusal's toast
        self.copied_url = url
        return rx.set_clipboard(url)

    @rx.event
    @signed_in
    async def close_copied(self):
        self.copied_url = ""
