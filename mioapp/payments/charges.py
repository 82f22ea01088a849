"""Charging a saved card or a newly typed card: write the attempt row, call Stripe, apply.

Each flow is three steps: a transaction writes the attempt row (its idempotency key and the
hold on the balance) after checking every rule; then Stripe is called with no transaction
open; then a transaction applies the answer through `intents`. The steps that touch the
database only flush; `Database.run` gives each one its transaction.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mioapp.billing.balances import holding, plan_charge
from mioapp.billing.errors import ChargeError
from mioapp.billing.money import format_money
from mioapp.db import Database, lock_and_get, lock_row
from mioapp.models import (
    AuditEntry,
    Customer,
    Payment,
    PaymentAllocation,
    PaymentMethodKind,
    PaymentStatus,
    SavedCard,
    add_audit,
    utcnow,
)
from mioapp.payments import gateway, intents
from mioapp.payments.cards import note_decline, usable_card
from mioapp.payments.gateway import GatewayError, StripeCredentials
from mioapp.payments.reconcile import settle_payment

logger = logging.getLogger(__name__)

DUPLICATE_WINDOW = timedelta(minutes=10)
# How long an attempt waiting for the customer's card (new card, pay page) holds its amount.
CARD_HOLD = timedelta(minutes=15)


def new_request_key() -> str:
    """Identifies one opened charge form, so submitting it twice makes one payment."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class ChargeRequest:
    """A charge as a form (or an API client) asks for it; every number is checked again."""

    customer_id: int
    booking_ids: list[int]
    amount: int
    request_key: str
    description: str = ""
    user_id: int | None = None
    # The merchant saw the "same amount in the last ten minutes" warning and went ahead.
    confirm_duplicate: bool = False
    # Booking id -> its part of `amount`, when the merchant chose them (see plan_charge).
    shares: dict[int, int] | None = None
    metadata: dict[str, str] = field(default_factory=dict)


def recent_duplicate(
    session: Session, *, customer_id: int, amount: int, currency: str, now: datetime | None = None
) -> Payment | None:
    """A successful (or still moving) charge of the same amount in the last ten minutes."""
    now = now or utcnow()
    params = {
        "customer_id": customer_id,
        "amount": amount,
        "currency": currency,
        "now": now,
        "since": now - DUPLICATE_WINDOW,
    }
    return session.exec(_recent_duplicate_query(), params=params).first()


# The statements every charge runs, built once (their values are bound parameters).
@lru_cache(maxsize=1)
def _recent_duplicate_query() -> sa.Select:
    return (
        select(Payment)
        .where(Payment.customer_id == sa.bindparam("customer_id"))
        .where(Payment.amount == sa.bindparam("amount"))
        .where(Payment.currency == sa.bindparam("currency"))
        .where(sa.or_(Payment.status == PaymentStatus.SUCCEEDED, holding(sa.bindparam("now"))))
        .where(col(Payment.created_at) >= sa.bindparam("since"))
        .order_by(col(Payment.created_at).desc())
    )


@lru_cache(maxsize=1)
def _by_request_key_query() -> sa.Select:
    return select(Payment).where(Payment.request_key == sa.bindparam("request_key"))


def _attempt_key() -> str:
    # Random, so a key is unique to its row even if a restored or second database hands out
    # the same payment id again: Stripe would answer a repeated key with the old charge (or
    # refuse it), never make the new one. Written with the row (no second statement); the
    # intent's metadata carries the payment id.
    return f"mio-payment-{secrets.token_hex(12)}"


