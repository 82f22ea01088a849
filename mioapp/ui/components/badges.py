"""Status badges: one map per domain (bookings, payments, refunds, links, emails,
customers), each status with a fixed label and colour wherever it appears."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum

import reflex as rx

from mioapp.billing.ledger import BookingStatus
from mioapp.models import EmailStatus, PaymentLinkStatus, RefundStatus
from mioapp.ui.status import CustomerBalance, PaymentDisplayStatus

Badges = dict[StrEnum, tuple[str, str]]


def _said(status: StrEnum) -> str:
    """PARTIALLY_REFUNDED -> "Partially refunded"."""
    return status.name.replace("_", " ").capitalize()


def _badges(label: Callable[[StrEnum], str] = _said, /, **colours: Iterable[StrEnum]) -> Badges:
    """One domain's map, written colour by colour: status -> (label, colour)."""
    return {
        status: (label(status), colour) for colour, group in colours.items() for status in group
    }


B, P, L, E = BookingStatus, PaymentDisplayStatus, PaymentLinkStatus, EmailStatus
# A booking's status values are already the words shown ("Charged in Full").
BOOKING = _badges(
    str,
    green=[B.CHARGED_IN_FULL],
    amber=[B.PARTIALLY_PAID],
    gray=[B.UNPAID],
    orange=[B.OVERPAID],
    blue=[B.PARTIALLY_REFUNDED, B.REFUNDED],
)
PAYMENT = _badges(
    green=[P.SUCCEEDED],
    blue=[P.PARTIALLY_REFUNDED, P.REFUNDED],
    gray=[P.PENDING, P.UNKNOWN, P.CANCELED],
    orange=[P.ABANDONED],
    amber=[P.PROCESSING],
    violet=[P.REQUIRES_ACTION],
    red=[P.FAILED],
)
# A refund's row stands among payments, so each says it is one.
REFUND = _badges(
    {
        RefundStatus.PENDING: "Refund pending",
        RefundStatus.SUCCEEDED: "Refunded",
        RefundStatus.FAILED: "Refund failed",
    }.__getitem__,
    gray=[RefundStatus.PENDING],
    blue=[RefundStatus.SUCCEEDED],
    red=[RefundStatus.FAILED],
)
LINK = _badges(blue=[L.SENT], amber=[L.OPENED], green=[L.PAID], gray=[L.EXPIRED], red=[L.REVOKED])
EMAIL = _badges(amber=[E.QUEUED], green=[E.SENT], red=[E.FAILED], orange=[E.UNCONFIRMED])
del B, P, L, E


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


def _status_badge(status: rx.Var, mapping: Badges) -> rx.Component:
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
