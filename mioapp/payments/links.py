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
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from mioapp.auth import hash_token
from mioapp.billing.balances import (
    BookingShare,
    booking_money,
    booking_shares,
    held_amounts,
    holding,
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
from mioapp.notifications.render import PAYMENT_LINK, booking_lines
from mioapp.payments import gateway
from mioapp.payments.charges import CARD_HOLD, CardIntent, ChargeRequest, start_card_charge
from mioapp.payments.gateway import GatewayError, StripeCredentials
from mioapp.payments.reconcile import settle_payment
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


def _planned(session: Session, link: PaymentLink) -> dict[int, int]:
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
        "bookings": booking_lines(booking_shares(session, list(_planned(session, link).items()))),
        "amount": link.amount,
        "currency": link.currency,
        "pay_url": pay_url(token),
        "expires_at": link.expires_at,
        "message": link.message,
        "description": link.description,
    }


def _send(session: Session, link: PaymentLink) -> None:
    """A fresh URL by email; each send has its own key, so a resend is a new email.

    The token is the email's secret: the outbox stores the email without it.
    """
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
    link.send_count, link.last_sent_at = 1, utcnow()
    customer = session.get(Customer, customer_id)
    queue_email(
        session,
        dedupe_key=f"payment-link:{link.id}:send:1",
        kind=PAYMENT_LINK,
        to_address=customer.email,
        context=_email_context(session, link, first_token),
        customer_id=customer_id,
        secret=first_token,
    )
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
    open_attempt = _open_payment(session, link, include_abandoned=True)
    return open_attempt.id if open_attempt is not None else None


async def revoke(
    db: Database,
    credentials: StripeCredentials | None,
    *,
    link_id: int,
    customer_id: int,
    user_id: int | None,
) -> None:
    """Revoke the link, then cancel its unfinished intent so its client secret is spent."""
    open_attempt = await db.run(
        lambda s: revoke_link(s, link_id=link_id, customer_id=customer_id, user_id=user_id)
    )
    if open_attempt is not None and credentials is not None:
        await settle_payment(db, credentials, open_attempt, release=True)


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


