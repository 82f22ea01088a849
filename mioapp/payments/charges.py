"""Charging a saved card or a newly typed card: write the attempt row, call Stripe, apply.

Every path ends in `apply_payment_intent`, the one function that turns a PaymentIntent into
ledger state; the synchronous answer, the browser's confirmation and the webhook all use it,
and applying the same intent twice changes nothing.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from mioapp.billing.balances import booking_money
from mioapp.billing.ledger import allocate
from mioapp.billing.money import format_money
from mioapp.db import lock_row
from mioapp.models import (
    AuditEntry,
    Booking,
    Customer,
    Payment,
    PaymentAllocation,
    PaymentLink,
    PaymentLinkStatus,
    PaymentMethodKind,
    PaymentStatus,
    Refund,
    RefundAllocation,
    RefundStatus,
    SavedCard,
    utcnow,
)
from mioapp.notifications.receipts import queue_payment_emails
from mioapp.payments import gateway
from mioapp.payments.gateway import (
    GatewayError,
    IntentSnapshot,
    RefundSnapshot,
    StripeCredentials,
)

logger = logging.getLogger(__name__)

METADATA_KEY = "mio_payment_id"
DUPLICATE_WINDOW = timedelta(minutes=10)
# Attempts whose money may still move: their amounts are held against the balance so a
# second charge cannot overtake them.
IN_FLIGHT = (PaymentStatus.CREATED, PaymentStatus.PROCESSING, PaymentStatus.UNKNOWN)
UNKNOWN_MESSAGE = "Stripe did not answer. The payment will be checked again before anything else."


class ChargeError(Exception):
    """A charge that cannot be made as asked; `field` names the form input at fault."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


def new_request_key() -> str:
    """Identifies one opened charge form, so submitting it twice makes one payment."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class ChargeableBooking:
    booking: Booking
    available: int  # balance minus attempts still in flight


def chargeable_bookings(session: Session, customer_id: int) -> list[ChargeableBooking]:
    """The customer's bookings with something left to charge, earliest tour first."""
    bookings = session.exec(
        select(Booking)
        .where(Booking.customer_id == customer_id)
        .order_by(col(Booking.starts_at), col(Booking.id))
    ).all()
    if not bookings:
        return []
    money = booking_money(session, bookings)
    held = dict(
        session.exec(
            select(PaymentAllocation.booking_id, func.sum(PaymentAllocation.amount))
            .join(Payment, col(Payment.id) == PaymentAllocation.payment_id)
            .where(col(PaymentAllocation.booking_id).in_([b.id for b in bookings]))
            .where(col(Payment.status).in_(IN_FLIGHT))
            .group_by(PaymentAllocation.booking_id)
        ).all()
    )
    result = []
    for booking in bookings:
        available = money[booking.id].balance - int(held.get(booking.id, 0))
        if available > 0:
            result.append(ChargeableBooking(booking=booking, available=available))
    return result


@dataclass(frozen=True)
class ChargePlan:
    customer_id: int
    currency: str
    amount: int
    allocations: list[tuple[int, int]]  # (booking_id, amount), earliest tour first


def plan_charge(
    session: Session, *, customer_id: int, booking_ids: list[int], amount: int
) -> ChargePlan:
    """Check a requested charge against the live balances; the browser's numbers are only
    a request."""
    if not booking_ids:
        raise ChargeError("Choose at least one booking to charge.", field="bookings")
    chargeable = {c.booking.id: c for c in chargeable_bookings(session, customer_id)}
    if any(booking_id not in chargeable for booking_id in booking_ids):
        raise ChargeError(
            "A chosen booking has nothing left to charge or is not this customer's. "
            "Reload the page to see the current balances.",
            field="bookings",
        )
    chosen = [c for booking_id, c in chargeable.items() if booking_id in set(booking_ids)]
    currencies = {c.booking.currency for c in chosen}
    if len(currencies) > 1:
        raise ChargeError("Charge bookings in one currency at a time.", field="bookings")
    currency = currencies.pop()
    available = sum(c.available for c in chosen)
    if amount <= 0:
        raise ChargeError("Enter an amount greater than zero.", field="amount")
    if amount > available:
        most = format_money(available, currency)
        raise ChargeError(f"The most you can charge for these bookings is {most}.", field="amount")
    allocations = allocate(amount, [(c.booking.id, c.available) for c in chosen])
    return ChargePlan(customer_id, currency, amount, allocations)


