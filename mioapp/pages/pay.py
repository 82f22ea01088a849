"""The public pay page `/pay/<token>` and its receipt page: no sign-in, built for phones."""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from mioapp.components.forms import checkbox_field, notice
from mioapp.components.stripe_card import stripe_card_field
from mioapp.models import PaymentStatus
from mioapp.money import format_money
from mioapp.notifications.payments import receipt_number
from mioapp.pages.customer_state import when
from mioapp.payments import links
from mioapp.payments.charges import ChargeError
from mioapp.payments.connection import active_credentials
from mioapp.payments.gateway import GatewayError
from mioapp.settings import get_settings

BRANDS = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express"}


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
            brand = BRANDS.get(p.card_brand or "", (p.card_brand or "Card").capitalize())
            self.receipt = {
                "number": receipt_number(p),
                "amount": format_money(p.amount, p.currency),
                "date": when(p.succeeded_at or p.updated_at),
                "card": f"{brand} •••• {p.card_last4}" if p.card_last4 else "",
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
                return rx.redirect(f"/pay/{self._token()}/success", replace=True)
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
                return rx.redirect(f"/pay/{self._token()}", replace=True)
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
                    yield rx.redirect(f"/pay/{self._token()}/success")
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
                yield rx.redirect(f"/pay/{self._token()}/success")
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


# ---------------------------------------------------------------------------------------
# Components


def _frame(*children: rx.Component) -> rx.Component:
    """A single column on a calm background: the merchant on top, one card below."""
    return rx.box(
        rx.vstack(
            rx.hstack(
                rx.center(
                    rx.icon("waves", size=18, color="white"),
                    width="32px",
                    height="32px",
                    border_radius="8px",
                    background=rx.color("indigo", 9),
                ),
                rx.heading(PayState.business_name, size="4"),
                spacing="2",
                align="center",
            ),
            *children,
            rx.hstack(
                rx.icon("lock", size=12),
                rx.text("Payments are processed securely by Stripe.", size="1"),
                color=rx.color("gray", 10),
                spacing="1",
                align="center",
            ),
            spacing="5",
            align="center",
            width="100%",
            max_width="480px",
            margin="0 auto",
            padding="32px 16px",
        ),
        background=rx.color("gray", 2),
        min_height="100vh",
    )


def _panel(*children: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(*children, spacing="4", width="100%"),
        size="3",
        width="100%",
    )


def _bookings() -> rx.Component:
    def line(b: rx.Var[dict[str, str]]) -> rx.Component:
        return rx.hstack(
            rx.vstack(
                rx.text(b["tour"], weight="medium", size="2"),
                rx.text(
                    b["date"] + " · " + b["participants"] + " guests",
                    size="1",
                    color=rx.color("gray", 10),
                ),
                spacing="0",
            ),
            rx.spacer(),
            rx.text(b["amount"], size="2", font_variant_numeric="tabular-nums"),
            width="100%",
            align="center",
            padding_y="8px",
            border_bottom=f"1px solid {rx.color('gray', 4)}",
        )

    return rx.vstack(
        rx.foreach(PayState.lines, line),
        spacing="0",
        width="100%",
        role="list",
        aria_label="Bookings",
    )


def _invalid() -> rx.Component:
    return _panel(
        rx.center(rx.icon("link-2-off", size=32, color=rx.color("gray", 9)), width="100%"),
        rx.heading("This payment link is no longer valid", size="5", text_align="center"),
        rx.text(
            "Please contact " + PayState.business_name + " for a new link.",
            color=rx.color("gray", 11),
            text_align="center",
        ),
    )


def _pay_form() -> rx.Component:
    return _panel(
        rx.vstack(
            rx.text("Payment for " + PayState.customer_name, size="2", color=rx.color("gray", 11)),
            rx.heading(PayState.amount, size="8", aria_label="Amount due"),
            spacing="1",
            width="100%",
        ),
        _bookings(),
        rx.cond(
            PayState.settled,
            notice(
                "These bookings are already paid. Nothing more is due.",
                "circle-check",
                "green",
                role="status",
            ),
            rx.vstack(
                rx.text("Card", size="2", weight="medium"),
                stripe_card_field(
                    publishable_key=PayState.publishable_key,
                    client_secret=PayState.client_secret,
                    on_change=PayState.card_changed,
                    on_result=PayState.card_confirmed,
                ),
                rx.cond(
                    PayState.card_message != "",
                    rx.text(PayState.card_message, size="1", color=rx.color("red", 11)),
                ),
                checkbox_field(
                    "Save this card for future charges",
                    PayState.save_card,
                    PayState.set_save_card,
                    hint="I allow "
                    + PayState.business_name
                    + " to keep this card with Stripe and charge it for my future bookings.",
                    disabled=PayState.in_flight,
                ),
                rx.cond(
                    PayState.error != "",
                    notice(PayState.error, "circle-alert", "red"),
                ),
                rx.button(
                    "Pay " + PayState.amount,
                    size="4",
                    width="100%",
                    loading=PayState.in_flight,
                    disabled=~PayState.card_complete | PayState.in_flight,
                    on_click=PayState.pay,
                ),
                spacing="3",
                width="100%",
            ),
        ),
    )


def pay_page() -> rx.Component:
    return _frame(
        rx.cond(
            PayState.loaded,
            rx.cond(PayState.valid, _pay_form(), _invalid()),
            rx.spinner(size="3"),
        )
    )


def _receipt() -> rx.Component:
    r = PayState.receipt
    return _panel(
        rx.center(rx.icon("circle-check", size=40, color=rx.color("green", 9)), width="100%"),
        rx.heading("Payment received", size="6", text_align="center", width="100%"),
        rx.text(
            "Thank you, "
            + PayState.customer_name
            + ". A receipt is on its way to "
            + PayState.customer_email
            + ".",
            text_align="center",
            color=rx.color("gray", 11),
        ),
        rx.data_list.root(
            rx.data_list.item(rx.data_list.label("Amount paid"), rx.data_list.value(r["amount"])),
            rx.data_list.item(
                rx.data_list.label("Receipt number"), rx.data_list.value(r["number"])
            ),
            rx.data_list.item(rx.data_list.label("Date"), rx.data_list.value(r["date"])),
            rx.cond(
                r["card"] != "",
                rx.data_list.item(rx.data_list.label("Card"), rx.data_list.value(r["card"])),
            ),
        ),
        _bookings(),
    )


def receipt_page() -> rx.Component:
    return _frame(
        rx.cond(
            PayState.loaded,
            rx.cond(PayState.valid, _receipt(), _invalid()),
            rx.spinner(size="3"),
        )
    )
