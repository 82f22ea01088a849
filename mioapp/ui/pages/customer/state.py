"""What the customer page shows: contact details, bookings, cards, transactions."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import reflex as rx
from sqlmodel import Session, col, select

from mioapp.billing.balances import format_totals
from mioapp.billing.money import format_money
from mioapp.customers import detail as customers
from mioapp.formatting import brand_name, card_label, when
from mioapp.models import Payment, PaymentStatus, utcnow
from mioapp.payments import charges, links
from mioapp.payments.connection import active_credentials, connection_info
from mioapp.ui.merchant_state import MerchantState

# Payments whose outcome Stripe may still change, so the merchant can ask it again.
CHECKABLE = (PaymentStatus.UNKNOWN, PaymentStatus.PROCESSING, PaymentStatus.CREATED)
# Left alone this long first: younger attempts are probably still being made.
SETTLE_AFTER = timedelta(seconds=30)
SETTLE_AT_MOST = 5
# The open customer page follows payments made elsewhere (pay page, webhooks) this often,
# for this long after the last visit.
WATCH_INTERVAL = 3.0
WATCH_ROUNDS = 200


def payment_method_label(payment: Payment) -> str:
    if payment.card_last4:
        return card_label(payment.card_brand, payment.card_last4)
    return payment.method_kind.label


def payment_status_label(payment: Payment, refunded: int) -> str:
    """The payment's status as listed: a refund shows over a success."""
    if payment.status == PaymentStatus.SUCCEEDED and refunded:
        return "refunded" if refunded >= payment.amount else "partially_refunded"
    return payment.status.value