def _open_payment(
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


def succeeded_payment(session: Session, link: PaymentLink) -> Payment | None:
    return session.exec(
        select(Payment)
        .where(Payment.payment_link_id == link.id)
        .where(Payment.status == PaymentStatus.SUCCEEDED)
        .order_by(col(Payment.id))
    ).first()


@dataclass(frozen=True)
class PayView:
    """What the pay page shows. `state`: "payable"; "paid" (the receipt); "settled" (the
    bookings were paid some other way); "in_progress" (another attempt holds what they owe
    until `released_at`, None when that waits on Stripe rather than a clock)."""

    link: PaymentLink
    customer: Customer
    state: str
    amount: int
    lines: list[BookingShare] = field(default_factory=list)
    payment: Payment | None = None
    released_at: datetime | None = None


def pay_view(session: Session, link: PaymentLink, now: datetime | None = None) -> PayView | None:
    """None when the link can no longer be used (expired or revoked, and not paid)."""
    now = now or utcnow()
    customer = session.get(Customer, link.customer_id)
    paid = succeeded_payment(session, link)
    if paid is not None:
        parts = list(_allocations(session, paid).items())
        lines = booking_shares(session, parts, counted_payment=paid.id)
        return PayView(link, customer, "paid", paid.amount, lines, paid)
    if effective_status(link, now) not in (PaymentLinkStatus.SENT, PaymentLinkStatus.OPENED):
        return None
    parts = _payable(session, link, now)
    if parts:
        lines = booking_shares(session, parts)
        return PayView(link, customer, "payable", sum(p for _, p in parts), lines)
    owed = _payable(session, link, now, holds=False)
    if not owed:
        return PayView(link, customer, "settled", 0)
    # Still owed, but another attempt holds it: say so, and when the hold runs out.
    bookings = _link_bookings(session, link)
    return PayView(
        link,
        customer,
        "in_progress",
        sum(p for _, p in owed),
        booking_shares(session, owed),
        released_at=_release_time(session, bookings, now),
    )


def _release_time(session: Session, bookings: list[Booking], now: datetime) -> datetime | None:
    """When the holds on these bookings run out; None if one waits on Stripe (processing or
    unknown attempts hold until Stripe settles them)."""
    holders = session.exec(
        select(Payment.status, Payment.hold_until)
        .join(PaymentAllocation, col(PaymentAllocation.payment_id) == Payment.id)
        .where(col(PaymentAllocation.booking_id).in_([b.id for b in bookings]))
        .where(holding(now))
    ).all()
    if not holders or any(hold_until is None for _, hold_until in holders):
        return None
    return max(hold_until for _, hold_until in holders)


def _allocations(session: Session, payment: Payment) -> dict[int, int]:
    """Booking id -> the part of the payment applied to it."""
    return dict(
        session.exec(
            select(PaymentAllocation.booking_id, PaymentAllocation.amount)
            .where(PaymentAllocation.payment_id == payment.id)
            .order_by(col(PaymentAllocation.id))
        ).all()
    )


def _payable(
    session: Session, link: PaymentLink, now: datetime, *, holds: bool = True
) -> list[tuple[int, int]]:
    """What the link asks of each booking, capped by what the booking still owes and (with
    `holds`) what other attempts do not hold: the link's own open attempt aside, it is this
    payment, not a competitor. A booking paid some other way drops out; the others keep the
    part the merchant put on them."""
    planned = _planned(session, link)
    bookings = _link_bookings(session, link)
    money = booking_money(session, bookings)
    held: dict[int, int] = {}
    if holds:
        own = _open_payment(session, link, now=now)
        held = held_amounts(
            session, list(planned), now=now, excluding_payment=own.id if own else None
        )
    parts = []
    for booking in bookings:
        room = max(money[booking.id].balance - held.get(booking.id, 0), 0)
        part = min(planned.get(booking.id, 0), room)
        if part:
            parts.append((booking.id, part))
    return parts


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


async def start_link_payment(
    db: Database,
    credentials: StripeCredentials,
    *,
    link_id: int,
    save_card: bool,
    client_address: str,
    now: datetime | None = None,
) -> CardIntent:
    """The PaymentIntent the page confirms: the open one when it still fits (reloads and a
    second tab pay the same intent, so only one can succeed), else a new one."""
    merchant = get_settings().business_name

    def check(session: Session) -> tuple[PayView | None, Payment | None, bool]:
        link = session.get(PaymentLink, link_id)
        limited = _too_many_failures(session, link, client_key(client_address))
        return pay_view(session, link, now), _open_payment(session, link, now=now), limited

    view, own, limited = await db.run(check)
    if limited:
        raise ChargeError(f"Too many failed attempts. Try again in an hour or contact {merchant}.")
    if view is None or view.state != "payable":
        raise ChargeError("This link can no longer be paid.")
    if own is not None:
        reused = await _reuse(db, credentials, own, view.amount, save_card)
        if reused is not None:
            return reused
        view = await db.run(lambda s: pay_view(s, s.get(PaymentLink, link_id), now))
        if view is None or view.state != "payable":
            raise ChargeError("This link can no longer be paid.")
    request = ChargeRequest(
        customer_id=view.customer.id,
        booking_ids=[line.booking.id for line in view.lines],
        amount=view.amount,
        request_key=f"link-{link_id}-{secrets.token_urlsafe(12)}",
        description=view.link.description or f"{merchant} payment link",
        shares={line.booking.id: line.amount for line in view.lines},
    )
    try:
        return await start_card_charge(
            db,
            credentials,
            request,
            save_card=save_card,
            method_kind=PaymentMethodKind.PAYMENT_LINK,
            payment_link_id=link_id,
            check_duplicate=False,
            now=now,
        )
    except ChargeError:
        # Another tab opened an attempt a moment ago: pay that one instead.
        own = await db.run(lambda s: _open_payment(s, s.get(PaymentLink, link_id)))
        reused = own and await _reuse(db, credentials, own, view.amount, save_card)
        if not reused:
            raise
        return reused


async def _reuse(
    db: Database, credentials: StripeCredentials, own: Payment, amount: int, save_card: bool
) -> CardIntent | None:
    """The link's open attempt if its intent still fits this attempt (its hold is renewed);
    an unfit one is closed so a new one can be made."""
    if not own.stripe_payment_intent_id:
        return None
    try:
        intent = await gateway.retrieve_intent(credentials, own.stripe_payment_intent_id)
        fits = (
            intent.status in ("requires_payment_method", "requires_confirmation")
            and intent.amount == amount
            and intent.setup_future_usage == ("off_session" if save_card else None)
            and not intent.error_code
        )
        if fits:
            secret = await gateway.intent_client_secret(credentials, intent.id)

            def renew(session: Session) -> Payment:
                payment = session.get(Payment, own.id)
                payment.hold_until = utcnow() + CARD_HOLD
                return payment

            return CardIntent(await db.run(renew), secret)
    except GatewayError as exc:
        raise ChargeError(exc.message) from exc
    await settle_payment(db, credentials, own.id, release=True)
    return None


async def finish_link_payment(
    db: Database,
    credentials: StripeCredentials,
    *,
    link_id: int,
    payment_id: int,
    client_address: str,
) -> Payment:
    """After Stripe.js: ask Stripe, apply, and count a failure against the limits."""
    payment = await settle_payment_of_link(db, credentials, link_id, payment_id)
    if payment.status in (PaymentStatus.FAILED, PaymentStatus.CANCELED):

        def count(session: Session) -> None:
            session.add(
                PayAttemptFailure(payment_link_id=link_id, client_key=client_key(client_address))
            )

        await db.run(count)
    return payment


async def settle_payment_of_link(
    db: Database, credentials: StripeCredentials, link_id: int, payment_id: int
) -> Payment:
    owner = await db.run(lambda s: getattr(s.get(Payment, payment_id), "payment_link_id", None))
    if owner != link_id:
        raise ChargeError("That payment does not belong to this link.")
    return await settle_payment(db, credentials, payment_id, release=True)


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