def recent_duplicate(
    session: Session, *, customer_id: int, amount: int, currency: str, now: datetime | None = None
) -> Payment | None:
    """A successful (or still moving) charge of the same amount in the last ten minutes."""
    since = (now or utcnow()) - DUPLICATE_WINDOW
    return session.exec(
        select(Payment)
        .where(Payment.customer_id == customer_id)
        .where(Payment.amount == amount)
        .where(Payment.currency == currency)
        .where(col(Payment.status).in_((PaymentStatus.SUCCEEDED, *IN_FLIGHT)))
        .where(col(Payment.created_at) >= since)
        .order_by(col(Payment.created_at).desc())
    ).first()


def usable_card(session: Session, *, customer_id: int, saved_card_id: int) -> SavedCard:
    card = session.get(SavedCard, saved_card_id)
    if card is None or card.customer_id != customer_id:
        raise ChargeError("Choose one of this customer's saved cards.", field="card")
    now = utcnow()
    if (card.exp_year, card.exp_month) < (now.year, now.month):
        raise ChargeError("That card has expired. Choose another card.", field="card")
    return card


def _metadata(payment: Payment) -> dict[str, str]:
    return {METADATA_KEY: str(payment.id), "mio_customer_id": str(payment.customer_id)}


def open_payment(
    session: Session,
    *,
    customer_id: int,
    booking_ids: list[int],
    amount: int,
    method_kind: PaymentMethodKind,
    description: str,
    user_id: int | None,
    request_key: str,
    card: SavedCard | None = None,
    payment_link_id: int | None = None,
) -> tuple[Payment, bool]:
    """Write the attempt row and its allocations before Stripe hears of it.

    Runs under the customer's row lock so two tabs cannot both spend one balance. Returns
    `(payment, False)` when this form was already submitted: the caller shows that payment
    instead of charging again.
    """
    lock_row(session, Customer, customer_id)
    existing = session.exec(select(Payment).where(Payment.request_key == request_key)).first()
    if existing is not None:
        session.commit()
        return existing, False
    plan = plan_charge(session, customer_id=customer_id, booking_ids=booking_ids, amount=amount)
    payment = Payment(
        customer_id=customer_id,
        amount=plan.amount,
        currency=plan.currency,
        method_kind=method_kind,
        request_key=request_key,
        idempotency_key=f"pending-{request_key}",
        description=description.strip()[:500],
        card_brand=card.brand if card else None,
        card_last4=card.last4 if card else None,
        created_by_user_id=user_id,
        payment_link_id=payment_link_id,
    )
    session.add(payment)
    session.flush()
    # Stripe replays the first answer for a key it has seen: one Payment, one charge.
    payment.idempotency_key = f"mio-payment-{payment.id}"
    for booking_id, share in plan.allocations:
        session.add(PaymentAllocation(payment_id=payment.id, booking_id=booking_id, amount=share))
    session.add(
        AuditEntry(
            actor_user_id=user_id,
            action="payment.started",
            subject=f"payment {payment.id}",
            detail=f"{method_kind.value} {format_money(plan.amount, plan.currency)}",
        )
    )
    session.commit()
    session.refresh(payment)
    return payment, True


def _set_outcome(
    session: Session, payment: Payment, status: PaymentStatus, code=None, message=None
) -> Payment:
    lock_row(session, Payment, payment.id)
    session.refresh(payment)
    if payment.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
        payment.status = status
        payment.failure_code, payment.failure_message = code, message
        payment.updated_at = utcnow()
    session.commit()
    session.refresh(payment)
    return payment