class CustomerState(MerchantState):
    """Filled by `load_customer` from the route's id; the id is then kept server-side."""

    found: bool = False
    loaded: bool = False
    customer: dict[str, str] = {}
    outstanding: str = ""
    bookings: list[dict[str, str]] = []
    booking_payments: dict[str, list[dict[str, str]]] = {}
    cards: list[dict[str, str]] = []
    transactions: list[dict[str, str]] = []
    payment_links: list[dict[str, str]] = []
    copied_url: str = ""
    stripe_connected: bool = False
    _customer_id: int | None = None
    _watch_generation: int = 0

    def _route_customer_id(self) -> int | None:
        raw = str(self.router.page.params.get("customer_id", ""))
        return int(raw) if raw.isdigit() and len(raw) < 10 else None

    @rx.event
    def load_customer(self):
        if self._merchant_id() is None:
            return self._to_sign_in()
        self._customer_id = self._route_customer_id()
        with rx.session() as session:
            self._reload(session)
        events = [CustomerState.watch_customer]
        if any(t["checkable"] for t in self.transactions):
            events.append(CustomerState.settle_pending)
        return events

    @rx.event(background=True)
    async def watch_customer(self):
        """Refresh the page when a payment changes it from elsewhere (the customer paying a
        link, a webhook, a refund), so the merchant never has to reload. One watcher per
        tab: a newer page load or leaving the page ends it."""
        async with self:
            self._watch_generation += 1
            generation, customer_id = self._watch_generation, self._customer_id
        if customer_id is None:
            return
        with rx.session() as session:
            seen = customers.change_marker(session, customer_id)
        for _ in range(WATCH_ROUNDS):
            await asyncio.sleep(WATCH_INTERVAL)
            with rx.session() as session:
                current = customers.change_marker(session, customer_id)
            async with self:
                here = self.router.page.path.startswith("/customers/")
                if self._watch_generation != generation or not here:
                    return
                if current != seen:
                    with rx.session() as session:
                        self._reload(session)
            seen = current

    @rx.event(background=True)
    async def settle_pending(self):
        """Ask Stripe about this customer's unsettled payments (an unanswered charge, a
        processing one) without holding up the page, then show what changed."""
        async with self:
            if self._merchant_id() is None:
                return
            customer_id = self._customer_id
        changed = False
        with rx.session() as session:
            credentials = active_credentials(session)
            pending = session.exec(
                select(Payment)
                .where(Payment.customer_id == customer_id)
                .where(col(Payment.status).in_(CHECKABLE))
                .where(col(Payment.created_at) < utcnow() - SETTLE_AFTER)
                .order_by(col(Payment.created_at).desc())
                .limit(SETTLE_AT_MOST)
            ).all()
            for payment in pending if credentials else []:
                before = payment.status
                try:
                    after = charges.refresh_payment(session, credentials, payment).status
                except charges.ChargeError:
                    continue
                changed = changed or after != before
        if changed:
            async with self:
                with rx.session() as session:
                    self._reload(session)

    def _reload(self, session: Session) -> None:
        """Read everything the page shows again (after a charge, a check, a page load)."""
        customer_id = self._customer_id
        detail = customers.customer_detail(session, customer_id) if customer_id else None
        self.stripe_connected = connection_info(session).connected
        self.loaded = True
        self.found = detail is not None
        if detail is None:
            self.customer, self.bookings, self.cards, self.transactions = {}, [], [], []
            self.booking_payments, self.payment_links = {}, []
            return
        self._show(detail)
        self.payment_links = [
            {
                "id": str(row.link.id),
                "created": when(row.link.created_at),
                "amount": format_money(row.link.amount, row.link.currency),
                "bookings": ", ".join(row.references),
                "status": row.status.value.capitalize(),
                "expires": when(row.link.expires_at),
                "sends": str(row.link.send_count),
                "active": "yes" if row.status.value in ("sent", "opened") else "",
                "email": row.email.status.value if row.email else "",
                "email_error": (row.email.last_error or "") if row.email else "",
            }
            for row in links.customer_links(session, customer_id)
        ]

    def _show(self, detail: customers.CustomerDetail) -> None:
        c = detail.customer
        self.customer = {
            "id": str(c.id),
            "name": c.name,
            "email": c.email,
            "phone": c.phone,
            "initials": "".join(part[:1] for part in c.name.split()[:2]).upper(),
            "since": c.created_at.strftime("%B %Y"),
            "stripe_id": c.stripe_customer_id or "",
        }
        self.outstanding = format_totals(detail.outstanding)
        payments = {p.id: p for p in detail.payments}
        per_booking: dict[str, list[dict[str, str]]] = {}
        for allocation in detail.allocations:
            p = payments[allocation.payment_id]
            per_booking.setdefault(str(allocation.booking_id), []).append(
                {
                    "date": when(p.created_at),
                    "amount": format_money(allocation.amount, p.currency),
                    "method": payment_method_label(p),
                    "status": payment_status_label(p, detail.refunded.get(p.id, 0)),
                }
            )
        self.booking_payments = per_booking
        self.bookings = [
            {
                "id": str(line.booking.id),
                "reference": line.booking.reference,
                "tour": line.booking.tour_name,
                "date": when(line.booking.starts_at),
                "participants": str(line.booking.participants),
                "total": format_money(line.booking.total_amount, line.booking.currency),
                "paid": format_money(line.money.net_paid, line.booking.currency),
                "balance": format_money(line.money.balance, line.booking.currency),
                "status": line.status.value,
                "payment_count": str(len(per_booking.get(str(line.booking.id), []))),
            }
            for line in detail.bookings
        ]
        now = utcnow()
        self.cards = [
            {
                "id": str(saved.id),
                "brand": brand_name(saved.brand),
                "last4": saved.last4,
                "expiry": f"{saved.exp_month:02d}/{saved.exp_year % 100:02d}",
                "default": "yes" if saved.is_default else "",
                "expired": "yes" if customers.card_is_expired(saved, now) else "",
            }
            for saved in detail.cards
        ]
        self.transactions = [
            {
                "id": str(p.id),
                "date": when(p.created_at),
                "amount": format_money(p.amount, p.currency),
                "refunded": (
                    format_money(detail.refunded[p.id], p.currency)
                    if detail.refunded.get(p.id)
                    else ""
                ),
                "method": payment_method_label(p),
                "status": payment_status_label(p, detail.refunded.get(p.id, 0)),
                "reason": p.failure_message or "",
                "bookings": ", ".join(detail.payment_bookings.get(p.id, [])),
                "intent": p.stripe_payment_intent_id or "",
                "checkable": "yes" if p.status in CHECKABLE else "",
            }
            for p in detail.payments
        ]

    @rx.event
    def check_payment(self, payment_id: str):
        """Ask Stripe again about a payment whose outcome is not known yet."""
        if self._merchant_id() is None:
            return self._to_sign_in()
        with rx.session() as session:
            payment = session.get(Payment, int(payment_id)) if payment_id.isdigit() else None
            credentials = active_credentials(session)
            if payment is None or payment.customer_id != self._customer_id or credentials is None:
                return rx.toast.error("That payment can't be checked from here.")
            try:
                payment = charges.refresh_payment(session, credentials, payment)
            except charges.ChargeError as exc:
                return rx.toast.error(exc.message)
            status = payment.status
            self._reload(session)
        if status == PaymentStatus.UNKNOWN:
            return rx.toast.info("Stripe has no answer for this payment yet. Check again later.")
        return rx.toast.success(f"Payment is {status.value.replace('_', ' ')}.")

    def _link_action(self, link_id: str, action):
        """Run `action(session, user_id, link_id)` for the signed-in merchant, then refresh."""
        with rx.session() as session:
            user = self._signed_in(session)
            if user is None:
                return self._to_sign_in()
            if not link_id.isdigit() or self._customer_id is None:
                return rx.toast.error("That payment link can't be changed from here.")
            try:
                result = action(session, user.id, int(link_id))
            except charges.ChargeError as exc:
                return rx.toast.error(exc.message)
            self._reload(session)
        return result

    @rx.event
    def resend_link(self, link_id: str):
        def resend(session, user_id, link_id):
            links.resend_link(
                session, link_id=link_id, customer_id=self._customer_id, user_id=user_id
            )
            return rx.toast.success(f"Payment link sent again to {self.customer['email']}.")

        return self._link_action(link_id, resend)

    @rx.event
    def revoke_link(self, link_id: str):
        def revoke(session, user_id, link_id):
            links.revoke_link(
                session,
                active_credentials(session),
                link_id=link_id,
                customer_id=self._customer_id,
                user_id=user_id,
            )
            return rx.toast.success("Payment link revoked. It can no longer be paid.")

        return self._link_action(link_id, revoke)

    @rx.event
    def copy_link(self, link_id: str):
        """A fresh URL for the link (only hashes are stored), shown and copied."""

        def copy(session, user_id, link_id):
            self.copied_url = links.copy_url(
                session, link_id=link_id, customer_id=self._customer_id
            )
            return rx.set_clipboard(self.copied_url)

        return self._link_action(link_id, copy)

    @rx.event
    def close_copied(self):
        self.copied_url = ""
