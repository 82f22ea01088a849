"""Payment links: unguessable tokens stored hashed, their lifecycle, and the pay page's intents.

A link is tied to bookings and an amount. Its URLs (the emailed one, resent and copied
ones) are 256-bit random tokens of which only the SHA-256 is stored. Opening the page
changes nothing but the "opened" mark; a PaymentIntent is made only when the customer
presses Pay, and reused across reloads and tabs while it is still open. Functions taking a
session only flush; the caller owns the transaction.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from mioapp.auth import hash_token
from mioapp.billing.balances import (
    booking_shares,
    plan_charge,
)
from mioapp.billing.errors import ChargeError
from mioapp.billing.money import format_money
from mioapp.db import Database, lock_row
from mioapp.models import (
    AuditEntry,
    Booking,
    Customer,
    EmailMessage,
    Payment,
    PaymentLink,
    PaymentLinkBooking,
    PaymentLinkStatus,
    PaymentLinkToken,
    PaymentStatus,
    utcnow,
)
from mioapp.notifications.outbox import queue_email
from mioapp.notifications.render import PAYMENT_LINK, booking_lines
from mioapp.payments.gateway import StripeCredentials
from mioapp.payments.reconcile import settle_payment
from mioapp.web.routes import pay_url

logger = logging.getLogger(__name__)

TOKEN_BYTES = 32  # 256 bits from `secrets`
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
DEFAULT_EXPIRY_DAYS = 7
MAX_EXPIRY_DAYS = 60
MAX_MESSAGE = 1000


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


def link_bookings(session: Session, link: PaymentLink) -> list[Booking]:
    return list(
        session.exec(
            select(Booking)
            .join(PaymentLinkBooking, col(PaymentLinkBooking.booking_id) == Booking.id)
            .where(PaymentLinkBooking.payment_link_id == link.id)
            .order_by(col(Booking.starts_at), col(Booking.id))
        ).all()
    )


def planned_parts(session: Session, link: PaymentLink) -> dict[int, int]:
    """Booking id -> the part of the link's amount the merchant put on it."""
    return dict(
        session.exec(
            select(PaymentLinkBooking.booking_id, PaymentLinkBooking.amount).where(
                PaymentLinkBooking.payment_link_id == link.id
            )
        ).all()
    )


def _email_context(session: Session, link: PaymentLink, token: str) -> dict:
    customer = session.get(Customer, link.customer_id)
    return {
        "customer_name": customer.name,
        "bookings": booking_lines(
            booking_shares(session, list(planned_parts(session, link).items()))
        ),
        "amount": link.amount,
        "currency": link.currency,
        "pay_url": pay_url(token),
        "expires_at": link.expires_at,
        "message": link.message,
        "description": link.description,
    }


