"""Payment links: unguessable tokens stored hashed, their lifecycle, and the pay page's intents.

A link is tied to bookings and an amount. Its URLs (the emailed one, resent and copied
ones) are 256-bit random tokens of which only the SHA-256 is stored. Opening the page
changes nothing but the "opened" mark; a PaymentIntent is made only when the customer
presses Pay, and reused across reloads and tabs while it is still open.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from mioapp.auth import hash_token
from mioapp.billing.ledger import allocate
from mioapp.billing.money import format_money
from mioapp.db import lock_row
from mioapp.models import (
    AuditEntry,
    Booking,
    Customer,
    EmailMessage,
    PayAttemptFailure,
    Payment,
    PaymentAllocation,
    PaymentLink,
    PaymentLinkBooking,
    PaymentLinkStatus,
    PaymentLinkToken,
    PaymentMethodKind,
    PaymentStatus,
    utcnow,
)
from mioapp.notifications.outbox import queue_email
from mioapp.notifications.render import PAYMENT_LINK
from mioapp.payments import charges, gateway
from mioapp.payments.charges import CardIntent, ChargeError
from mioapp.payments.gateway import GatewayError, StripeCredentials
from mioapp.settings import get_settings
from mioapp.web.routes import pay_url

logger = logging.getLogger(__name__)

TOKEN_BYTES = 32  # 256 bits from `secrets`
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
DEFAULT_EXPIRY_DAYS = 7
MAX_EXPIRY_DAYS = 60
MAX_MESSAGE = 1000
FAILED_ATTEMPTS_PER_HOUR = 5


def effective_status(link: PaymentLink, now: datetime | None = None) -> PaymentLinkStatus:
    """Expiry is a matter of time, not of a job having run."""
    live = link.status in (PaymentLinkStatus.SENT, PaymentLinkStatus.OPENED)
    if live and link.expires_at <= (now or utcnow()):
        return PaymentLinkStatus.EXPIRED
    return link.status


def _new_token(session: Session, link: PaymentLink) -> str:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(PaymentLinkToken(payment_link_id=link.id, token_hash=hash_token(token)))
    return token


def _link_bookings(session: Session, link: PaymentLink) -> list[Booking]:
    return list(
        session.exec(
            select(Booking)
            .join(PaymentLinkBooking, col(PaymentLinkBooking.booking_id) == Booking.id)
            .where(PaymentLinkBooking.payment_link_id == link.id)
            .order_by(col(Booking.starts_at), col(Booking.id))
        ).all()
    )


def _email_context(session: Session, link: PaymentLink, token: str) -> dict:
    planned = dict(
        session.exec(
            select(PaymentLinkBooking.booking_id, PaymentLinkBooking.amount).where(
                PaymentLinkBooking.payment_link_id == link.id
            )
        ).all()
    )
    customer = session.get(Customer, link.customer_id)
    return {
        "customer_name": customer.name,
        "bookings": [
            {
                "tour_name": b.tour_name,
                "starts_at": b.starts_at,
                "participants": b.participants,
                "amount": planned.get(b.id, 0),
            }
            for b in _link_bookings(session, link)
        ],
        "amount": link.amount,
        "currency": link.currency,
        "pay_url": pay_url(token),
        "expires_at": link.expires_at,
        "message": link.message,
    }


def _send(session: Session, link: PaymentLink) -> None:
    """A fresh URL by email; each send has its own key, so a resend is a new email."""
    token = _new_token(session, link)
    link.send_count += 1
    link.last_sent_at = utcnow()
    customer = session.get(Customer, link.customer_id)
    queue_email(
        session,
        dedupe_key=f"payment-link:{link.id}:send:{link.send_count}",
        kind=PAYMENT_LINK,
        to_address=customer.email,
        context=_email_context(session, link, token),
        customer_id=customer.id,
    )


def create_link(
    session: Session,
    *,
    customer_id: int,
    booking_ids: list[int],
    amount: int,
    expires_in_days: int,
    message: str,
    user_id: int | None,
) -> PaymentLink:
    """Create the link and queue its email in one transaction."""
    if not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise ChargeError(f"Choose an expiry between 1 and {MAX_EXPIRY_DAYS} days.", field="expiry")
    message = message.strip()
    if len(message) > MAX_MESSAGE:
        raise ChargeError(f"Keep the message under {MAX_MESSAGE} characters.", field="message")
    lock_row(session, Customer, customer_id)
    plan = charges.plan_charge(
        session, customer_id=customer_id, booking_ids=booking_ids, amount=amount
    )
    first_token = secrets.token_urlsafe(TOKEN_BYTES)
    link = PaymentLink(
        customer_id=customer_id,
        token_hash=hash_token(first_token),  # the original URL; every URL is in PaymentLinkToken
        amount=plan.amount,
        currency=plan.currency,
        message=message,
        expires_at=utcnow() + timedelta(days=expires_in_days),
        created_by_user_id=user_id,
    )
    session.add(link)
    session.flush()
    session.add(PaymentLinkToken(payment_link_id=link.id, token_hash=link.token_hash))
    for booking_id, share in plan.allocations:
        session.add(
            PaymentLinkBooking(payment_link_id=link.id, booking_id=booking_id, amount=share)
        )
    session.flush()
    link.send_count, link.last_sent_at = 1, utcnow()
    customer = session.get(Customer, customer_id)
    queue_email(
        session,
        dedupe_key=f"payment-link:{link.id}:send:1",
        kind=PAYMENT_LINK,
        to_address=customer.email,
        context=_email_context(session, link, first_token),
        customer_id=customer_id,
    )
    session.add(
        AuditEntry(
            actor_user_id=user_id,
            action="payment_link.sent",
            subject=f"payment link {link.id}",
            detail=format_money(plan.amount, plan.currency),
        )
    )
    session.commit()
    session.refresh(link)
    return link


def _active_link(session: Session, *, link_id: int, customer_id: int) -> PaymentLink:
    link = session.get(PaymentLink, link_id)
    if link is None or link.customer_id != customer_id:
        raise ChargeError("That payment link is not this customer's.")
    if effective_status(link) not in (PaymentLinkStatus.SENT, PaymentLinkStatus.OPENED):
        raise ChargeError(f"This link is {effective_status(link).value}; send a new one instead.")
    return link


def resend_link(session: Session, *, link_id: int, customer_id: int, user_id: int | None) -> None:
    link = _active_link(session, link_id=link_id, customer_id=customer_id)
    _send(session, link)
    session.add(
        AuditEntry(
            actor_user_id=user_id, action="payment_link.resent", subject=f"payment link {link.id}"
        )
    )
    session.commit()


def copy_url(session: Session, *, link_id: int, customer_id: int) -> str:
    """A new URL for the same link (the stored hashes cannot give the old ones back)."""
    link = _active_link(session, link_id=link_id, customer_id=customer_id)
    token = _new_token(session, link)
    session.commit()
    return pay_url(token)


def revoke_link(
    session: Session,
    credentials: StripeCredentials | None,
    *,
    link_id: int,
    customer_id: int,
    user_id: int | None,
) -> None:
    """Stop the link; an intent the customer opened but did not finish is canceled too."""
    link = _active_link(session, link_id=link_id, customer_id=customer_id)
    link.status, link.revoked_at = PaymentLinkStatus.REVOKED, utcnow()
    session.add(
        AuditEntry(
            actor_user_id=user_id, action="payment_link.revoked", subject=f"payment link {link.id}"
        )
    )
    session.commit()
    open_payment = _open_payment(session, link)
    if open_payment is not None and credentials is not None:
        charges.refresh_payment(session, credentials, open_payment, close_unfinished=True)


def find_link(session: Session, token: str) -> PaymentLink | None:
    """The link behind a URL token; malformed and unknown tokens alike give None."""
    if not isinstance(token, str) or not TOKEN_PATTERN.match(token):
        return None
    row = session.exec(
        select(PaymentLinkToken).where(PaymentLinkToken.token_hash == hash_token(token))
    ).first()
    return session.get(PaymentLink, row.payment_link_id) if row else None


def mark_opened(session: Session, link: PaymentLink) -> None:
    if link.status == PaymentLinkStatus.SENT and effective_status(link) == PaymentLinkStatus.SENT:
        link.status, link.opened_at = PaymentLinkStatus.OPENED, utcnow()
        session.commit()


def _open_payment(session: Session, link: PaymentLink) -> Payment | None:
    """The link's attempt still waiting for a card, if any."""
    return session.exec(
        select(Payment)
        .where(Payment.payment_link_id == link.id)
        .where(Payment.status == PaymentStatus.CREATED)
        .order_by(col(Payment.id).desc())
    ).first()


