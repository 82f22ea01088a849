"""Every database table. Money is always an integer amount in minor units plus an ISO currency."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

import mioapp.db  # noqa: F401  (engine settings apply to every engine)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _enum(enum_class: type[StrEnum]) -> sa.Enum:
    """Stored as its value in a VARCHAR, read back as the enum member."""
    return sa.Enum(
        enum_class,
        native_enum=False,
        length=20,
        values_callable=lambda members: [member.value for member in members],
    )


class PaymentStatus(StrEnum):
    CREATED = "created"
    PROCESSING = "processing"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    UNKNOWN = "unknown"


class PaymentMethodKind(StrEnum):
    CARD_ON_FILE = "card_on_file"
    NEW_CARD = "new_card"
    PAYMENT_LINK = "payment_link"

    @property
    def label(self) -> str:
        """How the dashboard and emails name it: "Card on file", "New card", "Payment link"."""
        return self.value.replace("_", " ").capitalize()


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class PaymentLinkStatus(StrEnum):
    SENT = "sent"
    OPENED = "opened"
    PAID = "paid"
    EXPIRED = "expired"
    REVOKED = "revoked"


class EmailStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    # Given up after the server received the whole message but never confirmed it.
    UNCONFIRMED = "unconfirmed"


class MerchantUser(SQLModel, table=True):
    """A person who signs in to the dashboard."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True}, index=True)
    name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow)


class LoginSession(SQLModel, table=True):
    """A signed-in browser; only the SHA-256 of its random token is stored."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="merchantuser.id", index=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class Customer(SQLModel, table=True):
    # Each order the customers list offers is read off one of these, row after row (keyset
    # paging). Search has its own index beside them, which the migration makes because SQLModel
    # cannot say it: SQLite FTS5 with trigrams, PostgreSQL pg_trgm (see customers.search).
    __table_args__ = (
        sa.Index("ix_customer_name_order", "search_text", "id"),
        sa.Index("ix_customer_outstanding_order", "outstanding_total", "id"),
        sa.Index("ix_customer_activity_order", "last_activity_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    email: str = Field(max_length=254, index=True)
    phone: str = Field(default="", max_length=40)
    stripe_customer_id: str | None = Field(
        default=None, max_length=255, sa_column_kwargs={"unique": True}
    )
    search_text: str = Field(default="", max_length=800)
    # Sort keys of the customers list, derived from the ledger as the transaction that
    # changes it commits (mioapp.customers.summary); pages show amounts from the ledger.
    # What all bookings still owe, in minor units, summed across currencies.
    outstanding_total: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The latest of: customer added, booking made, payment attempted, refund made.
    last_activity_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)


def customer_search_text(name: str, email: str, phone: str) -> str:
    """What customer search matches against: case-folded name, email, phone and its digits."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"{name} {email} {phone} {digits}".casefold()


@sa.event.listens_for(Customer, "before_insert")
@sa.event.listens_for(Customer, "before_update")
def _refresh_search_text(_mapper, _connection, customer: Customer) -> None:
    customer.search_text = customer_search_text(customer.name, customer.email, customer.phone)


@sa.event.listens_for(Customer, "before_insert")
def _first_activity(_mapper, _connection, customer: Customer) -> None:
    customer.last_activity_at = customer.created_at


class Booking(SQLModel, table=True):
    """A reservation for a tour or activity; its payment status is derived by `ledger`."""

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=32, sa_column_kwargs={"unique": True})
    customer_id: int = Field(foreign_key="customer.id", index=True)
    tour_name: str = Field(max_length=200)
    starts_at: datetime
    participants: int = Field(ge=1)
    total_amount: int = Field(ge=0)
    currency: str = Field(max_length=3)
    created_at: datetime = Field(default_factory=utcnow)


