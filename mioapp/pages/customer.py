"""One customer: contact details, bookings with derived status, saved cards and transactions."""

from __future__ import annotations

import reflex as rx

from mioapp import customers
from mioapp.components.badges import status_badge
from mioapp.components.shell import card, dashboard, empty_state, section
from mioapp.components.tables import data_table, money_cell
from mioapp.models import utcnow
from mioapp.money import format_money
from mioapp.payments.connection import connection_info
from mioapp.state import MerchantState


def _when(value) -> str:
    return value.strftime("%b %-d, %Y · %-I:%M %p")


class CustomerState(MerchantState):
    """What the customer page shows; filled by `load_customer` from the route's id."""

    found: bool = False
    loaded: bool = False
    customer: dict[str, str] = {}
    outstanding: str = ""
    bookings: list[dict[str, str]] = []
    cards: list[dict[str, str]] = []
    transactions: list[dict[str, str]] = []
    stripe_connected: bool = False

    def _route_customer_id(self) -> int | None:
        raw = str(self.router.page.params.get("customer_id", ""))
        return int(raw) if raw.isdigit() and len(raw) < 10 else None

    @rx.event
    def load_customer(self):
        if self._merchant_id() is None:
            return self._to_sign_in()
        customer_id = self._route_customer_id()
        with rx.session() as session:
            detail = customers.customer_detail(session, customer_id) if customer_id else None
            self.stripe_connected = connection_info(session).connected
        self.loaded = True
        self.found = detail is not None
        if detail is None:
            self.customer, self.bookings, self.cards, self.transactions = {}, [], [], []
            return None
        self._show(detail)
        return None

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
        self.outstanding = customers.format_totals(detail.outstanding)
        self.bookings = [
            {
                "id": str(line.booking.id),
                "reference": line.booking.reference,
                "tour": line.booking.tour_name,
                "date": _when(line.booking.starts_at),
                "participants": str(line.booking.participants),
                "total": format_money(line.booking.total_amount, line.booking.currency),
                "paid": format_money(line.money.net_paid, line.booking.currency),
                "balance": format_money(line.money.balance, line.booking.currency),
                "status": line.status.value,
            }
            for line in detail.bookings
        ]
        now = utcnow()
        self.cards = [
            {
                "id": str(saved.id),
                "brand": saved.brand.capitalize(),
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
                "date": _when(p.created_at),
                "amount": format_money(p.amount, p.currency),
                "method": (
                    f"{(p.card_brand or 'card').capitalize()} •••• {p.card_last4}"
                    if p.card_last4
                    else p.method_kind.replace("_", " ").capitalize()
                ),
                "status": p.status.value,
                "reason": p.failure_message or "",
                "bookings": ", ".join(detail.payment_bookings.get(p.id, [])),
                "intent": p.stripe_payment_intent_id or "",
            }
            for p in detail.payments
        ]


def _header() -> rx.Component:
    c = CustomerState.customer
    charge_button = rx.button(
        rx.icon("credit-card", size=18),
        "Charge Customer",
        size="3",
        disabled=~CustomerState.stripe_connected,
    )
    return card(
        rx.flex(
            rx.hstack(
                rx.avatar(fallback=c["initials"], size="6", radius="full", color_scheme="indigo"),
                rx.vstack(
                    rx.heading(c["name"], size="7"),
                    rx.hstack(
                        rx.hstack(
                            rx.icon("mail", size=14),
                            rx.text(c["email"], size="2"),
                            spacing="1",
                            align="center",
                        ),
                        rx.cond(
                            c["phone"] != "",
                            rx.hstack(
                                rx.icon("phone", size=14),
                                rx.text(c["phone"], size="2"),
                                spacing="1",
                                align="center",
                            ),
                        ),
                        spacing="4",
                        color=rx.color("gray", 11),
                        wrap="wrap",
                    ),
                    rx.text("Customer since " + c["since"], size="1", color=rx.color("gray", 10)),
                    spacing="1",
                ),
                spacing="4",
                align="center",
            ),
            rx.spacer(),
            rx.vstack(
                rx.text("Outstanding", size="1", color=rx.color("gray", 10), weight="medium"),
                rx.heading(CustomerState.outstanding, size="6"),
                charge_button,
                rx.cond(
                    ~CustomerState.stripe_connected,
                    rx.text(
                        "Connect Stripe to charge customers. ",
                        rx.link("Open payment settings", href="/settings/payments"),
                        size="1",
                        color=rx.color("gray", 10),
                        role="note",
                    ),
                ),
                align=rx.breakpoints(initial="start", md="end"),
                spacing="2",
            ),
            direction=rx.breakpoints(initial="column", md="row"),
            gap="4",
            width="100%",
        )
    )