def open_payment(
    session: Session,
    request: ChargeRequest,
    *,
    method_kind: PaymentMethodKind,
    card: SavedCard | None = None,
    payment_link_id: int | None = None,
    hold_until: datetime | None = None,
    check_duplicate: bool = True,
    locked_customer: Customer | None = None,
) -> tuple[Payment, bool]:
    """Write the attempt row and its allocations before Stripe hears of it.

    Runs under the customer's row lock so two tabs cannot both spend one balance. Returns
    `(payment, False)` when this form was already submitted: the caller shows that payment
    instead of charging again. Raises ChargeError for every refusal. `locked_customer`: the
    customer's row, already locked in this transaction by the caller (`lock_and_get`).
    """
    if locked_customer is None or locked_customer.id != request.customer_id:
        lock_row(session, Customer, request.customer_id)
    existing = session.exec(
        _by_request_key_query(), params={"request_key": request.request_key}
    ).first()
    if existing is not None:
        return existing, False
    plan = plan_charge(
        session,
        customer_id=request.customer_id,
        booking_ids=request.booking_ids,
        amount=request.amount,
        shares=request.shares,
    )
    if (
        check_duplicate
        and not request.confirm_duplicate
        and recent_duplicate(
            session, customer_id=request.customer_id, amount=plan.amount, currency=plan.currency
        )
    ):
        raise ChargeError(
            "A charge of this amount was made in the last 10 minutes. Confirm below to "
            "charge again.",
            field="duplicate",
        )
    payment = Payment(
        customer_id=request.customer_id,
        amount=plan.amount,
        currency=plan.currency,
        method_kind=method_kind,
        request_key=request.request_key,
        idempotency_key=_attempt_key(),
        description=request.description.strip()[:500],
        card_brand=card.brand if card else None,
        card_last4=card.last4 if card else None,
        created_by_user_id=request.user_id,
        payment_link_id=payment_link_id,
        hold_until=hold_until,
    )
    session.add(payment)
    session.flush()
    # Plain INSERTs (the rows are not read back here): the allocations in one statement.
    session.execute(
        _ALLOCATION_INSERT,
        [
            {"payment_id": payment.id, "booking_id": booking_id, "amount": share}
            for booking_id, share in plan.allocations
        ],
    )
    add_audit(
        session,
        actor_user_id=request.user_id,
        action="payment.started",
        subject=f"payment {payment.id}",
        detail=f"{method_kind.value} {format_money(plan.amount, plan.currency)}",
    )
    return payment, True


_ALLOCATION_INSERT = sa.insert(PaymentAllocation.__table__)


async def ensure_stripe_customer(
    db: Database, credentials: StripeCredentials, customer_id: int
) -> str:
    """The customer's Stripe id, creating the Stripe customer the first time."""
    customer = await db.run(lambda s: s.get(Customer, customer_id))
    if customer.stripe_customer_id:
        return customer.stripe_customer_id
    stripe_id = await gateway.create_customer(
        credentials,
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
        local_id=customer.id,
    )

    def store(session: Session) -> str:
        row = session.get(Customer, customer_id)
        row.stripe_customer_id = row.stripe_customer_id or stripe_id
        return row.stripe_customer_id

    return await db.run(store)


def _intent_fields(payment: Payment, request: ChargeRequest, stripe_customer_id: str) -> dict:
    """What every PaymentIntent of an attempt says: the row's amount and key, never the
    browser's; metadata pointing back at the row."""
    return {
        "amount": payment.amount,
        "currency": payment.currency,
        "stripe_customer_id": stripe_customer_id,
        "description": payment.description,
        "metadata": {**request.metadata, **intents.metadata(payment)},
        "idempotency_key": payment.idempotency_key,
    }


async def _apply(db: Database, payment_id: int, intent: gateway.IntentSnapshot) -> Payment:
    def apply(session: Session) -> Payment:
        return intents.apply_payment_intent(session, intent) or session.get(Payment, payment_id)

    return await db.run(apply)


async def _record_error(db: Database, payment_id: int, error: GatewayError) -> Payment:
    return await db.run(lambda s: intents.record_gateway_error(s, payment_id, error))


async def charge_card_on_file(
    db: Database, credentials: StripeCredentials, request: ChargeRequest, *, saved_card_id: int
) -> Payment:
    """Charge a saved card off-session. Declines and authentication demands come back as
    the payment's status; only a refused request raises ChargeError."""

    def open_(session: Session):
        # Locked and read in one statement; its Stripe id is what the charge needs.
        customer = lock_and_get(session, Customer, request.customer_id)
        card = usable_card(session, customer_id=request.customer_id, saved_card_id=saved_card_id)
        payment, created = open_payment(
            session,
            request,
            method_kind=PaymentMethodKind.CARD_ON_FILE,
            card=card,
            locked_customer=customer,
        )
        return payment, created, card.stripe_payment_method_id, customer.stripe_customer_id

    payment, created, method_id, stripe_customer_id = await db.run(open_)
    if not created:
        return payment
    try:
        intent = await gateway.charge_saved_card(
            credentials,
            payment_method_id=method_id,
            **_intent_fields(payment, request, stripe_customer_id),
        )
    except GatewayError as exc:
        return await _record_error(db, payment.id, exc)

    def apply(session: Session) -> Payment:
        applied = intents.apply_payment_intent(session, intent) or session.get(Payment, payment.id)
        if applied.status == PaymentStatus.FAILED:
            note_decline(session, saved_card_id=saved_card_id, code=applied.failure_code)
        return applied

    return await db.run(apply)