class SavedCard(SQLModel, table=True):
    """A card saved at Stripe for off-session charges; we keep only its display details."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    stripe_payment_method_id: str = Field(max_length=255, sa_column_kwargs={"unique": True})
    brand: str = Field(max_length=32)
    last4: str = Field(max_length=4)
    exp_month: int
    exp_year: int
    is_default: bool = False
    # Set when a charge was declined because the card is dead (expired, lost, stolen): the
    # dashboard warns before anyone charges it again.
    declined_code: str | None = Field(default=None, max_length=100)
    declined_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Payment(SQLModel, table=True):
    """One payment attempt; the row is written before Stripe is called."""

    # The Payments page walks these newest first, (time, id) being its keyset order: all
    # payments, or those of one status, method or customer (billing.transactions).
    __table_args__ = (
        sa.Index("ix_payment_created_at_id", "created_at", "id"),
        sa.Index("ix_payment_status_created_at_id", "status", "created_at", "id"),
        sa.Index("ix_payment_method_kind_created_at_id", "method_kind", "created_at", "id"),
        sa.Index("ix_payment_customer_id_created_at_id", "customer_id", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    amount: int = Field(gt=0)
    currency: str = Field(max_length=3)
    method_kind: PaymentMethodKind = Field(sa_type=_enum(PaymentMethodKind))
    status: PaymentStatus = Field(default=PaymentStatus.CREATED, sa_type=_enum(PaymentStatus))
    stripe_payment_intent_id: str | None = Field(
        default=None, max_length=255, sa_column_kwargs={"unique": True}
    )
    idempotency_key: str = Field(max_length=255, sa_column_kwargs={"unique": True})
    # One per opened charge form: a resubmitted form finds its payment instead of a new one.
    request_key: str | None = Field(default=None, max_length=64, sa_column_kwargs={"unique": True})
    description: str = Field(default="", max_length=500)
    card_brand: str | None = Field(default=None, max_length=32)
    card_last4: str | None = Field(default=None, max_length=4)
    failure_code: str | None = Field(default=None, max_length=100)
    failure_message: str | None = Field(default=None, max_length=500)
    created_by_user_id: int | None = Field(default=None, foreign_key="merchantuser.id")
    payment_link_id: int | None = Field(default=None, foreign_key="paymentlink.id")
    # Until then a `created` attempt holds its amount against the balance; after it, the
    # attempt is abandoned: it holds nothing and is canceled at Stripe (see billing.balances).
    hold_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    succeeded_at: datetime | None = None


class PaymentAllocation(SQLModel, table=True):
    """The part of a payment that pays one booking."""

    __table_args__ = (sa.UniqueConstraint("payment_id", "booking_id"),)

    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="payment.id", index=True)
    booking_id: int = Field(foreign_key="booking.id", index=True)
    amount: int = Field(gt=0)


class Refund(SQLModel, table=True):
    """Money returned on a payment, made here or recorded from Stripe."""

    # Read newest first by the Payments page, like payments (billing.transactions).
    __table_args__ = (
        sa.Index("ix_refund_created_at_id", "created_at", "id"),
        sa.Index("ix_refund_status_created_at_id", "status", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="payment.id", index=True)
    amount: int = Field(gt=0)
    currency: str = Field(max_length=3)
    status: RefundStatus = Field(default=RefundStatus.PENDING, sa_type=_enum(RefundStatus))
    stripe_refund_id: str | None = Field(
        default=None, max_length=255, sa_column_kwargs={"unique": True}
    )
    # Set for refunds made here (row first, like payments); None for ones made in Stripe.
    idempotency_key: str | None = Field(
        default=None, max_length=255, sa_column_kwargs={"unique": True}
    )
    reason: str = Field(default="", max_length=100)
    failure_message: str | None = Field(default=None, max_length=500)
    created_by_user_id: int | None = Field(default=None, foreign_key="merchantuser.id")
    created_at: datetime = Field(default_factory=utcnow)


class RefundAllocation(SQLModel, table=True):
    """The part of a refund that comes off one booking."""

    __table_args__ = (sa.UniqueConstraint("refund_id", "booking_id"),)

    id: int | None = Field(default=None, primary_key=True)
    refund_id: int = Field(foreign_key="refund.id", index=True)
    booking_id: int = Field(foreign_key="booking.id", index=True)
    amount: int = Field(gt=0)


class PaymentLink(SQLModel, table=True):
    """A single-use link to the public pay page; only the SHA-256 of its token is stored."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    amount: int = Field(gt=0)
    currency: str = Field(max_length=3)
    status: PaymentLinkStatus = Field(
        default=PaymentLinkStatus.SENT, sa_type=_enum(PaymentLinkStatus)
    )
    message: str = Field(default="", max_length=1000)
    # What the payment is for; it becomes the payment's (and the PaymentIntent's) description.
    description: str = Field(default="", max_length=500)
    expires_at: datetime
    created_by_user_id: int | None = Field(default=None, foreign_key="merchantuser.id")
    created_at: datetime = Field(default_factory=utcnow)
    opened_at: datetime | None = None
    paid_at: datetime | None = None
    revoked_at: datetime | None = None
    last_sent_at: datetime | None = None
    send_count: int = 0


class PaymentLinkToken(SQLModel, table=True):
    """One URL of a payment link (the emailed one, a resent one, a copied one): only the
    SHA-256 of the token is kept, so the URL itself can never be read back."""

    id: int | None = Field(default=None, primary_key=True)
    payment_link_id: int = Field(foreign_key="paymentlink.id", index=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(default_factory=utcnow)


class PayAttemptFailure(SQLModel, table=True):
    """A failed payment attempt on the pay page, for the per-link and per-client limits."""

    id: int | None = Field(default=None, primary_key=True)
    payment_link_id: int = Field(foreign_key="paymentlink.id", index=True)
    client_key: str = Field(max_length=64, index=True)  # SHA-256 of the client address
    created_at: datetime = Field(default_factory=utcnow, index=True)


class PaymentLinkBooking(SQLModel, table=True):
    """A booking a payment link pays, with the amount planned for it."""

    __table_args__ = (sa.UniqueConstraint("payment_link_id", "booking_id"),)

    id: int | None = Field(default=None, primary_key=True)
    payment_link_id: int = Field(foreign_key="paymentlink.id", index=True)
    booking_id: int = Field(foreign_key="booking.id", index=True)
    amount: int = Field(gt=0)


class StripeEvent(SQLModel, table=True):
    """A received webhook event; the unique event id makes redeliveries harmless."""

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=255, sa_column_kwargs={"unique": True})
    type: str = Field(max_length=100)
    object_id: str | None = Field(default=None, max_length=255)
    livemode: bool = False
    received_at: datetime = Field(default_factory=utcnow)
    processed_at: datetime | None = None
    error: str | None = Field(default=None, max_length=1000)


