"""Status badges: one map per domain (bookings, payments, refunds, links, emails,
customers), each status with a fixed label and colour wherever it appears."""

from __future__ import annotations

from enum import StrEnum

import reflex as rx

from mioapp.billing.ledger import BookingStatus
from mioapp.models import EmailStatus, PaymentLinkStatus, RefundStatus
from mioapp.ui.status import CustomerBalance, PaymentDisplayStatus

BOOKING: dict[StrEnum, tuple[str, str]] = {
    BookingStatus.CHARGED_IN_FULL: ("Charged in Full", "green"),
    BookingStatus.PARTIALLY_PAID: ("Partially Paid", "amber"),
    BookingStatus.UNPAID: ("Unpaid", "gray"),
    BookingStatus.OVERPAID: ("Overpaid", "orange"),
    BookingStatus.PARTIALLY_REFUNDED: ("Partially Refunded", "blue"),
    BookingStatus.REFUNDED: ("Refunded", "blue"),
}
PAYMENT: dict[StrEnum, tuple[str, str]] = {
    PaymentDisplayStatus.SUCCEEDED: ("Succeeded", "green"),
    PaymentDisplayStatus.PARTIALLY_REFUNDED: ("Partially refunded", "blue"),
    PaymentDisplayStatus.REFUNDED: ("Refunded", "blue"),
    PaymentDisplayStatus.PENDING: ("Pending", "gray"),
    PaymentDisplayStatus.ABANDONED: ("Abandoned", "orange"),
    PaymentDisplayStatus.PROCESSING: ("Processing", "amber"),
    PaymentDisplayStatus.REQUIRES_ACTION: ("Requires action", "violet"),
    PaymentDisplayStatus.UNKNOWN: ("Unknown", "gray"),
    PaymentDisplayStatus.FAILED: ("Failed", "red"),
    PaymentDisplayStatus.CANCELED: ("Canceled", "gray"),
}
REFUND: dict[StrEnum, tuple[str, str]] = {
    RefundStatus.PENDING: ("Refund pending", "gray"),
    RefundStatus.SUCCEEDED: ("Refunded", "blue"),
    RefundStatus.FAILED: ("Refund failed", "red"),
}
LINK: dict[StrEnum, tuple[str, str]] = {
    PaymentLinkStatus.SENT: ("Sent", "blue"),
    PaymentLinkStatus.OPENED: ("Opened", "amber"),
    PaymentLinkStatus.PAID: ("Paid", "green"),
    PaymentLinkStatus.EXPIRED: ("Expired", "gray"),
    PaymentLinkStatus.REVOKED: ("Revoked", "red"),
}
EMAIL: dict[StrEnum, tuple[str, str]] = {
    EmailStatus.QUEUED: ("Queued", "amber"),
    EmailStatus.SENT: ("Sent", "green"),
    EmailStatus.FAILED: ("Failed", "red"),
    EmailStatus.UNCONFIRMED: ("Unconfirmed", "orange"),
}


CUSTOMER: dict[StrEnum, tuple[str, str]] = {
    CustomerBalance.PAID_UP: ("Paid up", "green"),
    CustomerBalance.DUE: ("Balance due", "amber"),
    CustomerBalance.OVERDUE: ("Overdue", "red"),
}


def _badge(label, color: str) -> rx.Component:
    # High contrast: the soft variant's own text falls just under 4.5:1 on some colours.
    return rx.badge(
        label, color_scheme=color, variant="soft", radius="full", size="2", high_contrast=True
    )


def _status_badge(status: rx.Var, mapping: dict[StrEnum, tuple[str, str]]) -> rx.Component:
    cases = [(key.value, _badge(label, color)) for key, (label, color) in mapping.items()]
    return rx.match(status, *cases, _badge(status, "gray"))


def booking_badge(status: rx.Var) -> rx.Component:
    return _status_badge(status, BOOKING)


def payment_badge(status: rx.Var) -> rx.Component:
    return _status_badge(status, PAYMENT)


def refund_badge(status: rx.Var) -> rx.Component:
    return _status_badge(status, REFUND)


def link_badge(status: rx.Var) -> rx.Component:
    return _status_badge(status, LINK)


def email_badge(status: rx.Var) -> rx.Component:
    return _status_badge(status, EMAIL)


def pill(label, color: str = "indigo") -> rx.Component:
    """A small fixed badge (Default, Expired, a decline)."""
    return _badge(label, color)


def saved_card_line(c, *, size: str = "2") -> rx.Component:
    """`Visa •••• 4242`, its expiry, and Default / Expired / declined badges."""
    return rx.hstack(
        rx.text(c.brand + " •••• " + c.last4, weight="medium", size=size),
        rx.text("Expires " + c.expiry, size="1", color=rx.color("gray", 11)),
        rx.cond(c.is_default, pill("Default")),
        rx.cond(c.expired, pill("Expired", "red")),
        rx.cond(c.declined != "", pill(c.declined, "red")),
        spacing="2",
        align="center",
        wrap="wrap",
    )


def customer_badge(status: rx.Var) -> rx.Component:
    return _status_badge(status, CUSTOMER)


def overdue_badge() -> rx.Component:
    """Beside a booking whose activity date has passed with money still owed."""
    return _badge("Overdue", "red")