def _send(session: Session, link: PaymentLink, token: str | None = None) -> None:
    """A URL by email (a fresh one unless `token` is given); each send has its own key, so a
    resend is a new email. The token is the email's secret: the outbox stores the email
    without it."""
    token = token or _new_token(session, link)
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
        secret=token,
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
    shares: dict[int, int] | None = None,
    description: str = "",
) -> PaymentLink:
    """Create the link and queue its email (the caller commits both or neither). `shares`
    puts each part of the amount on the booking the merchant meant (see plan_charge)."""
    if not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise ChargeError(f"Choose an expiry between 1 and {MAX_EXPIRY_DAYS} days.", field="expiry")
    message = message.strip()
    if len(message) > MAX_MESSAGE:
        raise ChargeError(f"Keep the message under {MAX_MESSAGE} characters.", field="message")
    lock_row(session, Customer, customer_id)
    plan = plan_charge(
        session, customer_id=customer_id, booking_ids=booking_ids, amount=amount, shares=shares
    )
    first_token = secrets.token_urlsafe(TOKEN_BYTES)
    link = PaymentLink(
        customer_id=customer_id,
        token_hash=hash_token(first_token),  # the original URL; every URL is in PaymentLinkToken
        amount=plan.amount,
        currency=plan.currency,
        message=message,
        description=description.strip()[:500],
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
    _send(session, link, first_token)
    session.add(
        AuditEntry(
            actor_user_id=user_id,
            action="payment_link.sent",
            subject=f"payment link {link.id}",
            detail=format_money(plan.amount, plan.currency),
        )
    )
    session.flush()
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
    session.flush()


_EMAIL_KEY = re.compile(r"payment-link:(\d+):send:\d+")


def link_of_email(session: Session, message: EmailMessage) -> PaymentLink | None:
    """The link a payment-link email was sent for (its key names it), if it can still be
    paid; None for other emails and for links paid, expired or revoked."""
    match = _EMAIL_KEY.fullmatch(message.dedupe_key)
    link = session.get(PaymentLink, int(match[1])) if match else None
    if link is None or effective_status(link) not in (
        PaymentLinkStatus.SENT,
        PaymentLinkStatus.OPENED,
    ):
        return None
    return link


def copy_url(session: Session, *, link_id: int, customer_id: int) -> str:
    """A new URL for the same link (the stored hashes cannot give the old ones back)."""
    link = _active_link(session, link_id=link_id, customer_id=customer_id)
    token = _new_token(session, link)
    session.flush()
    return pay_url(token)


def revoke_link(
    session: Session, *, link_id: int, customer_id: int, user_id: int | None
) -> int | None:
    """Stop the link; returns the id of an attempt the customer opened but did not finish,
    which the caller then cancels at Stripe (see `revoke`)."""
    link = _active_link(session, link_id=link_id, customer_id=customer_id)
    link.status, link.revoked_at = PaymentLinkStatus.REVOKED, utcnow()
    session.add(
        AuditEntry(
            actor_user_id=user_id, action="payment_link.revoked", subject=f"payment link {link.id}"
        )
    )
    session.flush()
    unfinished = open_attempt(session, link, include_abandoned=True)
    return unfinished.id if unfinished is not None else None


async def revoke(
    db: Database,
    credentials: StripeCredentials | None,
    *,
    link_id: int,
    customer_id: int,
    user_id: int | None,
) -> None:
    """Revoke the link, then cancel its unfinished intent so its client secret is spent."""
    unfinished = await db.run(
        lambda s: revoke_link(s, link_id=link_id, customer_id=customer_id, user_id=user_id)
    )
    if unfinished is not None and credentials is not None:
        await settle_payment(db, credentials, unfinished, release=True)


def expire_due(session: Session, *, now: datetime | None = None, limit: int = 200) -> list[int]:
    """Record as expired the links whose time has run out (their pages already refuse them)
    and return the ids of attempts they left open, for the caller to cancel at Stripe."""
    now = now or utcnow()
    due = session.exec(
        select(PaymentLink)
        .where(col(PaymentLink.status).in_((PaymentLinkStatus.SENT, PaymentLinkStatus.OPENED)))
        .where(col(PaymentLink.expires_at) <= now)
        .order_by(col(PaymentLink.expires_at))
        .limit(limit)
    ).all()
    unfinished = []
    for link in due:
        link.status = PaymentLinkStatus.EXPIRED
        session.add(AuditEntry(action="payment_link.expired", subject=f"payment link {link.id}"))
        attempt = open_attempt(session, link, include_abandoned=True)
        if attempt is not None:
            unfinished.append(attempt.id)
    session.flush()
    return unfinished


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
        session.flush()


def open_attempt(
    session: Session, link: PaymentLink, *, include_abandoned: bool = False, now=None
) -> Payment | None:
    """The link's attempt still waiting for a card and holding its amount, if any (with
    `include_abandoned`, also one whose hold has run out)."""
    query = (
        select(Payment)
        .where(Payment.payment_link_id == link.id)
        .where(Payment.status == PaymentStatus.CREATED)
        .order_by(col(Payment.id).desc())
    )
    if not include_abandoned:
        query = query.where(col(Payment.hold_until) > (now or utcnow()))
    return session.exec(query).first()


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
            references=[b.reference for b in link_bookings(session, link)],
            email=session.exec(
                select(EmailMessage).where(
                    EmailMessage.dedupe_key == f"payment-link:{link.id}:send:{link.send_count}"
                )
            ).first(),
        )
        for link in rows
    ]