def succeeded_payment(session: Session, link: PaymentLink) -> Payment | None:
    return session.exec(
        select(Payment)
        .where(Payment.payment_link_id == link.id)
        .where(Payment.status == PaymentStatus.SUCCEEDED)
        .order_by(col(Payment.id))
    ).first()


@dataclass(frozen=True)
class PayLine:
    booking: Booking
    amount: int


@dataclass(frozen=True)
class PayView:
    """What the pay page shows. `state`: "payable", "paid" (receipt) or "settled" (the
    bookings were paid some other way)."""

    link: PaymentLink
    customer: Customer
    state: str
    amount: int
    lines: list[PayLine] = field(default_factory=list)
    payment: Payment | None = None


def pay_view(session: Session, link: PaymentLink) -> PayView | None:
    """None when the link can no longer be used (expired or revoked, and not paid)."""
    customer = session.get(Customer, link.customer_id)
    paid = succeeded_payment(session, link)
    if paid is not None:
        lines = [
            PayLine(booking=session.get(Booking, booking_id), amount=amount)
            for booking_id, amount in _allocations(session, paid).items()
        ]
        return PayView(link, customer, "paid", paid.amount, lines, paid)
    if effective_status(link) not in (PaymentLinkStatus.SENT, PaymentLinkStatus.OPENED):
        return None
    amount, lines = _payable(session, link)
    return PayView(link, customer, "payable" if amount else "settled", amount, lines)


