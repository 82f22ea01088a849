"""The pay page's side of a payment link: what it shows (the amount capped by what the
bookings owe, the split, "in progress" while another attempt holds them) and the
PaymentIntent it pays, reused across reloads and tabs while it is open."""

from __future__ import annotations

import logging
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
)
from mioapp.billing.errors import ChargeError
from mioapp.business import current_profile
from mioapp.db import Database
from mioapp.models import (
    Booking,
    Customer,
    PayAttemptFailure,
    Payment,
    PaymentAllocation,
    PaymentLink,
    PaymentLinkStatus,
    PaymentMethodKind,
    PaymentStatus,
    utcnow,
)
from mioapp.payments import gateway
from mioapp.payments.charges import CARD_HOLD, CardIntent, ChargeRequest, start_card_charge
from mioapp.payments.gateway import GatewayError, StripeCredentials
from mioapp.payments.links import effective_status, link_bookings, open_attempt, planned_parts
from mioapp.payments.reconcile import settle_payment

logger = logging.getLogger(__name__)

FAILED_ATTEMPTS_PER_HOUR = 5


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
    bookings = link_bookings(session, link)
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
    planned = planned_parts(session, link)
    bookings = link_bookings(session, link)
    money = booking_money(session, bookings)
    held: dict[int, int] = {}
    if holds:
        own = open_attempt(session, link, now=now)
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

    def check(session: Session) -> tuple[PayView | None, Payment | None, bool, str]:
        link = session.get(PaymentLink, link_id)
        limited = _too_many_failures(session, link, client_key(client_address))
        view, own = pay_view(session, link, now), open_attempt(session, link, now=now)
        return view, own, limited, current_profile(session).name

    view, own, limited, merchant = await db.run(check)
    if limited:
        raise ChargeError(f"Too many failed attempts. Try again in an hour or contact {merchant}.")
    _refuse_unless_payable(view)
    if own is not None:
        reused = await _reuse(db, credentials, own, view.amount, save_card)
        if reused is not None:
            return reused
        view = await db.run(lambda s: pay_view(s, s.get(PaymentLink, link_id), now))
        _refuse_unless_payable(view)
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
        own = await db.run(lambda s: open_attempt(s, s.get(PaymentLink, link_id)))
        reused = own and await _reuse(db, credentials, own, view.amount, save_card)
        if not reused:
            raise
        return reused


def _refuse_unless_payable(view: PayView | None) -> None:
    if view is not None and view.state == "payable":
        return
    logger.info("link payment refused: %s", view.state if view else "link closed")
    if view is not None and view.state == "in_progress":
        raise ChargeError("A payment for these bookings is in progress.")
    raise ChargeError("This link can no longer be paid.")


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
