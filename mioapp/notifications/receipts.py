"""The emails a succeeded payment sends: a receipt to the customer, a notice to the merchant."""

from __future__ import annotations

from sqlmodel import Session, col, select

from mioapp.billing.balances import booking_shares
from mioapp.models import Customer, MerchantUser, Payment, PaymentAllocation
from mioapp.notifications.outbox import queue_email
from mioapp.notifications.render import MERCHANT_PAYMENT, RECEIPT, booking_lines
from mioapp.web import routes


def receipt_number(payment: Payment) -> str:
    return f"MIO-{payment.id:06d}"


def payment_bookings(session: Session, payment: Payment) -> list[dict]:
    """The bookings a succeeded payment paid: each one's total, what was paid before, this
    payment's part and what remains, earliest tour first."""
    parts = session.exec(
        select(PaymentAllocation.booking_id, PaymentAllocation.amount).where(
            PaymentAllocation.payment_id == payment.id
        )
    ).all()
    return booking_lines(booking_shares(session, list(parts), counted_payment=payment.id))


def _merchant_address(session: Session, payment: Payment) -> str | None:
    user = (
        session.get(MerchantUser, payment.created_by_user_id)
        if payment.created_by_user_id
        else None
    )
    if user is None:
        user = session.exec(select(MerchantUser).order_by(col(MerchantUser.id))).first()
    return user.email if user else None


def queue_payment_emails(session: Session, payment: Payment) -> None:
    """Queue both emails in the caller's transaction; keyed by payment, so a redelivered
    webhook or a reloaded page never sends them twice."""
    customer = session.get(Customer, payment.customer_id)
    context = {
        "customer_name": customer.name,
        "customer_email": customer.email,
        "bookings": payment_bookings(session, payment),
        "amount": payment.amount,
        "currency": payment.currency,
        "receipt_number": receipt_number(payment),
        "paid_at": payment.succeeded_at or payment.updated_at,
        "description": payment.description,
        "card_brand": payment.card_brand,
        "card_last4": payment.card_last4,
    }
    queue_email(
        session,
        dedupe_key=f"receipt:payment:{payment.id}",
        kind=RECEIPT,
        to_address=customer.email,
        context=context,
        customer_id=customer.id,
    )
    merchant = _merchant_address(session, payment)
    if merchant:
        queue_email(
            session,
            dedupe_key=f"merchant:payment:{payment.id}",
            kind=MERCHANT_PAYMENT,
            to_address=merchant,
            context={
                **context,
                "method": payment.method_kind.label,
                "customer_url": routes.customer_url(customer.id),
            },
            customer_id=customer.id,
        )