def _allocations(session: Session, payment: Payment) -> dict[int, int]:
    """Booking id -> the part of the payment applied to it."""
    return dict(
        session.exec(
            select(PaymentAllocation.booking_id, PaymentAllocation.amount)
            .where(PaymentAllocation.payment_id == payment.id)
            .order_by(col(PaymentAllocation.id))
        ).all()
    )


def _payable(session: Session, link: PaymentLink) -> tuple[int, list[PayLine]]:
    """The link's amount, capped by what its bookings still owe (the link's own open attempt
    aside: it is this payment, not a competitor)."""
    own = _open_payment(session, link)
    own_hold = _allocations(session, own) if own is not None else {}
    available = {
        c.booking.id: c.available + own_hold.get(c.booking.id, 0)
        for c in charges.chargeable_bookings(session, link.customer_id)
    }
    for booking_id, held in own_hold.items():
        available.setdefault(booking_id, held)
    bookings = _link_bookings(session, link)
    balances = [(b.id, available.get(b.id, 0)) for b in bookings]
    amount = min(link.amount, sum(balance for _, balance in balances))
    if amount <= 0:
        return 0, []
    by_id = {b.id: b for b in bookings}
    return amount, [PayLine(by_id[i], share) for i, share in allocate(amount, balances)]


def client_key(address: str) -> str:
    """Stored instead of the address itself, like a token."""
    return hash_token(address)


def _too_many_failures(session: Session, link: PaymentLink, key: str) -> bool:
    since = utcnow() - timedelta(hours=1)
    recent = (
        select(func.count())
        .select_from(PayAttemptFailure)
        .where(col(PayAttemptFailure.created_at) >= since)
    )
    per_link = session.exec(recent.where(PayAttemptFailure.payment_link_id == link.id)).one()
    per_client = session.exec(recent.where(PayAttemptFailure.client_key == key)).one()
    return max(per_link, per_client) >= FAILED_ATTEMPTS_PER_HOUR


