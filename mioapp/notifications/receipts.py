"""The emails a succeeded payment sends: a receipt to the customer, a notice to the merchant."""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mioapp.billing.balances import payment_shares
from mioapp.models import Customer, MerchantUser, Payment
from mioapp.notifications.outbox import Email, insert_emails
from mioapp.notifications.render import MERCHANT_PAYMENT, RECEIPT, booking_lines
from mioapp.web import routes


def receipt_number(payment: Payment) -> str:
    return f"MIO-{payment.id:06d}"


def payment_bookings(session: Session, payment: Payment) -> list[dict]:
    """The bookings a succeeded payment paid: each one's total, what was paid before, this
    payment's part and what remains, earliest tour first."""
    return booking_lines(payment_shares(session, payment.id))


@cache
def _customer_and_merchant_query() -> sa.Select:
    merchant = (
        select(MerchantUser.email)
        .order_by(
            sa.case((MerchantUser.id == sa.bindparam("user_id"), 0), else_=1),
            col(MerchantUser.id),
        )
        .limit(1)
        .scalar_subquery()
        .label("merchant_email")
    )
    return select(Customer.id, Customer.name, Customer.email, merchant).where(
        Customer.id == sa.bindparam("customer_id")
    )


def _customer_and_merchant(session: Session, payment: Payment) -> tuple[sa.Row, str | None]:
    """The payment's customer (`id`, `name`, `email`) and the merchant address its notice
    goes to (the user who charged, else the first user), in one query (built once)."""
    row = session.exec(
        _customer_and_merchant_query(),
        params={"customer_id": payment.customer_id, "user_id": payment.created_by_user_id},
    ).one()
    return row, row.merchant_email


def queue_payment_emails(session: Session, payment: Payment) -> None:
    """Queue both emails in the caller's transaction; keyed by payment, so a redelivered
    webhook or a reloaded page never sends them twice."""
    customer, merchant = _customer_and_merchant(session, payment)
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
    emails = [
        Email(
            dedupe_key=f"receipt:payment:{payment.id}",
            kind=RECEIPT,
            to_address=customer.email,
            context=context,
            customer_id=customer.id,
        )
    ]
    if merchant:
        emails.append(
            Email(
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
        )
    insert_emails(session, emails)
