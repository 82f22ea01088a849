"""The customer page's rows: typed records the page shows, built from the customer's data."""

from __future__ import annotations

from dataclasses import dataclass, field

from mioapp.billing.ledger import BookingStatus
from mioapp.billing.money import format_money
from mioapp.business import BusinessProfile
from mioapp.formatting import when
from mioapp.models import Booking, PaymentLinkStatus
from mioapp.payments import links
from mioapp.ui.status import EmailDelivery, PaymentDisplayStatus


def booking_fields(booking: Booking, profile: BusinessProfile) -> dict:
    """What every row about a booking names: its id, reference, tour and date."""
    return {
        "id": booking.id,
        "reference": booking.reference,
        "tour": booking.tour_name,
        "date": when(booking.starts_at, profile),
    }


@dataclass
class CustomerHeader:
    id: int = 0
    name: str = ""
    email: str = ""
    phone: str = ""
    initials: str = ""
    since: str = ""


@dataclass
class BookingPaymentRow:
    date: str
    amount: str
    method: str
    status: PaymentDisplayStatus


@dataclass
class BookingRow:
    id: int
    reference: str
    tour: str
    date: str
    participants: int
    total: str
    paid: str
    balance: str
    status: BookingStatus
    payments: list[BookingPaymentRow] = field(default_factory=list)
    # What a refund of the overpayment would give back ("" unless overpaid).
    overpaid: str = ""


@dataclass
class CardRow:
    id: int
    brand: str
    last4: str
    expiry: str
    is_default: bool
    expired: bool
    # Why a charge last found the card dead ("" if it never did).
    declined: str


@dataclass
class TransactionRow:
    id: int
    date: str
    amount: str
    refunded: str
    method: str
    status: PaymentDisplayStatus
    reason: str
    bookings: str
    intent: str
    checkable: bool
    abandoned: bool


@dataclass
class LinkRow:
    id: int
    created: str
    amount: str
    bookings: str
    status: PaymentLinkStatus
    expires: str
    sends: int
    active: bool
    email: EmailDelivery
    email_error: str


def link_row(row: links.LinkRow, profile: BusinessProfile) -> LinkRow:
    email = row.email
    return LinkRow(
        id=row.link.id,
        created=when(row.link.created_at, profile),
        amount=format_money(row.link.amount, row.link.currency, profile.locale),
        bookings=", ".join(row.references),
        status=row.status,
        expires=when(row.link.expires_at, profile),
        sends=row.link.send_count,
        active=row.status.value in ("sent", "opened"),
        email=EmailDelivery(email.status.value) if email else EmailDelivery.NONE,
        email_error=(email.last_error or "") if email else "",
    )