def start_link_payment(
    session: Session,
    credentials: StripeCredentials,
    *,
    link: PaymentLink,
    save_card: bool,
    client_address: str,
) -> CardIntent:
    """The PaymentIntent the page confirms: the open one when it still fits (reloads and a
    second tab pay the same intent, so only one can succeed), else a new one."""
    merchant = get_settings().business_name
    if _too_many_failures(session, link, client_key(client_address)):
        raise ChargeError(f"Too many failed attempts. Try again in an hour or contact {merchant}.")
    view = pay_view(session, link)
    if view is None or view.state != "payable":
        raise ChargeError("This link can no longer be paid.")
    reused = _reusable_intent(session, credentials, link, view.amount, save_card)
    if reused is not None:
        return reused
    view = pay_view(session, link)
    if view is None or view.state != "payable":
        raise ChargeError("This link can no longer be paid.")
    try:
        return charges.start_new_card_charge(
            session,
            credentials,
            customer_id=link.customer_id,
            booking_ids=[line.booking.id for line in view.lines],
            amount=view.amount,
            save_card=save_card,
            description=f"{merchant} payment link",
            user_id=None,
            request_key=f"link-{link.id}-{secrets.token_urlsafe(12)}",
            method_kind=PaymentMethodKind.PAYMENT_LINK,
            payment_link_id=link.id,
        )
    except ChargeError:
        # Another tab opened an attempt a moment ago: pay that one instead.
        reused = _reusable_intent(session, credentials, link, view.amount, save_card)
        if reused is None:
            raise
        return reused


def _reusable_intent(
    session: Session,
    credentials: StripeCredentials,
    link: PaymentLink,
    amount: int,
    save_card: bool,
) -> CardIntent | None:
    """The link's open intent if it still fits this attempt; an unfit one is closed."""
    session.expire_all()
    existing = _open_payment(session, link)
    if existing is None or not existing.stripe_payment_intent_id:
        return None
    try:
        intent = gateway.retrieve_intent(credentials, existing.stripe_payment_intent_id)
        fits = (
            intent.status in ("requires_payment_method", "requires_confirmation")
            and intent.amount == amount
            and intent.setup_future_usage == ("off_session" if save_card else None)
            and not intent.error_code
        )
        if fits:
            return CardIntent(existing, gateway.intent_client_secret(credentials, intent.id))
    except GatewayError as exc:
        raise ChargeError(exc.message) from exc
    charges.refresh_payment(session, credentials, existing, close_unfinished=True)
    return None


def finish_link_payment(
    session: Session,
    credentials: StripeCredentials,
    *,
    link: PaymentLink,
    payment_id: int,
    client_address: str,
) -> Payment:
    """After Stripe.js: ask Stripe, apply, and count a failure against the limits."""
    payment = session.get(Payment, payment_id)
    if payment is None or payment.payment_link_id != link.id:
        raise ChargeError("That payment does not belong to this link.")
    payment = charges.refresh_payment(session, credentials, payment, close_unfinished=True)
    if payment.status in (PaymentStatus.FAILED, PaymentStatus.CANCELED):
        session.add(
            PayAttemptFailure(payment_link_id=link.id, client_key=client_key(client_address))
        )
        session.commit()
    return payment


@dataclass(frozen=True)
class LinkRow:
    link: PaymentLink
    status: PaymentLinkStatus
    references: list[str]
    email: EmailMessage | None  # the latest send's email, to show whether it went out


def customer_links(session: Session, customer_id: int) -> list[LinkRow]:
    """The customer's links, newest first, with their status as of now."""
    rows = session.exec(
        select(PaymentLink)
        .where(PaymentLink.customer_id == customer_id)
        .order_by(col(PaymentLink.created_at).desc(), col(PaymentLink.id).desc())
    ).all()
    now = utcnow()
    return [
        LinkRow(
            link=link,
            status=effective_status(link, now),
            references=[b.reference for b in _link_bookings(session, link)],
            email=session.exec(
                select(EmailMessage).where(
                    EmailMessage.dedupe_key == f"payment-link:{link.id}:send:{link.send_count}"
                )
            ).first(),
        )
        for link in rows
    ]