def describe_failure(code: str | None, decline_code: str | None, message: str | None) -> str:
    """Stripe's reason in the words a merchant reads, e.g. "Your card was declined
    (insufficient funds)."."""
    if code == "payment_intent_authentication_failure":
        return (
            "3D Secure authentication failed, so nothing was charged. "
            "Try again or use another card."
        )
    if code == "card_declined":
        if decline_code and decline_code not in ("generic_decline", "card_declined"):
            return f"Your card was declined ({decline_code.replace('_', ' ')})."
        return "Your card was declined."
    return message or "The payment failed."


def _outcome(intent: IntentSnapshot) -> tuple[PaymentStatus | None, str | None, str | None]:
    """Ledger status for an intent; None means "nothing has happened yet"."""
    if intent.status == "succeeded":
        return PaymentStatus.SUCCEEDED, None, None
    if intent.status in ("processing", "requires_capture"):
        return PaymentStatus.PROCESSING, None, None
    if intent.status == "canceled":
        return PaymentStatus.CANCELED, None, "Canceled before any money moved."
    code = intent.decline_code if intent.error_code == "card_declined" else intent.error_code
    if intent.status == "requires_action" or intent.error_code == "authentication_required":
        return (
            PaymentStatus.REQUIRES_ACTION,
            "authentication_required",
            "The bank wants the customer to confirm this payment themselves.",
        )
    if intent.error_code or intent.error_message:
        message = describe_failure(intent.error_code, intent.decline_code, intent.error_message)
        return PaymentStatus.FAILED, code, message
    return None, None, None


def _find_payment(session: Session, intent: IntentSnapshot) -> Payment | None:
    payment = session.exec(
        select(Payment).where(Payment.stripe_payment_intent_id == intent.id)
    ).first()
    if payment is None:
        local_id = intent.metadata.get(METADATA_KEY, "")
        payment = session.get(Payment, int(local_id)) if local_id.isdigit() else None
        if payment is not None and payment.stripe_payment_intent_id not in (None, intent.id):
            return None
    if payment is not None and (payment.amount, payment.currency) != (
        intent.amount,
        intent.currency,
    ):
        # Same local id from another installation sharing the Stripe account: not ours.
        logger.warning("intent %s does not match payment %s; ignored", intent.id, payment.id)
        return None
    return payment


def save_card(session: Session, *, customer_id: int, card: gateway.CardDetails) -> SavedCard:
    """Remember a card Stripe attached to the customer; the first one becomes the default."""
    existing = session.exec(
        select(SavedCard).where(SavedCard.stripe_payment_method_id == card.payment_method_id)
    ).first()
    if existing is not None:
        return existing
    has_default = session.exec(
        select(SavedCard.id).where(SavedCard.customer_id == customer_id, SavedCard.is_default)
    ).first()
    saved = SavedCard(
        customer_id=customer_id,
        stripe_payment_method_id=card.payment_method_id,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        is_default=has_default is None,
    )
    session.add(saved)
    return saved


def apply_payment_intent(session: Session, intent: IntentSnapshot) -> Payment | None:
    """Bring the local payment in line with a PaymentIntent, under the payment's row lock.

    Idempotent and order-proof: a succeeded payment never goes back, a failure reason is
    not erased by the cancellation that follows it, and a replay changes nothing. Returns
    None for intents that are not ours.
    """
    payment = _find_payment(session, intent)
    if payment is None:
        session.rollback()
        return None
    lock_row(session, Payment, payment.id)
    session.refresh(payment)
    if payment.stripe_payment_intent_id is None:
        payment.stripe_payment_intent_id = intent.id
    if intent.card is not None and payment.card_last4 is None:
        payment.card_brand, payment.card_last4 = intent.card.brand, intent.card.last4
    status, code, message = _outcome(intent)
    frozen = payment.status == PaymentStatus.SUCCEEDED or (
        payment.status == PaymentStatus.FAILED and status == PaymentStatus.CANCELED
    )
    if status is not None and not frozen and payment.status != status:
        payment.status = status
        payment.failure_code, payment.failure_message = code, message
        payment.updated_at = utcnow()
        if status == PaymentStatus.SUCCEEDED:
            payment.succeeded_at = utcnow()
            if intent.setup_future_usage and intent.card is not None:
                save_card(session, customer_id=payment.customer_id, card=intent.card)
            if payment.payment_link_id is not None:
                link = session.get(PaymentLink, payment.payment_link_id)
                link.status, link.paid_at = PaymentLinkStatus.PAID, utcnow()
            # Same transaction as the success: announced exactly when it is recorded.
            queue_payment_emails(session, payment)
        session.add(
            AuditEntry(
                action=f"payment.{status.value}",
                subject=f"payment {payment.id}",
                detail=f"{intent.id} {message or ''}".strip(),
            )
        )
    session.commit()
    session.refresh(payment)
    return payment