class EmailMessage(SQLModel, table=True):
    """Outbox: written with the change it announces, sent afterwards by the job engine."""

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=255, sa_column_kwargs={"unique": True})
    kind: str = Field(max_length=50)
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    text_body: str = Field(sa_type=sa.Text)
    html_body: str = Field(sa_type=sa.Text)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    status: EmailStatus = Field(default=EmailStatus.QUEUED, sa_type=_enum(EmailStatus), index=True)
    # The value the bodies hold a slot for (a pay URL's token), encrypted with SECRET_KEY;
    # erased once the email is sent or given up on.
    secret_encrypted: str | None = Field(default=None, sa_type=sa.Text)
    attempts: int = 0
    # Attempts whose reply was lost after the server had the whole message.
    unconfirmed_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class AuditEntry(SQLModel, table=True):
    """Who did what, when: sign-ins, Stripe connection changes, charges."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    actor_user_id: int | None = Field(default=None, foreign_key="merchantuser.id")
    action: str = Field(max_length=100)
    subject: str = Field(default="", max_length=200)
    detail: str = Field(default="", max_length=2000)


def add_audit(
    session, *, action: str, subject: str = "", detail: str = "", actor_user_id: int | None = None
) -> None:
    """Write an audit entry with one INSERT and no ORM object: the charge flows write one
    per step, and nothing reads it back in the same transaction."""
    session.execute(
        _AUDIT_INSERT,
        {
            "created_at": utcnow(),
            "actor_user_id": actor_user_id,
            "action": action,
            "subject": subject,
            "detail": detail,
        },
    )


_AUDIT_INSERT = sa.insert(AuditEntry.__table__)


class StripeConnection(SQLModel, table=True):
    """The merchant's Stripe account as connected in Settings; keys encrypted with SECRET_KEY."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(max_length=255)
    account_name: str = Field(default="", max_length=255)
    mode: str = Field(max_length=20)
    api_base: str | None = Field(default=None, max_length=255)
    secret_key_encrypted: str = Field(sa_type=sa.Text)
    publishable_key: str = Field(max_length=255)
    webhook_secret_encrypted: str | None = Field(default=None, sa_type=sa.Text)
    connected_at: datetime = Field(default_factory=utcnow)
    connected_by_user_id: int | None = Field(default=None, foreign_key="merchantuser.id")


class Business(SQLModel, table=True):
    """The business as Settings saved it: how customers reach it, the zone and locale its
    dates and amounts are shown in. One row today; none means the settings' defaults."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    contact_email: str = Field(max_length=254)
    contact_phone: str = Field(default="", max_length=40)
    reply_to: str = Field(default="", max_length=254)
    time_zone: str = Field(max_length=64)
    locale: str = Field(max_length=32)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_user_id: int | None = Field(default=None, foreign_key="merchantuser.id")


# One writer per status: `payments.intents.set_status` for Payment.status and
# `payments.refunds.set_refund_status` for Refund.status open this gate; any other
# assignment (a page, the demo seed, a test shortcut) raises instead of skipping the rules.
_status_gate: ContextVar[bool] = ContextVar("status_gate", default=False)


class StatusWriteError(RuntimeError):
    """A payment or refund status was assigned outside its one writer."""


@contextmanager
def status_writer() -> Iterator[None]:
    """Open the gate for the one function that writes a status (and nothing else)."""
    token = _status_gate.set(True)
    try:
        yield
    finally:
        _status_gate.reset(token)


def _guard_status(initial: StrEnum):
    def guard(target, value, _oldvalue, _initiator):
        # A new row may start at its initial status; every later change goes through the
        # writer, which knows the transitions that are allowed.
        fresh = sa.inspect(target).transient or sa.inspect(target).pending
        if not _status_gate.get() and not (fresh and value == initial):
            raise StatusWriteError(
                f"{type(target).__name__}.status changes only through its writer"
            )
        return value

    return guard


sa.event.listen(Payment.status, "set", _guard_status(PaymentStatus.CREATED), retval=True)
sa.event.listen(Refund.status, "set", _guard_status(RefundStatus.PENDING), retval=True)


# The list's sort keys follow every commit that touches a customer's money (registered here,
# so every process that writes rows has it).
from mioapp.customers import summary as _summary  # noqa: E402, F401