def _bookings() -> rx.Component:
    def row(b: rx.Var[dict[str, str]]) -> rx.Component:
        return rx.table.row(
            rx.table.cell(b["date"], white_space="nowrap"),
            rx.table.row_header_cell(
                rx.vstack(
                    rx.text(b["tour"], weight="medium"),
                    rx.text(b["reference"], size="1", color=rx.color("gray", 10)),
                    spacing="0",
                )
            ),
            rx.table.cell(b["participants"], text_align="right"),
            money_cell(b["total"]),
            money_cell(b["paid"]),
            money_cell(b["balance"]),
            rx.table.cell(status_badge(b["status"])),
            align="center",
        )

    return section(
        "Bookings",
        rx.cond(
            CustomerState.bookings.length() > 0,
            data_table(
                [
                    ("Date", False),
                    ("Tour", False),
                    ("Guests", True),
                    ("Total", True),
                    ("Paid", True),
                    ("Balance", True),
                    ("Status", False),
                ],
                CustomerState.bookings,
                row,
            ),
            empty_state(
                "calendar", "No bookings yet", "Bookings made for this customer appear here."
            ),
        ),
    )


def _cards() -> rx.Component:
    def item(saved: rx.Var[dict[str, str]]) -> rx.Component:
        return rx.hstack(
            rx.center(
                rx.icon("credit-card", size=18),
                width="40px",
                height="28px",
                border_radius="6px",
                background=rx.color("gray", 3),
            ),
            rx.text(saved["brand"] + " •••• " + saved["last4"], weight="medium"),
            rx.text("Expires " + saved["expiry"], size="2", color=rx.color("gray", 10)),
            rx.cond(saved["default"] != "", rx.badge("Default", variant="soft", radius="full")),
            rx.cond(
                saved["expired"] != "",
                rx.badge("Expired", color_scheme="red", variant="soft", radius="full"),
            ),
            spacing="3",
            align="center",
            padding_y="6px",
        )

    return section(
        "Payment methods",
        rx.cond(
            CustomerState.cards.length() > 0,
            rx.vstack(rx.foreach(CustomerState.cards, item), spacing="1", width="100%"),
            empty_state(
                "wallet-cards",
                "No saved cards",
                "A card is saved when the customer agrees to it while paying.",
            ),
        ),
    )


def _transactions() -> rx.Component:
    def row(t: rx.Var[dict[str, str]]) -> rx.Component:
        return rx.table.row(
            rx.table.cell(t["date"], white_space="nowrap"),
            money_cell(t["amount"]),
            rx.table.cell(t["method"]),
            rx.table.cell(
                rx.vstack(
                    status_badge(t["status"]),
                    rx.cond(
                        t["reason"] != "", rx.text(t["reason"], size="1", color=rx.color("red", 11))
                    ),
                    spacing="1",
                )
            ),
            rx.table.cell(t["bookings"]),
            rx.table.cell(rx.code(t["intent"], size="1", variant="ghost")),
            align="center",
        )

    return section(
        "Transactions",
        rx.cond(
            CustomerState.transactions.length() > 0,
            data_table(
                [
                    ("Date", False),
                    ("Amount", True),
                    ("Method", False),
                    ("Status", False),
                    ("Bookings", False),
                    ("Stripe payment", False),
                ],
                CustomerState.transactions,
                row,
            ),
            empty_state(
                "receipt",
                "No transactions yet",
                "Charges made with Charge Customer are listed here.",
            ),
        ),
    )


def _not_found() -> rx.Component:
    return card(
        rx.vstack(
            rx.icon("user-x", size=36, color=rx.color("gray", 9)),
            rx.heading("Customer not found", size="5"),
            rx.text(
                "This customer doesn't exist or the link is incomplete.",
                color=rx.color("gray", 10),
            ),
            rx.link(rx.button("Back to customers", variant="soft"), href="/customers"),
            align="center",
            spacing="3",
            padding="48px",
        )
    )


def customer_page() -> rx.Component:
    return dashboard(
        "Customers",
        rx.link(
            rx.hstack(
                rx.icon("arrow-left", size=14),
                rx.text("Customers", size="2"),
                spacing="1",
                align="center",
            ),
            href="/customers",
            color=rx.color("gray", 11),
        ),
        rx.cond(
            CustomerState.loaded,
            rx.cond(
                CustomerState.found,
                rx.vstack(
                    _header(), _bookings(), _cards(), _transactions(), spacing="5", width="100%"
                ),
                _not_found(),
            ),
            rx.center(rx.spinner(size="3"), padding="64px", width="100%"),
        ),
    )