def record_refunds(session: Session, payment: Payment, refunds: list[RefundSnapshot]) -> int:
    """Store refunds made in Stripe (dashboard or API) that we have not seen; each comes off
    the payment's bookings, latest tour first. Returns how many were new."""
    lock_row(session, Payment, payment.id)
    known = set(
        session.exec(select(Refund.stripe_refund_id).where(Refund.payment_id == payment.id)).all()
    )
    allocations = session.exec(
        select(PaymentAllocation)
        .where(PaymentAllocation.payment_id == payment.id)
        .order_by(col(PaymentAllocation.id).desc())
    ).all()
    refunded = dict(
        session.exec(
            select(RefundAllocation.booking_id, func.sum(RefundAllocation.amount))
            .join(Refund, col(Refund.id) == RefundAllocation.refund_id)
            .where(Refund.payment_id == payment.id, Refund.status == RefundStatus.SUCCEEDED)
            .group_by(RefundAllocation.booking_id)
        ).all()
    )
    added = 0
    for snapshot in refunds:
        if snapshot.id in known or snapshot.status != "succeeded":
            continue
        refund = Refund(
            payment_id=payment.id,
            amount=snapshot.amount,
            currency=snapshot.currency,
            status=RefundStatus.SUCCEEDED,
            stripe_refund_id=snapshot.id,
            reason=snapshot.reason[:100],
        )
        session.add(refund)
        session.flush()
        room = [(a.booking_id, a.amount - int(refunded.get(a.booking_id, 0))) for a in allocations]
        for booking_id, share in allocate(snapshot.amount, room):
            session.add(RefundAllocation(refund_id=refund.id, booking_id=booking_id, amount=share))
            refunded[booking_id] = int(refunded.get(booking_id, 0)) + share
        added += 1
    session.commit()
    return added


def refunded_amount(session: Session, payment_id: int) -> int:
    total = session.exec(
        select(func.sum(Refund.amount)).where(
            Refund.payment_id == payment_id, Refund.status == RefundStatus.SUCCEEDED
        )
    ).one()
    return int(total or 0)


def _stripe_customer_id(session: Session, credentials: StripeCredentials, customer_id: int) -> str:
    customer = session.get(Customer, customer_id)
    if customer.stripe_customer_id is None:
        customer.stripe_customer_id = gateway.create_customer(
            credentials,
            name=customer.name,
            email=customer.email,
            phone=customer.phone,
            local_id=customer.id,
        )
        session.commit()
    return customer.stripe_customer_id


def charge_card_on_file(
    session: Session,
    credentials: StripeCredentials,
    *,
    customer_id: int,
    booking_ids: list[int],
    amount: int,
    saved_card_id: int,
    description: str,
    user_id: int | None,
    request_key: str,
) -> Payment:
    """Charge a saved card off-session. Declines and authentication demands come back as
    the payment's status; only a bad request raises ChargeError."""
    card = usable_card(session, customer_id=customer_id, saved_card_id=saved_card_id)
    payment, created = open_payment(
        session,
        customer_id=customer_id,
        booking_ids=booking_ids,
        amount=amount,
        method_kind=PaymentMethodKind.CARD_ON_FILE,
        description=description,
        user_id=user_id,
        request_key=request_key,
        card=card,
    )
    if not created:
        return payment
    try:
        intent = gateway.charge_saved_card(
            credentials,
            amount=payment.amount,
            currency=payment.currency,
            stripe_customer_id=session.get(Customer, customer_id).stripe_customer_id,
            payment_method_id=card.stripe_payment_method_id,
            description=payment.description,
            metadata=_metadata(payment),
            idempotency_key=payment.idempotency_key,
        )
    except GatewayError as exc:
        if exc.transient:
            return _set_outcome(session, payment, PaymentStatus.UNKNOWN, None, UNKNOWN_MESSAGE)
        return _set_outcome(session, payment, PaymentStatus.FAILED, exc.code, exc.message)
    return apply_payment_intent(session, intent) or payment