@dataclass(frozen=True)
class CardIntent:
    payment: Payment
    client_secret: str | None  # None: this attempt is already past waiting for a card


async def start_card_charge(
    db: Database,
    credentials: StripeCredentials,
    request: ChargeRequest,
    *,
    save_card: bool,
    method_kind: PaymentMethodKind = PaymentMethodKind.NEW_CARD,
    payment_link_id: int | None = None,
    check_duplicate: bool = True,
    now: datetime | None = None,
) -> CardIntent:
    """Create the PaymentIntent the browser confirms with the typed card; the amount comes
    from the server's plan, never from the page. The attempt holds its amount for
    CARD_HOLD; a browser that never comes back leaves it abandoned, not stuck."""
    stripe_customer_id = await ensure_stripe_customer(db, credentials, request.customer_id)
    hold_until = (now or utcnow()) + CARD_HOLD

    def open_(session: Session):
        return open_payment(
            session,
            request,
            method_kind=method_kind,
            payment_link_id=payment_link_id,
            hold_until=hold_until,
            check_duplicate=check_duplicate,
        )

    payment, created = await db.run(open_)
    if not created:
        if payment.status != PaymentStatus.CREATED or payment.stripe_payment_intent_id is None:
            return CardIntent(payment, None)
        secret = await gateway.intent_client_secret(credentials, payment.stripe_payment_intent_id)
        return CardIntent(payment, secret)
    try:
        intent, secret = await gateway.create_card_intent(
            credentials, save_card=save_card, **_intent_fields(payment, request, stripe_customer_id)
        )
    except GatewayError as exc:
        return CardIntent(await _record_error(db, payment.id, exc), None)
    return CardIntent(await _apply(db, payment.id, intent), secret)


async def finish_card_charge(
    db: Database,
    credentials: StripeCredentials,
    *,
    payment_id: int,
    customer_id: int | None = None,
    payment_link_id: int | None = None,
) -> Payment:
    """After the browser's confirmation: ask Stripe what really happened and apply it. An
    attempt that ended without success is canceled, so its client secret is spent.

    The payment must belong to `customer_id` (dashboard) or `payment_link_id` (pay page).
    """

    def check(session: Session) -> Payment | None:
        payment = session.get(Payment, payment_id)
        if payment is None or not payment.stripe_payment_intent_id:
            return None
        if customer_id is not None and payment.customer_id != customer_id:
            return None
        if payment_link_id is not None and payment.payment_link_id != payment_link_id:
            return None
        return payment

    if await db.run(check) is None:
        raise ChargeError("That payment is not this customer's.")
    return await settle_payment(db, credentials, payment_id, release=True)


async def release_payment(
    db: Database,
    credentials: StripeCredentials,
    *,
    payment_id: int,
    customer_id: int,
    user_id: int | None,
) -> Payment:
    """The merchant's Release on an abandoned attempt: cancel it at Stripe now instead of
    waiting for the sweep. One that succeeded meanwhile is recorded as succeeded."""

    def check(session: Session) -> Payment | None:
        payment = session.get(Payment, payment_id)
        if payment is None or payment.customer_id != customer_id:
            return None
        session.add(
            AuditEntry(
                actor_user_id=user_id, action="payment.release", subject=f"payment {payment_id}"
            )
        )
        return payment

    payment = await db.run(check)
    if payment is None:
        raise ChargeError("That payment is not this customer's.")
    if payment.status not in (PaymentStatus.CREATED, PaymentStatus.UNKNOWN):
        raise ChargeError("Only an attempt that is still open can be released.")
    return await settle_payment(db, credentials, payment_id, release=True)