@dataclass(frozen=True)
class CardIntent:
    payment: Payment
    client_secret: str | None  # None: this form's payment is already past confirmation


def start_new_card_charge(
    session: Session,
    credentials: StripeCredentials,
    *,
    customer_id: int,
    booking_ids: list[int],
    amount: int,
    save_card: bool,
    description: str,
    user_id: int | None,
    request_key: str,
    method_kind: PaymentMethodKind = PaymentMethodKind.NEW_CARD,
    payment_link_id: int | None = None,
) -> CardIntent:
    """Create the PaymentIntent the browser confirms with the typed card; the amount comes
    from the server's plan, never from the page."""
    stripe_customer_id = _stripe_customer_id(session, credentials, customer_id)
    payment, created = open_payment(
        session,
        customer_id=customer_id,
        booking_ids=booking_ids,
        amount=amount,
        method_kind=method_kind,
        description=description,
        user_id=user_id,
        request_key=request_key,
        payment_link_id=payment_link_id,
    )
    if not created:
        if payment.status != PaymentStatus.CREATED or payment.stripe_payment_intent_id is None:
            return CardIntent(payment, None)
        secret = gateway.intent_client_secret(credentials, payment.stripe_payment_intent_id)
        return CardIntent(payment, secret)
    try:
        intent, secret = gateway.create_card_intent(
            credentials,
            amount=payment.amount,
            currency=payment.currency,
            stripe_customer_id=stripe_customer_id,
            save_card=save_card,
            description=payment.description,
            metadata=_metadata(payment),
            idempotency_key=payment.idempotency_key,
        )
    except GatewayError as exc:
        # An unconfirmed intent moves no money, so any failure here is a plain failure.
        payment = _set_outcome(session, payment, PaymentStatus.FAILED, exc.code, exc.message)
        return CardIntent(payment, None)
    payment = apply_payment_intent(session, intent) or payment
    return CardIntent(payment, secret)


def finish_new_card_charge(
    session: Session, credentials: StripeCredentials, *, customer_id: int, payment_id: int
) -> Payment:
    """After the browser's confirmation: ask Stripe what really happened and apply it. An
    attempt that ended without success is canceled so its client secret is spent."""
    payment = session.get(Payment, payment_id)
    if (
        payment is None
        or payment.customer_id != customer_id
        or not payment.stripe_payment_intent_id
    ):
        raise ChargeError("That payment is not this customer's.")
    return refresh_payment(session, credentials, payment, close_unfinished=True)


def refresh_payment(
    session: Session,
    credentials: StripeCredentials,
    payment: Payment,
    *,
    close_unfinished: bool = False,
) -> Payment:
    """Re-fetch the payment's intent from Stripe and apply it: how an unknown outcome is
    settled. A payment whose create call got no answer is looked up by its metadata."""
    try:
        if payment.stripe_payment_intent_id:
            intent = gateway.retrieve_intent(credentials, payment.stripe_payment_intent_id)
        else:
            stripe_customer_id = session.get(Customer, payment.customer_id).stripe_customer_id
            intent = stripe_customer_id and gateway.find_intent(
                credentials,
                stripe_customer_id=stripe_customer_id,
                metadata_key=METADATA_KEY,
                value=str(payment.id),
            )
            if not intent:
                return payment
    except GatewayError as exc:
        if exc.transient:
            return payment
        raise ChargeError(exc.message) from exc
    payment = apply_payment_intent(session, intent) or payment
    if close_unfinished and intent.status in (
        "requires_payment_method",
        "requires_confirmation",
        "requires_action",
    ):
        try:
            canceled = gateway.cancel_intent(credentials, intent.id)
        except GatewayError:
            logger.warning("could not cancel unfinished intent %s", intent.id)
            return payment
        payment = apply_payment_intent(session, canceled) or payment
    return payment
